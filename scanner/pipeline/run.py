"""What each command does, as plain functions over one pipeline (run_source): a Source says what to read
and how; rules -> suppression inputs -> scan -> findings -> attribution -> suppression -> verification ->
report is the same for files, history and staged changes.

The CLI turns its typed settings into ScanOptions and calls these; scanner.api and tests call them too.
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Iterator

from scanner.engine.matcher import Engine
from scanner.errors import UsageError
from scanner.findings import SKIPPED_KINDS, Finding, Warning, dedupe, printable
from scanner.findings.suppress import Suppressor
from scanner.pipeline.policy import PolicyFiles
from scanner.pipeline.workers import IN_PROCESS_BYTES, Reader, ScanResult, default_jobs
from scanner.report import Report
from scanner.rules.loader import Rule, load_rules
from scanner.sources import Chunk


@dataclass
class ScanOptions:
    rule_files: tuple[str, ...] = ()
    unverified_rule_files: tuple[str, ...] = ()  # named by a config file: their rules' `verify` is dropped
    extra_rules: tuple[Rule, ...] = ()  # e.g. from a gitleaks configuration
    verify: object | None = None  # VerifyOptions when --verify
    hide_invalid_checksum: bool = False
    jobs: int = field(default_factory=default_jobs)
    accelerated: bool | None = None  # None: Hyperscan when importable
    progress: Callable[[int, int, int, int], None] | None = None
    baseline: str | None = None
    ignore_file: str | None = None  # default: .tokenscanignore at the scanned root
    no_suppress: bool = False
    decode_depth: int = 2  # encodings deep to look (base64, url, json escapes); 0: plain text only
    policy: PolicyFiles | None = None  # where config, ignore file and baseline are read (a review: its base)
    notes: list[str] = field(default_factory=list)  # said in the report: settings not applied, and why
    list_skipped: bool = False  # name every skip by design (binary, symlink) instead of counting them
    archive_depth: int = 2  # levels of archives opened in files and blobs (zip, jar, whl, docx, tar, gz); 0: none
    in_process_bytes: int = IN_PROCESS_BYTES  # smaller inputs are scanned without a pool; tests set 0 to force one


def load_checked_rules(rule_files: tuple[str, ...] | list[str] = (), extra: tuple[Rule, ...] = ()) -> list[Rule]:
    """The shipped rules and the user's, each user rule's `verify` checked against the verifiers."""
    from scanner.verify.registry import checked

    return checked(load_rules(rule_files, extra=extra))


def build_engine(opts: ScanOptions) -> tuple[list[Rule], Engine]:
    if not (opts.rule_files or opts.extra_rules):  # the shipped rules alone: their engine comes built
        from scanner.engine.saved import shipped_engine

        return shipped_engine(opts.accelerated, opts.decode_depth)
    rules = load_checked_rules(opts.rule_files, extra=opts.extra_rules)
    if opts.unverified_rule_files:  # the scanned content never decides where a secret is sent
        rules = [replace(r, verify=None) if r.verify and r.source in opts.unverified_rule_files else r for r in rules]
    return rules, Engine(rules, opts.accelerated, opts.decode_depth)


def finish(findings: list[Finding], opts: ScanOptions) -> list[Finding]:
    """Policy applied to raw findings: one per place; bad-checksum candidates (listed, never gating) only when
    not asked to hide them."""
    if opts.hide_invalid_checksum:
        findings = [f for f in findings if f.checksum != "invalid"]
    return dedupe(findings)


def suppressor(opts: ScanOptions, root: str, whole_target: bool) -> Suppressor | None:
    """Stale baseline entries only mean something when the whole target was scanned (not for staged).
    The ignore files and the baseline are read through opts.policy: at the base revision of a review."""
    if opts.no_suppress:
        return None
    from scanner.findings.suppress import GITLEAKS_IGNORE, IGNORE_FILE, load_baseline, load_gitleaks_ignore, load_ignore_file
    from scanner.pipeline.policy import PolicyFiles

    policy = opts.policy or PolicyFiles(root)
    base = root if os.path.isdir(root) else os.path.dirname(root) or "."

    def fetch(path: str | None, default: str | None, explicit: bool) -> tuple[str, bytes] | None:
        path = path or (os.path.join(base, default) if default else None)
        if path is None:
            return None
        data = policy.read(path)
        if data is None and explicit:
            if not policy.rev:
                raise UsageError(f"{path}: cannot read: no such file")
            opts.notes.append(f"{policy.describe(path)} does not exist at the base revision: not applied")
        return (path, data) if data is not None else None

    ignore = fetch(opts.ignore_file, None if opts.ignore_file else IGNORE_FILE, bool(opts.ignore_file))
    gitleaks = fetch(None, GITLEAKS_IGNORE, False)
    baseline = fetch(opts.baseline, None, True) if opts.baseline else None
    return Suppressor(load_ignore_file(*ignore) if ignore else None, load_baseline(*baseline) if baseline else None,
                      whole_target, load_gitleaks_ignore(*gitleaks) if gitleaks else None)


def to_report(mode: str, target: str, result: ScanResult, rules: list[Rule], opts: ScanOptions,
              suppress: Suppressor | None = None, attribute: Callable[[list[Finding]], list[Finding]] | None = None
              ) -> Report:
    after_scan = time.perf_counter()
    findings = finish(result.findings, opts)
    result.warnings[:] = [w if not w.path or printable(w.path) == w.path else replace(w, path=printable(w.path))
                          for w in result.warnings]
    if attribute is not None:  # before suppression: baseline entries may name commits
        _phase(opts, f"attributing {len(findings)} finding{'s' if len(findings) != 1 else ''} to commits")
        findings = attribute(findings)  # on the paths as git has them (a name that is not UTF-8 included)
    findings = [f if printable(f.path) == f.path else replace(f, path=printable(f.path)) for f in findings]
    warnings = result.warnings
    suppressed: dict[str, int] = {}
    if not opts.no_suppress and any(a.commits for r in rules for a in r.allowlists):
        from scanner.rules.gitleaks import drop_allowlisted_commits

        findings, dropped = drop_allowlisted_commits(findings, rules)
        if dropped:
            suppressed["allowlist-commit"] = dropped
    if suppress is not None:
        findings, counts, stale = suppress.apply(findings)
        suppressed.update(counts)
        warnings = warnings + stale
    skipped: dict[str, int] = {}
    if not opts.list_skipped:
        listed = []
        for w in warnings:
            if w.kind in SKIPPED_KINDS:
                skipped[w.kind] = skipped.get(w.kind, 0) + 1
            else:
                listed.append(w)
        warnings = listed
    report = Report(mode=mode, target=printable(target), skipped=skipped, findings=findings, warnings=warnings,
                    bytes_scanned=result.bytes_scanned, items_scanned=result.items_scanned,
                    duration_s=result.duration_s, rules=len(rules), suppressed=suppressed, notes=list(opts.notes))
    report = verified(report, opts)
    report.duration_s += time.perf_counter() - after_scan  # the summary's time is the whole run's
    return report


def _phase(opts: ScanOptions, text: str) -> None:
    phase = getattr(opts.progress, "phase", None)
    if phase is not None:
        phase(text)


def verified(report: Report, opts: ScanOptions) -> Report:
    """Verification runs last, on what would be reported: suppressed findings never leave the machine."""
    if opts.verify is not None and report.findings:
        from scanner.verify.scheduler import verify_findings

        _phase(opts, f"verifying {len(report.findings)} finding{'s' if len(report.findings) != 1 else ''}")

        report.findings, stats = verify_findings(report.findings, opts.verify)  # type: ignore[arg-type]
        if stats.secrets:
            rate = stats.requests / stats.seconds if stats.seconds else 0.0
            report.notes.append(f"verified {stats.secrets} distinct secrets with {stats.requests} requests "
                                f"in {stats.seconds:.1f} s ({rate:.1f} requests/s)")
        if stats.unknown:  # undecided is not clean: say it, and say what the gate does with it
            report.notes.append(f"{stats.unknown} secret{'s' if stats.unknown != 1 else ''} unknown: verification "
                                f"could not decide (see each finding); --fail-on live fails on them unless "
                                f"--allow-unknown")
    return report


@dataclass
class Reading:
    """How a source is read, worked out once its rules are known (history lists paths only when a rule
    needs them). Every hook is optional; run_source calls them in a fixed order."""

    items: Iterable[Any]  # a list, or a stream (a directory walk: scanning starts while it is listed)
    reader: Reader[Any]
    warnings: list[Warning] = field(default_factory=list)  # from listing; reported before the scan's own
    # while the reader is still open: more warnings that only the scan's end can tell (missing objects)
    collect: Callable[[], list[Warning]] | None = None
    close: Callable[[], None] | None = None  # helpers (git processes) that must not outlive the scan
    # on the raw result, listing warnings merged: keep, drop or add findings (staged: added lines only)
    post_scan: Callable[[ScanResult], list[Finding]] | None = None
    # on policy-filtered findings, before suppression (baseline entries may name commits): git attribution
    attribute: Callable[[list[Finding]], list[Finding]] | None = None
    notes: Callable[[], list[str]] | None = None  # said after everything else (what was enumerated, how)
    found: Callable[[list[Finding]], None] | None = None  # each batch's findings, as the scan reports them
    sized: bool = True  # the items' sizes are real (progress can show a bar); a walk's are nominal


@dataclass
class Source:
    """One command's input: what it is, where its ignore file and baseline live, whether a scan of it covers
    the whole target (stale baseline entries only mean something then), and how to read it."""

    mode: str  # scan | history | staged: the report's mode
    target: str  # as the report names it
    root: str  # where .tokenscanignore, .gitleaksignore and a relative baseline are read
    whole_target: bool
    plan: Callable[[list[Rule]], Reading]
    # cheap checks of the target, after the rules and before the suppression inputs (files: each root exists)
    check: Callable[[], None] | None = None
    progress: bool = True  # staged runs in a pre-commit hook: no progress line
    started: float | None = None  # set: the report's duration counts from here (history: the repository open)


def run_source(source: Source, opts: ScanOptions, built: tuple[list[Rule], Engine] | None = None) -> Report:
    """The one pipeline: rules and engine, suppression inputs (read before anything is scanned, so a bad
    baseline is an error at once), the source's reading, the scan, then findings -> attribution ->
    suppression -> verification -> report (to_report)."""
    from scanner.pipeline import workers as scan

    rules, engine = built or build_engine(opts)
    if source.check is not None:
        source.check()
    suppress = suppressor(opts, source.root, source.whole_target)
    reading = source.plan(rules)
    try:
        result = scan.run(engine, reading.reader, reading.items, _size, opts.jobs,
                          opts.progress if source.progress else None, opts.in_process_bytes, reading.sized,
                          reading.found)
        if reading.collect is not None:
            reading.warnings.extend(reading.collect())
        result.warnings[:0] = reading.warnings
        if reading.post_scan is not None:
            result.findings = reading.post_scan(result)
        # attribution reads what git worked out beside the scan, so helpers end after the report
        report = to_report(source.mode, source.target, result, rules, opts, suppress, reading.attribute)
    finally:  # no helper process outlives the scan, whatever happened
        if reading.close is not None:
            reading.close()
    if reading.notes is not None:
        report.notes.extend(reading.notes())
    if source.started is not None:
        report.duration_s = time.perf_counter() - source.started
    return report


NOMINAL_FILE_BYTES = 16 << 10  # a walked file's size is not known before it is read: batches count it as this


def _size(item: Any) -> int:
    return int(item.size) if item.size >= 0 else NOMINAL_FILE_BYTES


def scan_paths(paths: list[str], opts: ScanOptions, excludes: tuple[str, ...] = (), gitignore: bool = True,
               max_file_size: int = 10 << 20, include_binary: bool = False) -> Report:
    import shutil
    import tempfile

    from scanner.sources.files import FileReader, walk_iter
    from scanner.sources.images import image_kind
    from scanner.sources.registry import check_reference, is_reference, pull

    warnings: list[Warning] = []
    walk: list[Iterable[Any]] = []
    refs = [p for p in paths if is_reference(p)]
    images = [(p, p) for p in paths if p not in refs and image_kind(p)]  # (name, where it is read)
    files = [p for p in paths if p not in refs and (p, p) not in images]
    for ref in refs:
        check_reference(ref)

    def check() -> None:  # the roots are checked now; the walk is a stream: scanning starts while walking
        walk.append(walk_iter(files, excludes, gitignore, warnings) if files else [])

    def plan(rules: list[Rule]) -> Reading:
        reader = FileReader(max_file_size, include_binary, opts.archive_depth)
        if not images:
            return Reading(walk[0], reader, warnings, sized=False)
        return image_reading(images, walk[0], reader, include_binary, opts, warnings)

    root = files[0] if files else (images[0][1].removeprefix("oci-archive:") if images else ".")
    pulled = tempfile.mkdtemp(prefix="tokenscan-images-") if refs else None
    try:
        for i, ref in enumerate(refs):  # registry images: pulled to a layout that lives as long as the scan
            assert pulled is not None
            layout = os.path.join(pulled, str(i))
            try:
                pull(ref, layout)
            except OSError as exc:
                raise UsageError(str(exc)) from None
            images.append((ref, layout))
        return run_source(Source("scan", ", ".join(paths), root, True, plan, check), opts)
    finally:
        if pulled is not None:
            shutil.rmtree(pulled, ignore_errors=True)


def image_reading(images: list[tuple[str, str]], files: Iterable[Any], reader: Any, include_binary: bool,
                  opts: ScanOptions, warnings: list[Warning], blob_cache: Any = None) -> Reading:
    """Images' layers (scanner.sources.images) read beside any files, one layer per item, so a pool reads
    several layers at once; each finding is then placed in its layer (its command, whether the final image
    still holds it). blob_cache (audit): layers scanned before under these rules are not read again, their
    stored findings come back from the datastore, and what was read is recorded."""
    from scanner.sources.images import LayerReader, check_image, place_in_image

    opened = [check_image(where, name) for name, where in images]
    every = [layer for image in opened for layer in image.layers]
    todo = every if blob_cache is None else blob_cache.fresh(every)
    both = EitherReader(reader, LayerReader(include_binary, opts.archive_depth))

    def post_scan(result: ScanResult) -> list[Finding]:
        found = result.findings
        if blob_cache is not None:
            found = found + blob_cache.record(todo, result.findings, result.warnings)
        return place_in_image(found, every, result.warnings)

    return Reading(itertools.chain(files, todo), both, warnings, post_scan=post_scan, sized=False)


@dataclass(frozen=True)
class EitherReader:
    """Files and image layers in one scan: each item goes to its own reader (picklable, for the pool)."""

    files: Any
    layers: Any

    def read(self, item: Any, warnings: list[Warning]) -> Iterator[Chunk]:
        from scanner.sources.images import LayerItem

        reader = self.layers if isinstance(item, LayerItem) else self.files
        return reader.read(item, warnings)  # type: ignore[no-any-return]


def exit_code(report: Report, fail_on: str, allow_unknown: bool = False, fail_on_incomplete: bool = False) -> int:
    """1 when the gate fails. Under --fail-on live a finding verification could not decide (unknown, or
    never checked because --verify was not given) fails too: silence is not proof that a key is dead."""
    if fail_on_incomplete and report.incomplete:
        return 1
    gating = [f for f in report.findings if f.gating]
    if fail_on == "none":
        return 0
    if fail_on == "live":
        undecided = ("unknown", "not-checked")
        return int(any(f.verification.status == "live" or (not allow_unknown and f.verification.status in undecided)
                       for f in gating))
    return int(bool(gating))


def history_scan(repo_path: str, opts: ScanOptions, branch: str | None = None, since: str | None = None,
                 max_commits: int | None = None, include_binary: bool = False, use_git: bool = True,
                 blob_cache: Any = None, built: tuple[list[Rule], Engine] | None = None) -> Report:
    """blob_cache (scanner.audit.cache.BlobCache, for `audit`): blobs and commit messages it knows were scanned
    under these rules are not read again, their stored findings are attributed like fresh ones, and it records
    what was read.
    built: build_engine(opts) done once by the caller; an audit reuses it for every repository (building
    one is most of a small repository's scan)."""
    from scanner.sources.git import open_repo

    started = time.perf_counter()  # the summary's duration is the whole run's, attribution included
    repo = open_repo(repo_path)
    source = Source("history", repo_path, repo.location, not (branch or since or max_commits),
                    lambda rules: _history_reading(repo, rules, opts, branch, since, max_commits, include_binary,
                                                   use_git, blob_cache), started=started)
    try:
        return run_source(source, opts, built)
    finally:
        repo.close_view()


def _history_reading(repo: Any, rules: list[Rule], opts: ScanOptions, branch: str | None, since: str | None,
                     max_commits: int | None, include_binary: bool, use_git: bool, blob_cache: Any) -> Reading:
    """Every blob reachable from the refs once, and commit messages; findings attributed to the commits that
    introduced them; the missing-object check that ran beside the scan collected at its end."""
    from scanner.sources.blobs import GitReader
    from scanner.sources.git import StoreListing, attribute, collapse, plan_history

    paths_needed = any(r.path_pattern is not None or any(a.paths for a in r.allowlists) for r in rules)
    plan = plan_history(repo, branch, since, max_commits, use_git, paths_needed)
    # the whole store's listing is scanned while git lists it
    items: Iterable[Any] = (itertools.chain(plan.blobs, plan.messages) if isinstance(plan.blobs, StoreListing)
                            else [*plan.blobs, *plan.messages])
    if blob_cache is not None:  # audit: blobs and messages scanned before under these rules are not read again
        try:
            items = fresh = blob_cache.fresh(list(items))
        except BaseException:  # a datastore error: the plan's git processes end with it
            plan.close()
            raise
    reader = GitReader(repo.path, include_binary, use_git, opts.archive_depth)
    check = plan.missing_check

    def close() -> None:
        reader.close()
        plan.close()

    def post_scan(result: ScanResult) -> list[Finding]:
        if blob_cache is None:
            return result.findings
        # what was read goes to the datastore; what was not comes back from it
        return result.findings + blob_cache.record(fresh, result.findings, result.warnings)

    def notes() -> list[str]:
        return [plan.summary(), *plan.notes]

    return Reading(items, reader, plan.warnings,
                   (lambda: check.collect(list(plan.tips.values()), plan.hidden, plan.warnings)) if check else None,
                   close, post_scan, lambda found: collapse(attribute(repo, found, plan)), notes,
                   found=lambda findings: plan.found(repo.path, findings))


def staged_scan(repo_path: str, opts: ScanOptions, use_git: bool = True) -> Report:
    from scanner.sources.blobs import GitReader
    from scanner.sources.staged import staged_files

    staged = staged_files(repo_path, use_git)
    added = {f.item.path: f.added_lines for f in staged.files}

    def plan(rules: list[Rule]) -> Reading:
        reader = GitReader(staged.git_dir, use_git=staged.via == "git", loose_first=True)
        return Reading([f.item for f in staged.files], reader, close=reader.close,
                       post_scan=lambda result: [replace(f, source="staged", blob=None) for f in result.findings
                                                 if f.line in added.get(f.path, ())])

    if opts.accelerated is None and _staged_bytes(staged.root, [f.item.path for f in staged.files]) < SMALL_INPUT:
        opts = replace(opts, accelerated=False)
    return run_source(Source("staged", repo_path, staged.root, False, plan, progress=False), opts)


# Staged files smaller than this in all are matched by the pure-regex prefilter (identical findings): a
# commit's few kilobytes are scanned before Hyperscan's databases would have been loaded from the cache.
SMALL_INPUT = 1 << 20


def _staged_bytes(root: str, paths: list[str]) -> int:
    """About how much a staged scan reads: the work tree's copies (the index's blobs are not sized by the
    diff); a file not there counts as large, so the scan keeps Hyperscan."""
    total = 0
    for path in paths:
        try:
            total += os.stat(os.path.join(root, path)).st_size
        except (OSError, ValueError):
            return SMALL_INPUT
    return total


# Shapes of credentials given directly to `tokenscan verify` that no prefixed rule claims.
_LEGACY_SHAPES = (
    (r"[A-Za-z0-9_-]{40}", "cloudflare-api-token-legacy"),
    (r"[a-f0-9]{37,45}", "cloudflare-global-api-key-legacy"),
)


def verify_tokens(tokens: list[str], opts: ScanOptions, given_on: str = "argument") -> Report:
    """Classifies each given credential by the rules (prefix and checksum first, then legacy shapes).
    given_on names where the n-th token came from in warnings ("argument", "stdin line"). A token that is
    not UTF-8 text (bytes decoded with surrogateescape) is a warning naming it, never sent or hashed."""
    import re

    from scanner.findings import Warning, fingerprint, vendor_prefix

    rules, engine = build_engine(opts)
    by_id = {r.id: r for r in rules}
    findings: list[Finding] = []
    warnings: list[Warning] = []
    for n, token in enumerate(tokens, 1):
        if not token:  # a blank stdin line keeps the numbering, holds nothing
            continue
        where = f"({given_on} {n})"
        try:
            token.encode("utf-8")
        except UnicodeEncodeError:
            warnings.append(Warning("not-utf8", "not UTF-8 text: not a credential, not verified", where))
            continue
        matches = [m for m in engine.scan(token.encode()) if m.secret == token and m.rule.verify]
        if matches:
            m = matches[0]
            rule, checksum = m.rule, m.checksum
        else:
            rule_id = next((rid for shape, rid in _LEGACY_SHAPES if re.fullmatch(shape, token)), None)
            if rule_id is None or rule_id not in by_id:
                warnings.append(Warning("unrecognised", "not a credential format tokenscan can verify", where))
                continue
            rule, checksum = by_id[rule_id], "none"
        findings.append(Finding(rule.id, rule.description, rule.severity, token, fingerprint(token), where, 1, 1,
                                source="argument", checksum=checksum, verify_kind=rule.verify,
                                prefix=vendor_prefix(rule.keywords, token)))
    if opts.verify is None:
        from scanner.verify import VerifyOptions
        opts.verify = VerifyOptions()
    # not finish(): a credential given by hand is reported even when its checksum fails (and not sent)
    report = Report(mode="verify", target="arguments", findings=dedupe(findings), warnings=warnings,
                    items_scanned=sum(1 for t in tokens if t), rules=len(rules))
    return verified(report, opts)
