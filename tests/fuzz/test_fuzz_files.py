"""Fuzz: files on disk. Random bytes, huge lines, NUL bytes, odd names, and the planted secret wrapped in
every decoder tokenscan opens (base64, URL-encoding, UTF-16, JSON and backslash escapes, data: URIs),
nested and truncated. The secret must be found whenever the file is still text and the wrapping is whole."""

from __future__ import annotations

import base64
import json
import os
import tempfile
import urllib.parse

from fuzzkit import PLANTED, SHOWN, run, tree_state
from hypothesis import given
from hypothesis import strategies as st

NOISE = st.one_of(st.binary(max_size=200), st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogateescape")),
                  st.integers(0, 300_000).map(lambda n: b"x" * n))  # a line far longer than any window


def b64(s: bytes) -> bytes:
    return base64.b64encode(s)


def url(s: bytes) -> bytes:
    return urllib.parse.quote_from_bytes(s, safe="").encode()


def utf16(s: bytes) -> bytes:
    return s.decode("latin-1").encode("utf-16-le")


def json_escape(s: bytes) -> bytes:
    return json.dumps(s.decode("latin-1")).encode()[1:-1].replace(b"_", b"\\u005f")


def data_uri(s: bytes) -> bytes:
    return b"data:text/plain;base64," + b64(s)


WRAPS = {"base64": b64, "url": url, "utf16": utf16, "json": json_escape, "data-uri": data_uri}


@given(before=NOISE, after=NOISE, wraps=st.lists(st.sampled_from(sorted(WRAPS)), max_size=2),
       cut=st.one_of(st.none(), st.integers(1, 30)))
def test_planted_secret_in_noise_and_decoders(before, after, wraps, cut):
    payload = f"CLOUDFLARE_API_TOKEN={PLANTED}".encode()
    for w in wraps:
        payload = WRAPS[w](payload)
    if cut is not None:
        payload = payload[:-cut]  # truncated: may or may not still hold the secret, must never crash
    data = before + b"\n" + payload + b"\n" + after
    with tempfile.TemporaryDirectory() as root:
        path = os.path.join(root, "blob.txt")
        with open(path, "wb") as fh:
            fh.write(data)
        state = tree_state(root)
        r = run(["scan", "--jobs", "1", "--no-color", "--decode-depth", "3", root])
        assert tree_state(root) == state
        text_file = b"\0" not in data[:8192] and "utf16" not in wraps
        if text_file and cut is None and len(wraps) <= 1:
            assert SHOWN in r.output, (wraps, r.output[-400:])
            assert r.code == 1


NAMES = st.one_of(st.binary(min_size=1, max_size=40).map(lambda b: b.replace(b"/", b"_").replace(b"\0", b"_")),
                  st.sampled_from([b"-", b"--help", b"-o", b"\xff\xfe.env", b"a\nb.env", b"\x1b[31m.env", b" ",
                                   b"..env", b"\\", b"*", b"a" * 250]))


@given(name=NAMES)
def test_odd_file_names_are_reported_exactly(name):
    if name in (b".", b".."):
        return
    with tempfile.TemporaryDirectory() as root:
        path = os.path.join(os.fsencode(root), name)
        with open(path, "wb") as fh:
            fh.write(f"CLOUDFLARE_API_TOKEN={PLANTED}\n".encode())
        r = run(["scan", "--jobs", "1", "--no-color", "--format", "json", root])
        assert r.code == 1, r.output
        [f] = json.loads(r.output)["findings"]
        rel = os.path.relpath(path, os.fsencode(root))
        # JSON names the real file: as is when it is UTF-8 (JSON escapes controls), else each odd byte \xNN
        assert f["path"].endswith(rel.decode("utf-8", "surrogateescape").encode("utf-8", "surrogateescape")
                                  .decode("utf-8", "backslashreplace")), (f["path"], rel)
        text = run(["scan", "--jobs", "1", "--no-color", root]).output
        assert SHOWN in text
        # the text report never carries a control character from a name to the terminal
        assert not any(ord(c) < 0x20 and c != "\n" or 0x7f <= ord(c) < 0xa0 for c in text), repr(text[:300])
