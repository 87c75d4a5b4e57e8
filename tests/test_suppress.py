import json

import pytest
from clirun import tokenscan as cli
from gitrepo import Repo
from tokens import cloudflare

from scanner.errors import UsageError
from scanner.findings import fingerprint
from scanner.findings.suppress import load_baseline, load_ignore_file
from scanner.pipeline.run import ScanOptions, scan_paths


def test_inline_allow_is_suppressed_and_counted(tmp_path):
    a, b = cloudflare("cfut_", 1), cloudflare("cfut_", 2)
    (tmp_path / "x.py").write_text(f"A = '{a}'  # tokenscan:allow test fixture\nB = '{b}'\n")
    rep = scan_paths([str(tmp_path)], ScanOptions(jobs=1))
    assert [f.secret for f in rep.findings] == [b] and rep.suppressed == {"inline": 1}
    rep = scan_paths([str(tmp_path)], ScanOptions(jobs=1, no_suppress=True))
    assert len(rep.findings) == 2 and rep.suppressed == {}
    res = cli("scan", str(tmp_path))
    assert "suppressed: inline 1" in res.stdout


def test_ignore_file_fingerprints_and_path_rules(tmp_path):
    a, b, c = cloudflare("cfut_", 3), cloudflare("cfat_", 4), cloudflare("cfk_", 5)
    (tmp_path / "docs").mkdir()
    (tmp_path / "a.env").write_text(a)
    (tmp_path / "docs" / "b.md").write_text(b)
    (tmp_path / "c.txt").write_text(c)
    (tmp_path / ".tokenscanignore").write_text(f"# reviewed 2026-11\n{fingerprint(a)}\ndocs/*:cloudflare-account-api-token\n")
    rep = scan_paths([str(tmp_path)], ScanOptions(jobs=1))
    assert [f.secret for f in rep.findings] == [c] and rep.suppressed == {"ignore-file": 2}


def test_bad_ignore_file_names_line(tmp_path):
    p = tmp_path / ".tokenscanignore"
    p.write_text("ok:*\nnot a valid line\n")
    with pytest.raises(UsageError, match=r"\.tokenscanignore:2"):
        load_ignore_file(str(p))


@pytest.mark.parametrize("content,needle", [
    ("{not json", "not valid JSON"),
    ('{"schema": "other", "findings": []}', "not a tokenscan baseline"),
    ('{"schema": "tokenscan.baseline/1", "findings": [{"fingerprint": "abc", "rule_id": "r", "path": "p"}]}', "sha256"),
])
def test_malformed_baseline_exits_2(tmp_path, content, needle):
    p = tmp_path / "b.json"
    p.write_text(content)
    with pytest.raises(UsageError, match=needle):
        load_baseline(str(p))
    res = cli("scan", str(tmp_path), "--baseline", str(p))
    assert res.returncode == 2 and needle in res.stderr


def test_ci_gate_with_baseline_on_history(tmp_path):
    """Baseline the old leaks; a new commit with a new credential fails, a clean one passes."""
    r = Repo(tmp_path / "repo")
    old = cloudflare("cfut_", 10)
    r.commit("old leak", **{"config.env": f"T={old}\n"})
    base = tmp_path / "baseline.json"
    res = cli("baseline", "create", str(r.path), "--history", "-o", str(base))
    assert res.returncode == 0, res.stderr
    doc = json.loads(base.read_text())
    assert len(doc["findings"]) == 1 and old not in base.read_text()
    assert cli("history", str(r.path), "--baseline", str(base)).returncode == 0
    r.commit("clean", **{"readme.md": "hello\n"})
    res = cli("history", str(r.path), "--baseline", str(base), "--format", "json")
    assert res.returncode == 0 and json.loads(res.stdout)["scan"]["suppressed"] == {"baseline": 1}
    r.commit("same secret, new place", **{"other.env": f"T={old}\n"})
    assert cli("history", str(r.path), "--baseline", str(base)).returncode == 1
    r.git("rm", "-q", "other.env")
    r.commit("undo")
    assert cli("history", str(r.path), "--baseline", str(base), "--since", "HEAD").returncode == 0
    r.commit("new leak", **{"new.env": f"T={cloudflare('cfat_', 11)}\n"})
    assert cli("history", str(r.path), "--baseline", str(base), "--since", "HEAD~1").returncode == 1


def test_stale_baseline_entries_are_reported(tmp_path):
    tok = cloudflare("cfut_", 12)
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "a.env").write_text(tok)
    base = tmp_path / "b.json"
    assert cli("baseline", "create", str(tmp_path / "t"), "-o", str(base)).returncode == 0
    (tmp_path / "t" / "a.env").write_text("rotated\n")
    res = cli("scan", str(tmp_path / "t"), "--baseline", str(base), "--format", "json")
    warnings = json.loads(res.stdout)["scan"]["warnings"]
    assert res.returncode == 0 and [w["kind"] for w in warnings] == ["stale-baseline"]
