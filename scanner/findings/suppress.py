"""Suppressions: inline allow comments, the ignore file and the baseline; each counted, never silent.

Ignore file (.tokenscanignore): one entry per line, `#` comments; an entry is a finding fingerprint
(64 hex, or the 16-hex prefix reports print), or `PATH:RULE` where PATH is a glob and RULE a rule id or `*`.
Baseline: JSON written by `tokenscan baseline create`, holding fingerprints and places, never secrets. A
finding is baselined when the same secret (fingerprint) under the same rule is at the same path; the same
secret anywhere else still fails. Entries that no longer match anything are reported as stale.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterator

from scanner.errors import UsageError
from scanner.findings import Finding, Warning
from scanner.safeio import NotRegular, read_file

IGNORE_FILE = ".tokenscanignore"
BASELINE_SCHEMA = "tokenscan.baseline/1"
INLINE_MARKERS = (b"tokenscan:allow", b"gitleaks:allow")
_FP = re.compile(r"[0-9a-f]{64}")
_FP_PREFIX = re.compile(r"[0-9a-f]{16,64}")  # 16 hex = 64 bits: unambiguous among any report's findings


@dataclass
class IgnoreFile:
    path: str
    fingerprints: set[str] = field(default_factory=set)
    path_rules: list[tuple[str, str]] = field(default_factory=list)

    def matches(self, f: Finding) -> bool:
        """PATH globs are relative to the ignore file's folder (the scanned root), as in .gitignore."""
        if any(f.fingerprint.startswith(p) for p in self.fingerprints):  # reports print 16-hex prefixes
            return True
        if not self.path_rules:
            return False
        rel = _relative(f, self.path)
        return any(fnmatch.fnmatchcase(rel, glob) and rule in ("*", f.rule_id) for glob, rule in self.path_rules)


def _read(path: str, data: bytes | None) -> bytes:
    if data is not None:
        return data
    try:
        return read_file(path)
    except NotRegular:
        raise UsageError(f"{path}: cannot read: not a regular file") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _entries(path: str, data: bytes | None = None) -> Iterator[tuple[int, str]]:
    """(line number, text) of each entry of an ignore file: blank lines and # comments skipped. A stray
    non-UTF-8 byte spoils one entry, not the run."""
    lines = _read(path, data).decode("utf-8", "replace").splitlines()
    for n, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if line:
            yield n, line


def load_ignore_file(path: str, data: bytes | None = None) -> IgnoreFile:
    ig = IgnoreFile(path)
    for n, line in _entries(path, data):
        if _FP_PREFIX.fullmatch(line):
            ig.fingerprints.add(line)
            continue
        glob, _, rule = line.rpartition(":")
        if not glob or not rule:  # the line itself is never echoed: people paste secrets here
            raise UsageError(f"{path}:{n}: expected a fingerprint (16 to 64 hex characters, as reports print "
                             f"it) or PATH:RULE; the line is not shown in case it holds a secret")
        ig.path_rules.append((glob, rule))
    return ig


GITLEAKS_IGNORE = ".gitleaksignore"
_SHA = re.compile(r"[0-9a-f]{7,40}")


def _relative(f: Finding, ignore_path: str) -> str:
    """A finding's path as ignore files write it: relative to the file's folder (the scanned root)."""
    if f.source != "file":
        return f.path
    return os.path.relpath(os.path.abspath(f.path), os.path.dirname(os.path.abspath(ignore_path)))


@dataclass
class GitleaksIgnore:
    """.gitleaksignore fingerprints: `commit:file:rule-id:line` (git scans) or `file:rule-id:line`."""

    path: str
    entries: set[tuple[str | None, str, str, int]] = field(default_factory=set)

    def matches(self, f: Finding) -> bool:
        rel = _relative(f, self.path)
        for commit, file, rule, line in self.entries:
            if rule == f.rule_id and line == f.line and file == rel and (
                    commit is None or (f.commit or "").startswith(commit)):
                return True
        return False


def load_gitleaks_ignore(path: str, data: bytes | None = None) -> GitleaksIgnore:
    ig = GitleaksIgnore(path)
    for n, line in _entries(path, data):
        parts = line.rsplit(":", 2)
        if len(parts) != 3 or not parts[2].isdigit():
            raise UsageError(f"{path}:{n}: expected [commit:]file:rule-id:line (the line is not shown in case "
                             f"it holds a secret)")
        head, rule, number = parts
        commit, _, file = head.partition(":")
        if not file or not _SHA.fullmatch(commit):
            commit, file = None, head  # type: ignore[assignment]
        ig.entries.add((commit, file, rule, int(number)))
    return ig


def _key(entry: dict) -> tuple[str, str, str]:
    return (entry["fingerprint"], entry["rule_id"], entry["path"])


@dataclass
class Baseline:
    path: str
    entries: list[dict]

    def keys(self) -> set[tuple[str, str, str]]:
        return {_key(e) for e in self.entries}


def load_baseline(path: str, raw: bytes | None = None) -> Baseline:
    try:
        data = json.loads(_read(path, raw).decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError included
        raise UsageError(f"--baseline {path}: not valid JSON: {exc}") from None
    except RecursionError:
        raise UsageError(f"--baseline {path}: nested too deeply to be a tokenscan baseline") from None
    if not isinstance(data, dict) or data.get("schema") != BASELINE_SCHEMA or not isinstance(data.get("findings"), list):
        raise UsageError(f"--baseline {path}: not a tokenscan baseline (expected schema {BASELINE_SCHEMA})")
    for i, e in enumerate(data["findings"]):
        if not isinstance(e, dict) or not all(isinstance(e.get(k), str) for k in ("fingerprint", "rule_id", "path")):
            raise UsageError(f"--baseline {path}: entry {i} needs string fingerprint, rule_id and path")
        if not _FP.fullmatch(e["fingerprint"]):
            raise UsageError(f"--baseline {path}: entry {i}: fingerprint is not a sha256 hex digest")
    return Baseline(path, data["findings"])


def baseline_document(findings: list[Finding]) -> str:
    entries = sorted({(f.fingerprint, f.rule_id, f.path): {
        "fingerprint": f.fingerprint, "rule_id": f.rule_id, "path": f.path, "line": f.line,
        "commit": f.commit} for f in findings}.values(), key=lambda e: (e["path"], e["line"], e["rule_id"]))
    doc = {"schema": BASELINE_SCHEMA, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "findings": entries}
    return json.dumps(doc, indent=2) + "\n"


KNOWN_PUBLIC_KEYS = "known-public-keys.txt"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_KEY_BLOCK = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----.*?-----END [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----|"
                        r"Private-Lines: \d+(?:\\n|\n)[A-Za-z0-9+/=\n]+", re.S)
_MIN_EXAMPLE_SECRET = 16  # shorter secrets could sit inside an unrelated example by chance


def load_known_public_keys(text: str) -> frozenset[str]:
    """The key fingerprints of a known-public list: the first field of each non-comment line."""
    out = set()
    for line in text.splitlines():
        field_ = line.split("#", 1)[0].split()
        if field_ and _SHA256.fullmatch(field_[0]):
            out.add(field_[0])
    return frozenset(out)


@functools.cache
def _shipped_known_keys() -> frozenset[str]:
    """Read once per process: an audit builds a Suppressor for every repository."""
    from scanner.rules.loader import shipped_dir

    try:
        with open(os.path.join(shipped_dir(), KNOWN_PUBLIC_KEYS), encoding="utf-8") as fh:
            return load_known_public_keys(fh.read())
    except OSError:  # a trimmed install: nothing is known-public, everything is reported
        return frozenset()


@functools.cache
def _shipped_examples() -> str:
    """Every shipped rule's examples, joined; parsed once per process (about 50 ms), not once per Suppressor."""
    from scanner.rules.loader import builtin_rule_files, load_rule_file

    parts: list[str] = []
    for name, text in builtin_rule_files():
        for rule in load_rule_file(name, text, shipped=True):
            parts.extend(rule.examples)
            parts.extend(rule.negative_examples)  # found by other rules in the file: published too
    # the file holds TOML strings: a multi-line example is written there with \n escapes
    parts += [ex.replace("\r", "\\r").replace("\n", "\\n") for ex in parts if "\n" in ex]
    return "\n\0".join(parts)


KNOWN_PUBLIC_TAG = "known-public"


class KnownPublic:
    """Secrets published in open-source software, which no one can keep secret any more: reported as suppressed
    "known-public", counted in the summary, never as a leak. Matched by content, never by path: a real key
    under tests/ is still a leak.

    Two sources, both loaded only when there is a finding to judge:
    - rules/known-public-keys.txt: private keys shipped as test fixtures in CPython and common packages (the
      badkeys approach), by the sha256 of their normalised key material (validators.key_fingerprint); the file
      says where each key is published.
    - tokenscan's own rule examples: the rule files ship inside the package, so scanning a site-packages that
      holds tokenscan would otherwise report every example. rules check proves each example is found, and
      every one is synthetic; a secret that occurs verbatim in a shipped example is tokenscan's published data.
    """

    def __init__(self, keys: frozenset[str] | None = None, examples: str | None = None) -> None:
        self._keys = keys
        self._examples = examples
        self._example_keys: frozenset[str] | None = None

    @property
    def keys(self) -> frozenset[str]:
        if self._keys is None:
            self._keys = _shipped_known_keys()
        return self._keys

    @property
    def examples(self) -> str:
        if self._examples is None:
            self._examples = _shipped_examples()
        return self._examples

    @property
    def example_keys(self) -> frozenset[str]:
        """Fingerprints of the private-key blocks in the examples: their findings are cut and re-quoted."""
        if self._example_keys is None:
            from scanner.rules.checksums import key_fingerprint

            fps = (key_fingerprint(m.group()) for m in _KEY_BLOCK.finditer(self.examples))
            self._example_keys = frozenset(fp for fp in fps if fp is not None)
        return self._example_keys

    def matches(self, f: Finding) -> bool:
        from scanner.rules.checksums import key_fingerprint

        if KNOWN_PUBLIC_TAG in f.tags:  # judged when it was read (an audit's stored finding keeps no secret)
            return True
        secret = f.secret
        if "PRIVATE KEY" in secret or secret.startswith("Private-Lines:"):
            fp = key_fingerprint(secret)
            if fp is not None and (fp in self.keys or fp in self.example_keys):
                return True
        return len(secret) >= _MIN_EXAMPLE_SECRET and secret in self.examples


@dataclass
class Suppressor:
    ignore: IgnoreFile | None = None
    baseline: Baseline | None = None
    report_stale: bool = True
    gitleaks_ignore: GitleaksIgnore | None = None
    known_public: KnownPublic | None = field(default_factory=KnownPublic)

    def apply(self, findings: list[Finding]) -> tuple[list[Finding], dict[str, int], list[Warning]]:
        counts = {"inline": 0, "ignore-file": 0, "gitleaksignore": 0, "baseline": 0, "known-public": 0}
        kept: list[Finding] = []
        base = self.baseline.keys() if self.baseline else set()
        used: set[tuple[str, str, str]] = set()
        for f in findings:
            k = (f.fingerprint, f.rule_id, f.path)
            if f.inline_allowed:
                counts["inline"] += 1
            elif self.ignore is not None and self.ignore.matches(f):
                counts["ignore-file"] += 1
            elif self.gitleaks_ignore is not None and self.gitleaks_ignore.matches(f):
                counts["gitleaksignore"] += 1
            elif k in base:
                counts["baseline"] += 1
                used.add(k)
            elif self.known_public is not None and self.known_public.matches(f):
                counts["known-public"] += 1
            else:
                kept.append(f)
        warnings = []
        if self.baseline and self.report_stale:
            for e in self.baseline.entries:
                if _key(e) not in used and not any(_key(e) == (f.fingerprint, f.rule_id, f.path) for f in findings):
                    warnings.append(Warning("stale-baseline", f"baseline entry no longer found ({e['rule_id']}, "
                                            f"fingerprint {e['fingerprint'][:16]})", e["path"]))
        return kept, {k: v for k, v in counts.items() if v}, warnings
