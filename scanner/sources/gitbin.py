"""The one place tokenscan starts git: the binary, its command lines, its environment.

Every git process tokenscan runs is built here, so what a scanned repository can and cannot make git do is
decided in one file (a test fails on a `subprocess` call anywhere else). Two modes:

- **untrusted** (every scanned repository): git is pointed at a private view of the repository
  (scanner.sources.repoview) whose config tokenscan wrote, so nothing of the repository's own config is
  read; on top of that the command line switches off what could still run a program or a pager, and the
  environment forbids every transport (`GIT_ALLOW_PROTOCOL=` empty), prompts, lazy fetches and replace
  refs, and drops the `GIT_*` variables that would point git somewhere else. The one command that may use
  the network, the promised-object fetch, allows only https, http, ssh, git and file.
- **trusted** (`staged`, `install-hook`: the user's own repository, where git itself already runs that
  repository's hooks and fsmonitor; `ci`'s fetch into the CI job's own checkout, whose config the job's
  checkout step wrote, never the change under review): the user's git, as they run it.

`git_binary()` looks git up on PATH once per process: a history scan asks for it a dozen times. The mode
constants live here so a gitlink is one thing everywhere.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Sequence
from typing import IO, Any

GITLINK = 0o160000  # a submodule commit in a tree: never a blob to read
TREE = 0o040000
GITLINK_TEXT = f"{GITLINK:o}".encode()  # as `git diff --raw` / `ls-files -s` print it

FETCH_PROTOCOLS = ("https", "http", "ssh", "git", "file")  # never ext:: or fd::, which run programs

# Settings a git process reads from any config (the user's included) that would run a program, start a
# daemon, open a pager or follow a rewrite; `-c` on the command line wins over every config file.
HARDENING = (
    "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-c", "core.pager=cat",
    "-c", "log.showSignature=false", "-c", "maintenance.auto=false", "-c", "gc.auto=0",
    "-c", "protocol.ext.allow=never", "-c", "protocol.fd.allow=never", "-c", "uploadpack.packObjectsHook=",
)

# Variables that would make git read another repository, index, object store or namespace than the one we
# name: they come from the caller's environment, never from the scanned content, but a hook or a wrapper
# may have set them for a different repository.
_REDIRECTS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR",
              "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_CONFIG", "GIT_EXTERNAL_DIFF",
              "GIT_PAGER", "GIT_ASKPASS", "SSH_ASKPASS", "GIT_PROXY_COMMAND")


@functools.cache
def git_binary() -> str | None:
    """The git executable on PATH, or None (callers fall back to pygit2 or report that git is needed).
    Cached: PATH does not change under a running scan; tests that need "no git" run a child process."""
    return shutil.which("git")


def _git() -> str:
    git = git_binary()
    if git is None:
        raise OSError("git is not on PATH")
    return git


def git_env(network: bool = False, object_dir: str | None = None) -> dict[str, str]:
    """Environment for git in an untrusted repository. Never prompt, never fetch lazily one object at a time
    (GIT_NO_LAZY_FETCH, git >= 2.44; on older gits the empty protocol list stops it), never swap commits
    through refs/replace/ (a silent miss steered by the content). With network, only FETCH_PROTOCOLS."""
    env = {k: v for k, v in os.environ.items() if k not in _REDIRECTS}
    env.update(GIT_TERMINAL_PROMPT="0", GIT_NO_LAZY_FETCH="1", GIT_NO_REPLACE_OBJECTS="1",
               GIT_PROTOCOL_FROM_USER="0", GIT_ALLOW_PROTOCOL=":".join(FETCH_PROTOCOLS) if network else "")
    if "GIT_SSH_COMMAND" not in env and "GIT_SSH" not in env:
        env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes"  # the system's ssh, which must not ask either
    if object_dir is not None:
        env["GIT_OBJECT_DIRECTORY"] = object_dir
    return env


def git_argv(git_dir: str, args: Sequence[str]) -> list[str]:
    """The command line of a git subcommand on an untrusted repository's view."""
    return [_git(), "--no-pager", "--git-dir", git_dir, *HARDENING, *args]


def run_git(git_dir: str, args: Sequence[str], *, input: bytes | None = None, timeout: float | None = None,
            network: bool = False, object_dir: str | None = None) -> subprocess.CompletedProcess[bytes]:
    """Runs git on a view and captures its output. OSError when git cannot start; TimeoutExpired as
    subprocess raises it (the child is killed first)."""
    return subprocess.run(git_argv(git_dir, args), input=input, capture_output=True, check=False, timeout=timeout,
                          env=git_env(network, object_dir), stdin=None if input is not None else subprocess.DEVNULL)


def popen_git(git_dir: str, args: Sequence[str], *, stdin: int | IO[Any] | None = subprocess.DEVNULL,
              stdout: int | IO[Any] | None = subprocess.PIPE, bufsize: int = -1) -> subprocess.Popen[bytes]:
    """A long-running git process on a view (cat-file --batch, a listing); its errors are not read."""
    return subprocess.Popen(git_argv(git_dir, args), stdin=stdin, stdout=stdout, stderr=subprocess.DEVNULL,
                            env=git_env(), bufsize=bufsize)


def run_remote(args: Sequence[str], *, cwd: str | None = None, config: Sequence[tuple[str, str]] = ()
               ) -> subprocess.CompletedProcess[str]:
    """git clone / fetch of a URL the user named (an audit's URL target) into tokenscan's own cache: only
    FETCH_PROTOCOLS, no prompt, no program from any config. config: (key, value) settings passed in the
    environment (GIT_CONFIG_COUNT), never on the command line, which other users can read: a forge
    token's Authorization header."""
    env = git_env(network=True)
    if config:
        env["GIT_CONFIG_COUNT"] = str(len(config))
        for i, (key, value) in enumerate(config):
            env[f"GIT_CONFIG_KEY_{i}"], env[f"GIT_CONFIG_VALUE_{i}"] = key, value
    return subprocess.run([_git(), "--no-pager", *HARDENING, *args], cwd=cwd, capture_output=True, text=True,
                          check=False, env=env, stdin=subprocess.DEVNULL)


def run_trusted(args: Sequence[str], *, text: bool = False, timeout: float | None = None) -> subprocess.CompletedProcess[Any]:
    """git in the user's own repository (`staged`; `ci`'s checkout, whose remote and credentials are the CI
    job's), exactly as the user runs git there, except that it never waits for a password prompt."""
    return subprocess.run([_git(), *args], capture_output=True, check=False, text=text, timeout=timeout,
                          env={**os.environ, "GIT_TERMINAL_PROMPT": "0"}, stdin=subprocess.DEVNULL)


def run_tool(argv: Sequence[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
    """A program other than git that the user's own command line asks for (skopeo pulling `docker://REF`),
    with the user's environment (its registry credentials are its own), bounded in time."""
    return subprocess.run(list(argv), capture_output=True, text=True, check=False, timeout=timeout,
                          stdin=subprocess.DEVNULL)
