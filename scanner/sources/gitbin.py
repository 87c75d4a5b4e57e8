"""The git binary and the constants every git-reading module shares.

`git_binary()` looks git up on PATH once per process: a history scan asks for it a dozen times (enumeration,
pack order, the missing-object check, attribution, containment) and each `shutil.which` walks PATH again.
The mode constants live here so a gitlink is one thing everywhere (an int, as pygit2 and `git ls-tree`
parsing both compare it), not an int in one module and a string in another.
"""

from __future__ import annotations

import functools
import os
import shutil

GITLINK = 0o160000  # a submodule commit in a tree: never a blob to read
TREE = 0o040000
GITLINK_TEXT = f"{GITLINK:o}".encode()  # as `git diff --raw` / `ls-files -s` print it


@functools.cache
def git_binary() -> str | None:
    """The git executable on PATH, or None (callers fall back to pygit2 or report that git is needed).
    Cached: PATH does not change under a running scan; tests that need "no git" run a child process."""
    return shutil.which("git")


def git_env() -> dict[str, str]:
    """Environment for git calls that only read: never prompt, never lazily fetch one object at a time
    (GIT_NO_LAZY_FETCH, git >= 2.44; older gits ignore it): promised objects are fetched up front, in batches."""
    # GIT_NO_REPLACE_OBJECTS: a repository's refs/replace/ would otherwise swap a commit for another one in
    # every walk, so the blobs of the commit it hides were never listed (a silent miss steered by the content)
    return {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_NO_LAZY_FETCH": "1", "GIT_NO_REPLACE_OBJECTS": "1"}
