"""Findings: what the engine matched, placed (path, line, column, commit) and made safe to show."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the engine (regex, rules, Hyperscan) is not loaded to show or compare findings
    from scanner.engine.matcher import Match


@dataclass(frozen=True)
class Origin:
    """Where a chunk's bytes sit beyond their path, set on each finding when it is made (never copied on
    afterwards): the blob or the commit (a commit message) holding them, and the archive member they are."""

    commit: str | None = None
    blob: str | None = None
    member: str = ""  # `!inner/path` inside an archive (the chunk's path then ends with it)


NO_ORIGIN = Origin()


@dataclass
class Verification:
    status: str = "not-checked"  # live | inactive | invalid | unknown | not-checked
    detail: str = ""
    reach: dict = field(default_factory=dict)  # blast radius of a live credential


@dataclass(frozen=True)
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
    member: str = ""  # `!inner/path` when the secret is inside an archive (the path then ends with it)
    layer_command: str | None = None  # an image layer's: the command that created it (blob is its digest)
    verify_kind: str | None = None
    prefix: str = ""  # the vendor prefix redacted output may show
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


# Warnings that mean part of the target was not scanned (--fail-on-incomplete fails on them); the others
# (binary, symlink, special-file, large, not-utf8, ...) are skips by design or scans with a caveat.
INCOMPLETE_KINDS = frozenset({"unreadable", "corrupt-object", "missing-object", "rule-timeout", "shallow",
                              "corrupt-archive", "archive-limit", "encrypted", "read-error", "listing"})
# Skips by design, common enough to drown the real problems (18,780 "binary" lines on a Python install):
# reports count them per kind and name each only with --list-skipped.
SKIPPED_KINDS = frozenset({"binary", "symlink", "placeholder"})


@dataclass(frozen=True)
class Warning:
    kind: str  # unreadable | binary | large | not-utf8 | symlink | corrupt-object | shallow | submodule ...
    message: str
    path: str | None = None


def printable(path: str) -> str:
    """A path as every report shows it: bytes that are not UTF-8 (surrogate-escaped by the OS layer) become
    `\\xff` escapes, so text, JSON, SARIF and HTML all name the same file the same way and never fail to encode."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7f]} | {c: f"\\u{c:04x}" for c in range(0x80, 0xa0)}


def terminal_safe(text: str) -> str:
    """printable(text) with control characters escaped (`\\x1b`, `\\x01`): a file name, author or message
    from scanned content must not move a terminal's cursor, recolour it or hide a line in a text report."""
    return printable(text).translate(_CONTROLS)


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def redact(secret: str, prefix: str = "") -> str:
    """A known vendor prefix and the last 4 characters; without a known prefix at most 4 characters show,
    and none of a short secret (`hunter2-password-1` must not be guessable from its redaction)."""
    if prefix and secret.startswith(prefix) and len(secret) >= len(prefix) + 16:
        return f"{prefix}…{secret[-4:]}"
    return f"…{secret[-4:]}" if len(secret) >= 24 else "…"


def vendor_prefix(keywords: tuple[str, ...], secret: str) -> str:
    """The rule keyword the secret starts with when it is a vendor prefix (`cfut_`, `ghp_`, `xoxb-`)."""
    return next((k for k in keywords if secret.startswith(k) and k[-1] in "_-."), "")


def locate(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and character column of a byte offset; run only for findings."""
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[start:offset].decode("utf-8", "replace")) + 1
    return line, column


def from_match(m: Match, data: bytes, path: str, source: str, line_base: int = 0,
               offset_base: int = 0, origin: Origin | None = None, outer_encoding: str = "plain",
               context_hints: dict | None = None, inline_allowed: bool = False) -> Finding:
    """A finding complete at construction: where it is (origin: commit, blob, archive member of the chunk),
    how it was encoded (the chunk's own encoding, e.g. utf-16, outside the match's), what is near it."""
    line, column = locate(data, m.start)
    encoding = m.encoding
    if outer_encoding != "plain":
        encoding = outer_encoding if encoding == "plain" else f"{outer_encoding}+{encoding}"
    return Finding(
        rule_id=m.rule.id, description=m.rule.description, severity=m.rule.severity, secret=m.secret,
        fingerprint=fingerprint(m.secret), path=path, line=line + line_base, column=column,
        offset=m.start + offset_base, source=source, encoding=encoding, checksum=m.checksum, tags=m.tags,
        commit=origin.commit if origin else None, blob=origin.blob if origin else None,
        member=origin.member if origin else "",
        verify_kind=m.rule.verify, prefix=vendor_prefix(m.rule.keywords, m.secret),
        context_hints=context_hints if context_hints is not None else {}, inline_allowed=inline_allowed,
    )


def dedupe(findings: list[Finding]) -> list[Finding]:
    """Same secret at the same place once, in a stable order (path, line, column)."""
    seen: dict[tuple, Finding] = {}
    for f in findings:
        seen.setdefault(f.key, f)
    return sorted(seen.values(), key=lambda f: (f.path, f.commit or "", f.line, f.column, f.rule_id))


def shown(f: Finding, show_secrets: bool) -> Finding:
    """The finding as reporters may print it."""
    return f if show_secrets else replace(f, secret=redact(f.secret, f.prefix))
