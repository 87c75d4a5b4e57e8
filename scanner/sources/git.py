"""Git as a source: every blob reachable from every ref once, commit messages, staged changes; attribution.

A whole history is the object store's listing, streamed from `git cat-file --batch-all-objects` (see
StoreListing); a part of one (--branch, --since, path-dependent rules) asks `git rev-list --objects` when a
git binary is present (its C walk over trees is several times faster than one driven from Python) and
otherwise walks with pygit2; both give the same set of (blob, path) pairs. Which commit introduced a blob
is worked out afterwards, only for blobs that have findings; which refs contain a commit is worked out
once per history, in one walk.

Nothing is silently dropped: a partial clone's promised objects are fetched from its promisor remote first
(git's own lazy fetch, done in batches), and every object listed but unreadable is a `missing-object` or
`corrupt-object` warning naming it.

One module on purpose (for now): enumeration, the partial-clone fetch and attribution share the
repository handle, the rev-list arguments and the missing-object reporting that ties them together;
the pieces that stand alone already live beside it (blobs.py, gitbin.py, repoview.py, staged.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pygit2

from scanner.errors import UsageError
from scanner.findings import Finding, Warning
from scanner.sources.blobs import (
    BlobItem,
    MessageItem,
    allow_partial_clone_extension,
    checked_loose_objects,
    unreadable,
)
from scanner.sources.gitbin import FETCH_PROTOCOLS, GITLINK, TREE, git_binary, popen_git, run_git
from scanner.sources.repoview import RepoView, open_view


@dataclass
class HistoryPlan:
    """What a history scan will read, and what it learned on the way."""

    blobs: list[BlobItem] | StoreListing  # the whole store's listing is a stream
    messages: list[MessageItem] | CommitListing
    tips: dict[str, str]  # ref name -> commit id
    hidden: list[str] = field(default_factory=list)  # commits excluded by --since
    loose: list[str] = field(default_factory=list)  # trees and blobs that tags point at directly
    warnings: list[Warning] = field(default_factory=list)
    enumerator: str = "pygit2"
    notes: list[str] = field(default_factory=list)  # what the scan did to the repository (fetches)
    missing_check: MissingCheck | None = None  # objects no tree walk could reach, collected after the scan
    adds_log: Beside | None = None  # attribution's `git log --raw`, started at the scan's first blob finding
    parents_log: Beside | None = None  # its `git rev-list --parents` (containment): with it, or at the start

    def summary(self) -> str:
        """What was enumerated, and how: said in the report once the scan has read the listing."""
        listing = self.blobs if isinstance(self.blobs, StoreListing) else None
        count = listing.count if listing is not None else len(self.blobs)  # type: ignore[arg-type]
        return (f"{count} unique blobs and {len(self.messages)} commit messages from {len(self.tips)} refs "
                f"(enumerated with {listing.enumerator if listing is not None else self.enumerator})")

    def close(self) -> None:
        """Ends the git processes the plan started (the listing, the missing-object check)."""
        if isinstance(self.blobs, StoreListing):
            self.blobs.close()
        if self.missing_check is not None:
            self.missing_check.close()
        for log in (self.adds_log, self.parents_log):
            if log is not None:
                log.close()

    def found(self, repo_path: str, findings: Iterable[Finding]) -> None:
        """Findings as the scan reports them: at the first in a blob, attribution's one walk over every
        commit's diff starts beside the rest of the scan, rather than after it (2.4 s of a provider's 7.8)."""
        if self.adds_log is None and self.tips and any(f.source == "blob" and f.blob for f in findings):
            self.adds_log = Beside(repo_path, [*RAW_LOG, *self.tips.values(), *(f"^{h}" for h in self.hidden)])
            if self.parents_log is None:
                self.parents_log = Beside(repo_path, _parents_args(self.tips, self.hidden))


class ScannedRepository(pygit2.Repository):  # type: ignore[misc]
    """A repository as tokenscan reads it. Untrusted (the default), it is opened through a private view
    (scanner.sources.repoview): `path` is the view's, where git and libgit2 read refs and objects and no
    config of the repository's; `workdir` and `git_dir` are the repository's own, for what is shown and for
    the outputs that must not land inside it. `refused_remotes` are promisor remotes the view left out."""

    def __init__(self, location: str, view: RepoView | None) -> None:
        super().__init__(view.path if view is not None else location)
        self.view = view
        if view is not None:
            self.git_dir, self._workdir = view.located.git_dir, view.located.workdir
            self.refused_remotes = dict(view.refused_remotes)
            self.ignored = list(view.ignored)
            self.remote_urls = dict(view.remote_urls)
            weakref.finalize(self, view.close)
        else:
            self.git_dir, self._workdir = super().path, super().workdir
            self.refused_remotes, self.ignored = {}, []

    @property
    def workdir(self) -> str | None:  # type: ignore[override]
        return self._workdir

    def close_view(self) -> None:
        """Removes the view now (also done when this object goes, or at exit); a held view stays."""
        if self.view is not None:
            self.view.close()

    @property
    def location(self) -> str:
        """The work tree, or the git dir of a bare repository: where a person finds it."""
        return self._workdir or self.git_dir


def open_repo(path: str, trusted: bool = False) -> ScannedRepository:
    """The repository holding path. Untrusted unless the caller is the user's own repository's command
    (staged, install-hook), where git itself already runs that repository's hooks and config."""
    if not os.path.exists(path):
        raise UsageError(f"{path}: no such file or directory")
    allow_partial_clone_extension()
    if trusted:
        found = pygit2.discover_repository(path)
        if found is None:
            raise UsageError(f"{path}: not a git repository")
        try:
            return ScannedRepository(found, None)
        except pygit2.GitError as exc:
            raise UsageError(f"{path}: cannot open repository: {exc}") from None
    view = open_view(path)
    try:
        return ScannedRepository(view.path, view)
    except pygit2.GitError as exc:
        view.close()
        why = str(exc).replace(view.path.rstrip("/"), view.located.git_dir)  # name the repository, not the view
        raise UsageError(f"{path}: cannot open repository: {why}") from None


def _resolve_commit(repo: pygit2.Repository, rev: str, option: str) -> pygit2.Commit:
    try:
        obj = repo.revparse_single(rev)
        return obj.peel(pygit2.Commit)
    except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
        raise UsageError(f"{option} {rev}: unknown revision") from None


def read_at(repo_path: str, rev: str, relpath: str) -> bytes | None:
    """The bytes of relpath (relative to the repository root, `/`-separated) in revision rev, as
    `git show REV:relpath`; None when rev has no such file. `history --since REV` reads its configuration,
    ignore file and baseline from the base REV, so a change under review cannot relax its own gate.
    An unknown rev, or a file whose object cannot be read, is a UsageError naming it."""
    repo = checked_loose_objects(open_repo(repo_path))
    commit = _resolve_commit(repo, rev, "--since")
    try:
        entry = commit.tree[relpath.strip("/")]
    except (KeyError, ValueError):
        return None
    if entry.filemode in (TREE, GITLINK):
        return None
    from scanner.sources.blobs import read_object

    warnings: list[Warning] = []
    data = read_object(repo.path, str(entry.id), "blob", relpath, warnings)
    if data is None:
        raise UsageError(f"{rev}:{relpath}: {warnings[0].message if warnings else 'cannot be read'}")
    return data


def ref_tips(repo: pygit2.Repository, branch: str | None, since: str | None = None,
             warnings: list[Warning] | None = None) -> tuple[dict[str, str], list[str]]:
    """Commit ids each ref (or stash entry) points at, and ids of non-commit objects tags point at.

    With since, only HEAD (or branch) is a tip: `--since REV` scans `REV..HEAD`, the change under review,
    not every other branch and tag that REV happens not to contain."""
    tips: dict[str, str] = {}
    loose: list[str] = []
    if branch is not None:
        return {branch: str(_resolve_commit(repo, branch, "--branch").id)}, loose
    if since is not None:
        if repo.head_is_unborn:
            raise UsageError(f"--since {since}: HEAD has no commits")
        name = "HEAD" if repo.head_is_detached else repo.head.name
        return {name: str(_resolve_commit(repo, "HEAD", "--since").id)}, loose
    for name in repo.references:
        if not name.startswith(("refs/heads/", "refs/remotes/", "refs/tags/", "refs/stash")):
            continue
        try:
            ref = repo.references[name]
        except (pygit2.GitError, KeyError, ValueError):
            continue
        try:
            target = ref.peel()
        except (pygit2.GitError, KeyError, ValueError) as exc:
            if warnings is not None and ref.type == pygit2.enums.ReferenceType.DIRECT:
                warnings.append(Warning("corrupt-object", f"cannot read {ref.target}, the target of {name}: {exc}"))
            continue
        if isinstance(target, pygit2.Commit):
            tips[name] = str(target.id)
        elif isinstance(target, (pygit2.Tree, pygit2.Blob)):
            loose.append(str(target.id))
    if "refs/stash" in repo.references:  # older stash entries live only in the stash reflog
        try:
            for i, entry in enumerate(repo.references["refs/stash"].log()):
                tips.setdefault(f"stash@{{{i}}}", str(entry.oid_new))
        except pygit2.GitError:
            pass
    if not tips and not repo.head_is_unborn:
        try:
            tips["HEAD"] = str(repo.head.peel(pygit2.Commit).id)
        except (pygit2.GitError, KeyError, ValueError) as exc:
            if warnings is not None:
                warnings.append(Warning("corrupt-object", f"cannot read the commit HEAD points at: {exc}"))
    return tips, loose


def _walk_commits(repo: pygit2.Repository, tips: list[str], hidden: list[str], limit: int | None,
                  warnings: list[Warning] | None = None) -> list[pygit2.Commit]:
    """Commits of tips minus hidden, newest first in topological order. A commit libgit2 cannot read ends
    its walk with an error; the walk is then redone by hand, skipping (and naming) unreadable commits."""
    try:
        walker = repo.walk(None, pygit2.enums.SortMode.TOPOLOGICAL)
        for t in tips:
            walker.push(pygit2.Oid(hex=t))
        for h in hidden:
            walker.hide(pygit2.Oid(hex=h))
        out = []
        for commit in walker:
            out.append(commit)
            if limit is not None and len(out) >= limit:
                break
        return out
    except (KeyError, ValueError, pygit2.GitError):
        return _walk_tolerant(repo, tips, hidden, limit, warnings if warnings is not None else [])


def _walk_tolerant(repo: pygit2.Repository, tips: list[str], hidden: list[str], limit: int | None,
                   warnings: list[Warning]) -> list[pygit2.Commit]:
    """A walk newest-first by commit time that steps over unreadable commits with a warning each."""
    import heapq

    def get(oid: str) -> pygit2.Commit | None:
        try:
            obj = repo[oid]
            return obj if isinstance(obj, pygit2.Commit) else None
        except (KeyError, ValueError, pygit2.GitError) as exc:
            if oid not in bad:
                bad.add(oid)
                w = unreadable(repo.path, oid, "commit", None, str(exc))
                warnings.append(w)
            return None

    bad: set[str] = set()
    excluded: set[str] = set()
    stack = list(hidden)
    while stack:
        oid = stack.pop()
        if oid in excluded:
            continue
        excluded.add(oid)
        c = get(oid)
        if c is not None:
            stack.extend(str(p) for p in c.parent_ids)
    heap: list[tuple[int, str]] = []
    seen: set[str] = set()
    for t in tips:
        c = get(t)
        if c is not None and t not in excluded and t not in seen:
            seen.add(t)
            heapq.heappush(heap, (-c.commit_time, t))
    out: list[pygit2.Commit] = []
    while heap and (limit is None or len(out) < limit):
        _, oid = heapq.heappop(heap)
        c = get(oid)
        if c is None:
            continue
        out.append(c)
        for p in (str(x) for x in c.parent_ids):
            if p in seen or p in excluded:
                continue
            seen.add(p)
            pc = get(p)
            if pc is not None:
                heapq.heappush(heap, (-pc.commit_time, p))
    return out


def _enumerate_pygit2(repo: pygit2.Repository, commits: list[pygit2.Commit], hidden: list[str],
                      loose: list[str], warnings: list[Warning] | None = None) -> tuple[dict[str, str], int]:
    """blob id -> first path seen, like `git rev-list --objects`; trees reachable from hidden commits are
    marked seen first so --since scans only what is new. An unreadable tree is a warning, not the end."""
    seen_trees: set = set()
    blobs: dict[str, str] = {}
    submodules = 0
    out_warnings = warnings if warnings is not None else []

    def get(oid: pygit2.Oid, path: str) -> pygit2.Object | None:
        try:
            return repo[oid]
        except (KeyError, ValueError, pygit2.GitError) as exc:
            out_warnings.append(unreadable(repo.path, str(oid), "tree", path or None, str(exc)))
            return None

    def visit(tree: pygit2.Tree | None, prefix: str, record: bool) -> None:
        nonlocal submodules
        stack: list[tuple[Any, str]] = [(tree, prefix)]
        while stack:
            t, pre = stack.pop()
            if t is None or t.id in seen_trees:
                continue
            seen_trees.add(t.id)
            for e in t:
                mode = e.filemode
                if mode == TREE:
                    if e.id not in seen_trees:
                        stack.append((get(e.id, f"{pre}{e.name}/"), f"{pre}{e.name}/"))
                elif mode == GITLINK:
                    submodules += record
                elif record:
                    blobs.setdefault(str(e.id), pre + (e.name or ""))
                else:
                    blobs.setdefault(str(e.id), "")

    def root(c: pygit2.Commit) -> pygit2.Tree | None:
        return get(c.tree_id, "")  # type: ignore[return-value]

    for h in hidden:
        try:
            visit(root(repo[h].peel(pygit2.Commit)), "", record=False)
        except (KeyError, ValueError, pygit2.GitError):
            pass
    hidden_blobs = {b for b, p in blobs.items() if p == ""}
    for c in commits:
        visit(root(c), "", record=True)
    for oid in loose:
        obj = get(pygit2.Oid(hex=oid), "")
        if isinstance(obj, pygit2.Tree):
            visit(obj, "", record=True)
        elif obj is not None:
            blobs.setdefault(oid, f"(tagged blob {oid[:12]})")
    return {b: p for b, p in blobs.items() if b not in hidden_blobs}, submodules


def _rev_args(tips: list[str], hidden: list[str], loose: list[str], limit: int | None) -> list[str]:
    return ([f"--max-count={limit}"] if limit is not None else []) + tips + loose + [f"^{h}" for h in hidden]


def _enumerate_git(repo: pygit2.Repository, tips: list[str], hidden: list[str], loose: list[str],
                   limit: int | None, warnings: list[Warning] | None = None
                   ) -> dict[str, tuple[str, int]] | None:
    """blob id -> (path, size) via git rev-list | git cat-file --batch-check; None when git is unusable.

    Objects rev-list cannot find (`?oid` with --missing=print) and objects cat-file cannot read (`oid
    missing`) become warnings naming them, never silent gaps; they are not passed on to cat-file, which in a
    partial clone would fetch them one at a time."""
    if git_binary() is None:
        return None
    try:
        rl = run_git(repo.path, ["rev-list", "--objects", "--topo-order", "--missing=print",
                                 *_rev_args(tips, hidden, loose, limit)])
        if rl.returncode != 0:
            return None
        listed: list[bytes] = []
        missing: list[str] = []
        for line in rl.stdout.split(b"\n"):
            if line.startswith(b"?"):
                missing.append(line[1:].decode("ascii", "replace").strip())
            elif line:
                listed.append(line)
        if not listed:  # nothing new (history --since HEAD): an empty line would read as a nameless missing object
            if warnings is not None:
                warnings.extend(_missing_warnings(repo, missing, tips, hidden))
            return {}
        cf = run_git(repo.path, ["cat-file", "--buffer",
                                 "--batch-check=%(objectname) %(objecttype) %(objectsize) %(rest)"],
                     input=b"\n".join(listed) + b"\n")
        if cf.returncode != 0:
            return None
    except OSError:
        return None
    paths = {ln[:40].decode("ascii", "replace"): ln[41:].decode("utf-8", "surrogateescape") for ln in listed}
    out: dict[str, tuple[str, int]] = {}
    bad: list[str] = []
    for row in cf.stdout.decode("utf-8", "surrogateescape").splitlines():
        parts = row.split(" ", 3)
        if len(parts) >= 3 and parts[1] == "blob" and parts[2].isdigit():
            path = parts[3] if len(parts) == 4 else f"(tagged blob {parts[0][:12]})"
            out.setdefault(parts[0], (path, int(parts[2])))
        elif len(parts) == 2 and parts[1] == "missing":
            bad.append(parts[0])
    if warnings is not None:
        for oid in bad:  # listed by a tree, present in the store, header unreadable
            warnings.append(Warning("corrupt-object", f"cannot read object {oid}: it is damaged",
                                    paths.get(oid) or None))
        warnings.extend(_missing_warnings(repo, missing, tips, hidden))
    return out


def _missing_warnings(repo: pygit2.Repository, oids: list[str], tips: list[str], hidden: list[str]
                      ) -> list[Warning]:
    """One warning per object a tree names but the store cannot give, with a path where one is known."""
    if not oids:
        return []
    places = _introductions_git(repo, tips, hidden, set(oids)) or {}
    refusal = refused_note(repo)
    out = []
    for oid in sorted(set(oids)):
        path = next(iter(places.get(oid, {})), None)
        out.append(unreadable(repo.path, oid, "object", path, refusal))
    return out


class StoreListing:
    """Every blob in the object store, in pack order, without paths: one cheap listing instead of a walk
    over every tree (rev-list --objects costs ~1 s per 20k commits). Paths, and whether a blob is
    reachable from a ref at all, come from attribution, which runs only for blobs with findings.

    A stream: git lists while the first batches are scanned, so no core waits for a serial listing (an
    SDK's 64k blobs: 0.2 s of parsing that ran before any worker started). An object the store lists but
    whose header git cannot read is a corrupt-object warning, added to `warnings` as it is met. Should git
    fail part way, `rest` (the tree walk) gives the blobs it had not listed yet, and `enumerator` says so."""

    enumerator = "git object store"

    def __init__(self, proc: subprocess.Popen[bytes], warnings: list[Warning],
                 rest: Callable[[], tuple[Iterable[BlobItem], str]]) -> None:
        self.proc = proc
        self.warnings = warnings
        self.rest = rest
        self.count = 0
        self.commit_sizes: dict[str, int] = {}  # commit id -> object size (CommitListing's batch sizes)

    @classmethod
    def start(cls, repo: pygit2.Repository, warnings: list[Warning],
              rest: Callable[[], tuple[Iterable[BlobItem], str]]) -> StoreListing | None:
        if git_binary() is None:
            return None
        try:
            proc = popen_git(repo.path, ["cat-file", "--batch-all-objects", "--unordered",
                                         "--batch-check=%(objecttype) %(objectname) %(objectsize)"], bufsize=0)
        except OSError:
            return None
        return cls(proc, warnings, rest)

    def __iter__(self) -> Iterator[BlobItem]:
        out = self.proc.stdout
        assert out is not None
        seen: set[str] = set()
        damaged: list[str] = []  # listed by the store, header unreadable: warned about once git is done
        tail = b""
        while block := out.read(1 << 20):  # unbuffered: what git has written so far, up to 1 MiB
            lines = (tail + block).split(b"\n")
            tail = lines.pop()
            for line in lines:
                if line.startswith(b"blob "):
                    oid, _, size = line[5:].partition(b" ")
                    if size.isdigit():
                        seen.add(blob := oid.decode("ascii", "replace"))
                        self.count += 1
                        yield BlobItem(blob, "", int(size))
                elif line.startswith(b"commit "):
                    oid, _, size = line[7:].partition(b" ")
                    self.commit_sizes[oid.decode("ascii", "replace")] = int(size) if size.isdigit() else 0
                elif line.endswith(b" missing"):
                    damaged.append(line[:-8].decode("ascii", "replace"))
        code = self.proc.wait()
        if code > 0:  # git gave up part way: the tree walk lists the rest (and its reader names what it cannot read)
            rest, self.enumerator = self.rest()
            for item in rest:
                if item.oid not in seen:
                    seen.add(item.oid)
                    self.count += 1
                    yield item
        elif code < 0:  # killed (Ctrl-C reaches the whole process group): the scan is ending, no walk now
            self.warnings.append(Warning("unreadable", f"the object store's listing was interrupted (signal {-code}); "
                                         "blobs after it were not scanned"))
        self.warnings.extend(Warning("corrupt-object", f"cannot read object {oid}: it is damaged")
                             for oid in damaged if code <= 0 or oid not in seen)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _pack_order(repo: pygit2.Repository) -> dict[str, int]:
    if git_binary() is None:
        return {}
    try:
        proc = run_git(repo.path, ["cat-file", "--batch-all-objects", "--unordered", "--batch-check=%(objectname)"])
    except OSError:
        return {}
    if proc.returncode != 0:
        return {}
    return {oid: i for i, oid in enumerate(proc.stdout.decode("ascii", "replace").split())}


# --- partial clones and objects no tree walk reached --------------------------------------------------------

def promisor_remotes(repo: pygit2.Repository) -> list[str]:
    """Remotes that promise objects this repository lacks: `extensions.partialClone` and every
    `remote.<name>.promisor = true` (git >= 2.25 writes only the latter on `clone --filter`)."""
    names: list[str] = []
    try:
        entries = [(e.name, e.value) for e in repo.config]
    except pygit2.GitError:
        return names
    for key, value in entries:
        low = key.lower()
        if low == "extensions.partialclone" and value:
            names.append(value)
        elif low.startswith("remote.") and low.endswith(".promisor") and str(value).lower() in ("true", "1", "yes", "on"):
            names.append(key[len("remote."):-len(".promisor")])
    return list(dict.fromkeys(names))


def view_warnings(repo: pygit2.Repository) -> list[Warning]:
    """What the view left out (a FIFO or a symlink among the refs, a damaged shallow list): never a silent
    gap."""
    return [Warning("unreadable", why, name) for name, why in getattr(repo, "ignored", ())]


def refused_note(repo: pygit2.Repository) -> str:
    """Why promised objects were not fetched, when the repository's promisor remote was refused ("" else)."""
    refused = getattr(repo, "refused_remotes", {})
    return "; ".join(f"promisor remote {name} not used: {why}" for name, why in refused.items())


FETCH_BATCH = 50_000  # ids per `git fetch --stdin`: one negotiation each, bounded request size


def _missing_objects(repo: pygit2.Repository, revs: list[str]) -> list[str] | None:
    try:
        proc = run_git(repo.path, ["rev-list", "--objects", "--missing=print", *revs])
    except OSError:
        return None
    if proc.returncode != 0:
        return None
    return [ln[1:].decode("ascii", "replace").strip() for ln in proc.stdout.split(b"\n") if ln.startswith(b"?")]


FETCH_TIMEOUT = 900  # seconds per batch of promised objects


def _fetch(repo: pygit2.Repository, remotes: list[str], oids: list[str], failures: list[str]) -> bool:
    """One promisor fetch of oids, from the first remote that answers; git's own lazy-fetch command, run on
    the view (whose config names only remotes with an allowed transport) and writing into the repository's
    own object store, over FETCH_PROTOCOLS only (scanner.sources.gitbin)."""
    from scanner.sources.repoview import object_dir_of

    for remote in remotes:
        ok = True
        for i in range(0, len(oids), FETCH_BATCH):
            batch = oids[i:i + FETCH_BATCH]
            try:
                proc = run_git(
                    repo.path, ["-c", "fetch.negotiationAlgorithm=noop", "fetch", remote, "--no-tags",
                                "--no-write-fetch-head", "--recurse-submodules=no", "--filter=blob:none",
                                "--no-auto-maintenance", "--quiet", "--stdin"],
                    input="".join(f"{o}\n" for o in batch).encode(), timeout=FETCH_TIMEOUT, network=True,
                    object_dir=object_dir_of(repo.path))
            except subprocess.TimeoutExpired:  # a hung remote must not hang the scan
                failures.append(f"{remote}: no answer within {FETCH_TIMEOUT} s")
                ok = False
                break
            except OSError as exc:
                failures.append(f"{remote}: {exc}")
                ok = False
                break
            if proc.returncode != 0:
                err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
                # a remote URL may carry user:token@: never repeat it in a report
                last = re.sub(r"://[^/@\s]+@", "://", err[-1]) if err else f"git fetch exit {proc.returncode}"
                failures.append(f"{remote}: {last}")
                ok = False
                break
        if ok:
            return True
    return False


def fetch_promised(repo: pygit2.Repository, revs: list[str], remotes: list[str], notes: list[str]) -> None:
    """Brings in a partial clone's missing blobs (and trees) before enumeration, so it is scanned whole.

    This is git's own lazy fetch (the command `git cat-file` runs for one promised object), done in batches:
    `git -c fetch.negotiationAlgorithm=noop fetch <remote> --filter=blob:none --stdin`. It writes the
    promised objects into the repository's object store and nothing else (no refs, no FETCH_HEAD); a note in
    the report says so. Trees missing under a tree filter come first, then the blobs they name, so it goes
    round until nothing new is missing. What cannot be fetched (remote unreachable) is reported by
    enumeration: one missing-object warning per object."""
    refusal = refused_note(repo)
    if refusal:
        notes.append(f"partial clone: {refusal} (tokenscan fetches only over {', '.join(FETCH_PROTOCOLS)}); "
                     "what it promises is a missing-object warning")
    if git_binary() is None or not remotes:
        return
    attempted: set[str] = set()
    fetched: set[str] = set()
    failures: list[str] = []
    missing = _missing_objects(repo, revs)
    for _ in range(8):
        if missing is None:
            return
        todo = [m for m in missing if m not in attempted]
        if not todo:
            break
        attempted.update(todo)
        if not _fetch(repo, remotes, todo, failures):
            break
        fetched.update(todo)
        missing = _missing_objects(repo, revs)
    still = set(missing or ())
    where = ", ".join(remotes)
    if fetched - still:
        notes.append(f"partial clone: fetched {len(fetched - still)} promised objects from promisor remote {where} "
                     "into the repository's object store (git's own lazy fetch, in batches) before scanning")
    if still:
        why = f" ({failures[-1]})" if failures else ""
        notes.append(f"partial clone: {len(still)} promised objects could not be fetched from {where}{why}; "
                     "each is a missing-object warning and was not scanned")


class Beside:
    """A git command run beside the scan, its whole output going to a temporary file (so it never blocks
    on a pipe nobody reads yet); `output()` waits for it. close() always reaps it."""

    def __init__(self, repo_path: str, args: list[str]) -> None:
        self.out = tempfile.TemporaryFile()  # noqa: SIM115 - lives until output() or close()
        self.proc: subprocess.Popen[bytes] | None = None
        self.data: bytes | None = None
        if git_binary() is None:
            return
        try:
            self.proc = popen_git(repo_path, args, stdout=self.out)
        except OSError:
            self.proc = None

    def output(self) -> bytes | None:
        """Its output once it has ended (the same bytes on every call), or None when git could not run it
        or it failed."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.wait() == 0:
            self.out.seek(0)
            self.data = self.out.read()
        self.close()
        return self.data

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        self.out.close()


class CommitListing:
    """The commits whose messages a whole-history scan reads: listed by `git rev-list --parents` beside
    the scan (the same output tells attribution which refs contain a commit) instead of a pygit2 walk
    before it, which held up pip's scan 0.2 s with no worker busy. Sizes come from the store's listing,
    read by then (messages follow the blobs). Should git fail, pygit2's walk lists them, naming what it
    cannot read."""

    def __init__(self, repo: pygit2.Repository, tips: list[str], log: Beside, sizes: dict[str, int],
                 warnings: list[Warning]) -> None:
        self.repo, self.tips, self.log, self.sizes, self.warnings = repo, tips, log, sizes, warnings
        self._items: list[MessageItem] | None = None

    def items(self) -> list[MessageItem]:
        if self._items is None:
            out = self.log.output()
            if out is not None:
                ids = [line.split(b" ", 1)[0].decode("ascii", "replace") for line in out.split(b"\n") if line]
                self._items = [MessageItem(c, self.sizes.get(c, 0)) for c in ids]
            else:
                self._items = [MessageItem(str(c.id), len(c.raw_message))
                               for c in _walk_commits(self.repo, self.tips, [], None, self.warnings)]
        return self._items

    def __iter__(self) -> Iterator[MessageItem]:
        return iter(self.items())

    def __len__(self) -> int:
        return len(self.items())


RAW_LOG = ["log", "--raw", "--no-abbrev", "--no-renames", "--root", "--no-ext-diff", "--no-textconv",
           "--no-show-signature", "--no-mailmap", "--format=%x00%H", "--topo-order", "--reverse"]


class MissingCheck:
    """`git rev-list --objects --missing=print` running beside the scan: the whole-history listing reads
    the object store, so a blob a tree names but the store lacks would otherwise go unnoticed. The walk's
    (object, path) lines are kept once collected: attribution finds there the paths of blobs no commit's
    diff adds (a merge's own resolution, a tagged blob), instead of walking every tree a second time."""

    def __init__(self, repo: pygit2.Repository, revs: list[str]) -> None:
        self.repo = repo
        self.revs = revs
        self.walk = Beside(repo.path, ["rev-list", "--objects", "--missing=print", *revs])
        self.listing: bytes | None = None  # the walk's output, once collected

    def collect(self, tips: list[str], hidden: list[str], known: list[Warning] | None = None) -> list[Warning]:
        """Waits for the check and turns what it found into warnings (those not already in known)."""
        seen = {(w.kind, w.message, w.path) for w in known or ()}
        return [w for w in self._collect(tips, hidden) if (w.kind, w.message, w.path) not in seen]

    def _collect(self, tips: list[str], hidden: list[str]) -> list[Warning]:
        self.listing = self.walk.output()
        found = (_missing_objects(self.repo, self.revs) if self.listing is None  # the same walk, in the foreground
                 else [m.decode("ascii", "replace") for m in _MISSING_LINE.findall(self.listing)])
        if found is not None:
            return _missing_warnings(self.repo, found, tips, hidden)
        # git could not walk the trees (a damaged commit or tree): pygit2's walk steps over and names them
        warnings: list[Warning] = []
        commits = _walk_commits(self.repo, tips, hidden, None, warnings)
        _enumerate_pygit2(self.repo, commits, hidden, [], warnings)
        return warnings

    def paths(self, blobs: set[str]) -> dict[str, str] | None:
        """blob -> its path in the collected walk, for the reachable ones of `blobs` (None: no walk)."""
        if self.listing is None:
            return None
        out: dict[str, str] = {}
        lines = self.listing.split(b"\n")
        n = len(lines[0])  # the first line is a commit's id alone: the id length of this repository
        for line in lines:
            oid = line[:n].decode("ascii", "replace")
            if oid in blobs and oid not in out:
                out[oid] = line[n + 1:].decode("utf-8", "surrogateescape") if len(line) > n + 1 else f"(tagged blob {oid[:12]})"
        return out

    def close(self) -> None:
        self.walk.close()
        self.listing = None


_MISSING_LINE = re.compile(rb"^\?([0-9a-f]+)", re.MULTILINE)


def plan_history(repo: pygit2.Repository, branch: str | None = None, since: str | None = None,
                 max_commits: int | None = None, use_git: bool = True, paths_needed: bool = False) -> HistoryPlan:
    """paths_needed: some rule or allowlist looks at paths while scanning, so blobs must come with one.

    With since, the history is `since..HEAD` (or `since..branch`): what the change under review adds."""
    warnings: list[Warning] = []
    notes: list[str] = []
    checked_loose_objects(repo)  # read-only from here on: no libgit2 hang on a truncated loose object
    if repo.head_is_unborn and not list(repo.references):
        warnings.append(Warning("empty", "repository has no commits"))
        return HistoryPlan([], [], {}, warnings=warnings)
    warnings.extend(view_warnings(repo))
    tips, loose = ref_tips(repo, branch, since, warnings)
    hidden = [str(_resolve_commit(repo, since, "--since").id)] if since else []
    remotes = promisor_remotes(repo)
    revs = _rev_args(list(tips.values()), hidden, loose, max_commits)
    if (remotes or refused_note(repo)) and use_git and tips:
        fetch_promised(repo, revs, remotes, notes)
    whole = not (branch or since or max_commits or paths_needed)
    walk: list[list[pygit2.Commit]] = []  # the pygit2 walk, made once where needed

    def commits() -> list[pygit2.Commit]:
        if not walk:
            walk.append(_walk_commits(repo, list(tips.values()), hidden, max_commits, warnings))
        return walk[0]

    def walked() -> tuple[list[BlobItem], str]:
        """The blobs of the trees the commits reach, with a path each: `git rev-list --objects`, else pygit2."""
        enumerated = _enumerate_git(repo, list(tips.values()), hidden, loose, max_commits, warnings) if use_git else None
        if enumerated is not None:
            blobs = [BlobItem(oid, path, size) for oid, (path, size) in enumerated.items()]
            order = _pack_order(repo)
            if order:  # reading in pack order keeps delta bases in libgit2's cache: ~15% less inflating
                blobs.sort(key=lambda b: order.get(b.oid, len(order)))
            return blobs, "git"
        found, _ = _enumerate_pygit2(repo, commits(), hidden, loose, warnings)
        blobs = []
        for oid, path in found.items():
            try:
                size = repo.odb.read_header(pygit2.Oid(hex=oid))[1]
            except (KeyError, ValueError, pygit2.GitError):
                size = 0
            blobs.append(BlobItem(oid, path, size))
        return blobs, "pygit2"

    listing = StoreListing.start(repo, warnings, walked) if use_git and whole else None
    check = parents = newest = None
    blobs: list[BlobItem] | StoreListing
    messages: list[MessageItem] | CommitListing = []
    if listing is not None:
        blobs, enumerator = listing, listing.enumerator
        if tips:
            check = MissingCheck(repo, revs)
            parents = Beside(repo.path, _parents_args(tips, hidden))
            messages = CommitListing(repo, list(tips.values()), parents, listing.commit_sizes, warnings)
            newest = commit_or_none(repo, next(iter(tips.values())))
    else:
        messages = [MessageItem(str(c.id), len(c.raw_message)) for c in commits()]
        blobs, enumerator = walked()
        newest = commits()[0] if commits() else None
    # a whole history in a shallow clone is always cut (a range only where a boundary commit is in it)
    if repo.is_shallow and (not hidden or _cut_by_shallow(repo, commits())):
        warnings.append(Warning("shallow", "shallow clone: history is cut, older commits were not scanned"))
    if newest is not None and _has_submodules(repo, [newest]):
        warnings.append(Warning("submodule", "submodules were skipped (scan each submodule's repository itself)"))
    return HistoryPlan(blobs, messages, tips, hidden, loose, warnings, enumerator, notes, check, parents_log=parents)


def commit_or_none(repo: pygit2.Repository, oid: str) -> pygit2.Commit | None:
    """The commit with that id, or None (absent, unreadable, or another kind of object)."""
    try:
        obj = repo[oid]
    except (KeyError, ValueError, pygit2.GitError):
        return None
    return obj if isinstance(obj, pygit2.Commit) else None


def _cut_by_shallow(repo: pygit2.Repository, commits: list[pygit2.Commit]) -> bool:
    """Whether the shallow boundary cuts a range (`--since`, `ci`; a whole history in a shallow clone
    always is): only when one of its commits is a boundary commit (its parents are not there),
    so a CI checkout deepened until the range is whole scans it completely and says so."""
    try:
        with open(os.path.join(repo.path, "shallow"), "rb") as fh:  # the view's copy: object ids only
            boundary = set(fh.read().decode("ascii", "replace").split())
    except OSError:
        return True
    return any(str(c.id) in boundary for c in commits)


def _has_submodules(repo: pygit2.Repository, commits: list[pygit2.Commit]) -> bool:
    try:
        for c in commits:
            stack: list[Any] = [c.tree]
            while stack:
                for e in stack.pop():
                    if e.filemode == GITLINK:
                        return True
                    if e.filemode == TREE:
                        stack.append(repo[e.id])
    except (KeyError, ValueError, pygit2.GitError):
        pass  # an unreadable tree is named by enumeration
    return False


# --- attribution: only for blobs with findings -----------------------------------------------------------

def _iso(sig: pygit2.Signature) -> str:
    tz = timezone(timedelta(minutes=sig.offset))
    return datetime.fromtimestamp(sig.time, tz).isoformat()


def _entry_id(tree: pygit2.Tree, path: str) -> pygit2.Oid | None:
    try:
        return tree[path].id
    except KeyError:
        return None


def collapse(findings: list[Finding]) -> list[Finding]:
    """One blob finding per (secret, rule, path): the one introduced first; refs and at_head merged.

    A secret that stays in a file while other lines change is in many blobs; a reader wants to know where
    it came in, which refs hold it, and whether it is still there.
    """
    out: list[Finding] = []
    groups: dict[tuple, list[Finding]] = {}
    for f in findings:
        if f.source == "blob":
            groups.setdefault((f.fingerprint, f.rule_id, f.path), []).append(f)
        else:
            out.append(f)
    for group in groups.values():
        first = min(group, key=lambda f: (f.date or "9999", f.line, f.column))
        out.append(replace(first, refs=tuple(sorted({r for f in group for r in f.refs})),
                           at_head=any(f.at_head for f in group)))
    return sorted(out, key=lambda f: (f.path, f.date or "", f.line, f.column, f.rule_id))


_C_ESCAPES = {b"a": b"\a", b"b": b"\b", b"t": b"\t", b"n": b"\n", b"v": b"\v", b"f": b"\f", b"r": b"\r",
              b'"': b'"', b"\\": b"\\"}
_C_ESCAPE = re.compile(rb'\\([0-7]{3}|[abtnvfr"\\])')


def unquote_path(path: bytes) -> str:
    """A path as git prints it in --raw output: C-quoted ("caf\\303\\251.env") when it holds bytes outside
    printable ASCII, a quote, a backslash or a control character; otherwise as is."""
    if len(path) >= 2 and path[:1] == b'"' and path[-1:] == b'"':
        path = _C_ESCAPE.sub(lambda m: bytes([int(m[1], 8)]) if len(m[1]) == 3 else _C_ESCAPES[m[1]], path[1:-1])
    return path.decode("utf-8", "surrogateescape")


def raw_adds(repo: pygit2.Repository, tips: list[str], hidden: list[str], blobs: set[str], log: Beside | None = None
             ) -> Iterator[tuple[str, str, str]] | None:
    """(commit, blob, path) for every blob in `blobs` a commit's diff adds (A/M/T/C), oldest commit first,
    from one `git log --raw` pass over `tips --not hidden` (C speed); None when git is unusable. Merge commits
    show no diff, so a blob is credited to the side-branch commit that really introduced it. Only tree entries
    are compared, so no blob is read (or lazily fetched). log: the same command already started beside
    the scan (HistoryPlan.found); if it failed, it is run again here."""
    if git_binary() is None or not tips:
        return None
    out = log.output() if log is not None else None
    if out is None:
        try:
            proc = run_git(repo.path, [*RAW_LOG, *tips, *(f"^{h}" for h in hidden)])
        except OSError:
            return None
        if proc.returncode != 0:
            return None
        out = proc.stdout
    if 0 < len(blobs) <= _LOOKUP_MAX and out:
        found = _lookup_adds(out, blobs)
        if found is not None:
            return iter(found)

    wanted = {b.encode() for b in blobs}
    n = out.find(b"\n") - 1  # the log opens with `\0<commit id>`: the id length of this repository
    # a change is `:MODE MODE OLD NEW S\tpath` with 6-digit modes: NEW at 16 + n

    def adds() -> Iterator[tuple[str, str, str]]:
        commit = ""
        for line in out.split(b"\n"):
            if line.startswith(b"\0"):
                commit = line[1:].decode()
            elif line[16 + n:16 + 2 * n] in wanted and line.startswith(b":"):
                meta, _, path = line.partition(b"\t")
                fields = meta.split()
                if len(fields) >= 5 and fields[4][:1] in b"AMTC" and (blob := fields[3].decode()) in blobs:
                    yield commit, blob, unquote_path(path)
    return adds()


_LOOKUP_MAX = 64  # findings' blobs looked up natively in the log (compiling more costs more than parsing every line)


def _lookup_adds(out: bytes, blobs: set[str]) -> list[tuple[str, str, str]] | None:
    """raw_adds' answer found by looking the few wanted blob ids up in the log with Hyperscan instead of
    parsing its every line in Python (an SDK's 37 releases: 173,000 lines, 0.2 s after the scan), or None
    without Hyperscan. A blob counts where it is the new side of an add (its id followed by the status)."""
    from scanner.engine.prefilter import HYPERSCAN_AVAILABLE, _compile_database

    if not HYPERSCAN_AVAILABLE:
        return None
    ids = sorted(blobs)
    db = _compile_database([re.escape(b).encode() + b" [AMTC]" for b in ids], [0] * len(ids))
    ends: list[tuple[int, int]] = []
    db.scan(out, match_event_handler=lambda i, _s, end, _f, _c: ends.append((end, i)))
    found = []
    for end, i in ends:  # in log order: oldest commit first
        ls = out.rfind(b"\n", 0, end) + 1
        le = out.find(b"\n", end)
        le = len(out) if le < 0 else le
        tab = out.find(b"\t", end, le)
        if out[ls:ls + 1] != b":" or tab < 0:  # a raw line's new-blob field: its id, the status, a tab, the path
            continue
        cs = out.rfind(b"\0", 0, ls) + 1  # the commit's own line, "\0<id>" (a path never holds a NUL)
        found.append((out[cs:out.find(b"\n", cs)].decode(), ids[i], unquote_path(out[tab + 1:le])))
    return found


def _introductions_git(repo: pygit2.Repository, tips: list[str], hidden: list[str], blobs: set[str],
                       log: Beside | None = None) -> dict[str, dict[str, str]] | None:
    """blob -> {path: oldest commit whose diff adds it there}; None when git is unusable."""
    adds = raw_adds(repo, tips, hidden, blobs, log)
    if adds is None:
        return None
    found: dict[str, dict[str, str]] = {}
    for commit, blob, path in adds:
        found.setdefault(blob, {}).setdefault(path, commit)
    return found


def _introductions_pygit2(repo: pygit2.Repository, plan: HistoryPlan, wanted: set[tuple[str, str]],
                          merges_only: bool = False) -> dict[str, dict[str, str]]:
    """Tree lookups of the known (blob, path) pairs, oldest commit first: without git, or for what git's log
    showed no commit adding. merges_only: the log was read, so only a merge can have introduced them (a
    resolution: the log shows no diff for merges), and only merges' trees are looked in, taken from the
    `rev-list --parents` listing when it ran (a provider's 32,000 commits cost 0.27 s for one blob)."""
    found: dict[str, dict[str, str]] = {}
    if not wanted:
        return found
    paths = {p for _, p in wanted}
    pending = set(wanted)
    listed = plan.parents_log.output() if merges_only and plan.parents_log is not None else None
    try:
        commits: Iterable[pygit2.Commit]
        if listed is not None:
            commits = _merges_oldest_first(repo, listed)
        else:
            walker = repo.walk(None, pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.REVERSE)
            for t in plan.tips.values():
                walker.push(pygit2.Oid(hex=t))
            for h in plan.hidden:
                walker.hide(pygit2.Oid(hex=h))
            commits = walker
        for commit in commits:
            if merges_only and len(commit.parent_ids) < 2:
                continue
            try:
                here = {p: _entry_id(commit.tree, p) for p in paths}
            except (KeyError, ValueError, pygit2.GitError):
                continue  # an unreadable tree: enumeration named it
            for blob, path in [k for k in pending if here.get(k[1]) is not None and str(here[k[1]]) == k[0]]:
                try:
                    parents = [str(_entry_id(par.tree, path)) for par in commit.parents]
                except (KeyError, ValueError, pygit2.GitError):
                    parents = []
                if all(p != blob for p in parents):
                    found.setdefault(blob, {})[path] = str(commit.id)
                    pending.discard((blob, path))
            if not pending:
                break
    except (KeyError, ValueError, pygit2.GitError):
        pass  # a commit libgit2 cannot read ends the walk: what was found stands
    return found


def _parents_args(tips: dict[str, str], hidden: list[str]) -> list[str]:
    return ["rev-list", "--topo-order", "--parents", *dict.fromkeys(tips.values()), *(f"^{h}" for h in hidden)]


def _merges_oldest_first(repo: pygit2.Repository, listed: bytes) -> Iterator[pygit2.Commit]:
    """The merges of a `rev-list --topo-order --parents` listing (lines naming two parents or more),
    parents before children."""
    for line in reversed(listed.split(b"\n")):
        if line.count(b" ") >= 2:
            obj = repo[line.split(b" ", 1)[0].decode()]
            if isinstance(obj, pygit2.Commit):
                yield obj


def containment(repo: pygit2.Repository, tips: dict[str, str], hidden: list[str], log: Beside | None = None
                ) -> dict[str, int]:
    """commit id -> bitset of the refs (bit i: the i-th of tips) that contain it, for every commit of the
    history, from ONE walk: in topological order (children first) each commit passes its bits to its
    parents. Attribution then costs O(commits + findings) instead of a descendant_of call per ref per
    introducing commit (168 refs x every introducing commit took minutes on pip). log: the same rev-list
    already started beside the scan (HistoryPlan.found)."""
    bit_of: dict[str, int] = {}
    for i, tip in enumerate(tips.values()):
        bit_of[tip] = bit_of.get(tip, 0) | (1 << i)
    bits: dict[str, int] = {}
    if git_binary() is not None and tips:
        out = log.output() if log is not None else None
        if out is None:
            try:
                proc = run_git(repo.path, _parents_args(tips, hidden))
            except OSError:
                proc = None
            out = proc.stdout if proc is not None and proc.returncode == 0 else None
        if out is not None:
            for line in out.decode("ascii", "replace").splitlines():
                ids = line.split()
                if not ids:
                    continue
                b = bits.get(ids[0], 0) | bit_of.get(ids[0], 0)
                bits[ids[0]] = b
                for p in ids[1:]:
                    bits[p] = bits.get(p, 0) | b
            return bits
    try:
        walker = repo.walk(None, pygit2.enums.SortMode.TOPOLOGICAL)
        for t in dict.fromkeys(tips.values()):
            walker.push(pygit2.Oid(hex=t))
        for h in hidden:
            walker.hide(pygit2.Oid(hex=h))
        for commit in walker:
            cid = str(commit.id)
            b = bits.get(cid, 0) | bit_of.get(cid, 0)
            bits[cid] = b
            for parent in commit.parent_ids:
                bits[str(parent)] = bits.get(str(parent), 0) | b
        return bits
    except (KeyError, ValueError, pygit2.GitError):
        pass
    bits = {}  # a damaged history: ask libgit2 per ref, as before, stepping over what it cannot read
    return bits


def _refs_containing(repo: pygit2.Repository, commit: str, tips: dict[str, str], bits: dict[str, int] | None
                     ) -> tuple[str, ...]:
    names = list(tips)
    if bits:
        b = bits.get(commit, 0)
        return tuple(sorted(names[i] for i in range(len(names)) if b >> i & 1))
    out = []
    for name, tip in tips.items():
        try:
            if tip == commit or repo.descendant_of(pygit2.Oid(hex=tip), pygit2.Oid(hex=commit)):
                out.append(name)
        except (KeyError, ValueError, pygit2.GitError):
            continue
    return tuple(sorted(out))


def _at_head(repo: pygit2.Repository, head_tree: pygit2.Tree | None, path: str, secret: str,
             blob: str | None = None, checked: dict[tuple[str, str], bool] | None = None) -> bool:
    """The same blob at HEAD (an archive's bytes hold no plain secret), or a HEAD file still holding it.

    checked: (HEAD blob, secret) pairs already judged in this attribution: a secret in a 15 MB bundle that
    changed in 80 releases is 80 places, and libgit2 took 90 ms to inflate the HEAD bundle for each. Only
    the answers are kept, not the blobs."""
    if head_tree is None:
        return False
    oid = _entry_id(head_tree, path)
    if oid is None:
        return False
    if blob is not None and str(oid) == blob:
        return True
    from scanner.sources.blobs import read_object

    checked = {} if checked is None else checked
    if (str(oid), secret) not in checked:
        data = read_object(repo.path, str(oid), "blob", path, [])
        checked[(str(oid), secret)] = data is not None and secret.encode() in data
    return checked[(str(oid), secret)]


def _reachable_paths(repo: pygit2.Repository, plan: HistoryPlan, blobs: set[str]) -> dict[str, str]:
    """blob -> a path, for the blobs the plan's history reaches: from the missing-object check's walk when
    it ran beside the scan, else git's walk, else pygit2's (which steps over damaged commits and trees, so
    the readable rest of a damaged history is still attributed)."""
    walked = plan.missing_check.paths(blobs) if plan.missing_check is not None else None
    if walked is not None:
        return walked
    tips = list(plan.tips.values())
    found = _enumerate_git(repo, tips, plan.hidden, plan.loose, None)
    if found is not None:
        return {b: p for b, (p, _) in found.items()}
    commits = _walk_commits(repo, tips, plan.hidden, None, [])
    return _enumerate_pygit2(repo, commits, plan.hidden, plan.loose, [])[0]


def attribute(repo: pygit2.Repository, findings: list[Finding], plan: HistoryPlan,
              introductions: dict[str, dict[str, str]] | None = None, contained: dict[str, int] | None = None
              ) -> list[Finding]:
    """Places blob findings at every path their blob was introduced at, with the introducing commit, and
    fills author, date, refs and at_head. Enumeration names a blob once; a copied file is found again here.
    Which refs contain which commit comes from one walk over the history (containment), done only when
    some finding has a commit.
    """
    tips, hidden = list(plan.tips.values()), plan.hidden
    blob_findings = [f for f in findings if f.source == "blob" and f.blob]
    found = introductions if introductions is not None else (  # audit: worked out from its per-commit cache
        _introductions_git(repo, tips, hidden, {f.blob for f in blob_findings if f.blob}, plan.adds_log)
        if blob_findings else {})
    # git unusable (or the history is damaged): pygit2 below; a place may have no introducing commit (None)
    intro: dict[str, dict[str, str | None]] = {b: dict(p) for b, p in (found or {}).items()}
    missing = {f.blob: f.path for f in blob_findings if f.blob and f.blob not in intro}
    if missing:  # no diff adds them: introduced by a merge's own resolution, only tagged, or unreachable
        reachable = _reachable_paths(repo, plan, set(missing)) if not all(missing.values()) else {}
        wanted = {(b, p or reachable[b]) for b, p in missing.items() if p or b in reachable}
        intro.update({b: dict(p) for b, p in _introductions_pygit2(repo, plan, wanted, found is not None).items()})
        for b, path in wanted:
            intro.setdefault(b, {path: None})  # reachable, but no single introducing commit was found
    placed: list[Finding] = [f for f in findings if not (f.source == "blob" and f.blob)]
    for f in blob_findings:
        places = intro.get(f.blob or "") or ({f.path: None} if f.path else {})  # no path, no place: unreachable
        for path, commit in places.items():  # a member of an archive blob keeps its `!member` after the path
            placed.append(replace(f, path=path + f.member, commit=commit))
    try:
        head_tree = None if repo.head_is_unborn else repo.head.peel(pygit2.Commit).tree
    except (KeyError, ValueError, pygit2.GitError):
        head_tree = None
    bits = contained if contained is not None else (  # audit: from the one walk it made already
        containment(repo, plan.tips, hidden, plan.parents_log) if any(f.commit for f in placed) else None)
    contains: dict[str, tuple[str, ...]] = {}
    authors: dict[str, tuple[str | None, str | None]] = {}
    head_checked: dict[tuple[str, str], bool] = {}
    out: list[Finding] = []
    for f in placed:
        if not f.commit:
            out.append(f)
            continue
        if f.commit not in authors:
            try:
                obj = repo[f.commit]
                authors[f.commit] = (f"{obj.author.name} <{obj.author.email}>",  # type: ignore[attr-defined]
                                     _iso(obj.author))  # type: ignore[attr-defined]
            except (KeyError, ValueError, pygit2.GitError):
                authors[f.commit] = (f.author, f.date)  # named by the walk that could not read it
        if f.commit not in contains:
            contains[f.commit] = _refs_containing(repo, f.commit, plan.tips, bits)
        author, date = authors[f.commit]
        at_head = (_at_head(repo, head_tree, f.path[:len(f.path) - len(f.member)], f.secret, f.blob, head_checked)
                   if f.source == "blob" else f.at_head)
        out.append(replace(f, author=author, date=date, refs=contains[f.commit], at_head=at_head))
    return out
