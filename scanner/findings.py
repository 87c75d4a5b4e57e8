"""Findings: what the engine matched, placed (path, line, column, commit) and made safe to show."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

from scanner.engine import Match


@dataclass
class Verification:
    status: str = "not-checked"  # live | inactive | invalid | unknown | not-checked
    detail: str = ""
    reach: dict = field(default_factory=dict)  # blast radius of a live credential


@dataclass
class Finding:
    rule_id: str
    description: str
    severity: str
    secret: str
    fingerprint: str
    path: str
    line: int
    column: int
    offset: int = 0
    source: str = "file"  # file | blob | staged | commit-message
    encoding: str = "plain"
    checksum: str = "none"
    tags: tuple[str, ...] = ()
    commit: str | None = None
    author: str | None = None
    date: str | None = None
    refs: tuple[str, ...] = ()
    at_head: bool | None = None
    blob: str | None = None
    verify_kind: str | None = None
    context_hints: dict = field(default_factory=dict)  # e.g. emails / account ids near the secret
    inline_allowed: bool = False  # a tokenscan:allow comment on the secret's line
    verification: Verification = field(default_factory=Verification)

    @property
    def gating(self) -> bool:
        """Whether this finding alone should fail a gate: invalid checksums and test tokens do not."""
        return self.checksum != "invalid" and "test-token" not in self.tags

    @property
    def key(self) -> tuple:
        return (self.fingerprint, self.path, self.line, self.column, self.commit, self.blob, self.source)


@dataclass
class Warning:
    kind: str  # unreadable | binary | large | not-utf8 | symlink | corrupt-object | shallow | submodule ...
    message: str
    path: str | None = None


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def redact(secret: str) -> str:
    """Prefix (up to the first _ or -, if it is a short vendor prefix) and the last 4 characters."""
    cut = 4
    for sep in ("_", "-"):
        i = secret.find(sep)
        if 0 < i < 12:
            cut = i + 1
            break
    if len(secret) <= cut + 8:
        return secret[:2] + "…"
    return f"{secret[:cut]}…{secret[-4:]}"


def locate(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and character column of a byte offset; run only for findings."""
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[start:offset].decode("utf-8", "replace")) + 1
    return line, column


def from_match(m: Match, data: bytes, path: str, source: str, line_base: int = 0,
               offset_base: int = 0) -> Finding:
    line, column = locate(data, m.start)
    return Finding(
        rule_id=m.rule.id, description=m.rule.description, severity=m.rule.severity, secret=m.secret,
        fingerprint=fingerprint(m.secret), path=path, line=line + line_base, column=column,
        offset=m.start + offset_base, source=source, encoding=m.encoding, checksum=m.checksum, tags=m.tags,
        verify_kind=m.rule.verify,
    )


def dedupe(findings: list[Finding]) -> list[Finding]:
    """Same secret at the same place once, in a stable order (path, line, column)."""
    seen: dict[tuple, Finding] = {}
    for f in findings:
        seen.setdefault(f.key, f)
    return sorted(seen.values(), key=lambda f: (f.path, f.commit or "", f.line, f.column, f.rule_id))


def shown(f: Finding, show_secrets: bool) -> Finding:
    """The finding as reporters may print it."""
    return f if show_secrets else replace(f, secret=redact(f.secret))
