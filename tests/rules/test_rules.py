
import pytest
from clirun import ROOT

from scanner.engine.examples import check_rules
from scanner.errors import UsageError
from scanner.rules.loader import load_rule_file, load_rules

GOOD = '''
[[rules]]
id = "demo"
description = "demo token"
keywords = ["demo_"]
regex = '(demo_[a-z]{8})'
examples = ["x = demo_abcdefgh"]
'''


def test_builtin_rules_pass_their_own_examples_both_paths():
    rules = load_rules()
    assert {r.id for r in rules} >= {"cloudflare-global-api-key", "cloudflare-user-api-token",
                                    "cloudflare-account-api-token", "cloudflare-api-token-legacy",
                                    "cloudflare-global-api-key-legacy"}
    assert check_rules(rules, accelerated=None) == []
    assert check_rules(rules, accelerated=False) == []


def test_rule_check_reports_a_missed_example(tmp_path):
    f = tmp_path / "r.toml"
    f.write_text(GOOD.replace('examples = ["x = demo_abcdefgh"]', 'examples = ["x = demo_ABC"]\nnegative_examples = ["demo_zzzzzzzz"]'))
    problems = check_rules(load_rule_file(f))
    assert len(problems) == 2 and "example not found" in problems[0] and "negative" in problems[1]


@pytest.mark.parametrize("mutation,message", [
    (lambda t: t.replace('regex = ', 'colour = "red"\nregex = '), "unknown field(s) colour"),
    (lambda t: t.replace("(demo_[a-z]{8})", "demo_[a-z]{8}"), "capture group"),
    (lambda t: t.replace("(demo_[a-z]{8})", "(demo_[a-z"), "does not compile"),
    (lambda t: t.replace('keywords = ["demo_"]', 'keywords = []'), "keywords"),
    (lambda t: t.replace('id = "demo"', 'id = "demo"\nvalidator = "md5"'), "unknown validator"),
    (lambda t: t + "\n[[rules]\n", "TOML error"),
])
def test_bad_rule_file_names_file_and_rule(tmp_path, mutation, message):
    f = tmp_path / "bad.toml"
    f.write_text(mutation(GOOD))
    with pytest.raises(UsageError) as exc:
        load_rule_file(f)
    assert str(f) in str(exc.value) and message in str(exc.value)
    if "TOML" not in message:
        assert "'demo'" in str(exc.value)


def test_duplicate_rule_id_is_rejected(tmp_path):
    f = tmp_path / "dup.toml"
    f.write_text(GOOD.replace('"demo"', '"cloudflare-user-api-token"'))
    with pytest.raises(UsageError, match="already defined"):
        load_rules((str(f),))


def test_rules_ship_with_package():
    from scanner.rules.loader import builtin_rule_files
    names = [n for n, _ in builtin_rule_files()]
    assert "rules/cloudflare.toml" in names
    assert ROOT.joinpath("rules", "cloudflare.toml").exists()


CONTEXT_RULE = '''
[[rules]]
id = "ctx"
description = "an unprefixed value owned by its name"
keywords = ["acme"]
regex = '(?P<secret>[a-f0-9]{37})'
examples = ["ACME_KEY=656cf2d133187c8df95247f2866028de71159"]
negative_examples = ["ACME_COMMIT=656cf2d133187c8df95247f2866028de71159"]
[rules.context]
run = '[A-Za-z0-9_-]{37}'
names = ['(?i)acme.*key']
'''


def test_context_table_makes_a_candidate_first_rule(tmp_path):
    f = tmp_path / "ctx.toml"
    f.write_text(CONTEXT_RULE)
    [rule] = load_rule_file(f)
    assert rule.context is None and rule.context_spec is not None
    assert rule.context_spec.run == ("A-Za-z0-9_-", 37, 37)
    assert check_rules([rule], accelerated=False) == []


def test_string_context_still_means_a_line_regex(tmp_path):
    f = tmp_path / "r.toml"
    f.write_text(GOOD.replace('regex = ', "context = '(?i)demo'\nregex = "))
    [rule] = load_rule_file(f)
    assert rule.context == "(?i)demo" and rule.context_spec is None


@pytest.mark.parametrize("mutation,message", [
    (lambda t: t.replace("run = ", "colour = 1\nrun = "), "unknown context field(s) colour"),
    (lambda t: t.replace("'[A-Za-z0-9_-]{37}'", "'[A-Za-z0-9_-]+'"), "context.run"),
    (lambda t: t.replace("'[A-Za-z0-9_-]{37}'", "'[A-Za-z0-9_-]{45,37}'"), "context.run lengths"),
    (lambda t: t.replace("names = ['(?i)acme.*key']", "names = []"), "context.names"),
    (lambda t: t.replace("names = ['(?i)acme.*key']", "names = ['(?i)acme(']"), "does not compile"),
    (lambda t: t.replace("names = ", "generic_names = ['key']\nnames = "), "need context.scopes"),
    (lambda t: t.replace("names = ", "lines_above = -1\nnames = "), "lines_above"),
    (lambda t: GOOD.replace('"demo"', '"ctx"').replace("regex = ", "context = 3\nregex = "),
     "'context' must be a regex string or a table"),
])
def test_bad_context_table_names_file_and_rule(tmp_path, mutation, message):
    f = tmp_path / "bad.toml"
    f.write_text(mutation(CONTEXT_RULE))
    with pytest.raises(UsageError) as exc:
        load_rule_file(f)
    assert str(f) in str(exc.value) and "'ctx'" in str(exc.value) and message in str(exc.value)
