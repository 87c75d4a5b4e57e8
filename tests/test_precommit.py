"""The pre-commit framework uses this checkout's .pre-commit-hooks.yaml in a real repository."""

import os
import shutil
import subprocess
import sys

import pytest
from clirun import ROOT
from gitrepo import Repo
from tokens import cloudflare

ROOT = ROOT


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs a git checkout")
def test_pre_commit_try_repo_blocks_a_staged_credential(tmp_path):
    pytest.importorskip("pre_commit")
    r = Repo(tmp_path / "user-repo")
    r.commit("init", a="1\n")
    tok = cloudflare("cfut_", 90)
    r.write("b.env", f"T={tok}\n")
    r.git("add", "b.env")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "tokenscan"]
    res = subprocess.run(cmd, cwd=r.path, capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "cloudflare-user-api-token" in res.stdout and tok not in res.stdout
    r.git("rm", "-q", "--cached", "b.env")
    r.write("c.txt", "clean\n")
    r.git("add", "c.txt")
    res = subprocess.run(cmd, cwd=r.path, capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
