"""`tokenscan install-hook`: the one command that writes into a repository, and says so."""

from __future__ import annotations

import os
import shlex
import shutil
import sys

from scanner.errors import UsageError
from scanner.sources.git import open_repo

MARK = "# installed by tokenscan install-hook"


def hook_script() -> str:
    exe = shutil.which("tokenscan")
    cmd = shlex.quote(exe) if exe else f"{shlex.quote(sys.executable)} -m scanner"
    return f"#!/bin/sh\n{MARK}\nexec {cmd} staged --no-color \"$(git rev-parse --show-toplevel)\"\n"


def install(repo_path: str, force: bool) -> str:
    repo = open_repo(repo_path, trusted=True)  # the user's own: git runs its hooks there anyway
    if repo.is_bare:
        raise UsageError(f"{repo_path}: a bare repository runs no pre-commit hook")
    hooks_dir = str(repo.config["core.hooksPath"]) if "core.hooksPath" in repo.config else os.path.join(repo.path, "hooks")
    if not os.path.isabs(hooks_dir):
        hooks_dir = os.path.join(repo.workdir or repo.path, hooks_dir)
    path = os.path.join(hooks_dir, "pre-commit")
    script = hook_script()
    if os.path.exists(path):
        with open(path, encoding="utf-8", errors="replace") as fh:
            current = fh.read()
        if current != script and MARK not in current and not force:
            raise UsageError(f"{path}: a different pre-commit hook exists (use --force to replace it)")
    os.makedirs(hooks_dir, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(script)
    os.chmod(path, 0o755)
    return path
