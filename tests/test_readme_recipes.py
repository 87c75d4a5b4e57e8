"""README's shell CI recipe, run as written (all but the install line) against a real clone: a base branch, a
pull-request branch, and an unrelated branch and tag holding a secret that must not fail the pull request.
The GitHub Action and the GitLab job are run in tests/ci/."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from clirun import ROOT
from gitrepo import ENV, Repo
from tokens import cloudflare

README = (ROOT / "README.md").read_text()


def recipe_lines() -> dict[str, list[str]]:
    section = README[README.index("## CI recipes"):README.index("## What it finds")]
    blocks = re.findall(r"^\*\*([^*\n]+)\*\*[^`]*?```\w*\n(.*?)```", section, re.S | re.M)
    out: dict[str, list[str]] = {}
    for title, body in blocks:
        lines = []
        for raw in body.splitlines():
            line = re.sub(r"^\s*-\s+(run:\s*)?", "", raw).strip()
            if line.startswith("tokenscan "):
                lines.append(line)
        if lines:
            out[title] = lines
    return out


def test_readme_has_the_three_recipes_and_no_package_index_install():
    assert set(recipe_lines()) >= {"Plain shell gate"}  # the action and the GitLab job: tests/ci/
    assert not re.search(r"^\s*(- )?(run: )?pip install tokenscan\s*$", README, re.M)  # nothing on the index
    assert "rev: v0.1.0" not in README


@pytest.fixture
def clone(tmp_path):
    server = Repo(tmp_path / "server")
    server.commit("base", **{"README": "hello\n"})
    server.commit("old leak, accepted long ago", **{"old.env": f"CF_API_TOKEN={cloudflare('cfut_', 31)}\n"})
    server.git("checkout", "-q", "-b", "other")
    server.commit("someone else's branch", **{"x.env": f"CF_API_TOKEN={cloudflare('cfut_', 32)}\n"})
    server.git("tag", "v-other")
    server.git("checkout", "-q", "main")
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", str(server.path), str(work)], check=True, env={**os.environ, **ENV})
    r = Repo.__new__(Repo)
    r.path, r.tick = work, 100
    r.git("fetch", "-q", "origin", "--tags")
    r.git("branch", "-q", "other", "origin/other")
    r.git("checkout", "-q", "-b", "feature", "origin/main")
    return r


def run(line: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "GITHUB_BASE_REF": "main", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main", "CI_DEFAULT_BRANCH": "main"}
    return subprocess.run(["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("title", ["Plain shell gate"])
def test_recipe_gates_the_pull_request_commits_only(clone, title):
    (line,) = recipe_lines()[title]
    clone.commit("a clean change", **{"src.py": "print('hi')\n"})
    res = run(line, clone.path)
    assert res.returncode == 0, f"{line}\n{res.stdout}{res.stderr}"
    leaked = cloudflare("cfut_", 33)
    clone.commit("a leak in the pull request", **{"conf.env": f"CF_API_TOKEN={leaked}\n"})
    res = run(line, clone.path)
    assert res.returncode == 1, f"{line}\n{res.stdout}{res.stderr}"
    written = [p for p in ("tokenscan.sarif", "tokenscan.json") if (clone.path / p).exists()]
    report = (clone.path / written[0]).read_text() if written else res.stdout
    assert "conf.env" in report and "x.env" not in report and "old.env" not in report
    assert leaked not in report
