"""Staged changes: what `git commit` would add, with the line numbers of added lines in the staged file.

Pre-commit runs this on every commit, so start-up matters: where a git binary is present, one
`git diff --cached` call says everything and pygit2 is never imported (saving ~90 ms); otherwise the index
is diffed against HEAD with pygit2.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from scanner.errors import UsageError
from scanner.sources.blobs import BlobItem
from scanner.sources.gitbin import GITLINK, GITLINK_TEXT, git_binary, run_trusted

_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_INDEX = re.compile(rb"^index ([0-9a-f]+)\.\.([0-9a-f]+)(?: (\d+))?$")


@dataclass(frozen=True)
class StagedFile:
    item: BlobItem
    added_lines: frozenset[int]


@dataclass(frozen=True)
class Staged:
    git_dir: str
    root: str  # work tree: where .tokenscanignore and the config live
    files: list[StagedFile]
    via: str  # git | pygit2


def _unquote(path: bytes) -> str:
    """git C-quotes unusual paths ("a\\tb"); undo it."""
    if path.startswith(b'"') and path.endswith(b'"'):
        path = codecs.escape_decode(path[1:-1])[0]  # type: ignore[attr-defined]
    return path.decode("utf-8", "surrogateescape")


def parse_cached_diff(text: bytes) -> list[StagedFile]:
    """Files and added line numbers from `git diff --cached -U0 --full-index` output."""
    out: list[StagedFile] = []
    blob = path = None
    mode_ok = True
    added: set[int] = set()

    def flush() -> None:
        if blob and path and added and mode_ok:
            out.append(StagedFile(BlobItem(blob, path, 0), frozenset(added)))

    for line in text.split(b"\n"):
        if line.startswith(b"diff --git "):
            flush()
            blob = path = None
            mode_ok, added = True, set()
        elif line.startswith(b"index "):
            m = _INDEX.match(line)
            if m:
                blob = m.group(2).decode()
                mode_ok = m.group(3) != GITLINK_TEXT
        elif line.startswith((b"new file mode ", b"new mode ")):
            mode_ok = not line.endswith(GITLINK_TEXT)
        elif line.startswith(b"+++ "):
            target = line[4:].rstrip(b"\t")  # git marks names with spaces by a trailing tab
            path = None if target == b"/dev/null" else _unquote(target)[2:]  # strip "b/"
        elif line.startswith(b"@@"):
            m = _HUNK.match(line)
            if m:
                start, count = int(m.group(1)), int(m.group(2) or 1)
                added.update(range(start, start + count))
    flush()
    return out


def _via_git(repo_path: str) -> Staged | None:
    if git_binary() is None:
        return None
    try:  # the user's own repository, read by the user's git as their commit will be (trusted)
        top = run_trusted(["-C", repo_path, "rev-parse", "--is-bare-repository", "--absolute-git-dir",
                           "--show-toplevel"], text=True)
        if top.returncode != 0:
            return None  # pygit2 gives the precise error
        parts = top.stdout.splitlines()
        if parts and parts[0] == "true":
            raise UsageError(f"{repo_path}: a bare repository has no staged changes")
        git_dir, root = parts[1], parts[2]
        diff = run_trusted(["-C", root, "-c", "core.quotepath=off", "diff", "--cached", "-U0", "--full-index",
                            "--no-color", "--no-ext-diff", "--no-renames", "--no-textconv", "--diff-filter=ACMRT"])
        if diff.returncode != 0:
            return None
    except OSError:
        return None
    return Staged(git_dir, root, parse_cached_diff(diff.stdout), "git")


def _via_pygit2(repo_path: str) -> Staged:
    import pygit2

    from scanner.sources.git import open_repo

    repo = open_repo(repo_path, trusted=True)
    if repo.is_bare:
        raise UsageError(f"{repo_path}: a bare repository has no staged changes")
    base = repo[repo.TreeBuilder().write()] if repo.head_is_unborn else repo.head.peel(pygit2.Commit).tree
    out = []
    for patch in repo.index.diff_to_tree(base):
        delta = patch.delta
        if delta.status_char() == "D" or delta.new_file.mode == GITLINK:
            continue
        added = frozenset(line.new_lineno for hunk in patch.hunks for line in hunk.lines if line.origin == "+")
        if added:
            out.append(StagedFile(BlobItem(str(delta.new_file.id), delta.new_file.path, delta.new_file.size), added))
    return Staged(repo.path, repo.workdir or repo.path, out, "pygit2")


def staged_files(repo_path: str, use_git: bool = True) -> Staged:
    return (_via_git(repo_path) if use_git else None) or _via_pygit2(repo_path)
