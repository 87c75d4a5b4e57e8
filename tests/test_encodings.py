"""Issue 12, encodings: base64 wrapped at a fixed width (PEM, the `base64` tool, MIME) and values
percent-encoded twice (`%255F` for `_`), alone and nested with the other encodings; ordinary wrapped base64
stays silent and cheap. Every token here is synthetic (tests/tokens.py)."""

from __future__ import annotations

import base64
import json
import os
import random
import time
import urllib.parse

import pytest
from tokens import cloudflare, github

from scanner.engine import decoders
from scanner.engine.matcher import Engine
from scanner.engine.prefilter import HYPERSCAN_AVAILABLE
from scanner.rules.loader import load_rules

PATHS = [False] + ([True] if HYPERSCAN_AVAILABLE else [])


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.fixture(scope="module", params=PATHS, ids=lambda a: "hyperscan" if a else "fallback")
def engine(rules, request):
    return Engine(rules, request.param)


def _wrap(raw: bytes, width: int, eol: str = "\n", indent: str = "") -> str:
    text = base64.b64encode(raw).decode()
    return "".join(f"{indent}{text[i:i + width]}{eol}" for i in range(0, len(text), width))


def _found(engine: Engine, data: bytes, secret: str) -> list:
    return [m for m in engine.scan(data) if m.secret == secret]


@pytest.mark.parametrize("width", [64, 76])
@pytest.mark.parametrize("lead", range(0, 160, 13))  # every place of the keyword against the line breaks
def test_wrapped_base64_found_at_the_first_line(engine, width, lead):
    tok = cloudflare("cfut_", lead)
    rng = random.Random(lead)
    raw = bytes(rng.getrandbits(8) for _ in range(lead)) + f"\nCF_API_TOKEN={tok}\n".encode() + os.urandom(200)
    body = _wrap(raw, width)
    text = f"-----BEGIN SECRET BLOB-----\n{body}-----END SECRET BLOB-----\n"
    data = text.encode()
    [m] = _found(engine, data, tok)
    assert m.encoding == "base64" and m.checksum == "valid"
    first = body.splitlines()[0]
    assert data[m.start:m.end].decode() == first  # the place: the encoded text's first line
    assert data[:m.start].count(b"\n") == 1


def test_base64_cli_output_of_a_file_crlf_and_indented(engine):
    tok = github("ghp_", 12)
    env = ("# deploy settings\n" * 20 + f"GITHUB_TOKEN={tok}\n" + "LOG_LEVEL=debug\n" * 20).encode()
    for eol, indent in (("\n", ""), ("\r\n", ""), ("\n", "    ")):
        block = _wrap(env, 76, eol, indent)
        data = f"config.b64: |{eol}{block}".encode()
        assert [m.encoding for m in _found(engine, data, tok)] == ["base64"], (eol, indent)


def test_mime_attachment(engine):
    tok = cloudflare("cfat_", 41)
    part = _wrap(json.dumps({"service": "ci", "token": tok, "pad": "x" * 300}).encode(), 76, "\r\n")
    mail = ("Content-Type: application/json\r\nContent-Transfer-Encoding: base64\r\n\r\n" + part + "\r\n--b1--\r\n")
    [m] = _found(engine, mail.encode(), tok)
    assert m.encoding == "base64"


def test_wrapped_base64_holding_url_and_json_escapes(rules):
    tok = github("ghp_", 5)
    inner = ("callback=https%3A%2F%2Fci.example%2Fhook%3Ftoken%3D" + tok.replace("_", "%5F") + "\n").encode()
    data = ("payload:\n" + _wrap(os.urandom(100) + inner + os.urandom(100), 76)).encode()
    assert [m.encoding for m in _found(Engine(rules), data, tok)] == ["base64+url"]
    escaped = json.dumps({"t": tok}).replace("_", "\\u005f").encode()
    data = ("payload:\n" + _wrap(os.urandom(90) + escaped + os.urandom(90), 64)).encode()
    assert [m.encoding for m in _found(Engine(rules), data, tok)] == ["base64+json"]


def test_base64_of_a_wrapped_block(rules):
    """A base64 value (one line) whose content is a PEM-style wrapped block holding the token."""
    tok = cloudflare("cfk_", 3)
    rng = random.Random(0)  # base64 in base64 misses some alignments of a short keyword (its signatures)
    noise = bytes(rng.getrandbits(8) for _ in range(140))
    pem = "-----BEGIN X-----\n" + _wrap(noise[:70] + tok.encode() + noise[70:], 64) + "-----END X-----\n"
    data = b"tls.key: " + base64.b64encode(pem.encode()) + b"\n"
    assert [m.encoding for m in _found(Engine(rules), data, tok)] == ["base64+base64"]


@pytest.mark.parametrize("quote_tail", [False, True])
def test_double_percent_encoded(engine, quote_tail):
    tok = github("ghp_", 21)
    once = urllib.parse.quote(tok, safe="").replace("_", "%5F")
    twice = urllib.parse.quote(once, safe="")
    assert "%255F" in twice
    url = "https://sso.example/login?next=" + urllib.parse.quote("https://ci.example/cb?token=", safe="") + twice
    data = (f"GET {url}{'%26x%3D1' if quote_tail else ''} HTTP/1.1\n").encode()
    [m] = _found(engine, data, tok)
    assert m.encoding == "url+url"
    assert data[m.start:m.end].decode() == twice


def test_double_percent_lowercase_hex_and_cloudflare_checksum(engine):
    tok = cloudflare("cfut_", 77)
    twice = tok.replace("_", "%255f")
    [m] = _found(engine, f"redirect={twice}\n".encode(), tok)
    assert m.encoding == "url+url" and m.checksum == "valid"
    bad = cloudflare("cfut_", 77, valid=False)
    [m] = _found(engine, f"redirect={bad.replace('_', '%255F')}\n".encode(), bad)
    assert m.checksum == "invalid"


def test_double_percent_inside_base64_and_json(rules):
    tok = github("ghp_", 8)
    twice = tok.replace("_", "%255F")
    data = b"state=" + base64.b64encode(f"return_to=/cb?t={twice}&x=1".encode()) + b"\n"
    assert [m.encoding for m in _found(Engine(rules), data, tok)] == ["base64+url+url"]
    data = json.dumps({"url": f"https://ci.example/cb?t={twice}"}).replace("/", "\\/").encode()
    assert [m.encoding for m in _found(Engine(rules), data, tok)] == ["url+url"]
    data = b"Cookie: s=" + base64.urlsafe_b64encode(b"\xfb\xff" + f"t={twice}".encode()) + b"\n"
    assert [m.encoding for m in _found(Engine(rules), data, tok)] == ["base64+url+url"]


def test_decode_url_nested_maps_offsets():
    region = b"a%255Fb%2541c"
    view, where, passes = decoders.decode_url_nested(region)
    assert view == b"a_bAc" and passes == 2
    assert [region[i:i + 1] for i in where] == [b"a", b"%", b"b", b"%", b"c"]
    assert decoders.decode_url_nested(b"plain")[2] == 0
    assert decoders.decode_url_nested(b"a%5Fb")[:1] == (b"a_b",) and decoders.decode_url_nested(b"a%5Fb")[2] == 1


def test_wrapped_block_bounds():
    lines = [b"A" * 76] * 3 + [b"QUJD"]
    data = b"x: |\n" + b"\n".join(lines) + b"\n"
    start = data.index(b"A")
    lo, hi = decoders.base64_run(data, start + 80)  # a hit on the second line
    assert data[lo:hi].split() == lines
    # a run with a name in front of it is not a block line; neither is a line of another width
    assert decoders.wrapped_block(b"k=QUJDQUJD\nQUJD\n", 2, 10) == (2, 10)
    odd = b"\n".join([b"B" * 70, b"B" * 76, b"B" * 10])
    assert decoders.base64_run(odd, 75) == (71, 158)  # not the 70-wide line above
    huge = b"\n".join([b"C" * 76] * 2000)
    lo, hi = decoders.base64_run(huge, len(huge) // 2)
    assert hi - lo < 2 * decoders.B64_REACH + 200 and (lo == 0 or huge[lo - 1:lo] == b"\n")


def test_wrapped_signatures_cover_every_break():
    sigs = decoders.wrapped_signatures(b"ghp_")
    for shift in range(3):
        enc = base64.b64encode(b"\0" * shift + b"ghp_" + b"\0\0").decode()
        for k in range(1, len(enc)):
            wrapped = (enc[:k] + "\n" + enc[k:]).encode()
            hit = any(s in wrapped for s in sigs) or any(s in wrapped for s in decoders.base64_signatures(b"ghp_"))
            assert hit, (shift, k)


def test_ordinary_wrapped_base64_is_silent_and_cheap(engine):
    rng = random.Random(5)
    binary = bytes(rng.getrandbits(8) for _ in range(600_000))
    for data in (_wrap(binary, 76).encode(),
                 ("-----BEGIN CERTIFICATE-----\n" + _wrap(binary[:1500], 64) + "-----END CERTIFICATE-----\n").encode()):
        t = time.perf_counter()
        assert engine.scan(data) == []
        assert time.perf_counter() - t < 20


def test_keyword_dense_wrapped_base64_is_bounded(engine):
    """Binary content that holds keywords but no token: every hit falls in one block; cost stays bounded."""
    rng = random.Random(9)
    raw = b"".join(bytes(rng.getrandbits(8) for _ in range(40)) + b"ghp_xoxb-cfut_" for _ in range(800))
    data = _wrap(raw, 76).encode()
    t = time.perf_counter()
    assert [m for m in engine.scan(data) if m.checksum != "invalid"] == []
    assert time.perf_counter() - t < 20


@pytest.mark.parametrize("label", ["CERTIFICATE", "PUBLIC KEY", "X509 CRL"])
def test_public_armour_is_not_decoded_but_a_token_pasted_in_it_is_found(engine, label):
    """A CA bundle is megabytes of certificate base64 that decodes to DER: public by construction, so it
    is neither decoded nor searched for unprefixed candidates. The same wrapped block in other armour is
    decoded; a prefixed token written into a certificate is still found on the raw text."""
    tok = cloudflare("cfut_", 77)
    body = _wrap(f"CF_API_TOKEN={tok}\n".encode() + bytes(range(256)), 64)
    public = f"-----BEGIN {label}-----\n{body}-----END {label}-----\n"
    other = f"-----BEGIN SECRET BLOB-----\n{body}-----END SECRET BLOB-----\n"
    assert _found(engine, (public * 3).encode(), tok) == []
    assert [m.encoding for m in _found(engine, (public + other).encode(), tok)] == ["base64"]
    pasted = f"-----BEGIN {label}-----\n{body[:64]}\n{tok}\n{body[64:]}-----END {label}-----\n"
    assert [m.encoding for m in _found(engine, pasted.encode(), tok)] == ["plain"]


def test_no_legacy_candidate_inside_a_certificate(engine):
    from tokens import legacy_token

    tok = legacy_token(5)
    line = f"cf_api_token: {tok}\n"
    cert = f"-----BEGIN CERTIFICATE-----\n{line}-----END CERTIFICATE-----\n"
    assert [m.secret for m in engine.scan((line + cert).encode())] == [tok]
