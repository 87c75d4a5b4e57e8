import json
import os
import stat

import pytest
from click.testing import CliRunner
from clirun import tokenscan as run
from plant import plant_tree
from tokens import cloudflare

from scanner.cli.group import cli


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    root = tmp_path_factory.mktemp("planted")
    return root, plant_tree(root)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_planted_tree_every_credential_and_no_lookalike(planted, jobs):
    root, expected = planted
    res = run("scan", str(root), "--format", "json", "--show-secrets", "--jobs", jobs, "-o", "/dev/stdout")
    assert res.returncode == 1, res.stderr
    report = json.loads(res.stdout)
    got = {(os.path.relpath(f["path"], root), f["secret"]) for f in report["findings"] if f["gating"]}
    assert got == expected
    # the one look-alike listed: a cfut_ token whose checksum fails, which fails no gate
    quiet = [(os.path.relpath(f["path"], root), f["checksum"]) for f in report["findings"] if not f["gating"]]
    assert quiet == [("docs/README.md", "invalid")]
    assert report["schema"] == "tokenscan.report/1"


def test_line_and_column_in_crlf_and_minified(planted):
    root, _ = planted
    report = json.loads(run("scan", str(root), "--format", "json").stdout)
    by_path = {os.path.relpath(f["path"], root): f for f in report["findings"]}
    assert (by_path["scripts/deploy.ps1"]["line"], by_path["scripts/deploy.ps1"]["column"]) == (1, 26)
    assert by_path["web/app.min.js"]["line"] == 1 and by_path["web/app.min.js"]["column"] == 56008


def test_default_output_is_redacted_and_exit_codes(planted, tmp_path):
    root, expected = planted
    res = run("scan", str(root))
    assert res.returncode == 1
    for _, secret in expected:
        assert secret not in res.stdout and secret not in res.stderr
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "a.txt").write_text("nothing here\n")
    assert run("scan", str(clean)).returncode == 0
    assert run("scan", str(root), "--fail-on", "none").returncode == 0


def test_invalid_checksum_listed_never_fails_and_hidden_on_request(tmp_path):
    (tmp_path / "x.env").write_text(f"T={cloudflare('cfut_', 1, valid=False)}\n")
    res = run("scan", str(tmp_path), "--format", "json")
    [f] = json.loads(res.stdout)["findings"]
    assert f["checksum"] == "invalid" and not f["gating"] and res.returncode == 0
    res = run("scan", str(tmp_path), "--format", "json", "--hide-invalid-checksum")
    assert res.returncode == 0 and json.loads(res.stdout)["findings"] == []
    res = run("scan", str(tmp_path), "--format", "sarif")
    [result] = json.loads(res.stdout)["runs"][0]["results"]
    assert result["level"] == "note" and res.returncode == 0


def test_a_bad_checksum_placeholder_is_not_listed(tmp_path):
    (tmp_path / "x.env").write_text("T=ghp_abababababababababababababababababab\nU=gho_" + "x" * 36 + "\n")
    body = json.loads(run("scan", str(tmp_path), "--format", "json").stdout)
    assert body["findings"] == [] and body["scan"]["skipped"] == {"placeholder": 2}


def test_output_file_with_secrets_is_owner_only(tmp_path):
    (tmp_path / "t").mkdir()
    tok = cloudflare("cfk_", 8)
    (tmp_path / "t" / "a").write_text(tok)
    out = tmp_path / "r.json"
    res = run("scan", str(tmp_path / "t"), "--show-secrets", "--format", "json", "-o", str(out))
    assert res.returncode == 1 and res.stdout == ""
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and tok in out.read_text()


@pytest.mark.parametrize("args,needle", [
    (["scan", "/definitely/not/here"], "/definitely/not/here"),
    (["scan", ".", "--format", "xml"], "--format"),
    (["scan", ".", "--max-file-size", "lots"], "--max-file-size"),
    (["scan", ".", "--rules", "/no/rules.toml"], "/no/rules.toml"),
])
def test_bad_input_exits_2_with_one_clear_line(args, needle, tmp_path):
    res = run(*args, cwd=tmp_path)
    assert res.returncode == 2
    assert needle in res.stderr and "Traceback" not in res.stderr


def test_bad_rule_file_exit_2_names_rule(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rules]]\nid = "x1"\ndescription = "d"\nkeywords = ["ab"]\nregex = "ab+"\n')
    res = run("scan", str(tmp_path), "--rules", str(bad))
    assert res.returncode == 2 and "x1" in res.stderr and "capture group" in res.stderr


def test_rules_commands():
    runner = CliRunner()
    res = runner.invoke(cli, ["rules", "list"])
    assert res.exit_code == 0 and "cloudflare-user-api-token" in res.output
    res = runner.invoke(cli, ["rules", "check"])
    assert res.exit_code == 0 and "0 problem(s)" in res.output


def test_quiet_prints_nothing_when_clean(tmp_path):
    (tmp_path / "a").write_text("x")
    res = run("scan", str(tmp_path), "-q")
    assert res.returncode == 0 and res.stdout == ""


def test_synthetic_test_token_is_tagged_and_does_not_fail_the_gate(tmp_path):
    import zlib
    body = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"  # a counting run
    (tmp_path / "t.env").write_text(f"T=cfut_{body}{zlib.crc32(body.encode()):08x}\n")
    res = run("scan", str(tmp_path), "--format", "json")
    [f] = json.loads(res.stdout)["findings"]
    assert res.returncode == 0 and f["tags"] == ["test-token"] and f["checksum"] == "valid"


def test_progress_line_only_on_a_terminal_and_without_secrets():
    import io

    from scanner.pipeline.progress import Progress, progress_for

    buf = io.StringIO()
    p = Progress("scanning files", stream=buf, interval=0)
    p(5, 10, 500_000, 1_000_000)
    p(10, 10, 1_000_000, 1_000_000)
    p.close()
    out = buf.getvalue()
    assert "5/10" in out and "10/10" in out and "100.0%" in out and out.endswith("\r\033[K")
    # a stream still being listed (no totals yet) is redrawn at most once per interval, not per batch
    buf = io.StringIO()
    p = Progress("history", stream=buf, interval=60)
    for n in range(1, 50):
        p(n, 0, n * 1000, 0)
    assert buf.getvalue().count("\r") == 1 and "1 items" in buf.getvalue()
    assert progress_for("x") is None  # pytest's stderr is not a terminal
