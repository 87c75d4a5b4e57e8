import json

import pytest
from clirun import ROOT
from clirun import tokenscan as cli
from gitrepo import Repo
from tokens import cloudflare

from scanner.errors import UsageError
from scanner.pipeline.config import find_config

CONFIG = (ROOT / "fixtures" / "gitleaks" / "team.toml").read_text()


@pytest.fixture
def tree(tmp_path):
    cfg = tmp_path / "gitleaks.toml"
    cfg.write_text(CONFIG)
    t = tmp_path / "t"
    (t / "fixtures").mkdir(parents=True)
    (t / "a.env").write_text("ACME_KEY = 'acme_" + "0123456789abcdef" * 2 + "'\n"
                             "acme_key=acme_" + "deadbeef" * 4 + "\n"
                             "acme_key=acme_" + "fedcba9876543210" * 2 + "  # fake\n")
    (t / "fixtures" / "b.env").write_text("acme_key=acme_" + "0123456789abcdef" * 2 + "\n")
    (t / "c.yaml").write_text("v: ACMEYAML_ABCDEF123456\n")
    (t / "c.txt").write_text("v: ACMEYAML_ABCDEF123456\n")
    return cfg, t


def test_gitleaks_rules_secret_group_path_and_allowlists(tree):
    cfg, t = tree
    res = cli("scan", str(t), "--config", str(cfg), "--format", "json", "--show-secrets", "-o", "/dev/stdout")
    assert res.returncode == 1, res.stderr
    found = sorted((f["rule_id"], f["path"].rsplit("/", 1)[-1], f["secret"]) for f in json.loads(res.stdout)["findings"])
    assert found == [("acme-internal-key", "a.env", "acme_" + "0123456789abcdef" * 2),
                     ("acme-yaml-only", "c.yaml", "ACMEYAML_ABCDEF123456")]


def test_gitleaksignore_fingerprints_are_honoured(tree):
    cfg, t = tree
    (t / ".gitleaksignore").write_text("a.env:acme-internal-key:1\n")
    res = cli("scan", str(t), "--config", str(cfg), "--format", "json")
    body = json.loads(res.stdout)
    assert [f["rule_id"] for f in body["findings"]] == ["acme-yaml-only"]
    assert body["scan"]["suppressed"] == {"gitleaksignore": 1}


def test_gitleaksignore_with_commit_in_history(tmp_path):
    r = Repo(tmp_path / "r")
    tok = cloudflare("cfut_", 70)
    sha = r.commit("leak", **{"x.env": f"T={tok}\n"})
    assert cli("history", str(r.path)).returncode == 1
    (r.path / ".gitleaksignore").write_text(f"{sha}:x.env:cloudflare-user-api-token:1\n")
    assert cli("history", str(r.path)).returncode == 0


def test_commit_allowlist_applies_after_attribution(tmp_path):
    r = Repo(tmp_path / "r")
    sha = r.commit("one", **{"k.txt": "ACMEYAML_ABCDEF123456\n"})
    cfg = tmp_path / "g.toml"
    cfg.write_text(f"[[rules]]\nid = \"y\"\nregex = '''ACMEYAML_[A-Z0-9]{{12}}'''\n[rules.allowlist]\ncommits = [\"{sha}\"]\n")
    res = cli("history", str(r.path), "--config", str(cfg), "--format", "json")
    assert res.returncode == 0 and json.loads(res.stdout)["scan"]["suppressed"] == {"allowlist-commit": 1}


@pytest.mark.parametrize("text,needle", [
    ("[extend]\nuseDefault = true\n", "[extend]"),
    ("[[rules]]\nid = \"p\"\npath = '''x'''\n", "path-only"),
    ("[[rules]]\nid = \"r\"\nregex = '''(a'''\n", "does not compile"),
    ("[[rules]]\nid = \"r\"\nregex = '''a'''\nsecretGroup = 2\n", "secretGroup"),
    ("[[rules]]\nid = \"r\"\nregex = '''a'''\nvalidate = 'x'\n", "unknown field"),
    ("[[rules]]\nid = \"r\"\nregex = '''a'''\n[rules.allowlist]\ncondition = \"AND\"\ncommits = [\"abc\"]\npaths = ['x']\n", "AND"),
])
def test_constructs_that_cannot_be_honoured_exit_2(tmp_path, text, needle):
    cfg = tmp_path / "g.toml"
    cfg.write_text(text)
    with pytest.raises(UsageError, match="g.toml"):
        find_config(str(cfg), str(tmp_path))
    res = cli("scan", str(tmp_path), "--config", str(cfg))
    assert res.returncode == 2 and needle in res.stderr
