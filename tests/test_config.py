import json
import subprocess
import sys

from tokens import cloudflare


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "scanner", *args], capture_output=True, text=True, cwd=cwd)


def test_tokenscan_toml_sets_defaults_and_cli_wins(tmp_path):
    (tmp_path / "skip").mkdir()
    (tmp_path / "skip" / "a.env").write_text(cloudflare("cfut_", 1))
    (tmp_path / "b.env").write_text(cloudflare("cfut_", 2, valid=False))
    (tmp_path / ".tokenscan.toml").write_text(
        'format = "json"\nexclude = ["skip/"]\ninclude-invalid-checksum = true\nfail-on = "none"\n')
    res = cli("scan", str(tmp_path))
    body = json.loads(res.stdout)
    assert res.returncode == 0
    assert [(f["path"].rsplit("/", 1)[-1], f["checksum"]) for f in body["findings"]] == [("b.env", "invalid")]
    res = cli("scan", str(tmp_path), "--format", "text", "--fail-on", "any", "--exclude", "b.env")
    assert res.returncode == 0 and res.stdout.startswith("0 findings")


def test_pyproject_section_and_unknown_key(tmp_path):
    (tmp_path / "a.env").write_text(cloudflare("cfut_", 3))
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.tokenscan]\nfail-on = "none"\n')
    assert cli("scan", str(tmp_path)).returncode == 0
    (tmp_path / "pyproject.toml").write_text('[tool.tokenscan]\nfail_on = "none"\n')
    res = cli("scan", str(tmp_path))
    assert res.returncode == 2 and "fail_on" in res.stderr and "pyproject.toml" in res.stderr


def test_bad_value_and_explicit_config(tmp_path):
    (tmp_path / "a.env").write_text("x")
    cfg = tmp_path / "ci.toml"
    cfg.write_text('format = "yaml"\n')
    res = cli("scan", str(tmp_path), "--config", str(cfg))
    assert res.returncode == 2 and "format" in res.stderr and "ci.toml" in res.stderr
    res = cli("scan", str(tmp_path), "--config", str(tmp_path / "missing.toml"))
    assert res.returncode == 2 and "missing.toml" in res.stderr
