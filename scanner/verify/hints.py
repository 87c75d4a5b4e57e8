"""Pairing hints for verification: e-mails and account ids written near a credential, nearest first.

A global key is verified with an e-mail and an account token with an account id; both are usually written
in the same file. Collected only for findings that need them, never for the whole scan. Every candidate is
kept (up to a bound), nearest first, because the nearest e-mail is not always the key's: a wrong pairing
must lead the verifier to the next candidate, not to a verdict on the key.
"""

from __future__ import annotations

import regex

_EMAIL = regex.compile(rb"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")
_ACCOUNT_ID = regex.compile(rb"(?<![A-Za-z0-9])[a-f0-9]{32}(?![A-Za-z0-9])")
RADIUS = 4096
MAX_EMAILS = 5  # global keys: each e-mail costs one request, so a file full of addresses stays bounded
MAX_ACCOUNT_IDS = 3
MAX_HINTS = MAX_ACCOUNT_IDS  # kept for callers of the old name


def _gap(m_start: int, m_end: int, start: int, end: int) -> int:
    """Bytes between a candidate and the credential (0 when adjacent), whichever side it is on."""
    return start - m_end if m_end <= start else m_start - end


def _nearest(pattern: regex.Pattern, data: bytes, start: int, end: int, limit: int,
             fold: bool = False) -> list[str]:
    lo, hi = max(0, start - RADIUS), min(len(data), end + RADIUS)
    found = [(_gap(m.start(), m.end(), start, end), m.start(), m.group().decode("ascii", "replace"))
             for m in pattern.finditer(data, lo, hi) if m.end() <= start or m.start() >= end]
    out: list[str] = []
    seen: set[str] = set()
    for _, _, value in sorted(found):
        norm = value.lower() if fold else value
        if norm not in seen:
            seen.add(norm)
            out.append(value)
    return out[:limit]


_COLLECTORS: dict[str, tuple[regex.Pattern, int, bool]] = {
    "emails": (_EMAIL, MAX_EMAILS, True),
    "account_ids": (_ACCOUNT_ID, MAX_ACCOUNT_IDS, False),
}


def register(name: str, pattern: bytes, limit: int, fold: bool = False) -> None:
    """A verifier module declares a pairing hint its vendor needs (AWS key ids near a secret key, Shopify shop
    hosts near a token), so adding a vendor never means editing this module."""
    _COLLECTORS.setdefault(name, (regex.compile(pattern), limit, fold))


def collect(verify_kind: str | None, data: bytes, start: int, end: int) -> dict:
    """The hints the kind's verifier declared it needs (registry), each nearest first; {} for the rest."""
    if not verify_kind:
        return {}
    from scanner.verify.registry import hints_for

    out = {}
    for name in hints_for(verify_kind):
        pattern, limit, fold = _COLLECTORS[name]
        out[name] = _nearest(pattern, data, start, end, limit, fold)
    return out
