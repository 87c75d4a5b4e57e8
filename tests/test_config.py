"""Project configuration: what a file may set, and what the scanned content may never do with it."""

import json

from clirun import tokenscan as cli
from gitrepo import Repo
from tokens import cloudflare


def test_tokenscan_toml_sets_defaults_and_cli_wins(tmp_path):
    (tmp_path / "skip").mkdir()
    (tmp_path / "skip" / "a.env").write_text(cloudflare("cfut_", 1))
    (tmp_path / "b.env").write_text(cloudflare("cfut_", 2, valid=False))
    (tmp_path / ".tokenscan.toml").write_text(
        'format = "json"\nexclude = ["skip/"]\nhide-invalid-checksum = true\n')
    res = cli("scan", str(tmp_path))
    body = json.loads(res.stdout)
    assert res.returncode == 0 and body["findings"] == []  # skip/ excluded, b.env's bad checksum hidden
    res = cli("scan", str(tmp_path), "--format", "text", "--fail-on", "any", "--exclude", "b.env")
    assert res.returncode == 0 and res.stdout.startswith("0 findings")


def test_a_config_file_cannot_loosen_the_gate_only_tighten_it(tmp_path):
    (tmp_path / "a.env").write_text(cloudflare("cfut_", 3))
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.tokenscan]\nfail-on = "none"\n'
                                             'decode-depth = 0\n')
    res = cli("scan", str(tmp_path))
    assert res.returncode == 1
    assert "'fail-on = 'none'' ignored" in res.stdout and "'decode-depth = 0' ignored" in res.stdout
    # the command line is the CI owner's: it may loosen
    assert cli("scan", str(tmp_path), "--fail-on", "none").returncode == 0
    # tightening from a file is honoured: live-only on the command line's default becomes any
    (tmp_path / "pyproject.toml").write_text('[tool.tokenscan]\nfail-on = "any"\n')
    assert cli("scan", str(tmp_path)).returncode == 1
    (tmp_path / "pyproject.toml").write_text('[tool.tokenscan]\nfail_on = "none"\n')
    res = cli("scan", str(tmp_path))
    assert res.returncode == 2 and "fail_on" in res.stderr and "pyproject.toml" in res.stderr


def test_a_config_file_never_turns_on_network_use(tmp_path, cf):
    tok = cloudflare("cfut_", 4)
    cf.user_tokens[tok] = {"status": "active"}
    (tmp_path / "a.env").write_text(f"CF_API_TOKEN={tok}\n")
    (tmp_path / ".tokenscan.toml").write_text("verify = true\n")
    env = {"TOKENSCAN_CLOUDFLARE_API_BASE": cf.base}
    res = cli("scan", str(tmp_path), env=env)
    assert res.returncode == 1 and "'verify' ignored" in res.stdout
    assert cf.requests == []
    # the environment (the CI owner's) may turn it on
    res = cli("scan", str(tmp_path), env={**env, "TOKENSCAN_VERIFY": "1"})
    assert res.returncode == 1 and "verification live" in res.stdout and len(cf.requests) >= 1


def test_a_review_reads_config_ignore_file_and_baseline_from_the_base(tmp_path):
    r = Repo(tmp_path / "repo")
    r.commit("base", **{"README": "hello\n", ".tokenscan.toml": 'fail-on = "any"\n'})
    r.git("checkout", "-q", "-b", "feature")
    tok = cloudflare("cfut_", 5)
    r.commit("add a secret", **{"app.env": f"CF_API_TOKEN={tok}\n"})
    fp = json.loads(cli("history", str(r.path), "--format", "json").stdout)["findings"][0]["fingerprint"]
    # the change under review tries to silence its own gate three ways
    r.commit("silence", **{".tokenscanignore": fp + "\n", ".tokenscan.toml": 'fail-on = "none"\n'})
    res = cli("history", str(r.path), "--since", "main")
    assert res.returncode == 1, res.stdout + res.stderr
    assert "read as of main" in res.stdout
    # the same files at the base are honoured
    r.git("checkout", "-q", "main")
    r.commit("ignore it on main", **{".tokenscanignore": fp + "\n"})
    r.git("checkout", "-q", "feature")
    res = cli("history", str(r.path), "--since", "main")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "ignore-file 1" in res.stdout


def test_non_utf8_config_is_a_clear_error(tmp_path):
    (tmp_path / "a.env").write_text("x")
    (tmp_path / ".tokenscan.toml").write_bytes(b'format = "\xff"\n')
    res = cli("scan", str(tmp_path))
    assert res.returncode == 2 and ".tokenscan.toml" in res.stderr and "not UTF-8" in res.stderr


def test_bad_value_and_explicit_config(tmp_path):
    (tmp_path / "a.env").write_text("x")
    cfg = tmp_path / "ci.toml"
    cfg.write_text('format = "yaml"\n')
    res = cli("scan", str(tmp_path), "--config", str(cfg))
    assert res.returncode == 2 and "format" in res.stderr and "ci.toml" in res.stderr
    res = cli("scan", str(tmp_path), "--config", str(tmp_path / "missing.toml"))
    assert res.returncode == 2 and "missing.toml" in res.stderr


def test_a_rule_named_by_a_config_file_never_decides_where_a_secret_is_sent(tmp_path, cf):
    """A repository's own rule could claim another vendor's secrets and name any verifier: under --verify its
    findings stay not-checked; the same file given with --rules (the CI owner's choice) is verified."""
    (tmp_path / "a.env").write_text("MYCO_KEY=myco_Q9x7LmN2pR4tV6wY8zA1bC3dE5fG7h\n")
    (tmp_path / "steal.toml").write_text(
        '[[rules]]\nid = "myco-key"\ndescription = "d"\nseverity = "high"\nkeywords = ["myco_"]\n'
        "regex = '''(myco_[A-Za-z0-9]{30})'''\nverify = \"cloudflare-user-token\"\n")
    (tmp_path / ".tokenscan.toml").write_text('rules = ["steal.toml"]\n')
    env = {"TOKENSCAN_CLOUDFLARE_API_BASE": cf.base}
    res = cli("scan", str(tmp_path), "--verify", "--format", "json", env=env)
    found = json.loads(res.stdout)["findings"]
    assert [f["rule_id"] for f in found] == ["myco-key"] and cf.requests == []
    assert found[0]["verification"]["status"] == "not-checked"
    res = cli("scan", str(tmp_path / "a.env"), "--verify", "--rules", str(tmp_path / "steal.toml"), env=env)
    assert len(cf.requests) >= 1, res.stdout + res.stderr


def test_pyproject_is_parsed_only_when_it_can_hold_a_tokenscan_table(tmp_path):
    """A pyproject.toml that never spells `tokenscan` holds no [tool.tokenscan] (it is not even parsed: a
    broken one is its owner's business); every spelling of the table, quoted or escaped, is read."""
    (tmp_path / "a.env").write_text(cloudflare("cfut_", 4))
    (tmp_path / "pyproject.toml").write_text('[project\nname = "x"\n')  # broken, and no table of ours
    assert cli("scan", str(tmp_path)).returncode == 1
    for spelt in ('[tool.tokenscan]', '[tool."tokenscan"]', '[tool."\\u0074okenscan"]'):
        (tmp_path / "pyproject.toml").write_text(f'{spelt}\nformat = "json"\n')
        res = cli("scan", str(tmp_path))
        assert res.returncode == 1 and json.loads(res.stdout)["findings"], spelt
