"""What makes an audit incremental: blobs scanned before under the same rule set are not read again.

A blob id is a hash of its content, so "this blob holds these findings under these rules" is true in every
repository that contains it: the next audit of the same repository and a fork sharing its history both skip
it, and still report its findings, placed (commit, path, author) by attribution in *that* repository.

`history_scan(..., blob_cache=BlobCache(...))` asks `known(plan.blobs)` which blobs to skip (and gets their
findings back, rebuilt from the datastore) and hands `record()` the raw findings of what it did read, before
suppression or collapsing: what a blob holds must not depend on one repository's ignore file.

The rule-set hash covers everything that changes what a blob yields: every rule field the engine uses, the
decode depth, --include-binary and the tokenscan version (a new engine may find more). A new hash rescans.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner import __version__
from scanner.audit.datastore import StoredFinding
from scanner.findings import INCOMPLETE_KINDS, Finding, Warning, redact
from scanner.findings.suppress import KNOWN_PUBLIC_TAG, KnownPublic
from scanner.rules.loader import Rule

Lookup = Callable[[Sequence[str]], Mapping[str, list[StoredFinding]]]
_OID = re.compile(r"\b[0-9a-f]{40}(?:[0-9a-f]{24})?\b")  # SHA-1 or SHA-256 object ids


def _pattern(p: Any) -> Any:
    return getattr(p, "pattern", p)


# The code that decides what a blob yields. Its text is part of the rule set's identity, so an engine or
# validator change rescans even where the version number stayed (an editable checkout, a patched install).
_MATCHER_MODULES = ("engine", "context", "prefilter", "decoders", "validators", "rules", "findings",
                    "sources/archives", "sources/blobs", "sources/files")


@functools.cache
def matcher_digest() -> str:
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for name in _MATCHER_MODULES:
        try:
            h.update(name.encode() + b"\0" + (root / f"{name}.py").read_bytes())
        except OSError:  # a zipped install: the version alone identifies the code
            h.update(name.encode() + b"\0?")
    return h.hexdigest()


def ruleset_hash(rules: Sequence[Rule], decode_depth: int, include_binary: bool, archive_depth: int = 2) -> str:
    """sha256 over the loaded rules (ids, patterns and every other field that decides a match) and the
    scan settings that change what a blob yields. Order-independent: rule files may be listed in any order."""
    described = []
    for r in sorted(rules, key=lambda r: r.id):
        described.append([
            r.id, r.pattern, r.description, r.severity, list(r.keywords), r.validator, list(r.filters),
            r.min_entropy, r.context, sorted(r.denylist), r.verify, list(r.tags), r.group,
            _pattern(r.path_pattern), r.lines_after,
            [[[_pattern(x).decode("utf-8", "replace") if isinstance(_pattern(x), bytes) else _pattern(x)
               for x in a.regexes], a.regex_target, list(a.stopwords), [_pattern(x) for x in a.paths],
              sorted(a.commits), a.condition] for a in r.allowlists],
        ])
    doc = {"tokenscan": __version__, "code": matcher_digest(), "decode_depth": decode_depth,
           "include_binary": include_binary, "archive_depth": archive_depth, "rules": described}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def ruleset_sources(opts: Any, include_binary: bool) -> str | None:
    """A digest of everything load_rules and ruleset_hash read: the shipped rule files' text, --rule-files'
    bytes, the settings in the hash, the rule loader's own source and the version. The datastore maps it
    to the rule-set hash, so an audit with nothing to read never parses a rule file (~50 ms of an unchanged
    repository's ~200 ms). None (always load the rules) for rules given in code, or an unreadable file
    (load_rules then names it)."""
    import scanner.rules.loader
    from scanner.rules.loader import builtin_rule_files

    if opts.extra_rules:
        return None
    h = hashlib.sha256(json.dumps([__version__, matcher_digest(), opts.decode_depth, include_binary,
                                   opts.archive_depth, builtin_rule_files(), list(opts.rule_files)]).encode())
    try:
        for name in (*opts.rule_files, scanner.rules.loader.__file__):
            with open(name, "rb") as fh:
                h.update(b"\0" + fh.read())
    except OSError:
        return None
    return h.hexdigest()


def paths_matter(rules: Sequence[Rule]) -> bool:
    """A rule or allowlist that looks at paths makes a blob's findings depend on where it sits: then a
    blob id alone is not a cache key, and every blob is read (history does the same: paths_needed)."""
    return any(r.path_pattern is not None or any(a.paths for a in r.allowlists) for r in rules)


@dataclass
class Snapshot:
    """Every blob known under one rule set, for workers that cannot open the datastore (Dask), with what
    the incremental history scan asks (scanner.audit.incremental.Known)."""

    clean: frozenset[str]
    found: dict[str, list[StoredFinding]]
    covered_commits: tuple[str, ...] = ()
    adds: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def covered(self) -> list[str]:
        return list(self.covered_commits)

    def commit_adds(self) -> dict[str, list[tuple[str, str]]]:
        return self.adds

    def finding_objects(self) -> tuple[set[str], set[str]]:
        blobs = {k for k, v in self.found.items() if any(s.source != "commit-message" for s in v)}
        return blobs, {k for k, v in self.found.items() if any(s.source == "commit-message" for s in v)}

    def __call__(self, oids: Sequence[str]) -> dict[str, list[StoredFinding]]:
        out: dict[str, list[StoredFinding]] = {}
        for oid in oids:
            if oid in self.clean:
                out[oid] = []
            elif oid in self.found:
                out[oid] = self.found[oid]
        return out


class StoreLookup:
    """The live datastore as seen by repositories scanned in this process (scanner.audit.incremental.Known):
    each lookup sees everything merged before it, so the second of two forks already skips the first's
    history. The per-rule-set answers that do not change within one repository's scan are read once each."""

    def __init__(self, store: Any, ruleset: str) -> None:
        self.store, self.ruleset = store, ruleset

    def __call__(self, oids: Sequence[str]) -> dict[str, list[StoredFinding]]:
        return self.store.known_blobs(self.ruleset, oids)  # type: ignore[no-any-return]

    def covered(self) -> list[str]:
        return self.store.covered(self.ruleset)  # type: ignore[no-any-return]

    def commit_adds(self) -> dict[str, list[tuple[str, str]]]:
        return self.store.commit_adds(self.ruleset)  # type: ignore[no-any-return]

    def finding_objects(self) -> tuple[set[str], set[str]]:
        return self.store.finding_objects(self.ruleset)  # type: ignore[no-any-return]


def _key(item: Any) -> str:
    """A planned item's content address: a blob's id, or for a commit message the commit's id."""
    oid = getattr(item, "oid", None)
    return oid if oid is not None else item.commit


@dataclass
class BlobCache:
    """One repository's view of the cache of scanned objects: what to skip, and what was read (for the
    datastore). Commit messages are cached by commit id like blobs by blob id: both are content addresses."""

    lookup: Lookup | None  # None: read everything (a changed rule set is simply a lookup that knows nothing)
    need_secrets: bool = False  # --verify / --show-secrets: objects whose findings' secrets were not kept are read
    store_secrets: bool = False
    skipped: int = 0  # blobs not read: scanned before
    messages_skipped: int = 0
    attempted: int = 0  # blobs handed to the reader
    read: list[str] = field(default_factory=list)  # blob ids read and fully scanned
    messages_read: list[str] = field(default_factory=list)  # commit ids whose messages were read
    found: dict[str, list[StoredFinding]] = field(default_factory=dict)  # of those, the ones with findings
    reused: dict[str, list[StoredFinding]] = field(default_factory=dict)  # skipped objects' stored findings
    rebuilt: list[Finding] = field(default_factory=list)  # their findings, as the engine would give them here

    def fresh(self, items: Sequence[Any]) -> list[Any]:
        """The planned items (blobs, commit messages) to read: those not scanned before under these rules.
        The others' findings are rebuilt from the datastore, placed at the planned path."""
        self.skipped = self.messages_skipped = 0
        self.reused, self.rebuilt = {}, []
        if self.lookup is None or not items:
            return list(items)
        stored = self.lookup([_key(i) for i in items])
        out = []
        for item in items:
            key = _key(item)
            found = stored.get(key)
            if found is None or (self.need_secrets and any(s.secret is None for s in found)):
                out.append(item)
                continue
            self.reused[key] = list(found)
            self.rebuilt.extend(_finding(s, key, getattr(item, "path", "")) for s in found)
            if hasattr(item, "oid"):
                self.skipped += 1
            else:
                self.messages_skipped += 1
        return out

    def record(self, read: Sequence[Any], findings: Sequence[Finding], warnings: Sequence[Warning]
               ) -> list[Finding]:
        """Takes what history_scan read, with the raw findings (before suppression or collapsing: what an
        object holds must not depend on one repository's ignore file), and returns the skipped objects'
        findings to report with them. What could not be read whole (named in a missing/corrupt-object
        warning, or at a path where a rule ran out of time) is not recorded, so the next audit tries again."""
        blobs = [i for i in read if hasattr(i, "oid")]
        messages = [i.commit for i in read if not hasattr(i, "oid")]
        self.attempted = len(blobs)
        self.read, self.messages_read, self.found = [], [], {}
        bad: set[str] = set()
        bad_paths: set[str] = set()
        for w in warnings:
            if w.kind in INCOMPLETE_KINDS:
                bad.update(_OID.findall(w.message))
                if w.kind == "rule-timeout":
                    if not w.path:  # cannot tell which object: record nothing rather than something false
                        return self.rebuilt
                    bad_paths.add(w.path)
        paths = {b.oid: b.path for b in blobs}
        wanted = set(messages)
        found: dict[str, list[StoredFinding]] = {}
        public = KnownPublic()  # judged now, while the secret is here: a rebuilt finding carries none
        for f in findings:
            if f.source in ("blob", "image") and f.blob and f.blob in paths:  # image: blob is the layer digest
                key, suffix = f.blob, f.member  # the blob's path is its place's; a member's `!inner/path` is not
            elif f.source == "commit-message" and f.commit is not None and f.commit in wanted:
                key, suffix = f.commit, f.path  # "(commit message 1a2b3c4d5e6f)": kept whole
            else:
                continue
            found.setdefault(key, []).append(StoredFinding(
                f.rule_id, f.fingerprint, suffix, f.line, f.column, f.offset, f.encoding, f.checksum,
                tuple(f.tags) + ((KNOWN_PUBLIC_TAG,) if public.matches(f) else ()),
                f.inline_allowed, f.description, f.severity, f.verify_kind, f.prefix, redact(f.secret, f.prefix),
                f.secret if self.store_secrets else None, f.source))
        self.read = [b.oid for b in blobs if b.oid not in bad and not (b.path and b.path in bad_paths)]
        self.messages_read = [c for c in messages if c not in bad and f"(commit message {c[:12]})" not in bad_paths]
        kept_ids = {*self.read, *self.messages_read}
        self.found = {key: v for key, v in found.items() if key in kept_ids}
        return self.rebuilt

    def fingerprints_in(self, oid: str) -> set[str]:
        return {s.fingerprint for s in (*self.found.get(oid, ()), *self.reused.get(oid, ()))}


PLACEHOLDER = "\0(not kept: {})"  # a NUL never occurs in a text blob, so attribution's at_head test fails


def shown_secret(f: Finding) -> str:
    """What may be shown of a finding's secret: its redaction, also for a rebuilt finding (placeholder)."""
    if f.secret.startswith(PLACEHOLDER[:12]):
        return f.secret[12:-1]
    return redact(f.secret, f.prefix)


def kept(f: Finding) -> bool:
    """Whether the finding carries its real secret (read this time, or stored with --show-secrets)."""
    return not f.secret.startswith(PLACEHOLDER[:12])


def _finding(s: StoredFinding, key: str, path: str) -> Finding:
    """A stored finding as the engine would have produced it there (in blob `key` at `path`, or in the
    message of commit `key`). Without the secret (not kept unless --show-secrets) it carries a placeholder;
    the audit shows the stored redaction instead."""
    message = s.source == "commit-message"
    return Finding(s.rule_id, s.description, s.severity, s.secret or PLACEHOLDER.format(s.redacted), s.fingerprint,
                   s.path_suffix if message else path + s.path_suffix, s.line, s.col, s.offset, s.source, s.encoding,
                   s.checksum, tuple(s.tags), commit=key if message else None, blob=None if message else key,
                   verify_kind=s.verify_kind, prefix=s.prefix, inline_allowed=s.inline_allowed,
                   member="" if message or not s.path_suffix.startswith("!") else s.path_suffix)
