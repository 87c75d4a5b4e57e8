"""A rule's `verify` must name a registered verifier; `rules list` says which rules are verified and where."""

import subprocess
import sys

import pytest

from scanner.errors import UsageError
from scanner.pipeline.run import load_checked_rules as load_rules

RULE = '[[rules]]\nid = "x"\ndescription = "x"\nseverity = "low"\nkeywords = ["ab"]\nregex = "(ab[0-9]+)"\n'


def test_a_misspelt_verify_kind_is_refused_at_load(tmp_path):
    p = tmp_path / "r.toml"
    p.write_text(RULE + 'verify = "githb-token"\n')
    with pytest.raises(UsageError, match=r"r.toml: rule 'x' 'verify' names no verifier: 'githb-token'"):
        load_rules([str(p)])
    p.write_text(RULE + 'verify = "github-token"\n')
    assert any(r.id == "x" and r.verify == "github-token" for r in load_rules([str(p)]))


def test_rules_list_names_the_vendor_host_each_verified_rule_is_checked_at():
    out = subprocess.run([sys.executable, "-m", "scanner", "rules", "list"], capture_output=True, text=True,
                         check=True).stdout
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "api.cloudflare.com" in rows["cloudflare-user-api-token"]
    assert "api.github.com" in rows["github-token"]
    assert "sts.amazonaws.com" in rows["aws-access-key-id"] and "sts.amazonaws.com" in rows["aws-secret-access-key"]
    assert rows["age-secret-key"].split()[3] == "-"


def test_shipped_patterns_compile_on_first_use_and_rules_check_still_checks_them(tmp_path):
    from scanner.engine.examples import check_rules
    from scanner.rules.loader import LazyPattern, load_rule_file

    (rule,) = load_rule_file("rules/x.toml", RULE.replace('"(ab[0-9]+)"', '"(ab[0-9+)"'), shipped=True)
    assert isinstance(rule.compiled, LazyPattern)  # loading did not compile it
    assert any("does not compile" in p for p in check_rules([rule]))
    p = tmp_path / "user.toml"
    p.write_text(RULE.replace('"(ab[0-9]+)"', '"(ab[0-9+)"'))
    with pytest.raises(UsageError, match="does not compile"):  # a user's file is compiled at load
        load_rules([str(p)])
