"""The shipped classification of the shipped rules' native patterns (scanner/engine/pattern_classes.json): a cold
start compiles only the final databases instead of compiling and timing every pattern alone. It must list
every shipped pattern, and it only routes patterns: the findings are the same however they are routed."""

import base64

import pytest

from scanner.engine import classify, prefilter
from scanner.engine.matcher import Engine
from scanner.engine.prefilter import HYPERSCAN_AVAILABLE, PREFILTER, RUN, Prefilter, pattern_key
from scanner.rules.loader import load_rules

pytestmark = pytest.mark.skipif(not HYPERSCAN_AVAILABLE, reason="hyperscan not installed")


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.fixture
def measured(monkeypatch):
    """Records how many patterns each measurement gets (the expensive per-pattern compile and timing)."""
    calls: list[int] = []
    real = prefilter.measure_classes

    def spy(patterns):
        calls.append(len(patterns))
        return real(patterns)

    monkeypatch.setattr(prefilter, "measure_classes", spy)
    return calls


def _fresh_cache(monkeypatch, path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(path))


def test_shipped_classification_lists_every_shipped_pattern():
    missing = classify.missing_classes()
    assert not missing, (f"{len(missing)} native pattern(s) of the shipped rules are not in scanner/engine/pattern_classes.json "
                         f"(a cold start would measure them): run `{prefilter.CLASSIFY_COMMAND}`; first: {missing[0]!r}")


def test_missing_pattern_is_detected(monkeypatch):
    """The check above can fail: drop one shipped pattern's entry and it is reported."""
    shipped = dict(prefilter.shipped_classes())
    dropped = pattern_key(classify.shipped_patterns()[0])
    del shipped[dropped]
    monkeypatch.setattr(prefilter, "shipped_classes", lambda: shipped)
    assert [pattern_key(a) for a in classify.missing_classes()] == [dropped]


def test_cold_start_with_the_shipped_rules_measures_no_pattern(rules, measured, monkeypatch, tmp_path):
    _fresh_cache(monkeypatch, tmp_path)
    engine = Engine(rules, True)
    assert sum(measured) == 0
    assert len(engine.prefilter.patterns) > 100 and max(engine.prefilter.native) >= 0


def test_a_user_rule_measures_one_pattern_once(rules, measured, monkeypatch, tmp_path):
    rule_file = tmp_path / "acme.toml"
    rule_file.write_text('[[rules]]\nid = "acme-widget-key"\ndescription = "Acme widget key"\nseverity = "high"\n'
                         'keywords = ["acmewk_"]\nregex = \'\'\'(acmewk_[a-z0-9]{32})\'\'\'\n')
    _fresh_cache(monkeypatch, tmp_path / "cache")
    mine = load_rules(extra_files=(str(rule_file),))
    Engine(mine, True)
    assert measured == [1]
    Engine(mine, True, decode_depth=0)  # another database (a cache miss), the same pattern: remembered
    assert sum(measured) == 1
    assert list((tmp_path / "cache" / "tokenscan").glob("classes-*.json"))


def test_a_stored_choice_this_hyperscan_rejects_is_measured_instead(monkeypatch, tmp_path):
    """A classification from another Hyperscan version may pick an alternative this one rejects (a
    backreference in exact mode): the databases are then built from measurements, not refused."""
    _fresh_cache(monkeypatch, tmp_path)
    alternatives = [(rb"(ab)\1x", RUN), (rb"abx", RUN)]
    monkeypatch.setattr(prefilter, "shipped_classes", lambda: {pattern_key(alternatives): [0, True]})
    pf = Prefilter([(b"zzz", True)], True, patterns=[alternatives])
    assert pf.native == [1] and pf.deferred == [True]
    assert pf.scan_deferred(b"..abx..", ["0"]) == [(0, 0, 5)]


def test_damaged_entries_are_measured(monkeypatch, tmp_path, measured):
    """A damaged classification file must not break a scan nor pick a nonexistent alternative: the
    pattern is measured."""
    _fresh_cache(monkeypatch, tmp_path)
    alternatives = [(rb"qq[0-9]{8}", PREFILTER)]
    monkeypatch.setattr(prefilter, "_learned_classes", lambda: {})
    for bad in ([5, False], [0], "x", [0, "no"], [-2, True], None):
        monkeypatch.setattr(prefilter, "shipped_classes", lambda bad=bad: {pattern_key(alternatives): bad})
        measured.clear()
        assert prefilter._classify([alternatives])[0][0] == 0 and measured == [1], bad
    monkeypatch.setattr(prefilter, "shipped_classes", lambda: {pattern_key(alternatives): [-1, False]})
    measured.clear()
    assert prefilter._classify([alternatives]) == [(-1, False)] and measured == [0]


def _corpus(rules) -> list[bytes]:
    """Every rule's (synthetic) examples and negative examples, alone, base64-encoded under a name (the
    decoders' runs) and all in one file (several rules in play in one chunk)."""
    texts = [t for r in rules for t in (*r.examples, *r.negative_examples)]
    out = [t.encode() for t in texts]
    out += [b"data:\n  secret: " + base64.b64encode(t.encode()) + b"\n" for t in texts]
    out.append("\n".join(texts).encode())
    return out


def _findings(engine: Engine, corpus: list[bytes]) -> list:
    return [[(m.rule.id, m.start, m.end, m.encoding, m.checksum) for m in engine.scan(data)] for data in corpus]


def test_findings_do_not_depend_on_the_classification(rules, monkeypatch, tmp_path):
    """Shipped classification, measured, every non-RUN pattern routed to the other pass, and other
    alternatives (keyword-anchored rules without a native pattern, the others with their plainest one):
    the same findings on every rule's examples."""
    corpus = _corpus(rules)
    shipped = dict(prefilter.shipped_classes())

    def build(name, classes):
        _fresh_cache(monkeypatch, tmp_path / name)  # the database cache is keyed by the patterns, not their routes
        monkeypatch.setattr(prefilter, "shipped_classes", lambda: classes)
        return Engine(rules, True)

    engines = {"shipped": build("shipped", shipped), "measured": build("measured", {})}
    assert engines["shipped"].prefilter.native == engines["measured"].prefilter.native, \
        f"the shipped choices differ from this Hyperscan's: run `{prefilter.CLASSIFY_COMMAND}`"
    engines["flipped"] = build("flipped", {k: [c, not slow] for k, (c, slow) in shipped.items()})
    # keyword-anchored rules without their native pattern (the engine's keyword windows), candidate-first
    # rules and base64 runs with their last, plainest alternative
    other = {pattern_key(a): ([-1, True] if all(m == PREFILTER for _, m in a) else [len(a) - 1, True])
             for a in classify.shipped_patterns()}
    engines["other"] = build("other", other)
    assert engines["flipped"].prefilter.deferred != engines["shipped"].prefilter.deferred
    assert engines["other"].prefilter.native != engines["shipped"].prefilter.native
    expected = _findings(engines["shipped"], corpus)
    assert sum(map(len, expected)) >= len(rules)
    for name in ("measured", "flipped", "other"):
        assert _findings(engines[name], corpus) == expected, name
