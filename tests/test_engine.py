import base64

import pytest
from tokens import cloudflare, legacy_token

from scanner.engine.matcher import Engine
from scanner.engine.prefilter import HYPERSCAN_AVAILABLE, Prefilter
from scanner.rules.loader import load_rule_file, load_rules

PATHS = [False] + ([True] if HYPERSCAN_AVAILABLE else [])


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.mark.parametrize("accelerated", PATHS)
def test_prefilter_finds_overlapping_caseless_hits(accelerated):
    pf = Prefilter([(b"cloudflare", True), (b"flare", True), (b"CF_", True), (b"Y2Z1", False)], accelerated)
    hits = sorted(pf.hits(b"x CloudFlare_cf_ y2z1 Y2Z1"))
    kws = pf.keywords
    assert [(kws[k], p) for k, p in hits] == [(b"cloudflare", 2), (b"flare", 7), (b"cf_", 13), (b"Y2Z1", 22)]


def test_the_fallback_reports_every_occurrence_literal_by_literal():
    """The fallback picks the literals to search by the chunk's 4-byte grams: what it reports is what
    searching every literal everywhere reports (short ones, caseless ones, presence-only at their first)."""
    import random

    rng = random.Random(7)
    alphabet = b"abAB_-01"
    literals = list(dict.fromkeys((bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 6))), rng.random() < 0.5)
                                  for _ in range(300)))
    presence = literals[::7]
    import pickle

    built = Prefilter(literals, False, presence)
    loaded = pickle.loads(pickle.dumps(built))  # the packed form a cached engine is loaded in
    for _ in range(50):
        data = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 400)))
        expected = []
        for kid, (k, ci) in enumerate(built.literals):
            hay = data.lower() if ci else data
            at = [i for i in range(len(hay)) if hay.startswith(k, i)]
            expected.extend((kid, i) for i in (at[:1] if kid in built.presence else at))
        assert built.hits(data) == loaded.hits(data) == expected
    assert loaded.literals == built.literals


@pytest.mark.skipif(not HYPERSCAN_AVAILABLE, reason="hyperscan not installed")
def test_accelerated_and_fallback_give_identical_matches(rules, tmp_path):
    from plant import plant_tree
    plant_tree(tmp_path)
    fast, slow = Engine(rules, True), Engine(rules, False)
    compared = 0
    for f in tmp_path.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            a = [(m.rule.id, m.start, m.end, m.checksum) for m in fast.scan(data)]
            b = [(m.rule.id, m.start, m.end, m.checksum) for m in slow.scan(data)]
            assert a == b, f
            compared += len(a)
    assert compared >= 10


def test_offsets_point_at_the_secret(rules):
    tok = cloudflare("cfut_", 1)
    data = f"a\nb = '{tok}'\n".encode()
    [m] = Engine(rules).scan(data)
    assert data[m.start:m.end].decode() == tok == m.secret
    assert m.checksum == "valid" and m.rule.id == "cloudflare-user-api-token"


def test_invalid_checksum_is_marked_not_dropped_by_engine(rules):
    [m] = Engine(rules).scan(cloudflare("cfat_", 1, valid=False).encode())
    assert m.checksum == "invalid"


def test_token_glued_to_text_is_found(rules):
    tok = cloudflare("cfk_", 3)
    assert [m.secret for m in Engine(rules).scan(f'"line\\n{tok}"'.encode())] == [tok]


def test_low_information_body_is_tagged_test_token(rules):
    import zlib
    body = "A" * 40
    tok = f"cfut_{body}{zlib.crc32(body.encode()):08x}"
    [m] = Engine(rules).scan(tok.encode())
    assert "test-token" in m.tags


def test_window_is_bounded_on_long_lines(rules):
    tok = legacy_token(5)
    far = b"CLOUDFLARE_API_TOKEN=" + b"x" * 5000 + tok.encode()
    assert Engine(rules).scan(far) == []
    near = b"y" * 100000 + b"CLOUDFLARE_API_TOKEN=" + tok.encode() + b";z" * 1000
    assert [m.secret for m in Engine(rules).scan(near)] == [tok]


EVIL_RULES = '''
[[rules]]
id = "evil-backtracking"
description = "a catastrophic regex, as an untrusted rule file may hold"
keywords = ["cf_"]
regex = 'cf_((a|a)+)+$'
'''


@pytest.mark.parametrize("accelerated", PATHS)
def test_catastrophic_rule_times_out_warns_and_others_still_run(rules, accelerated, tmp_path):
    import time

    from scanner.rules.loader import load_rule_file
    f = tmp_path / "evil.toml"
    f.write_text(EVIL_RULES)
    engine = Engine(rules + load_rule_file(f), accelerated, rule_timeout=0.3)
    tok = cloudflare("cfut_", 40)
    # `cf_a` at the line's end matches, so the native pass lets the rule run on the line, and its regex
    # backtracks catastrophically from the first `cf_` (on a line where it could not match at all, the
    # Hyperscan path never runs it)
    data = f"x = cf_{'a' * 40}! cf_a\ntoken = {tok}\n".encode()
    warnings: list[tuple[str, str]] = []
    started = time.monotonic()
    found = engine.scan(data, path="deploy.env", warnings=warnings)
    assert time.monotonic() - started < 3
    assert [m.secret for m in found] == [tok]
    [(kind, message)] = warnings
    assert kind == "rule-timeout" and "'evil-backtracking'" in message and "deploy.env" in message


def test_catastrophic_pattern_in_a_context_table_times_out_too(rules, tmp_path):
    from scanner.rules.loader import load_rule_file
    f = tmp_path / "evil.toml"
    f.write_text('''
[[rules]]
id = "evil-context"
description = "catastrophic name pattern"
keywords = ["cf_"]
regex = '([a-f0-9]{37})'
[rules.context]
run = '[A-Za-z0-9_-]{37}'
names = ['^((a|a)+)+$']
''')
    engine = Engine(load_rule_file(f), False, rule_timeout=0.3)
    warnings: list[tuple[str, str]] = []
    name = "a" * 40 + "b"
    assert engine.scan(f"cf_x\n{name} = {'3f2a9c1d8b' * 3}abcdef1\n".encode(), warnings=warnings) == []
    assert [k for k, _ in warnings] == ["rule-timeout"]


def test_scan_with_a_catastrophic_rule_file_finishes_and_reports_the_warning(tmp_path):
    """End to end: `tokenscan scan --rules evil.toml` finishes within seconds, warns, and still finds."""
    import json
    import subprocess
    import sys
    import time

    evil = tmp_path / "evil.toml"
    evil.write_text(EVIL_RULES)
    tree = tmp_path / "tree"
    tree.mkdir()
    tok = cloudflare("cfut_", 41)
    (tree / "a.env").write_text(f"x = cf_{'a' * 40}! cf_a\nCLOUDFLARE_API_TOKEN={tok}\n")
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "scanner", "scan", str(tree), "--rules", str(evil),
                           "--format", "json", "-j", "1"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert time.monotonic() - started < 30
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert [f["rule_id"] for f in report["findings"]] == ["cloudflare-user-api-token"]
    [w] = [w for w in report["scan"]["warnings"] if w["kind"] == "rule-timeout"]
    assert "evil-backtracking" in w["message"] and w["path"].endswith("a.env")


def test_engine_survives_pickling_for_spawned_workers(rules):
    """Spawned workers get the engine pickled: rule lookups must not depend on object identity."""
    import pickle
    engine = pickle.loads(pickle.dumps(Engine(rules, False)))
    tok = legacy_token(42)
    assert [(m.rule.id, m.secret) for m in engine.scan(f"CF_API_TOKEN={tok}\n".encode())] == [
        ("cloudflare-api-token-legacy", tok)]


@pytest.mark.skipif(not HYPERSCAN_AVAILABLE, reason="hyperscan not installed")
def test_prefilter_paths_report_identical_hits_on_random_keyword_soup(rules):
    """Every literal (keywords, their encoded forms) at every position, overlapping ones included; the
    presence-only literals of candidate-first rules once each. The fallback skips literals whose first four
    bytes are not in the chunk: that must never lose a hit."""
    import base64
    import random
    slow = Engine(rules, False).prefilter  # the fallback's literal set, also compiled for Hyperscan
    fast = Prefilter(slow.literals, True, [slow.literals[i] for i in slow.presence])
    assert fast.presence and fast.presence == slow.presence and fast.literals == slow.literals
    kws = sorted({k for r in rules for k in r.keywords})
    rng = random.Random(4)
    for _ in range(150):
        parts = []
        for _ in range(rng.randrange(1, 30)):
            c = rng.random()
            if c < 0.3:
                k = rng.choice(kws)
                parts.append(k.upper() if rng.random() < 0.3 else k)
            elif c < 0.5:
                parts.append(base64.b64encode(rng.choice(kws).encode() * 2).decode())
            else:
                parts.append("".join(rng.choice("abcXYZ_-:= \n01") for _ in range(rng.randrange(1, 20))))
        data = "".join(parts).encode()
        a, b = sorted(fast.hits(data)), sorted(slow.hits(data))
        assert a == b, data


@pytest.mark.skipif(not HYPERSCAN_AVAILABLE, reason="hyperscan not installed")
def test_engine_paths_give_identical_findings_on_keyword_soup_with_planted_tokens(rules):
    """The Hyperscan path judges a keyword-anchored rule only near places its regex may match (keywords
    looked for around them) and takes candidate-first candidates from the same pass; the fallback takes
    every keyword hit and every run. Same findings, on dense keywords with tokens planted among them."""
    import random
    fast, slow = Engine(rules, True), Engine(rules, False)
    kws = sorted({k for r in rules for k in r.keywords})
    planted = [cloudflare("cfut_", 7), cloudflare("cfk_", 8), f"CF_API_TOKEN={legacy_token(9)}",
               "CLOUDFLARE_API_KEY=656cf2d133187c8df95247f2866028de71159", f"x-auth-key: {legacy_token(10)}"]
    rng = random.Random(11)
    total = 0
    for _ in range(60):
        parts = []
        for _ in range(rng.randrange(1, 40)):
            c = rng.random()
            if c < 0.4:
                parts.append(rng.choice(kws))
            elif c < 0.5:
                parts.append(rng.choice(planted))
            elif c < 0.6:
                parts.append(f"{rng.getrandbits(160):040x}")
            else:
                parts.append("".join(rng.choice("abcXYZ_-:= \n01") for _ in range(rng.randrange(1, 30))))
        data = "".join(parts).encode()
        a = [(m.rule.id, m.start, m.end, m.encoding) for m in fast.scan(data)]
        assert a == [(m.rule.id, m.start, m.end, m.encoding) for m in slow.scan(data)], data
        total += len(a)
    assert total >= 20


@pytest.mark.skipif(not HYPERSCAN_AVAILABLE, reason="hyperscan not installed")
def test_engine_paths_agree_on_the_keyword_dense_benchmark_corpus(rules):
    """tests/bench's keyword-dense file (Cloudflare named ~64,000 times, hashes, UUIDs, commit ids), with
    credentials planted at its start, middle and end: both paths find exactly the planted ones."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).parent / "bench"))
    from bench_dense import dense_text
    body = dense_text(0.5)
    planted = [cloudflare("cfut_", 21), f"CLOUDFLARE_API_TOKEN={legacy_token(22)}", cloudflare("cfat_", 23)]
    mid = body.index(b"\n", len(body) // 2) + 1
    data = (planted[0].encode() + b"\n" + body[:mid] + planted[1].encode() + b"\n" + body[mid:]
            + b"token: " + planted[2].encode() + b"\n")
    for engine in (Engine(rules, True), Engine(rules, False)):
        found = [(m.rule.id, m.secret) for m in engine.scan(data)]
        assert sorted(s for _, s in found) == sorted([planted[0], legacy_token(22), planted[2]]), found


def test_a_run_of_a_repeated_keyword_is_one_window(rules):
    """A keyword of one repeated byte (X's bearer tokens start with 21 "A"s) occurs at every offset of a run
    of it, as base64 of zeros in a bundle holds: the run makes one window, not one per offset, and a
    token after such a run is still found."""
    engine = Engine(rules)
    ri = next(i for i, r in enumerate(rules) if r.id == "twitter-bearer-token")
    data = b"x = '" + b"A" * 50000 + b"'\n"
    assert len(engine._keyword_windows(ri, data, 0, len(data))) == 1
    # the same merged windows as one window per occurrence, for any range of starts
    from scanner.engine.matcher import WINDOW_AFTER, WINDOW_BEFORE, _line_bounds, _merge

    data = b"a\n" + (b"A" * 30 + b"b" + b"A" * 3000 + b"\n") * 3
    k = b"a" * 21  # keywords are searched lowercased
    for a, b in [(0, len(data)), (40, 2000), (3000, 3100), (5, 6)]:
        hay = data.lower()
        naive = [_line_bounds(data, i, i + 21, WINDOW_BEFORE, WINDOW_AFTER) for i in range(a, b) if hay.startswith(k, i)]
        got = engine._keyword_windows(ri, data, a, b)
        assert (_merge(got) if got else []) == (_merge(naive) if naive else []), (a, b)
    token = "AAAAAAAAAAAAAAAAAAAAA1XPOIcbUZ5nX4blrwXAEEBXsYp%3D7Y8W35VoRaKaQD1OYxIxzhEKyTbFukVmBrvA1mw95d5tUeLbFT"
    hay = b"pad = '" + b"A" * 5000 + b"'\nTWITTER_BEARER_TOKEN=" + token.encode() + b"\n"
    assert [m.secret for m in engine.scan(hay) if m.rule.id == "twitter-bearer-token"] == [token]


def _lead_rule(tmp_path):
    f = tmp_path / "lead.toml"
    f.write_text("[[rules]]\nid = 'lead'\ndescription = 'x'\nseverity = 'high'\nkeywords = ['tok_']\n"
                 "regex = '''(?<![A-Za-z0-9_])(tok_[a-z]{8})(?![a-z])'''\n")
    return load_rule_file(f)


def test_a_leading_literal_and_its_lookbehind_are_read_from_the_pattern():
    from scanner.engine.matcher import _lead_of

    lead, refused = _lead_of(r"(?<![A-Za-z0-9_])(ion_[A-Za-z0-9]{42})")
    assert lead == b"ion_" and set(refused) == set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
    assert _lead_of(r"(?<![A-Za-z0-9_-])(sk\-ant\-[a-z]+)")[0] == b"sk-ant-"
    assert _lead_of(r"(?<![a-z])(abc?d)")[0] == b"ab"  # the quantified c is not part of it
    assert _lead_of(r"(tok_[a-z]{8})") is None and _lead_of(r"(?<![a-z])(?:ab|cd)") is None


@pytest.mark.parametrize("accelerated", PATHS)
def test_a_keyword_glued_where_the_lookbehind_refuses_costs_its_rule_nothing(tmp_path, accelerated, monkeypatch):
    import random

    engine = Engine(_lead_rule(tmp_path), accelerated)
    searched: list[list[tuple[int, int]]] = []
    real = engine._windows
    monkeypatch.setattr(engine, "_windows", lambda ri, data, windows, *a: searched.append(windows) or real(ri, data, windows, *a))
    assert engine.scan(b"version = 1\nxtok_abcdefgh\n") == []
    (m,) = engine.scan(b"xtok_abcdefgh\ntok_abcdefgh\n")
    assert m.secret == "tok_abcdefgh"
    if not accelerated:  # (with Hyperscan the rule's own regex, in prefilter mode, places its windows)
        assert len(searched) == 1 and searched[0] == [(14, 26)]  # the second line alone
    # what is found is what searching at every hit finds
    rng = random.Random(3)
    every = Engine(_lead_rule(tmp_path), accelerated)
    every._refused_before = [{} for _ in every._refused_before]
    for _ in range(300):
        data = "".join(rng.choice(["tok_", "xtok_", "_tok_", "abcdefgh", "q", " ", "\n", "-"]) for _ in range(12)).encode()
        assert [(x.start, x.secret) for x in engine.scan(data)] == [(x.start, x.secret) for x in every.scan(data)]


def test_a_run_of_slashes_in_a_session_token_is_the_token_not_a_filler(rules):
    engine = Engine(rules)
    # an STS token writes a varint of 0xff bytes as //////////; eight of a filler character is a placeholder
    body = base64.b64encode(bytes(range(7, 250))).decode().rstrip("=")
    token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ" + body
    assert [m.secret for m in engine.scan(f"AWS_SESSION_TOKEN={token}\n".encode())] == [token]
    filler = "IQoJb3JpZ2luX2VjEJr" + "9" * 10 + body
    assert [m for m in engine.scan(f"AWS_SESSION_TOKEN={filler}\n".encode())] == []


def test_a_denylist_entry_ending_in_a_star_denies_the_sample_with_any_tail(rules):
    engine = Engine(rules)
    edited = [b"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + tail + b"\n"
              for tail in (b"EXAMPLEKEY", b"SECRETSKEY", b"Q7NOTREAL1")]
    assert [m for text in edited for m in engine.scan(text)] == []
    real = b"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCz4imMDst2oY\n"  # one character off the sample
    assert [m.rule.id for m in engine.scan(real)] == ["aws-secret-access-key"]
