"""Pairing hints for verification: e-mails and account ids written near a credential, nearest first.

A global key is verified with an e-mail and an account token with an account id; both are usually written
in the same file. Collected only for findings that need them, never for the whole scan.
"""

from __future__ import annotations

import regex

_EMAIL = regex.compile(rb"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")
_ACCOUNT_ID = regex.compile(rb"(?<![A-Za-z0-9])[a-f0-9]{32}(?![A-Za-z0-9])")
RADIUS = 4096
MAX_HINTS = 3


def _nearest(pattern: regex.Pattern, data: bytes, start: int, end: int) -> list[str]:
    lo, hi = max(0, start - RADIUS), min(len(data), end + RADIUS)
    found = [(min(abs(m.start() - start), abs(m.end() - end)), m.group().decode("ascii", "replace"))
             for m in pattern.finditer(data, lo, hi) if m.end() <= start or m.start() >= end]
    out: list[str] = []
    for _, value in sorted(found):
        if value not in out:
            out.append(value)
    return out[:MAX_HINTS]


def collect(verify_kind: str | None, data: bytes, start: int, end: int) -> dict:
    if verify_kind == "cloudflare-global-key":
        return {"emails": _nearest(_EMAIL, data, start, end)}
    if verify_kind == "cloudflare-account-token":
        return {"account_ids": _nearest(_ACCOUNT_ID, data, start, end)}
    return {}
