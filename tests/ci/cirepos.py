"""Repositories the way a CI system hands them to a job: an origin (a bare repository reached over file://,
like a forge), a developer who pushes branches to it, and the job's checkout, shallow as actions/checkout
and GitLab's runner make it. Plus the environment each CI system sets."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from gitrepo import ENV, Repo
from tokens import cloudflare

ZERO = "0" * 40


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True,
                          env={**__import__("os").environ, **ENV}).stdout.strip()


@dataclass
class Forge:
    """origin.git with main; dev is a clone that pushes. secrets[name] is a synthetic token added somewhere."""

    root: Path
    secrets: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.origin = Repo(self.root / "origin.git", bare=True)
        self.dev = Repo(self.root / "dev")
        self.dev.git("remote", "add", "origin", self.url)
        self.secret("before-base")  # on main before any branch: never reported by a change's gate
        self.dev.commit("base", **{"app.py": "print('hello')\n", "config/old.env": f"CF={self.secrets['before-base']}\n"})
        for i in range(3):
            self.dev.commit(f"main {i}", **{"notes.txt": f"note {i}\n"})
        self.dev.git("push", "-q", "origin", "main")

    @property
    def url(self) -> str:
        return f"file://{self.root / 'origin.git'}"

    def secret(self, name: str) -> str:
        self.secrets[name] = cloudflare("cfut_", 100 + len(self.secrets))
        return self.secrets[name]

    def sha(self, rev: str) -> str:
        return self.dev.git("rev-parse", rev)

    def checkout(self, ref: str, depth: int | None = 1, name: str = "ci") -> Path:
        """The job's checkout of ref (a branch, refs/pull/N/merge or a sha), as actions/checkout does it:
        init, fetch that one ref at depth, detached HEAD."""
        path = self.root / name
        path.mkdir()
        git(path, "init", "-q")
        git(path, "remote", "add", "origin", self.url)
        spec = ref if ref.startswith("refs/") or len(ref) == 40 else f"refs/heads/{ref}"
        git(path, "fetch", "-q", "--no-tags", *([f"--depth={depth}"] if depth else []), "origin",
            f"+{spec}:refs/remotes/checkout")
        git(path, "checkout", "-q", "--detach", "refs/remotes/checkout")
        git(path, "update-ref", "-d", "refs/remotes/checkout")
        return path


def github_env(root: Path, event: str, payload: dict, sha: str, ref: str) -> dict[str, str]:
    path = root / f"event-{event}.json"
    path.write_text(json.dumps(payload))
    summary = root / "summary.md"
    return {"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": str(path),
            "GITHUB_SHA": sha, "GITHUB_REF": ref, "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_WORKSPACE": str(root / "ci"), "GITLAB_CI": ""}


def pull_request_payload(base: str, head: str, number: int = 1) -> dict:
    return {"number": number, "pull_request": {"number": number, "base": {"sha": base, "ref": "main"},
                                               "head": {"sha": head, "ref": "feature"}},
            "repository": {"default_branch": "main"}}


def push_payload(before: str, after: str, ref: str, forced: bool = False) -> dict:
    return {"before": before, "after": after, "ref": ref, "forced": forced, "created": before == ZERO,
            "repository": {"default_branch": "main"}}


def gitlab_env(**values: str) -> dict[str, str]:
    env = {"GITLAB_CI": "true", "CI": "true", "GITHUB_ACTIONS": "", "CI_DEFAULT_BRANCH": "main"}
    env.update(values)
    return env
