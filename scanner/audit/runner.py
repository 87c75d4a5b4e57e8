"""An audit: one history scan per repository (here, or one task each on a Dask cluster), merged by this
process into the datastore, then verified once over everything and gated on open findings only.

Tasks never touch the datastore: they get a read-only view of the blobs already scanned (a lookup here, a
snapshot on a cluster) and return a TargetResult; the client merges each one in its own transaction as it
arrives, so an interrupted audit keeps every repository finished before the interruption.

One module on purpose: a target's scan and its merge into the datastore share the state key and the
record they write; split, the incremental-skip rule would live in two places.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from scanner.audit.cache import (
    PLACEHOLDER,
    BlobCache,
    Lookup,
    StoreLookup,
    kept,
    paths_matter,
    ruleset_hash,
    ruleset_sources,
    shown_secret,
)
from scanner.audit.datastore import Datastore, ScanRecord, StoredFinding, gates, now
from scanner.audit.targets import Target, prepare
from scanner.errors import UsageError
from scanner.findings import INCOMPLETE_KINDS, Finding, printable
from scanner.sources.gitbin import git_binary, run_git
from scanner.sources.repoview import holding, locate, open_view, read_regular


@dataclass
class AuditSpec:
    """Everything a task needs, picklable: the scan options without progress or verification (both are
    the client's: one progress line, one polite verification pass over all repositories)."""

    opts: Any  # scanner.pipeline.run.ScanOptions
    ruleset: str
    rules: int
    cache_dir: str
    include_binary: bool = False
    incremental: bool = True
    keep_secrets: bool = False  # --verify / --show-secrets: findings come back with their secrets
    store_secrets: bool = False
    # target key -> (state, reported) of its last complete scan under this rule set: an unchanged
    # repository (same state_key) is reported from there without being scanned (issue 15)
    previous: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass
class TargetResult:
    target: Target
    record: ScanRecord | None = None
    findings: list[Finding] = field(default_factory=list)  # reported (after suppression, collapsed)
    error: str | None = None
    action: str = ""  # cloned | fetched | ""
    seconds: float = 0.0
    skipped_blobs: int = 0
    skipped_messages: int = 0
    suppressed: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    scan_id: int | None = None
    statuses: dict[str, tuple[str, str]] = field(default_factory=dict)
    worker: str = ""  # host:pid that scanned it (a Dask worker, or this process)
    unchanged: bool = False  # refs, rules and suppression inputs as at its last scan: reported from there
    covered_commits: int = 0  # commits of its history an earlier scan covered: not walked again


def scan_target(target: Target, spec: AuditSpec, lookup: Lookup | None) -> TargetResult:
    """One repository, start to finish, on whichever machine runs it. Never raises for a broken target:
    the error comes back in the result, and the audit goes on.

    Cheapest first: a repository whose refs, rule set and suppression inputs are those of its last complete
    scan is not scanned at all (its stored report is its result); otherwise only the history no earlier
    scan covered is walked (scanner.audit.incremental); history_scan is the fallback for what that cannot do."""
    t0 = time.perf_counter()
    started = now()
    result = TargetResult(target, worker=f"{socket.gethostname()}:{os.getpid()}")
    if target.kind == "image":
        return _scan_image(result, spec, lookup, t0, started)
    try:
        path, result.action = prepare(target, spec.cache_dir)
    except OSError as exc:
        result.error = str(exc)
        result.seconds = time.perf_counter() - t0
        return result
    try:
        with holding(path):  # one private view of the repository for every stage below (sources.repoview)
            return _scan_prepared(result, path, spec, lookup, t0, started)
    except UsageError as exc:  # not a repository, a config git would refuse
        result.error = str(exc)
        result.seconds = time.perf_counter() - t0
        return result


def _scan_prepared(result: TargetResult, path: str, spec: AuditSpec, lookup: Lookup | None, t0: float,
                   started: str) -> TargetResult:
    from scanner.pipeline.run import history_scan

    opts = replace(spec.opts, progress=None, verify=None, notes=[], policy=None)
    refs = _refs(path)
    state = state_key(path, refs, spec) if spec.incremental else None
    if _unchanged(result, spec, started, refs, state, t0):
        return result
    cache = BlobCache(lookup if spec.incremental else None, need_secrets=spec.keep_secrets,
                      store_secrets=spec.store_secrets)
    outcome = None
    try:
        if spec.incremental and lookup is not None and hasattr(lookup, "covered"):
            from scanner.audit.incremental import audit_history

            outcome = audit_history(path, opts, spec.include_binary, cache, lookup,  # type: ignore[arg-type]
                                    _rules(spec, opts), lambda: _engine(spec, opts)[1])
        report = outcome.report if outcome is not None else history_scan(
            path, opts, include_binary=spec.include_binary, blob_cache=cache, built=_engine(spec, opts))
    except UsageError as exc:
        result.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - a bug or a damaged repository: this target only, never the audit
        result.error = f"internal error: {type(exc).__name__}: {exc}"
    if result.error:
        result.seconds = time.perf_counter() - t0
        return result
    report.findings = _fix_at_head(path, report.findings, cache)
    _record(result, report, cache, refs, state, spec, started)
    if outcome is not None and result.record is not None:
        result.record.covered, result.record.adds = outcome.covered, outcome.adds
        result.covered_commits = outcome.covered_before
    result.seconds = time.perf_counter() - t0
    return result


def _scan_image(result: TargetResult, spec: AuditSpec, lookup: Lookup | None, t0: float, started: str
                ) -> TargetResult:
    """A container image (scanner.sources.images): its layers are the content-addressed objects, so a layer
    any earlier audit scanned under these rules (a shared base image) is not read again."""
    from scanner.pipeline.run import Source, image_reading, run_source
    from scanner.sources.images import ImageError, open_image
    from scanner.sources.registry import is_reference, pull

    target = result.target
    where = target.location
    try:
        if is_reference(where):  # a registry image: pulled into the cache (skopeo reuses the layers it has)
            where = os.path.join(spec.cache_dir, "images", hashlib.sha256(where.encode()).hexdigest()[:24])
            pull(target.location, where)
            result.action = "pulled"
        image = open_image(where, target.key)
    except (ImageError, OSError, UsageError) as exc:
        result.error = str(exc)
        result.seconds = time.perf_counter() - t0
        return result
    opts = replace(spec.opts, progress=None, verify=None, notes=[], policy=None)
    refs = {f"config/{i}": c for i, c in enumerate(image.configs)}
    path = where.removeprefix("oci-archive:")
    state = _state(spec, {"image": [image.kind, list(image.configs), [layer.digest for layer in image.layers]]},
                   os.path.dirname(path))
    if _unchanged(result, spec, started, refs, state, t0):
        return result
    cache = BlobCache(lookup if spec.incremental else None, need_secrets=spec.keep_secrets,
                      store_secrets=spec.store_secrets)
    source = Source("scan", target.key, path, True, lambda rules: image_reading(
        [(target.key, where)], [], None, spec.include_binary, opts, [], blob_cache=cache))
    try:
        report = run_source(source, opts, _engine(spec, opts))
    except UsageError as exc:
        result.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - a bug or a damaged image: this target only, never the audit
        result.error = f"internal error: {type(exc).__name__}: {exc}"
    if not result.error:
        _record(result, report, cache, refs, state, spec, started)
    result.seconds = time.perf_counter() - t0
    return result


def _unchanged(result: TargetResult, spec: AuditSpec, started: str, refs: dict[str, str], state: str | None,
               t0: float) -> bool:
    """Whether the target is answered from its last complete scan's report (same state key): then it is
    not scanned at all."""
    before = spec.previous.get(result.target.key)
    if state is None or before is None or before[0] != state or spec.keep_secrets:
        return False
    try:
        _from_stored(result, before[1], spec, started, refs, state)
    except (ValueError, KeyError, TypeError):
        return False  # a stored report this version cannot read: scan as usual
    result.seconds = time.perf_counter() - t0
    return True


def _record(result: TargetResult, report: Any, cache: BlobCache, refs: dict[str, str], state: str | None,
            spec: AuditSpec, started: str) -> None:
    """A scanned target's result and the record the datastore merges: what was read, what it held, and (for a
    complete scan) the state and report an unchanged target's next audit is answered from."""
    target = result.target
    found = report.findings
    result.findings = found if spec.keep_secrets else [_without_secret(f) for f in found]
    result.suppressed = report.suppressed
    result.notes = report.notes
    result.skipped_blobs = cache.skipped
    result.skipped_messages = cache.messages_skipped
    warnings = [{"kind": w.kind, "message": w.message, "path": w.path} for w in report.warnings]
    result.record = ScanRecord(
        target_key=target.key, target_kind=target.kind, ruleset=spec.ruleset, rules=spec.rules,
        started_at=started, finished_at=now(), refs=refs, blobs_planned=cache.skipped + cache.attempted,
        blobs_read=cache.read, messages_read=cache.messages_read, blob_findings=cache.found,
        bytes_scanned=report.bytes_scanned, findings=[], warnings=warnings)
    if state is not None and not any(w["kind"] in INCOMPLETE_KINDS for w in warnings):
        # an incomplete scan is never the reason to skip the next one
        result.record.state = state
        result.record.reported = json.dumps({
            "findings": [_stored_finding(f) for f in result.findings], "suppressed": result.suppressed,
            "notes": result.notes, "warnings": warnings, "blobs_planned": result.record.blobs_planned,
            "messages": cache.messages_skipped + len(cache.messages_read)})


_STATE_VERSION = 2  # bump when what state_key covers changes


def state_key(path: str, refs: dict[str, str], spec: AuditSpec) -> str | None:
    """A digest of everything an audit's report of this repository depends on besides the datastore: its
    refs (name -> object id) and what HEAD is, the rule set (rules, decode/archive depth, binary, version),
    the report options, and the suppression inputs a scan reads (ignore files, baseline: their bytes).
    None when git cannot tell, or a stash is present (its older entries live only in the reflog)."""
    gitdir = _git_dir(path)
    if gitdir is None or not refs or any(r.startswith("refs/stash") for r in refs):
        return None
    return _state(spec, {"refs": sorted(refs.items()), "head": _digest(os.path.join(gitdir, "HEAD")),
                         "shallow": _digest(os.path.join(gitdir, "shallow"))},
                  path if os.path.isdir(path) else os.path.dirname(path))


def _state(spec: AuditSpec, identity: dict, root: str | None) -> str | None:
    """The digest of a target's identity (refs, or an image's configs and layers) with the rule set, the report
    options and the suppression inputs (ignore files under root, the baseline: their bytes)."""
    if not spec.incremental:
        return None
    from scanner.findings.suppress import GITLEAKS_IGNORE, IGNORE_FILE

    opts = spec.opts
    inputs = {
        "v": _STATE_VERSION, "ruleset": spec.ruleset, **identity,
        "options": [opts.hide_invalid_checksum, opts.no_suppress, opts.list_skipped, opts.ignore_file,
                    opts.baseline, spec.include_binary],
        "ignore": _digest(opts.ignore_file or (os.path.join(root, IGNORE_FILE) if root is not None else None)),
        "gitleaks": _digest(os.path.join(root, GITLEAKS_IGNORE) if root is not None else None),
        "baseline": _digest(opts.baseline),
        "shipped": _shipped_digest(),
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


@functools.cache
def _shipped_digest() -> str:
    """Every data file shipped in tokenscan's rules folder (rule files, known-public key lists...): what
    suppresses or finds something may change there without the rule-set hash seeing it (an example, a key
    list). Read once per process."""
    from scanner.rules.loader import builtin_rule_files, shipped_dir

    first = builtin_rule_files()
    root = Path(shipped_dir())
    h = hashlib.sha256(json.dumps(first).encode())
    if root.is_dir():
        for p in sorted(root.iterdir()):
            if p.is_file() and not p.name.endswith(".toml"):
                h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def _git_dir(path: str) -> str | None:
    """The repository's git directory without a git process; None when there is none (state_key then
    never skips)."""
    try:
        found = locate(path)
    except UsageError:
        return None
    return found.git_dir if found is not None else None


def _read(name: str) -> bytes | None:
    """A regular file's bytes (a FIFO or device in a scanned repository would block or never end)."""
    return read_regular(name, 1 << 30)


def _digest(name: str | None) -> str | None:
    """sha256 of a file's bytes; None when there is no such file (absent and empty must differ)."""
    data = None if name is None else _read(name)
    return None if data is None else hashlib.sha256(data).hexdigest()


_SECRETLESS = ("secret", "context_hints", "verification")


def _stored_finding(f: Finding) -> dict:
    """A reported finding as an unchanged repository's next audit rebuilds it: everything but the secret
    (its redaction only), context hints and verification (a later audit verifies afresh)."""
    d = {k.name: getattr(f, k.name) for k in fields(f) if k.name not in _SECRETLESS}
    d["shown"] = shown_secret(f)
    return d


def _from_stored(result: TargetResult, reported: str, spec: AuditSpec, started: str, refs: dict[str, str],
                 state: str) -> None:
    """An unchanged repository's result: its last complete scan's report, recorded as a new scan that read
    nothing (its places count as current again)."""
    doc = json.loads(reported)
    names = {k.name for k in fields(Finding)}
    findings = []
    for d in doc["findings"]:
        kw = {k: v for k, v in d.items() if k in names}
        kw["tags"], kw["refs"] = tuple(kw.get("tags", ())), tuple(kw.get("refs", ()))
        findings.append(Finding(secret=PLACEHOLDER.format(d["shown"]), **kw))
    result.findings = findings
    result.suppressed = dict(doc["suppressed"])
    result.notes = [*doc["notes"], "unchanged since its last audit (refs, rules, suppression inputs): not scanned "
                                   "again, findings as recorded then"]
    result.unchanged = True
    result.skipped_blobs = int(doc["blobs_planned"])
    result.skipped_messages = int(doc.get("messages", 0))
    result.record = ScanRecord(
        target_key=result.target.key, target_kind=result.target.kind, ruleset=spec.ruleset, rules=spec.rules,
        started_at=started, finished_at=now(), refs=refs, blobs_planned=int(doc["blobs_planned"]), blobs_read=[],
        blob_findings={}, bytes_scanned=0, findings=[], warnings=list(doc["warnings"]), state=state,
        reported=reported)


_ENGINE: dict[tuple, Any] = {}  # this process's engine for the audit's rule set (one at a time)
_RULES: dict[tuple, Any] = {}  # and its rules: loading them is cheap next to building the engine


def _rules(spec: AuditSpec, opts: Any) -> list:
    from scanner.pipeline.run import load_checked_rules

    key = (spec.ruleset, opts.rule_files)
    if key not in _RULES:
        _RULES.clear()
        _RULES[key] = load_checked_rules(opts.rule_files, extra=opts.extra_rules)
    return _RULES[key]  # type: ignore[no-any-return]


def _engine(spec: AuditSpec, opts: Any) -> Any:
    """(rules, engine), built once per process and only when some repository has something to read, then
    reused for every repository it scans: building the engine (compiling and indexing every rule) costs
    ~0.2-0.4 s, more than an unchanged repository's whole audit."""
    from scanner.engine.matcher import Engine

    key = (spec.ruleset, opts.accelerated, opts.rule_files)
    if key not in _ENGINE:
        _ENGINE.clear()
        rules = _rules(spec, opts)
        _ENGINE[key] = (rules, Engine(rules, opts.accelerated, opts.decode_depth))
    return _ENGINE[key]


def _without_secret(f: Finding) -> Finding:
    """Secrets stay on the worker unless the client needs them (verification, --show-secrets)."""
    return replace(f, secret=PLACEHOLDER.format(shown_secret(f)), context_hints={})


def _refs(path: str) -> dict[str, str]:
    if git_binary() is None:
        return {}
    try:
        proc = run_git(open_view(path).path, ["for-each-ref", "--format=%(refname) %(objectname)"])
    except OSError:
        return {}
    text = proc.stdout.decode("utf-8", "surrogateescape")
    return dict(line.split(" ", 1) for line in text.splitlines() if " " in line)


def _fix_at_head(path: str, findings: list[Finding], cache: BlobCache) -> list[Finding]:
    """at_head for every blob finding from what each blob is known to hold: a finding rebuilt from the
    datastore carries no secret to look for in HEAD's file, so all of them are judged the same way (does
    the blob at that path in HEAD hold this fingerprint?)."""
    def where(f: Finding) -> str:  # the blob's own path: an archive member's `!inner/path` is not in the tree
        return f.path[:len(f.path) - len(f.member)]

    wanted = {where(f) for f in findings if f.source == "blob"}
    if not wanted:
        return findings
    head = _head_blobs(path, wanted)

    def at_head(f: Finding) -> bool:
        oid = head.get(where(f))
        return oid is not None and f.fingerprint in cache.fingerprints_in(oid)
    return [replace(f, at_head=at_head(f)) if f.source == "blob" else f for f in findings]


def _head_blobs(path: str, wanted: set[str]) -> dict[str, str]:
    """HEAD's blob id at each wanted path, by a tree lookup per path (a handful) instead of listing HEAD's
    whole tree (tens of thousands of entries, read for every repository of an audit). A path shown escaped
    (a name that is not UTF-8) cannot be looked up: then the listing decides, as it always did."""
    import pygit2

    from scanner.sources.git import open_repo
    from scanner.sources.gitbin import GITLINK, TREE

    try:
        tree = open_repo(path).head.peel(pygit2.Commit).tree
    except (UsageError, KeyError, ValueError, pygit2.GitError):
        return {}  # no HEAD (unborn, damaged): nothing is at HEAD
    head: dict[str, str] = {}
    unsure = False
    for p in wanted:
        try:
            entry = tree[p]
        except (KeyError, ValueError, TypeError, pygit2.GitError):
            unsure = unsure or "\\" in p
            continue
        if entry.filemode not in (TREE, GITLINK):
            head[p] = str(entry.id)
    return {**head, **_listed_head(path)} if unsure else head


def _listed_head(path: str) -> dict[str, str]:
    if git_binary() is None:
        return {}
    try:
        proc = run_git(open_view(path).path, ["ls-tree", "-r", "-z", "HEAD"])
    except (OSError, UsageError):
        return {}
    head: dict[str, str] = {}
    if proc.returncode == 0:
        for entry in proc.stdout.split(b"\0"):
            meta, _, name = entry.partition(b"\t")
            parts = meta.split()
            if len(parts) == 3 and parts[1] == b"blob":
                head[printable(name.decode("utf-8", "surrogateescape"))] = parts[2].decode()
    return head


def finding_dict(f: Finding) -> dict:
    """A reported finding as the datastore keeps it (the secret only goes in with --show-secrets)."""
    return {"fingerprint": f.fingerprint, "rule_id": f.rule_id, "description": f.description,
            "severity": f.severity, "redacted": shown_secret(f), "secret": f.secret if kept(f) else None,
            "commit": f.commit, "path": f.path, "line": f.line, "column": f.column, "source": f.source,
            "author": f.author, "date": f.date, "at_head": f.at_head, "verification": f.verification.status,
            "checksum": f.checksum, "tags": list(f.tags), "gating": f.gating}


class AuditProgress:
    """repositories done/total, findings so far, ETA; stderr, and only on a terminal."""

    def __init__(self, total: int, stream: Any = None) -> None:
        self.total, self.stream = total, stream or sys.stderr
        self.started = time.monotonic()
        self.shown = False

    def __call__(self, done: int, findings: int, last: str) -> None:
        elapsed = time.monotonic() - self.started
        eta = elapsed / done * (self.total - done) if done else 0.0
        m, s = divmod(int(eta), 60)
        self.stream.write(f"\r\033[Kaudit: {done}/{self.total} repositories, {findings} findings, "
                          f"ETA {m}:{s:02d}  ({last[-40:]})")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


Executor = Callable[[list[Target], AuditSpec, Callable[[TargetResult], None], Datastore], None]


@dataclass
class AuditResult:
    results: list[TargetResult]
    warnings: list[str]
    ruleset: str
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    gaps: list[str] = field(default_factory=list)  # what was named but only partly listed (a forge's pages)

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings]

    @property
    def not_scanned(self) -> list[str]:
        """Targets named but not scanned at all (a failed clone, not a repository, a path that is gone), one
        line each: an audit with any of these never passes (exit 2 unless findings fail it first)."""
        return list(self.warnings)


def run_audit(targets: Sequence[Target], opts: Any, store: Datastore, *, cache_dir: str,
              include_binary: bool = False, show_secrets: bool = False, verify: Any = None,
              executor: Executor | None = None,
              progress: AuditProgress | None = None, warnings: list[str] | None = None, full: bool = False,
              notes: list[str] | None = None, gaps: list[str] | None = None) -> AuditResult:
    """Audits every target and merges each result into the datastore as it arrives. executor: how tasks
    run (default: here, one after another, each using opts.jobs cores; see scanner.audit.distributed).
    full: read every blob of every repository, as if the datastore knew nothing (results still merge)."""
    from scanner.pipeline.run import load_checked_rules

    t0 = time.perf_counter()
    sources = ruleset_sources(opts, include_binary)
    seen = store.ruleset_for(sources) if sources else None
    if seen is not None:  # rules are loaded (and the engine built) only when some repository needs reading
        ruleset, n_rules, by_path = seen
    else:
        rules = load_checked_rules(opts.rule_files, extra=opts.extra_rules)
        ruleset = ruleset_hash(rules, opts.decode_depth, include_binary, opts.archive_depth)
        n_rules, by_path = len(rules), paths_matter(rules)
        _RULES.clear()
        _RULES[(ruleset, opts.rule_files)] = rules
        if sources:
            store.remember_ruleset(sources, ruleset, n_rules, by_path)
    audit = AuditResult([], list(warnings or []), ruleset, list(notes or []), gaps=list(gaps or []))
    incremental = not by_path and not full
    if full:
        audit.notes.append("--full: every blob and commit message read again, nothing taken from the datastore")
    elif not incremental:
        audit.notes.append("a rule or allowlist looks at paths: every blob is read (a blob id alone is not a "
                           "cache key then)")
    if show_secrets:
        store.secure()
    spec = AuditSpec(replace(opts, progress=None, verify=None), ruleset, n_rules, cache_dir, include_binary,
                     incremental, keep_secrets=bool(verify) or show_secrets, store_secrets=show_secrets,
                     previous=store.last_states(ruleset, [t.key for t in targets]) if incremental else {})
    found = 0

    def merge(res: TargetResult) -> None:
        nonlocal found
        audit.results.append(res)
        if res.error:
            audit.warnings.append(f"{res.target.key}: {res.error}")
            store.record_failure(res.target.key, res.target.kind, ruleset, n_rules, res.error)
        elif res.record is not None:
            res.record.findings = [finding_dict(f) for f in res.findings]
            res.scan_id = store.merge(res.record, show_secrets)
        found += len(res.findings)
        if progress is not None:
            progress(len(audit.results), found, res.target.key)

    run = executor or _run_here
    try:
        run(list(targets), spec, merge, store)
    finally:
        if progress is not None:
            progress.close()
    if verify is not None:
        _verify(audit, verify, store, show_secrets)
    fps = {f.fingerprint for f in audit.findings}
    statuses = store.statuses(fps)
    for r in audit.results:
        r.statuses = {f.fingerprint: statuses.get(f.fingerprint, ("open", "")) for f in r.findings}
    audit.seconds = time.perf_counter() - t0
    return audit


def _run_here(targets: list[Target], spec: AuditSpec, merge: Callable[[TargetResult], None], store: Datastore
              ) -> None:
    lookup = StoreLookup(store, spec.ruleset) if spec.incremental else None
    for t in targets:
        merge(scan_target(t, spec, lookup))


def _verify(audit: AuditResult, verify: Any, store: Datastore, show_secrets: bool) -> None:
    """Once over every repository's findings: each distinct secret is asked about once per audit, however
    many repositories hold it. Statuses go into the datastore with the findings."""
    from scanner.verify import verify_findings

    findings = [f for f in audit.findings if kept(f)]
    if not findings:
        return
    verified, stats = verify_findings(findings, verify)
    audit.notes.append(f"verified {stats.secrets} distinct secrets with {stats.requests} requests")
    new = {id(old): f for old, f in zip(findings, verified, strict=True)}
    for r in audit.results:
        r.findings = [new.get(id(f), f) for f in r.findings]
        if r.record is not None and r.scan_id is not None:
            r.record.findings = [finding_dict(f) for f in r.findings]
            store.update_verification(r.record.findings)
    if not show_secrets:  # verified: the secrets are no longer needed in memory for the report
        for r in audit.results:
            r.findings = [_without_secret(f) for f in r.findings]


def gate_report(audit: AuditResult) -> Any:
    """A Report holding only the findings still open, for app.exit_code: triaged ones never fail the gate,
    except a decision a later verification contradicts (revoked-but-live: the rotation did not take)."""
    from scanner.findings import Warning
    from scanner.report import Report

    open_ = [f for r in audit.results for f in r.findings if gates(r.statuses.get(f.fingerprint, ("open", ""))[0])]
    # targets that could not be scanned at all are not here: they are audit.not_scanned, exit 2 (commands_audit)
    warnings = [Warning(w["kind"], w["message"], w["path"]) for r in audit.results if r.record
                for w in r.record.warnings if w["kind"] in INCOMPLETE_KINDS]
    warnings += [Warning("listing", gap, gap.split(": ", 1)[0]) for gap in audit.gaps]
    return Report(mode="audit", target="audit", findings=open_, warnings=warnings)


__all__ = ["AuditResult", "AuditSpec", "StoredFinding", "TargetResult", "gate_report", "run_audit", "scan_target"]
