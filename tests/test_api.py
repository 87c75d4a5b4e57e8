"""The public API, through public names only, and README's snippet run as written."""

import os
import re
import subprocess
import sys

import pytest
from clirun import ROOT
from gitrepo import Repo
from tokens import cloudflare

from scanner.api import Finding, Result, Scanner

README = (ROOT / "README.md").read_text()



def test_scan_text_bytes_path_repo_are_redacted_frozen_and_gate_like_the_cli(tmp_path):
    tok = cloudflare("cfut_", 91)
    scanner = Scanner()
    res = scanner.scan_text(f"x = 1\nCF_API_TOKEN={tok}\n", path="conf.env")
    assert isinstance(res, Result) and [(f.rule_id, f.line, f.path) for f in res.findings] == [
        ("cloudflare-user-api-token", 2, "conf.env")]
    f = res.findings[0]
    assert isinstance(f, Finding) and tok not in repr(f) and f.secret.startswith("cfut_…")
    with pytest.raises(AttributeError):
        f.line = 3  # type: ignore[misc]
    assert res.exit_code() == 1 and res.exit_code("none") == 0
    assert "developers.cloudflare.com" in f.remediation
    assert scanner.scan_bytes(f"T={tok} # tokenscan:allow\n".encode()).findings == ()
    assert Scanner(show_secrets=True).scan_text(f"T={tok}\n").findings[0].secret == tok
    (tmp_path / "a.env").write_text(f"T={tok}\n")
    assert [f.path for f in scanner.scan_path(tmp_path).findings] == [str(tmp_path / "a.env")]
    r = Repo(tmp_path / "repo")
    r.commit("leak", **{"b.env": f"T={tok}\n"})
    r.commit("fix", **{"b.env": "T=\n"})
    (found,) = scanner.scan_repo(r.path).findings
    assert found.commit and found.at_head is False and found.path == "b.env"


def test_the_readme_snippet_runs_as_written(tmp_path, cf):
    snippet = re.search(r"## Python API.*?```python\n(.*?)```", README, re.DOTALL).group(1)
    tok = cloudflare("cfut_", 92)
    cf.user_tokens[tok] = {"status": "active"}
    r = Repo(tmp_path / "repo")
    r.commit("leak", **{"c.env": f"CLOUDFLARE_API_TOKEN={tok}\n"})
    env = {**os.environ, "TOKENSCAN_CLOUDFLARE_API_BASE": cf.base,
           "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, "-c", snippet], cwd=r.path, env=env, capture_output=True, text=True,
                         timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    assert "0 findings in the text" in res.stdout
    assert "cloudflare-user-api-token c.env 1" in res.stdout and "['live']" in res.stdout
    assert '"$schema"' in res.stdout and "gate: 1" in res.stdout and tok not in res.stdout
