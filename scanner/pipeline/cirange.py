"""Which commits a CI run gates: the ones the change adds, worked out from what the CI system says.

A pull request adds the commits of its head that its base does not hold; a push adds `before..after`; a new
branch adds what the default branch does not hold; a force-push is read as a new branch (its old tip is
not an ancestor any more). The range is always `HEAD_SHA --not BASE_SHA`, so a secret added and removed
inside the change is still in it (its blob is in an intermediate commit), and nothing the base already holds
(merged in from the base, or from before it) is scanned again.

CI checkouts are shallow by default. A range cut by the shallow boundary would be a silent partial scan, so
`complete()` fetches what is missing from the checkout's remote (deepening step by step, then unshallowing)
or, with fetching off or failing, stops with the setting to change. That fetch runs in the CI job's own
checkout with the job's own remote and credentials (gitbin.run_trusted): the change under review cannot
write a checkout's `.git/config`.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, replace

from scanner.errors import UsageError
from scanner.safeio import read_file
from scanner.sources.gitbin import run_trusted

ZERO = "0" * 40
DEEPEN = (50, 500)  # commits fetched beyond the shallow boundary per step, before unshallowing
FETCH_TIMEOUT = 600.0
SHALLOW_ADVICE = ("set `fetch-depth: 0` on actions/checkout (GitHub) or `GIT_DEPTH: 0` (GitLab), "
                  "or let tokenscan fetch (without --no-fetch)")


@dataclass(frozen=True)
class ChangeRange:
    """What the CI system says a run is about. base None: no base given (a first push or a new branch);
    default_branch: the repository's default branch, which a new branch's commits are measured against."""

    system: str  # "GitHub Actions", "GitLab CI", "command line"
    event: str  # pull_request, push, merge_request_event, ...
    head: str
    base: str | None = None
    default_branch: str | None = None
    ref_is_default: bool = False

    def describe(self) -> str:
        where = f"{self.head[:12]} not reachable from {self.base[:12]}" if self.base else f"every commit of {self.head[:12]}"
        return f"{self.system} {self.event}: the commits of {where}"


def _event_payload(env: Mapping[str, str]) -> dict:
    path = env.get("GITHUB_EVENT_PATH", "")
    if not path:
        raise UsageError("GitHub Actions: GITHUB_EVENT_PATH is not set, so the change cannot be read; give --base")
    try:
        doc = json.loads(read_file(path))
    except (OSError, ValueError) as exc:
        raise UsageError(f"GITHUB_EVENT_PATH {path}: not a readable event payload ({exc})") from None
    if not isinstance(doc, dict):
        raise UsageError(f"GITHUB_EVENT_PATH {path}: not a JSON object")
    return doc


def _field(doc: object, *keys: str) -> str | None:
    for k in keys:
        doc = doc.get(k) if isinstance(doc, dict) else None
    return doc if isinstance(doc, str) and doc else None


def _github(env: Mapping[str, str]) -> ChangeRange:
    event = env.get("GITHUB_EVENT_NAME", "")
    doc = _event_payload(env)
    default = _field(doc, "repository", "default_branch")
    if event in ("pull_request", "pull_request_target"):
        head, base = _field(doc, "pull_request", "head", "sha"), _field(doc, "pull_request", "base", "sha")
        if head and base:
            return ChangeRange("GitHub Actions", event, head, base, default)
    elif event == "merge_group":
        head, base = _field(doc, "merge_group", "head_sha"), _field(doc, "merge_group", "base_sha")
        if head and base:
            return ChangeRange("GitHub Actions", event, head, base, default)
    elif event == "push":
        head = _field(doc, "after") or env.get("GITHUB_SHA")
        ref = _field(doc, "ref") or env.get("GITHUB_REF", "")
        if head and head != ZERO:
            before = _field(doc, "before")
            return ChangeRange("GitHub Actions", event, head, None if before == ZERO else before, default,
                               bool(default) and ref == f"refs/heads/{default}")
        raise UsageError("GitHub Actions push: the pushed ref was deleted, nothing to scan")
    else:
        raise UsageError(f"GitHub Actions event {event or '(none)'} names no change: give --base REV "
                         "(or use `tokenscan history` for the whole history)")
    raise UsageError(f"GitHub Actions {event}: the event payload has no base and head commit")


def _gitlab(env: Mapping[str, str]) -> ChangeRange:
    source = env.get("CI_PIPELINE_SOURCE", "")
    default = env.get("CI_DEFAULT_BRANCH") or None
    if source == "merge_request_event" or env.get("CI_MERGE_REQUEST_IID"):
        head = env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA") or env.get("CI_COMMIT_SHA")
        base = env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA") or env.get("CI_MERGE_REQUEST_TARGET_BRANCH_SHA")
        if head and base:
            return ChangeRange("GitLab CI", "merge_request_event", head, base, default)
        raise UsageError("GitLab CI merge request pipeline: CI_MERGE_REQUEST_DIFF_BASE_SHA or CI_COMMIT_SHA "
                         "is not set")
    if source not in ("push", ""):
        raise UsageError(f"GitLab CI {source} pipeline names no change: give --base REV "
                         "(or use `tokenscan history` for the whole history)")
    head = env.get("CI_COMMIT_SHA")
    if not head:
        raise UsageError("GitLab CI: CI_COMMIT_SHA is not set")
    before = env.get("CI_COMMIT_BEFORE_SHA") or ZERO
    branch = env.get("CI_COMMIT_BRANCH")
    return ChangeRange("GitLab CI", "push", head, None if before == ZERO else before, default,
                       bool(default) and branch == default)


def detect(env: Mapping[str, str], base: str | None = None, head: str | None = None) -> ChangeRange:
    """The change this run gates: --base/--head when given (any CI system), else what GitHub Actions or
    GitLab CI say. Neither: a usage error, never a whole-history scan nobody asked for."""
    if base:
        return ChangeRange("command line", "range", head or "HEAD", base)
    if env.get("GITHUB_ACTIONS") == "true":
        found = _github(env)
    elif env.get("GITLAB_CI") == "true":
        found = _gitlab(env)
    else:
        raise UsageError("not running in GitHub Actions or GitLab CI: give --base REV (and --head REV, "
                         "default HEAD)")
    return replace(found, head=head) if head else found


# --- the checkout ----------------------------------------------------------------------------------------


def _git(root: str, *args: str, timeout: float | None = 120.0) -> subprocess.CompletedProcess[str]:
    try:
        return run_trusted(["-C", root, *args], text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise UsageError(f"git {args[0]} in {root} did not finish in {timeout:.0f} s") from None
    except OSError as exc:
        raise UsageError(f"git cannot run: {exc}") from None


def _commit(root: str, rev: str) -> str | None:
    out = _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    return out.stdout.strip() or None if out.returncode == 0 else None


def _shallow(root: str) -> set[str]:
    out = _git(root, "rev-parse", "--git-path", "shallow")
    path = os.path.join(root, out.stdout.strip()) if out.returncode == 0 else ""
    try:
        return set(read_file(path).decode("ascii", "replace").split()) if path else set()
    except OSError:
        return set()


def _gap(root: str, head: str, base: str | None) -> str | None:
    """Why the checkout cannot show the whole range yet, or None when it can."""
    if _commit(root, head) is None:
        return f"the head commit {head[:12]} is not in the checkout"
    if base is not None and _commit(root, base) is None:
        return f"the base commit {base[:12]} is not in the checkout"
    shallow = _shallow(root)
    if not shallow:
        return None
    if base is None:
        return "the checkout is shallow and every commit of the head is new"
    listed = _git(root, "rev-list", head, "--not", base)
    if listed.returncode != 0 or shallow & set(listed.stdout.split()):
        return "the checkout's shallow boundary cuts the range"
    if _git(root, "merge-base", base, head).returncode != 0:
        return "the checkout is too shallow to hold the commit the head and base share"
    return None


def _fetch(root: str, remote: str, options: list[str], refspecs: list[str]) -> str | None:
    """git fetch from the checkout's remote; None on success, else git's reason (one line)."""
    out = _git(root, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--recurse-submodules=no",
               *options, "--end-of-options", remote, *refspecs, timeout=FETCH_TIMEOUT)
    if out.returncode == 0:
        return None
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    fatal = [ln for ln in lines if ln.startswith(("fatal:", "error:"))]
    return (fatal or lines or [f"exit {out.returncode}"])[-1]


def _default_tip(root: str, cr: ChangeRange, remote: str, fetch: bool) -> str | None:
    """The default branch's commit, as the remote has it (fetched when the checkout lacks it)."""
    if not cr.default_branch:
        return None
    tracking = f"refs/remotes/{remote}/{cr.default_branch}"
    if fetch:
        shallow = ["--depth=50"] if _shallow(root) else []
        _fetch(root, remote, shallow, [f"+refs/heads/{cr.default_branch}:{tracking}"])
    return _commit(root, tracking)


def _fill(root: str, cr: ChangeRange, head: str, base: str | None, remote: str, fetch: bool) -> None:
    """Fetch until the checkout holds every commit of `head --not base` and the commit they share."""
    gap = _gap(root, head, base)
    for depth in DEEPEN if fetch else ():
        if gap is None:
            return
        if _fetch(root, remote, [f"--deepen={depth}"], [head, *([base] if base else [])]) is None:
            gap = _gap(root, head, base)
    if gap is not None and fetch and _shallow(root):
        reason = _fetch(root, remote, ["--unshallow"], [])
        gap = _gap(root, head, base)
        if gap is not None and reason:
            gap = f"{gap} (fetch from {remote}: {reason})"
    if gap is not None:
        raise UsageError(f"{cr.system}: {gap}; {SHALLOW_ADVICE}")


def complete(root: str, cr: ChangeRange, remote: str = "origin", fetch: bool = True) -> tuple[ChangeRange, list[str]]:
    """The range with a base the checkout holds, everything between fetched, and notes saying what was done.
    A range that stays cut is a UsageError naming the setting to change: never a silent partial scan."""
    notes: list[str] = []
    if fetch:  # the commits the CI system named first: a depth-1 checkout of a merge commit has neither
        for rev in (r for r in (cr.head, cr.base) if r and _commit(root, r) is None):  # one by one: a
            _fetch(root, remote, ["--depth=50"] if _shallow(root) else [], [rev])  # force-pushed-away tip fails alone
    head = _commit(root, cr.head)
    if head is None:
        raise UsageError(f"{cr.system}: the head commit {cr.head} is not in the checkout"
                         + ("" if fetch else f"; {SHALLOW_ADVICE}"))
    base = _commit(root, cr.base) if cr.base else None
    if cr.base and base is None:
        if cr.event != "push":
            raise UsageError(f"{cr.system}: the base commit {cr.base} is not in the checkout"
                             + ("" if fetch else f"; {SHALLOW_ADVICE}"))
        notes.append(f"the push's old tip {cr.base[:12]} is gone (force-push)")
    if base is not None and cr.event == "push" and not cr.ref_is_default:
        _fill(root, cr, head, base, remote, fetch)  # ancestry is only known once the range is whole
        if _git(root, "merge-base", "--is-ancestor", base, head).returncode == 1:
            notes.append(f"force-push: {base[:12]} is not an ancestor of {head[:12]}")
            base = None
    if base is None and cr.event == "push" and not cr.ref_is_default and cr.default_branch:
        base = _default_tip(root, cr, remote, fetch)
        if base is None:
            raise UsageError(f"{cr.system}: the default branch {cr.default_branch} is not in the checkout"
                             + (f" and could not be fetched from {remote}" if fetch else f"; {SHALLOW_ADVICE}"))
        notes.append(f"measured as a new branch: its commits not on {cr.default_branch}")
    _fill(root, cr, head, base, remote, fetch)
    done = replace(cr, head=head, base=base)
    return done, [f"ci: {done.describe()}", *notes]
