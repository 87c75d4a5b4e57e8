"""The run finder: the C module and its Python twin return the same runs, and a shape read from a rule's
regex never drops a run the regex matches."""

from __future__ import annotations

import importlib.util
import re

import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tokens import legacy_key, legacy_token

from scanner.engine import runs
from scanner.engine.build_hook import compile_runs
from scanner.engine.matcher import Engine
from scanner.pipeline.run import load_checked_rules

URLSAFE = "A-Za-z0-9_-"


@pytest.fixture(scope="module")
def native(tmp_path_factory):
    """_runs.c compiled here, whatever the installed package holds: the C code is tested on every machine
    with a compiler."""
    built, error = compile_runs(str(tmp_path_factory.mktemp("native")))
    if built is None:
        pytest.skip(f"no C compiler: {error}")
    spec = importlib.util.spec_from_file_location("_runs", built)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _finder(shapes):
    finder = runs.RunFinder(shapes)
    finder.native = False
    return finder


def _both(native, finder, data):
    out = []
    for c, indices in finder._classes.items():
        c_side = native.find(data, finder._tables[c], finder._args[c])
        py_side = runs._find_python(data, finder._tables[c], finder._args[c])
        assert c_side == py_side, (c, data)
        out.append((indices, c_side))
    return out


CHARS = st.sampled_from(list(b"aAzZ09fF_-+/=. \n\"'\x00\xff") + list(range(0x30, 0x3a)) + list(range(0x61, 0x67)))
SHAPES = st.lists(st.tuples(st.sampled_from([URLSAFE, "A-Za-z0-9+/", "a-f0-9"]),
                            st.frozensets(st.integers(1, 12), min_size=1, max_size=5),
                            st.sampled_from([None, "a-f0-9", "0-9"]),
                            st.lists(st.sampled_from(["A-Z", "a-z", "0-9", "_"]), max_size=3),
                            st.lists(st.sampled_from(["0-9a-fA-F", "a-z"]), max_size=2)),
                  min_size=1, max_size=5)


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(data=st.lists(CHARS, max_size=120).map(bytes), shapes=SHAPES)
def test_c_and_python_find_the_same_runs(native, data, shapes):
    finder = _finder([runs.Shape(c, lengths, a, tuple(y), tuple(z)) for c, lengths, a, y, z in shapes])
    for indices, lists in _both(native, finder, data):
        for i, spans in zip(indices, lists, strict=True):
            shape = finder.shapes[i]
            klass = re.compile(f"[{shape.cls}]+".encode())
            expected = [(m.start(), m.end()) for m in re.finditer(f"[{shape.cls}]+".encode(), data)
                        if m.end() - m.start() in shape.lengths and _keeps(shape, data[m.start():m.end()])]
            assert spans == expected, (shape, data)
            assert all(klass.fullmatch(data[s:e]) for s, e in spans)


def _keeps(shape, run: bytes) -> bool:
    """The definition, spelled plainly: what both finders must agree with."""
    def every(c):
        return all(b in runs.class_bytes(c) for b in run)

    def some(c):
        return any(b in runs.class_bytes(c) for b in run)

    return ((shape.all_of is None or every(shape.all_of)) and all(some(c) for c in shape.any_of)
            and not any(every(c) for c in shape.not_all_of))


def test_a_finder_uses_the_c_module_where_it_was_built(native, monkeypatch):
    data = b"x = 'AAAAbbbb0000____----AAAAbbbb0000____----' # 40"
    calls = []
    monkeypatch.setattr(runs, "_native", type("Spy", (), {"find": lambda *a: calls.append(1) or native.find(*a)}))
    finder = runs.RunFinder([runs.Shape.plain(URLSAFE, 40, 40)])
    finder.native = True
    assert finder.find(data) == [[(5, 45)]] and calls == [1]
    finder.native = False
    assert finder.find(data) == [[(5, 45)]] and calls == [1]


def test_shapes_of_the_cloudflare_legacy_rules():
    rules = {r.id: r for r in load_checked_rules()}
    token = rules["cloudflare-api-token-legacy"]
    key = rules["cloudflare-global-api-key-legacy"]
    t = runs.shape_of(token.pattern, *token.context_spec.run)
    assert t == runs.Shape(URLSAFE, frozenset({40}), None, ("A-Z", "a-z", "0-9"), ("0-9a-fA-F",))
    k = runs.shape_of(key.pattern, *key.context_spec.run)
    assert k.all_of == "a-f0-9" and k.lengths == frozenset(range(37, 46)) - {40} and not k.any_of


@pytest.mark.parametrize("pattern", [
    r"(?i)[a-f0-9]{40}",                 # a flag changes what the class means: not read
    r"(?i:[a-f]{40})",
    r"([a-f0-9]{38})|([0-9]{40})",
    r"(?=.*[A-Z])[A-Za-z0-9_-]{40}",     # a lookahead that may look past the run: not read
    r"[a-f0-9]{40}?",
    r"(?![a-f0-9]{41})[A-Za-z0-9_-]{40}",  # longer than the run: says nothing of it
])
def test_what_the_reader_does_not_know_keeps_more(pattern):
    shape = runs.shape_of(pattern, URLSAFE, 38, 41)
    assert not shape.any_of and not shape.not_all_of
    assert shape.all_of is None or shape.lengths <= frozenset(range(38, 42))
    for run in (b"A" * 40, b"a" * 38, b"0" * 41, b"-" * 39):
        if regex.fullmatch(pattern.encode(), run):
            assert len(run) in shape.lengths and _keeps(shape, run), (pattern, run)


@settings(max_examples=300, deadline=None)
@given(run=st.text(alphabet="ABCXYZabcdefxyz0123456789_-", min_size=36, max_size=46))
def test_a_shape_never_drops_what_its_rule_matches(run):
    for rule in load_checked_rules():
        if rule.context_spec is None:
            continue
        shape = runs.shape_of(rule.pattern, *rule.context_spec.run)
        value = run.encode()
        if regex.fullmatch(rule.pattern.encode(), value):
            assert len(value) in shape.lengths and _keeps(shape, value), (rule.id, run)


def test_engine_findings_are_the_same_with_either_finder(native, monkeypatch):
    """The engine's candidate-first rules over text with tokens, keys, commit ids and base64-encoded
    tokens: the C and the Python finder give the same findings."""
    rules = load_checked_rules()
    engine = Engine(rules)
    tokens = [legacy_token(i) for i in range(6)]
    text = "\n".join([
        f"CF_API_TOKEN={tokens[0]}", f"cloudflare:\n  api_token: {tokens[1]}",
        "commit 3f2a9c1d8b7e6f5a4c3b2a1d0e9f8a7b6c5d4e3f", f"X-Auth-Key: {legacy_key(1)}",
        "CLOUDFLARE_API_KEY=deadbeefdeadbeefdeadbeefdeadbeefdeadbeef00",
        "cf_token: " + __import__("base64").b64encode(tokens[2].encode()).decode(),
        f"wrangler --api-token {tokens[3]}", "def TestAccCloudflareZoneSettingsOverride_abcdefgh(): pass",
    ]).encode()
    monkeypatch.setattr(runs, "_native", native)
    engine.runs.native = True
    with_c = [(m.rule.id, m.start, m.end, m.secret) for m in engine.scan(text)]
    engine.runs.native = False
    assert [(m.rule.id, m.start, m.end, m.secret) for m in engine.scan(text)] == with_c
    assert {r for r, *_ in with_c} >= {"cloudflare-api-token-legacy", "cloudflare-global-api-key-legacy"}
