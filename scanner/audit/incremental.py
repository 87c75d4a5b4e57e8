"""An audit's history scan that does only what is new since earlier audits (issue 15).

A commit id names its whole history, so once a scan under a rule set has read every blob and message
reachable from a commit (and nothing was left incomplete), that commit is *covered*: any repository that
contains it, the same one after a new commit or a fork sharing its history, needs to read only
`git rev-list --objects TIPS --not COVERED`. What the covered part holds still has to be reported, placed
in *this* repository (commit, path, refs, at_head): the blobs and messages holding findings are few, their
findings are in the datastore, and attribution ("the oldest commit whose diff adds this blob at this path")
is rebuilt from a per-commit cache of which finding-holding blobs each commit adds (`commit_adds`), walked
in this repository's own topological order, so the places equal those of a full scan.

Covered commits recorded per scan: every tip, and first-parent ancestors at distances 1, 2, 4, 8, ...
(a fork that branched d commits below a scanned tip finds a covered commit within 2d of the branch point).

The first scan of a history (nothing covered) plans exactly as `history` does (every blob in the object
store) and only adds its own attribution pass, which is the same single `git log --raw` walk `history`
makes, kept per commit for the next audit.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pygit2

from scanner.audit.datastore import StoredFinding
from scanner.findings import INCOMPLETE_KINDS, Finding, Warning
from scanner.sources import git as g
from scanner.sources.blobs import BlobItem, MessageItem, checked_loose_objects
from scanner.sources.git import raw_adds
from scanner.sources.gitbin import git_binary, run_git


class Known(Protocol):
    """What the incremental scan asks of the datastore (a live lookup here, a snapshot on a cluster)."""

    def __call__(self, oids: Sequence[str]) -> Mapping[str, list[StoredFinding]]: ...

    def covered(self) -> list[str]: ...

    def commit_adds(self) -> dict[str, list[tuple[str, str]]]: ...

    def finding_objects(self) -> tuple[set[str], set[str]]: ...


@dataclass
class Outcome:
    """What the datastore keeps from one incremental scan besides the ScanRecord's usual fields."""

    report: Any  # scanner.report.Report
    covered: list[str] = field(default_factory=list)  # empty when anything was left incomplete
    adds: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    covered_before: int = 0  # commits of this history already covered (not walked again)


def _git(repo: pygit2.Repository, args: list[str]) -> bytes | None:
    if git_binary() is None:
        return None
    try:  # read-only, on the repository's view (scanner.sources.gitbin)
        proc = run_git(repo.path, args)
    except OSError:
        return None
    return proc.stdout if proc.returncode == 0 else None


@dataclass
class Walk:
    """One `git rev-list --topo-order --parents` over the whole history: the order attribution decides "the
    first commit that adds it" in (newest first here), and which refs contain each commit, computed exactly
    as scanner.sources.git.containment does, so attribution needs no walk of its own."""

    order: list[str]
    bits: dict[str, int]
    parents: dict[str, list[str]]


def walk(repo: pygit2.Repository, tips: dict[str, str]) -> Walk | None:
    out = _git(repo, ["rev-list", "--topo-order", "--parents", *dict.fromkeys(tips.values())])
    if out is None:
        return None
    bit_of: dict[str, int] = {}
    for i, tip in enumerate(tips.values()):
        bit_of[tip] = bit_of.get(tip, 0) | (1 << i)
    w = Walk([], {}, {})
    for line in out.decode("ascii", "replace").splitlines():
        ids = line.split()
        if not ids:
            continue
        c = ids[0]
        w.order.append(c)
        b = w.bits.get(c, 0) | bit_of.get(c, 0)
        w.bits[c] = b
        w.parents[c] = ids[1:]
        for p in ids[1:]:
            w.bits[p] = w.bits.get(p, 0) | b
    return w


def covered_part(w: Walk, hidden: list[str]) -> tuple[set[str], list[str]]:
    """The commits of the walk that some covered commit reaches (children come before parents in it), and
    the covered commits no other covered commit reaches: enough to name on git's command lines."""
    wanted = set(hidden)
    old: set[str] = set()
    top: list[str] = []
    for c in w.order:
        if c in old:
            old.update(w.parents.get(c, ()))
        elif c in wanted:
            top.append(c)
            old.add(c)
            old.update(w.parents.get(c, ()))
    return old, top


def adds_of(repo: pygit2.Repository, tips: list[str], hidden: list[str], wanted: set[str]
            ) -> dict[str, list[tuple[str, str]]] | None:
    """commit -> [(blob, path)] its diff adds (A/M/T/C), for blobs in wanted, over `tips --not hidden`:
    the same `git log --raw` pass as history's attribution, per commit instead of first-wins."""
    if not wanted:
        return {}
    adds = raw_adds(repo, tips, hidden, wanted)
    if adds is None:
        return None
    found: dict[str, list[tuple[str, str]]] = {}
    for commit, blob, path in adds:
        if (blob, path) not in found.setdefault(commit, []):
            found[commit].append((blob, path))
    return found


def introductions(order: list[str], adds: Mapping[str, list[tuple[str, str]]], wanted: set[str]
                  ) -> dict[str, dict[str, str]]:
    """blob -> {path: oldest commit adding it there}: history's rule, from the per-commit adds."""
    found: dict[str, dict[str, str]] = {}
    for c in order:
        for blob, path in adds.get(c, ()):
            if blob in wanted:
                found.setdefault(blob, {}).setdefault(path, c)
    return found


def checkpoints(repo: pygit2.Repository, tips: Sequence[str], stop: set[str] | None = None) -> list[str]:
    """Each tip and its first-parent ancestors at distances 1, 2, 4, ...: commits to record as covered.
    The walk down a chain ends at a commit in stop (covered before: its own checkpoints are recorded)."""
    out: dict[str, None] = {}
    seen: set[str] = set(stop or ())
    for tip in dict.fromkeys(tips):
        out[tip] = None
        c, d, nxt = g.commit_or_none(repo, tip), 0, 1
        while c is not None and c.parent_ids:
            oid = str(c.parent_ids[0])
            d += 1
            if oid in seen:
                break
            seen.add(oid)
            if d == nxt:
                out[oid] = None
                nxt *= 2
            c = g.commit_or_none(repo, oid)
    return list(out)


def audit_history(path: str, opts: Any, include_binary: bool, cache: Any, known: Known, rules: list,
                  engine: Callable[[], Any]) -> Outcome | None:
    """history_scan for an audit, walking only what no earlier scan covered. None: not applicable here
    (no git, an empty or shallow repository, secrets needed from old blobs): the caller runs history_scan."""
    from scanner.pipeline import workers as scan
    from scanner.pipeline.run import suppressor, to_report
    from scanner.pipeline.workers import ScanResult
    from scanner.sources.blobs import GitReader

    started = time.perf_counter()
    if shutil.which("git") is None or cache.need_secrets:
        return None
    repo = g.open_repo(path)
    checked_loose_objects(repo)
    if repo.is_shallow or (repo.head_is_unborn and not list(repo.references)):
        return None
    warnings: list[Warning] = []
    warnings.extend(g.view_warnings(repo))
    tips, loose = g.ref_tips(repo, None, None, warnings)
    if not tips or any(n.startswith(("refs/stash", "stash@")) for n in tips):
        return None
    suppress = suppressor(opts, repo.location, whole_target=True)
    tip_ids = list(tips.values())
    w = walk(repo, tips)
    if w is None:
        return None
    hidden = [c for c in known.covered() if c in w.bits]
    old: set[str] = set()
    if not hidden:
        plan = g.plan_history(repo, use_git=True)
        items: list = [*plan.blobs, *plan.messages]  # plan_history names the refs' problems itself
    else:
        old, hidden = covered_part(w, hidden)
        notes: list[str] = []
        revs = g._rev_args(tip_ids, hidden, loose, None)
        remotes = g.promisor_remotes(repo)
        if remotes or g.refused_note(repo):  # only the new part's promised objects: the covered part is never read
            g.fetch_promised(repo, revs, remotes, notes)
        new_commits = [c for c in w.order if c not in old]
        messages = []
        for c in new_commits:
            commit = g.commit_or_none(repo, c)
            if commit is None:
                return None  # a damaged history: history_scan names what it cannot read
            messages.append(MessageItem(c, len(commit.raw_message)))
        # nothing new at all: no enumeration (git.py's cat-file step would read an empty listing as one
        # nameless damaged object)
        nothing_new = not new_commits and not loose
        enumerated = {} if nothing_new else g._enumerate_git(repo, tip_ids, hidden, loose, None, warnings)
        if enumerated is None:
            return None
        blobs = [BlobItem(oid, p, size) for oid, (p, size) in enumerated.items()]
        first = g.commit_or_none(repo, w.order[0]) if w.order else None
        if first is not None and g._has_submodules(repo, [first]):
            warnings.append(Warning("submodule", "submodules were skipped (scan each submodule's repository itself)"))
        plan = g.HistoryPlan(blobs, messages, tips, [], loose, warnings, "git, new since covered commits", notes)
        # what the covered part holds: stored findings of its blobs and messages, rebuilt without reading
        old_blobs, old_messages = known.finding_objects()
        adds_old = known.commit_adds()
        planned = {b.oid for b in blobs}
        held = {b for c, pairs in adds_old.items() if c in old for b, _ in pairs}
        held |= {b for b in old_blobs if b not in held and pygit2.Oid(hex=b) in repo}  # merges, tags
        items = [*blobs, *messages, *(BlobItem(b, "", 0) for b in sorted(held - planned)),
                 *(MessageItem(c, 0) for c in sorted(old_messages) if c in old)]
    reader = GitReader(repo.path, include_binary, True, opts.archive_depth)
    try:
        items = cache.fresh(items)
        if items:
            result = scan.run(engine(), reader, items, lambda i: i.size, opts.jobs, opts.progress)
        else:  # nothing new: the engine is never built
            result = ScanResult([], [], 0, 0, 0.0)
        if plan.missing_check is not None:  # the whole-store listing's check (a first scan only)
            plan.warnings.extend(plan.missing_check.collect(tip_ids, [], plan.warnings))
    finally:
        reader.close()
        plan.close()
    result.warnings[:0] = plan.warnings
    result.findings.extend(cache.record(items, result.findings, result.warnings))
    universe = set(known.finding_objects()[0])
    universe |= {k for k, v in cache.found.items() if any(s.source == "blob" for s in v)}
    wanted = universe | {f.blob for f in result.findings if f.source == "blob" and f.blob}
    new_adds = adds_of(repo, tip_ids, hidden, wanted)
    if new_adds is None:
        return None
    adds = {**(known.commit_adds() if hidden else {}), **new_adds}
    intro = introductions(w.order[::-1], adds, wanted)

    def attributed(found: list[Finding]) -> list[Finding]:
        return g.collapse(g.attribute(repo, found, plan, intro, w.bits))

    report = to_report("history", path, result, rules, opts, suppress, attributed)
    report.notes.append(plan.summary())
    report.notes.extend(plan.notes)
    report.duration_s = time.perf_counter() - started
    complete = not any(x.kind in INCOMPLETE_KINDS for x in result.warnings)
    out = Outcome(report, covered_before=len(old))
    if complete:
        out.covered = checkpoints(repo, tip_ids, old)
        out.adds = {c: [p for p in pairs if p[0] in universe] for c, pairs in new_adds.items()}
        out.adds = {c: pairs for c, pairs in out.adds.items() if pairs}
    return out


__all__ = ["Known", "Outcome", "audit_history", "checkpoints", "introductions"]
