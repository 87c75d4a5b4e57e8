import pytest
from tokens import cloudflare, legacy_token

from scanner.engine import Engine
from scanner.prefilter import HYPERSCAN_AVAILABLE, Prefilter
from scanner.rules import load_rules

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
