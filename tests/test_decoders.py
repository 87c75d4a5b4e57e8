import base64
import json
import urllib.parse

import pytest
from tokens import cloudflare, github, legacy_token

from scanner import cache
from scanner.engine import decoders
from scanner.engine.matcher import Engine
from scanner.engine.prefilter import HYPERSCAN_AVAILABLE
from scanner.pipeline.run import ScanOptions, scan_paths
from scanner.rules.loader import load_rules

PATHS = [False] + ([True] if HYPERSCAN_AVAILABLE else [])


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.mark.parametrize("shift", [0, 1, 2])
def test_base64_signature_found_in_every_alignment(shift):
    kw = b"cfut_"
    encoded = base64.b64encode(b"x" * shift + kw + b"rest of it")
    assert any(sig in encoded for sig in decoders.base64_signatures(kw))


@pytest.mark.parametrize("accelerated", PATHS)
@pytest.mark.parametrize("prefix", [b"", b"u", b"user:", b"ab"])
def test_base64_encoded_token_found_at_the_encoded_text(rules, accelerated, prefix):
    tok = cloudflare("cfat_", 7)
    blob = base64.b64encode(prefix + tok.encode()).decode()
    data = f"apiVersion: v1\nkind: Secret\ndata:\n  token: {blob}\n".encode()
    [m] = Engine(rules, accelerated).scan(data)
    assert m.secret == tok and m.encoding == "base64" and m.checksum == "valid"
    assert data[m.start:m.end].decode() == blob


def test_basic_auth_header_and_urlsafe_alphabet(rules):
    tok = github("ghp_", 3)
    header = b"Authorization: Basic " + base64.b64encode(f"bot:{tok}".encode())
    # other rules may report the header itself; this test is about the token inside it
    assert [(m.secret, m.encoding) for m in Engine(rules).scan(header) if m.rule.id == "github-token"] == [
        (tok, "base64")]
    urlsafe = base64.urlsafe_b64encode(b"\xfb\xff" + cloudflare("cfk_", 2).encode())
    assert [m.secret for m in Engine(rules).scan(b"v=" + urlsafe)] == [cloudflare("cfk_", 2)]


def test_bad_checksum_stays_invalid_when_encoded(rules):
    bad = cloudflare("cfut_", 8, valid=False)
    [m] = Engine(rules).scan(base64.b64encode(bad.encode()))
    assert m.checksum == "invalid"


def test_url_encoded_in_a_log_line(rules):
    tok, legacy = cloudflare("cfut_", 9), legacy_token(9)
    line = ("GET /hook?cf%5Ftoken=" + urllib.parse.quote(legacy, safe="") + "&t=" +
            urllib.parse.quote(tok, safe="").replace("_", "%5F") + " HTTP/1.1\n").encode()
    found = {m.secret: m for m in Engine(rules).scan(line)}
    assert set(found) == {tok, legacy}
    assert found[tok].encoding == "url" and line[found[tok].start:found[tok].end].startswith(b"cfut%5F")


def test_json_escapes(rules):
    tok = cloudflare("cfk_", 11)
    data = json.dumps({"k": tok.replace("_", "\\u005f")}).replace("\\\\", "\\").encode()
    [m] = Engine(rules).scan(data)
    assert m.secret == tok and m.encoding == "json"


def test_nested_base64_of_url_encoded(rules):
    tok = cloudflare("cfut_", 12)
    inner = ("x=" + tok.replace("_", "%5F")).encode()
    [m] = Engine(rules).scan(b"blob: " + base64.b64encode(inner))
    assert m.secret == tok and m.encoding == "base64+url"
    assert Engine(rules, decode_depth=1).scan(b"blob: " + base64.b64encode(inner)) == []
    assert Engine(rules, decode_depth=0).scan(base64.b64encode(tok.encode())) == []


@pytest.mark.parametrize("codec,bom", [("utf-16-le", b"\xff\xfe"), ("utf-16-le", b""), ("utf-16-be", b""),
                                       ("utf-16-be", b"\xfe\xff")])
def test_utf16_powershell_files(tmp_path, codec, bom):
    tok = cloudflare("cfat_", 13)
    text = f"# deploy\r\n$env:CF_ACCOUNT_TOKEN = \"{tok}\"\r\nWrite-Host ok\r\n"
    (tmp_path / "deploy.ps1").write_bytes(bom + text.encode(codec))
    rep = scan_paths([str(tmp_path)], ScanOptions(jobs=1))
    [f] = rep.findings
    assert (f.secret, f.encoding, f.line, f.column) == (tok, "utf-16", 2, 26)


def test_decoding_does_not_invent_findings_in_clean_base64(rules):
    import random
    rng = random.Random(5)
    noise = base64.b64encode(bytes(rng.randrange(256) for _ in range(200000)))
    assert Engine(rules).scan(noise) == []


def test_coverage_tree_every_real_one_found_no_broken_lookalike(tmp_path):
    """A repository-like tree with encoded credentials and vendor tokens, valid and with broken checksums."""
    import random

    from tokens import ALNUM

    cf, gh, npm = cloudflare("cfut_", 80), github("ghp_", 80), github("npm_", 81)
    bad_gh, bad_npm = github("gho_", 82, valid=False), github("npm_", 83, valid=False)
    rng = random.Random(84)
    key_id = "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
    secret_key = "".join(rng.choice(ALNUM + "/+") for _ in range(39)) + "Q"
    ps_tok = cloudflare("cfat_", 85)
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: cf\ntype: Opaque\ndata:\n"
        f"  CLOUDFLARE_API_TOKEN: {base64.b64encode(cf.encode()).decode()}\n")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "access.log").write_text(
        f'127.0.0.1 - - "GET /cb?token={urllib.parse.quote(gh, safe="").replace("_", "%5F")} HTTP/1.1" 200\n')
    (tmp_path / "deploy.ps1").write_bytes(b"\xff\xfe" + f'$env:CF_ACCOUNT_TOKEN = "{ps_tok}"\r\n'.encode("utf-16-le"))
    (tmp_path / ".npmrc").write_text(f"//registry.npmjs.org/:_authToken={npm}\n")
    (tmp_path / "notes.md").write_text(f"old: {bad_gh}\nold npm: {bad_npm}\n")
    (tmp_path / "aws.ini").write_text(f"[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret_key}\n")
    rep = scan_paths([str(tmp_path)], ScanOptions(jobs=2))
    assert {f.secret for f in rep.findings if not f.gating} == {bad_gh, bad_npm}  # listed, failing no gate
    got = {(f.secret, f.encoding) for f in rep.findings if f.gating}
    assert got == {(cf, "base64"), (gh, "url"), (ps_tok, "utf-16"), (npm, "plain"), (key_id, "plain"),
                   (secret_key, "plain")}


@pytest.mark.parametrize("accelerated", PATHS)
@pytest.mark.parametrize("prefix", ["cfk_", "cfut_", "cfat_"])
@pytest.mark.parametrize("lead,tail", [("CF_API_TOKEN=", ""), ("Authorization: Bearer ", ""),
                                       ('{"token":"', '"}')])
@pytest.mark.parametrize("inner_lead", [b"", b"u:", b"ab"])
def test_token_in_base64_inside_base64_after_a_name(rules, accelerated, prefix, lead, tail, inner_lead):
    """Issue 9: a 4-byte keyword (`cfk_`) keeps as few as 4 determined characters after two encodings, and
    `CF_API_TOKEN=` must not be decoded as part of the value."""
    tok = cloudflare(prefix, 21)
    outer = base64.b64encode(base64.b64encode(inner_lead + tok.encode())).decode()
    data = f"{lead}{outer}{tail}\n".encode()
    [m] = Engine(rules, accelerated).scan(data)
    assert (m.secret, m.encoding, m.checksum) == (tok, "base64+base64", "valid")
    assert data[m.start:m.end].decode() == outer


def test_base64_run_stops_at_an_assignment_and_keeps_padding():
    data = b"CF_API_TOKEN=QUJDRA==;x"
    assert data[slice(*decoders.base64_run(data, 15))] == b"QUJDRA=="


def test_stray_leading_characters_still_decode():
    inner = base64.b64encode(cloudflare("cfk_", 22).encode())
    assert any(cloudflare("cfk_", 22).encode() in v for v in decoders.base64_views(b"ab" + inner))


def test_signature_cache_gives_what_computing_gives_and_survives_a_corrupt_file(tmp_path, monkeypatch):
    """Engines read decoder signatures from the user's cache folder; a hit must equal computing, and a
    damaged file must only mean computing again."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    kws = ["cf_", "ghp_", "cloudflare"]
    want = {k: decoders.signatures(k) for k in kws}
    assert decoders.signatures_of(kws) == want  # computed, written
    [cached] = list((tmp_path / "tokenscan").glob("signatures-*.json"))
    read = decoders.signatures_of(kws)  # read back
    assert read == want
    # the decoders' own name objects, not JSON's copies: a cached engine pickles three strings, not 20,000
    assert {id(kind) for sigs in read.values() for _, kind, _ in sigs} <= {id(n) for n in decoders.DECODERS}
    cached.write_text("{not json")
    assert decoders.signatures_of(kws) == want


def test_shipped_rules_parse_cache_is_only_data(tmp_path, monkeypatch):
    """The parsed copy of the shipped rule files is keyed by their text and still goes through build_rule:
    a tampered copy fails loudly as a rule file would, it cannot slip an unchecked rule in."""
    from scanner.errors import UsageError
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = [(r.id, r.pattern) for r in load_rules()]
    [cached] = list((tmp_path / "tokenscan").glob("rules-*.json"))
    assert [(r.id, r.pattern) for r in load_rules()] == first
    data = json.loads(cached.read_text())
    data[0][1]["rules"][0]["severity"] = "apocalyptic"
    cached.write_text(json.dumps(data))
    with pytest.raises(UsageError, match="severity"):
        load_rules()


def test_cache_keeps_the_most_recently_used_entries_per_kind(tmp_path, monkeypatch):
    """Every rule edit and every test rule set makes a new database; the cache folder must not grow without
    end (it held 195 MB after a day of work): writers prune to the most recently used entries of their kind."""
    import os
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = tmp_path / "tokenscan"
    folder.mkdir()
    for i in range(cache.CACHE_KEEP + 5):
        f = folder / f"prefilter-{i:02d}.hsdb"
        f.write_bytes(b"x")
        os.utime(f, (1000 + i, 1000 + i))
    (folder / "rules-keep.json").write_text("{}")
    cache.cache_used(str(folder / "prefilter-00.hsdb"))  # used just now: kept
    cache.prune_cache("prefilter")
    left = sorted(p.name for p in folder.glob("prefilter-*"))
    assert len(left) == cache.CACHE_KEEP and "prefilter-00.hsdb" in left and "prefilter-01.hsdb" not in left
    assert (folder / "rules-keep.json").exists()


class _Hex:
    """A decoder written the way README's "Extending tokenscan" says: one class, one registry entry."""

    name = "hex"
    whole_run = False

    def keyword_forms(self, keyword: bytes) -> list[tuple[bytes, tuple[bytes, ...]]]:
        return [(keyword.hex().encode(), ())]

    def region(self, data: bytes, pos: int, line: tuple[int, int]) -> tuple[int, int]:
        return line

    def views(self, region: bytes) -> list[decoders.View]:
        start = region.find(b"=") + 1  # `NAME=<hex>` in the test text
        try:
            raw = bytes.fromhex(region[start:].strip().decode())
        except ValueError:
            return []
        return [decoders.View(raw, [start + 2 * i for i in range(len(raw))], self.name)]


@pytest.mark.parametrize("accelerated", [False, True] if HYPERSCAN_AVAILABLE else [False])
def test_a_registered_decoder_is_used_with_no_change_to_the_engine(monkeypatch, tmp_path, accelerated):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # the signature cache must see the new decoder
    tok = cloudflare("cfut_", 9)
    text = f"BLOB={tok.encode().hex()}\n".encode()
    rules = [r for r in load_rules() if r.id == "cloudflare-user-api-token"]
    assert Engine(rules, accelerated=accelerated).scan(text) == []  # nobody reads hex yet
    monkeypatch.setitem(decoders.DECODERS, "hex", _Hex())
    found = Engine(rules, accelerated=accelerated).scan(text)
    assert [(m.secret, m.encoding, text[m.start:m.end]) for m in found] == [
        (tok, "hex", tok.encode().hex().encode()[:-1])]


def _walked_run(data: bytes, pos: int) -> tuple[int, int]:
    """base64_run's bounds found byte by byte, as it did before it used translate (the reference)."""
    chars = decoders.B64_CHARS - {0x3D}
    lo, floor = pos, max(0, pos - decoders.B64_REACH)
    while lo > floor and data[lo - 1] in chars:
        lo -= 1
    hi, ceil = pos, min(len(data), pos + decoders.B64_REACH)
    while hi < ceil and data[hi] in chars:
        hi += 1
    while hi < ceil and data[hi] == 0x3D:
        hi += 1
    return decoders.wrapped_block(data, lo, hi)


def test_base64_run_bounds_match_the_byte_walk():
    import random

    rng = random.Random(7)
    pieces = [b"x=", b"==", b" ", b"\n", b"-_", b"+/", b"\0", b"\xff", b"CF_API_TOKEN=",
              base64.b64encode(rng.randbytes(40)), base64.b64encode(rng.randbytes(9000))]
    for _ in range(300):
        data = b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        for pos in {0, len(data) // 2, max(0, len(data) - 1), rng.randrange(len(data) or 1)}:
            if pos <= len(data):
                assert decoders.base64_run(data, pos) == _walked_run(data, pos), (data[:80], pos)


@pytest.mark.parametrize("accelerated", PATHS)
def test_a_long_binary_decoding_is_an_asset_a_short_one_is_scanned(rules, accelerated):
    """A bundle's base64 wasm (a long decoding with NUL bytes) is not scanned, as a binary file is not;
    a token inside a short binary record still is."""
    engine = Engine(rules, accelerated)
    tok = cloudflare("cfut_", 71)
    short = base64.b64encode(b"\0\x01" * 40 + tok.encode() + b"\0" * 40).decode()
    [m] = [m for m in engine.scan(f'blob = "{short}"\n'.encode()) if m.secret == tok]
    assert m.encoding == "base64"
    asset = base64.b64encode(b"\0asm" + b"\0\x01\x02" * 3000 + tok.encode() + b"\0" * 3000).decode()
    bundle = f'const wasm = "data:application/wasm;base64,{asset}";\n'.encode()
    assert [m for m in engine.scan(bundle) if m.secret == tok] == []
    assert [m.secret for m in engine.scan(bundle, binary=True)].count(tok) == 1  # --include-binary
    text = base64.b64encode(b"# settings\n" * 500 + f"CF_API_TOKEN={tok}\n".encode()).decode()
    assert [m.secret for m in engine.scan(f'const cfg = "{text}";\n'.encode())].count(tok) == 1


@pytest.mark.parametrize("accelerated", PATHS)
def test_an_archive_in_a_long_binary_decoding_is_still_read(rules, accelerated):
    """The asset rule spares archives: a tar kept base64-encoded in a Kubernetes Secret is read."""
    import io
    import tarfile

    tok = cloudflare("cfut_", 73)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        body = f"CLOUDFLARE_API_TOKEN={tok}\n".encode()
        info = tarfile.TarInfo("backup/.env")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    raw = buf.getvalue()
    assert len(raw) > decoders.MAX_BINARY_VIEW and b"\0" in raw
    text = f"kind: Secret\ndata:\n  backup.tar: {base64.b64encode(raw).decode()}\n"
    assert [m.secret for m in Engine(rules, accelerated).scan(text.encode()) if m.secret == tok] == [tok]


def test_a_long_decoding_from_the_wrong_character_is_noise_beside_text():
    """Of a long base64 run of text, decoded from each of its first four characters, only the aligned
    decoding is text: the three others (no NUL in them, but control bytes and no UTF-8) are not scanned
    without --include-binary. Noise is left out only beside clean text: a binary record without NUL, or a
    window cut mid-character, is scanned when it is all there is; Latin-1 text is text."""
    text = ("const sourcesContent = 'cloudflare worker: fetch(request, env) { return env.API; }';\n" * 120).encode()
    views = decoders.base64_views(base64.b64encode(text))
    assert len(views) == 4 and views[0] == text and not any(b"\0" in v for v in views)
    assert decoders.worth_scanning(views) == [True, False, False, False]
    assert decoders.worth_scanning(views[1:]) == [True, True, True]  # no clean sibling: all scanned
    assert decoders.worth_scanning(views[1:], alone=True) == [False, False, False]
    latin1 = ("café crème brûlée\x0b, " * 400).encode("latin-1")  # not UTF-8, a control byte: noise-like
    cyrillic = ("облачный токен \x07 " * 400).encode()[1:]  # UTF-8 cut mid-character, a control byte
    assert decoders.worth_scanning(decoders.base64_views(base64.b64encode(latin1))) == [True, True, True, True]
    assert decoders.worth_scanning([cyrillic, views[1]]) == [True, False]  # text despite the cut
    assert decoders.worth_scanning([latin1.replace(b"\x0b", b" "), views[1]]) == [True, True]  # no UTF-8 text


@pytest.mark.parametrize("accelerated", PATHS)
def test_a_secret_in_a_long_encoded_source_map_is_found(rules, accelerated):
    """An inline source map (a bundle's `data:` URI) decodes to JSON holding the original source: a token
    there is still found, and found once."""
    tok = cloudflare("cfut_", 74)
    source = "export const env = { region: 'auto' };\n" * 300 + f"const CLOUDFLARE_API_TOKEN = '{tok}';\n"
    sourcemap = json.dumps({"version": 3, "sources": ["src/index.ts"], "sourcesContent": [source],
                            "mappings": "AAAA,SAAS,CAAC;" * 500})
    bundle = (b"var x = 1;\n//# sourceMappingURL=data:application/json;base64,"
              + base64.b64encode(sourcemap.encode()) + b"\n")
    assert [m.secret for m in Engine(rules, accelerated).scan(bundle)] == [tok]


def test_a_run_inside_a_long_line_is_placed_without_reading_the_line(monkeypatch):
    """Only a run that fills its line can be part of a wrapped block, which the bytes beside the run tell:
    a minified bundle's megabyte line, hit hundreds of times, is never read whole per hit."""
    run = base64.b64encode(b"x" * 3000)
    data = b"var a = '" + b"y" * 500_000 + b"'; var b = '" + run + b"'; " + b"z" * 500_000
    lo = data.index(run)
    calls: list = []
    real = decoders._b64_line
    monkeypatch.setattr(decoders, "_b64_line", lambda d, ls: calls.append(ls) or real(d, ls))
    for pos in range(lo, lo + len(run), 97):
        assert decoders.base64_run(data, pos) == (lo, lo + len(run))
    assert calls == []
    block = b"key: |\n" + b"".join(b"  " + run[i:i + 64] + b"\n" for i in range(0, 640, 64))
    first = block.index(b"  ", 6) + 2
    assert decoders.base64_run(block, first + 3) == (first, block.rindex(run[576:640]) + 64)


@pytest.mark.parametrize("accelerated", PATHS)
def test_a_textual_data_uri_is_decoded_once_whole(rules, accelerated, monkeypatch):
    """A `data:application/json;base64,` payload (a bundle's inline source map) is decoded once, whole,
    however many keyword signatures it holds; a font's payload is not (its signature hits are decoded
    around each, as any base64 run is). Both matcher paths give the same findings."""
    tok = cloudflare("cfut_", 75)
    filler = "".join(f"// cloudflare worker route {i}: zone settings, api token scopes\n" for i in range(3000))
    sourcemap = json.dumps({"sourcesContent": [filler + f"const t = '{tok}';\n" + filler]}).encode()
    payload = base64.b64encode(sourcemap)
    bundle = b"var x;\n//# sourceMappingURL=data:application/json;charset=utf-8;base64," + payload + b"\nvar y;\n"
    calls: list[tuple[int, int]] = []  # (characters, alignments tried) per decoding
    real = decoders._base64_decodings

    def decodings(run, cuts=range(4)):
        calls.append((len(run), len(cuts)))
        return real(run, cuts)
    monkeypatch.setattr(decoders, "_base64_decodings", decodings)
    assert [m.secret for m in Engine(rules, accelerated).scan(bundle)] == [tok]
    assert calls == [(len(payload), 1)]  # the payload starts on a quad: one alignment
    lo = bundle.index(payload)
    assert decoders.data_uri_run(bundle, lo - len(decoders.DATA_URI)) == (lo, lo + len(payload))
    font = b"src: url(data:font/woff2;base64," + payload + b")"
    assert decoders.data_uri_run(font, font.index(b";base64,")) is None
    short = b"url(data:image/svg+xml;base64," + base64.b64encode(b"<svg/>" * 900) + b")"  # within one window
    assert decoders.data_uri_run(short, short.index(b";base64,")) is None
    calls.clear()
    # windows around the signature hits, overlapping: the token is placed on its own encoded characters by
    # each, so it is reported once
    [m] = Engine(rules, accelerated).scan(font)
    assert len(calls) > 1 and max(n for n, _ in calls) < len(payload) and {k for _, k in calls} == {4}
    at = font.index(payload) + (sourcemap.index(tok.encode()) // 3) * 4
    assert m.secret == tok and at <= m.start <= at + 4 and m.end - m.start >= len(tok) * 4 // 3


@pytest.mark.parametrize("accelerated", PATHS)
def test_what_a_whole_decoding_would_lose_is_still_found(rules, accelerated):
    """A data: URI that will not decode whole to text (a NUL in it, a stray first character) falls back to
    windows around its signature hits; a NUL-free binary record is scanned when no decoding of its run is
    text; a wrapped block deeply indented is still one block."""
    tok = cloudflare("cfut_", 76)
    body = b'{"k": "\0' + b"cloudflare zone " * 1200 + f" token={tok} ".encode() + b'"}'  # a NUL far away
    for prefix in (b"", b"A"):
        uri = b"u = 'data:application/json;base64," + prefix + base64.b64encode(body) + b"';\n"
        assert tok in [m.secret for m in Engine(rules, accelerated).scan(uri)], prefix
    record = b"".join(b"\x12" + bytes([20 + i % 90]) + b"field-%05d" % i for i in range(500))
    record = record[:3000] + b"\x1a\x35 " + tok.encode() + b" " + record[3000:]
    yaml = b"data:\n  config.pb: " + base64.b64encode(record) + b"\n"
    assert [m.secret for m in Engine(rules, accelerated).scan(yaml)] == [tok]
    pem = base64.b64encode(f"CLOUDFLARE_API_TOKEN={tok}\n".encode() * 3)
    block = b"key: |\n" + b"".join(b" " * 300 + pem[i:i + 64] + b"\n" for i in range(0, len(pem), 64))
    assert tok in [m.secret for m in Engine(rules, accelerated).scan(block)]
