"""Encoded views of a chunk: base64, URL (percent) escapes, JSON/JS string escapes, UTF-16.

Decoding everything would cost a pass per encoding over every byte. Instead each keyword also enters the
prefilter in its encoded forms (its base64 in all three alignments, its percent- and \\u-escaped forms), so
clean input costs nothing extra; only a region around an encoded keyword hit is decoded and scanned again.

One module on purpose: the decoder registry, each decoder's keyword forms and the signature table
the prefilter compiles from them are cached as one unit (the cache key is this file's own text).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import NamedTuple, Protocol

from scanner.cache import cache_dir, cache_used, store

B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"  # in order: value -> character
B64_CHARS = frozenset(B64_ALPHABET + b"-_=")  # URL-safe and padding too
_RUN_CLASS = rb"[A-Za-z0-9+/_-]"  # a run's characters (B64_CHARS but `=`), as a regular expression class
# base64 characters but the padding `=` -> "a", every other byte -> " "
_B64_BYTES = bytes(sorted(B64_CHARS))
_RUN_TABLE = bytes(0x61 if b in B64_CHARS and b != 0x3D else 0x20 for b in range(256))
B64_REACH = 8192  # longest base64 run decoded around one hit (each way; a wrapped block: lines each way)
MIN_B64_SIGNATURE = 4
MAX_BINARY_VIEW = 4096  # longest binary decoding scanned without --include-binary (embedded_asset)
MIN_WRAP = 16  # shortest line width taken for wrapped base64 (PEM: 64, `base64` CLI and MIME: 76)
MAX_INDENT = 256  # longest indentation of a wrapped block's lines
PLACED_RUN = 4096  # a longer run's findings are placed on their own characters, a shorter one's on the value


class Signature(NamedTuple):  # a tuple: ~17,000 are made per engine, from the cache, on every run
    literal: bytes
    kind: str  # base64 | url | json
    caseless: bool


@lru_cache(maxsize=65536)
def base64_signatures(keyword: bytes) -> frozenset[bytes]:
    """The base64 characters that depend only on `keyword`, for each of the three byte alignments, in the
    standard and URL-safe alphabets."""
    out: set[bytes] = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + keyword + b"\0\0")
        first_bit, end_bit = 8 * shift, 8 * (shift + len(keyword))
        chars = [encoded[i:i + 1] for i in range(len(encoded)) if 6 * i >= first_bit and 6 * i + 6 <= end_bit]
        sig = b"".join(chars)
        if len(sig) >= MIN_B64_SIGNATURE:
            out.add(sig)
            out.add(sig.replace(b"+", b"-").replace(b"/", b"_"))
    return frozenset(out)


# Signatures of signatures: a keyword of 4 bytes (`cfk_`) keeps only 4 fully determined characters in one
# of its alignments after two encodings, so anything longer misses a third of the nestings. A 4-character
# literal hits random base64 about once per 16 MB per literal; each such hit costs one bounded decode.
MIN_NESTED_SIGNATURE = 4


def signatures(keyword: str, nested: bool = True) -> list[Signature]:
    """Encoded forms of a keyword; with nested, also the base64 of those forms (a Docker config's base64
    JSON holding a base64 "auth", a URL-encoded query string inside a base64 blob)."""
    kw = keyword.encode("utf-8")
    sigs = [Signature(s, "base64", False) for s in sorted(base64_signatures(kw))]
    for decoder in DECODERS.values():
        for literal, variants in decoder.keyword_forms(kw):
            sigs.append(Signature(literal, decoder.name, True))
            if nested:
                sigs += [Signature(s, "base64", False) for v in sorted(set(variants))
                         for s in sorted(base64_signatures(v)) if len(s) >= MIN_NESTED_SIGNATURE]
    if nested:
        sigs += [Signature(s2, "base64", False) for s in sorted(base64_signatures(kw))
                 for s2 in sorted(base64_signatures(s)) if len(s2) >= MIN_NESTED_SIGNATURE]
    sigs += [Signature(s, "base64", False) for s in wrapped_signatures(kw)]
    return list(dict.fromkeys(sigs))


def _source_digest() -> str:
    """This module's own text: the signatures depend on its code, so an edit invalidates every cache entry
    (no version number to forget to bump). Empty when the source cannot be read (a zipapp): no caching."""
    try:
        with open(__file__, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        return ""


def signatures_of(keywords: list[str]) -> dict[str, list[tuple[bytes, str, bool]]]:
    """signatures() of every keyword, cached on disk in the user's cache folder (never in a scanned
    repository): computing them for ~300 keywords costs ~0.1 s, which a pre-commit run would pay on every
    commit; a cache hit is one small JSON read. The key is the keyword list and this module's source; a
    missing, stale or unreadable cache only means computing again."""
    digest = _source_digest()
    key = hashlib.sha256(json.dumps([digest, sorted(DECODERS), keywords]).encode()).hexdigest()[:32]
    path = os.path.join(cache_dir(), f"signatures-{key}.json")
    if digest:
        try:
            with open(path, encoding="utf-8") as fh:
                raw = json.load(fh)
            cache_used(path)
            # plain (literal, kind, caseless) tuples: ~17,000 per run, a NamedTuple each would cost ~10 ms.
            # Each kind is the decoder's own name object, not JSON's copy: an engine pickled from these holds
            # three strings, not 20,000 (which took a cached engine twice as long to load)
            kinds = {name: name for name in DECODERS}
            return {k: [(lit.encode("latin-1"), kinds[kind], ci) for lit, kind, ci in raw[k]] for k in keywords}
        except Exception:  # noqa: BLE001, S110 - compute instead
            pass
    out: dict[str, list[tuple[bytes, str, bool]]] = {k: list(signatures(k)) for k in keywords}
    if digest:
        store(path, json.dumps({k: [[lit.decode("latin-1"), kind, ci] for lit, kind, ci in v]
                                for k, v in out.items()}).encode(), prune="signatures")
    return out


def wrapped_signatures(keyword: bytes) -> list[bytes]:
    """The standard-alphabet base64 signatures of a keyword broken by a line feed at every place: base64
    wrapped at 64 or 76 columns (PEM, the `base64` tool, MIME) cuts about one signature in eight.

    Only `\n` (a CRLF file's break is missed when it falls inside the signature; elsewhere CRLF blocks
    decode as well)."""
    out: list[bytes] = []
    for sig in sorted(base64_signatures(keyword)):
        if b"-" in sig or b"_" in sig:  # the URL-safe twin: wrapped base64 is the standard alphabet
            continue
        for k in range(1, len(sig)):
            # the break within the first four bytes (the fallback prefilter looks a literal up by those), at
            # least five signature characters: a literal can only hit at a line end, so that is specific
            after = sig[k:k + 4]
            before = sig[max(0, k - max(3, 5 - len(after))):k]
            out.append(before + b"\n" + after)
    return list(dict.fromkeys(out))


# --- decoding a region ------------------------------------------------------------------------------------

Mapper = Callable[[int], int]  # offset in the decoded view -> offset in the original chunk


def base64_run(data: bytes, pos: int) -> tuple[int, int]:
    """The base64 run around pos (bounded), e.g. a Kubernetes Secret value or a Basic auth credential.

    `=` is only padding: the run never reaches back over one (`CF_API_TOKEN=<base64>` must not decode as
    one value, which fails) and ends after the padding that follows it."""
    # the run's ends are found in C (translate, then one find each way): a bundle's megabyte data: URI is
    # hit by signatures hundreds of times, and a byte-by-byte walk cost 1.5 ms per hit
    floor = max(0, pos - B64_REACH)
    lo = floor + data[floor:pos].translate(_RUN_TABLE).rfind(b" ") + 1
    ceil = min(len(data), pos + B64_REACH)
    hi = data[pos:ceil].translate(_RUN_TABLE).find(b" ")
    hi = ceil if hi < 0 else pos + hi
    while hi < ceil and data[hi] == 0x3D:
        hi += 1
    return wrapped_block(data, lo, hi)


_WS = b" \t"


def _b64_line(data: bytes, ls: int) -> tuple[int, int, int] | None:
    """(content start, content end, next line start) of the line starting at ls when all of it, after
    blanks, is base64 characters (a CR before the LF is not content); else None."""
    le = data.find(b"\n", ls)
    nxt = len(data) if le < 0 else le + 1
    end = len(data) if le < 0 else le
    if end > ls and data[end - 1] == 0x0D:
        end -= 1
    cs = ls
    while cs < end and data[cs] in _WS:
        cs += 1
    if cs == end or data[cs:end].translate(None, _B64_BYTES):  # a byte left over is not base64
        return None
    return cs, end, nxt


def wrapped_block(data: bytes, lo: int, hi: int) -> tuple[int, int]:
    """A base64 run that fills its whole line and belongs to a block wrapped at a fixed width W (a multiple
    of 4, at least MIN_WRAP: every line W characters but the last, which is no longer) grows to the block,
    bounded to B64_REACH characters each way from the run; the bound cuts only at line starts, which are
    multiples of 4 characters into the block, so every piece decodes. Any other run is returned as is."""
    # only a run that fills its line (after indentation) can be part of a block, which the bytes around the
    # run tell: its whole line is never read (a bundle's megabyte line is hit hundreds of times)
    if hi < len(data) and data[hi] not in b"\r\n":
        return lo, hi
    before = data[max(0, lo - MAX_INDENT):lo]
    indent_start = len(before.rstrip(_WS))
    if indent_start and before[indent_start - 1] != 0x0A:
        return lo, hi
    # (a deeper indentation is looked for the old way: rare, and then the line start is searched for)
    ls = lo - len(before) + indent_start if indent_start or lo <= MAX_INDENT else data.rfind(b"\n", 0, lo) + 1
    line = _b64_line(data, ls)
    if line is None or line[0] != lo or line[1] != hi:
        return lo, hi
    indent = data[ls:lo]
    width = hi - lo
    prev = None
    if ls > 0:
        pls = data.rfind(b"\n", 0, ls - 1) + 1
        prev = _b64_line(data, pls)
        if prev is not None and (data[pls:prev[0]] != indent or b"=" in data[prev[0]:prev[1]]):
            prev = None
    if prev is not None and prev[1] - prev[0] >= width and (prev[1] - prev[0]) % 4 == 0:
        w = prev[1] - prev[0]  # the run is a later line of a block
    elif width % 4 == 0 and b"=" not in data[lo:hi]:
        w = width  # the run may be a block's first (or middle) line
    else:
        return lo, hi
    if w < MIN_WRAP:
        return lo, hi
    start, end = lo, hi
    # back: whole lines of exactly w characters with the same indentation and no padding
    while start - lo > -B64_REACH and ls > 0:
        pls = data.rfind(b"\n", 0, ls - 1) + 1
        p = _b64_line(data, pls)
        if p is None or p[1] - p[0] != w or data[pls:p[0]] != indent or b"=" in data[p[0]:p[1]]:
            break
        start, ls = p[0], pls
    # forward: while the last line taken is a full one, the next line of at most w characters
    cur_len, nxt = hi - lo, line[2]
    if width > w:
        return lo, hi
    while cur_len == w and end - hi < B64_REACH and nxt < len(data) and b"=" not in data[end - 1:end]:
        n = _b64_line(data, nxt)
        if n is None or n[1] - n[0] > w or data[nxt:n[0]] != indent:
            break
        end, cur_len, nxt = n[1], n[1] - n[0], n[2]
    if start == lo and end == hi:
        return lo, hi
    while end < len(data) and data[end] == 0x3D:
        end += 1
    return start, end


DATA_URI = b";base64,"  # caseless: the marker of a data: URI's base64 payload
_PAYLOAD = re.compile(_RUN_CLASS + rb"*=*")  # a run's end found in C, at the cost of the run alone
_TEXT_MEDIA = re.compile(rb"data:(?:text/[\w.+-]+|application/(?:json|javascript|ecmascript|xml|[\w.-]+\+(?:json|xml))|"
                         rb"image/svg\+xml)(?:;[\w.-]+=[\w.\"-]+)*\Z", re.IGNORECASE)
def data_uri_run(data: bytes, pos: int) -> tuple[int, int] | None:
    """The whole payload of a long textual data: URI whose `;base64,` is at pos (a bundle's inline source map,
    an inlined SVG or JSON), or None for any other: a font or an image, and a payload no longer than one
    window (B64_REACH), are decoded around their signature hits as any base64 run is. Decoded once whole
    instead of in a window per signature hit: a megabyte source map held ~180 overlapping windows, each
    decoded four ways. Finding its end costs its own length, never the rest of the chunk."""
    head = data[max(0, pos - 96):pos]
    start = head.rfind(b"data:")
    if start < 0 or not _TEXT_MEDIA.match(head[start:]):
        return None
    lo = pos + len(DATA_URI)
    run = _PAYLOAD.match(data, lo)  # (it matches the empty string at least)
    hi = run.end() if run is not None else lo
    return (lo, hi) if hi - lo > B64_REACH else None


# a `;base64,` followed by more than a window of payload, found in C: a stylesheet of a hundred thousand
# inlined icons costs no Python per icon
_LONG_PAYLOAD = re.compile(rb";base64,(?=%s{%d})" % (_RUN_CLASS, B64_REACH + 1), re.IGNORECASE)


def data_uri_runs(data: bytes) -> list[tuple[int, int]]:
    """Every long textual data: URI payload of the chunk (see data_uri_run), in order."""
    found = (data_uri_run(data, m.start()) for m in _LONG_PAYLOAD.finditer(data))
    return [run for run in found if run is not None]


# archive magic numbers by first byte (here, not in sources.archives: the engine asks too): the test
# for every blob and file costs one dict lookup (tar's
# `ustar` sits at offset 257)
_MAGIC: dict[int, tuple[tuple[bytes, str], ...]] = {
    0x50: ((b"PK\x03\x04", "zip"), (b"PK\x05\x06", "zip")),
    0x1F: ((b"\x1f\x8b", "gzip"),),
    0x42: ((b"BZh", "bzip2"),),
    0xFD: ((b"\xfd7zXZ\x00", "xz"),),
}


def kind_of(head: bytes) -> str | None:
    """The archive format from its first bytes (names lie; magic numbers rarely do). `head` may be the
    whole content: nothing is copied."""
    for magic, kind in _MAGIC.get(head[0], ()) if head else ():
        if head.startswith(magic) and (kind != "bzip2" or head[3:4].isdigit()):
            return kind
    return "tar" if head[257:262] == b"ustar" else None


def embedded_asset(view: bytes) -> bool:
    """A long binary decoding that is no archive: a bundle's base64 wasm or font. The engine does not scan
    one unless binary content was asked for (--include-binary), as a binary file is not: hundreds of
    signature hits in one cost a full scan of four views each. A short one (a credential in a binary
    record) and an archive (a tar in a Kubernetes Secret) are scanned."""
    if len(view) <= MAX_BINARY_VIEW or b"\0" not in view:
        return False
    return kind_of(view) is None


def worth_scanning(views: list[bytes], alone: bool = False) -> list[bool]:
    """Which of a region's decodings the engine scans without --include-binary: not an embedded asset, and
    not noise beside text. A long run of text decoded from the wrong character holds no NUL but reads as
    neither UTF-8 nor control-free (of a megabyte inline source map, three decodings in four); it is left
    out only where another decoding of the same run is UTF-8 text, so a binary record, Latin-1 or a window
    cut mid-character is still scanned when it is all there is. alone: the views are all there is to scan
    (a region opened whole): noise is then left out too."""
    out = []
    text = alone
    for v in views:
        head = v[:MAX_BINARY_VIEW]
        asset = embedded_asset(v)
        utf8 = _utf8(head)
        text = text or (utf8 and not asset)
        out.append((asset, len(v) > MAX_BINARY_VIEW and not utf8 and bool(head.translate(None, _NOT_CONTROL))))
    return [not asset and not (noise and text) for asset, noise in out]


_NOT_CONTROL = bytes(b for b in range(256) if b >= 0x20 or b in b"\t\n\r\f\x1b")


def _utf8(head: bytes) -> bool:
    """UTF-8, a character cut at either end aside (a window of a long run starts and ends anywhere)."""
    cut = 0
    while cut < 3 and cut < len(head) and 0x80 <= head[cut] < 0xC0:
        cut += 1
    try:
        head[cut:].decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        return exc.reason == "unexpected end of data"


def decode_base64(run: bytes) -> bytes | None:
    """The first decoding of the run that works (see base64_views)."""
    views = base64_views(run)
    return views[0] if views else None


def base64_views(run: bytes) -> list[bytes]:
    """Every decoding of the run from each of its first four characters that is valid base64.

    The run may carry stray leading characters (`a` + a base64 value inside a decoded blob, a name glued
    to the value); a decoding from the wrong character is still valid base64, only garbage, so each
    alignment is returned rather than the first that decodes."""
    return [view for view, _ in _base64_decodings(run)]


def _base64_decodings(run: bytes, cuts: range = range(4)) -> list[tuple[bytes, int | None]]:
    """base64_views, each with the character it was decoded from when a finding in it is to be placed on its
    own characters (see QuadMap): in a long run (a window of a bundle's data: URI), not in a value, which
    is the place of what it holds, nor where decoded bytes do not map to the run's characters by quads (a
    wrapped block's line breaks are gone; UTF-16 text was re-encoded)."""
    wrapped = b"\n" in run
    long_run = len(run) > PLACED_RUN
    if wrapped:  # the line breaks and indentation are not data
        run = b"".join(run.split())
    text = run.rstrip(b"=")
    altchars = b"-_" if (b"-" in text or b"_" in text) else None
    out: list[tuple[bytes, int | None]] = []
    for cut in cuts:
        body = text[cut:]
        body = body[: len(body) - len(body) % 4] if len(body) % 4 == 1 else body
        try:
            raw = base64.b64decode(body + b"=" * (-len(body) % 4), altchars=altchars, validate=True)
        except (binascii.Error, ValueError):
            continue
        text16 = utf16_text(raw)
        view = text16 or raw
        if view and all(view != v for v, _ in out):
            out.append((view, cut if long_run and not (wrapped or text16) else None))
    return out


class QuadMap:
    """Where each byte of a base64 decoding came from: byte i of the decoding from character `cut` on lies in
    the quad at cut + 4 * (i // 3). A secret found in a long run is placed on its own encoded characters,
    the same whichever window of the run found it (and so reported once)."""

    def __init__(self, cut: int) -> None:
        self.cut = cut

    def __getitem__(self, i: int) -> int:
        return self.cut + 4 * (i // 3) + i % 3

    def end(self, e: int) -> int:
        """Where the characters that encode decoded bytes [.., e) end (the last quad may be partly used)."""
        return self.cut + 4 * (e // 3) + (0, 2, 3)[e % 3]


def mapped_end(where: Sequence[int] | QuadMap, e: int) -> int:
    """The region offset just past the encoded form of decoded bytes [.., e)."""
    return where.end(e) if isinstance(where, QuadMap) else where[e - 1] + 1


_PCT = re.compile(rb"%([0-9A-Fa-f]{2})")


def decode_url(region: bytes) -> tuple[bytes, list[int]]:
    """Percent-decoding with a map from each output byte to its input offset."""
    out = bytearray()
    where: list[int] = []
    i = 0
    n = len(region)
    while i < n:
        c = region[i]
        if c == 0x25 and i + 2 < n and _PCT.match(region, i):
            out.append(int(region[i + 1:i + 3], 16))
            where.append(i)
            i += 3
        else:
            out.append(c)
            where.append(i)
            i += 1
    return bytes(out), where


def decode_url_nested(region: bytes, passes: int = 3) -> tuple[bytes, list[int], int]:
    """decode_url, again while the result still holds escapes that the previous pass made out of `%25`
    (`%255F` -> `%5F` -> `_`: a value percent-encoded twice), at most `passes` times. Returns the view, a
    map from each output byte to its offset in the region, and how many passes were made (0: none)."""
    view, where = decode_url(region)
    if view == region:
        return region, list(range(len(region))), 0
    done = 1
    while done < passes and b"%25" in region and _PCT.search(view):
        again, inner = decode_url(view)
        if again == view:
            break
        region, view, where = view, again, [where[i] for i in inner]
        done += 1
    return view, where, done


_SIMPLE_ESCAPES = {ord("n"): b"\n", ord("t"): b"\t", ord("r"): b"\r", ord("b"): b"\b", ord("f"): b"\f",
                   ord("/"): b"/", ord("\\"): b"\\", ord('"'): b'"', ord("'"): b"'"}


def decode_json(region: bytes) -> tuple[bytes, list[int]]:
    """JSON/JS string escapes (\\uXXXX with surrogate pairs, \\xXX, \\/ ...) with an offset map."""
    out = bytearray()
    where: list[int] = []
    i, n = 0, len(region)
    while i < n:
        c = region[i]
        if c == 0x5C and i + 1 < n:
            e = region[i + 1]
            if e == ord("u") and i + 6 <= n:
                try:
                    cp = int(region[i + 2:i + 6], 16)
                except ValueError:
                    cp = -1
                if cp >= 0:
                    step = 6
                    if 0xD800 <= cp < 0xDC00 and region[i + 6:i + 8] == b"\\u":
                        try:
                            lo = int(region[i + 8:i + 12], 16)
                            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                            step = 12
                        except ValueError:
                            pass
                    piece = chr(cp).encode("utf-8", "replace")
                    out += piece
                    where += [i] * len(piece)
                    i += step
                    continue
            if e == ord("x") and i + 4 <= n:
                try:
                    out.append(int(region[i + 2:i + 4], 16))
                    where.append(i)
                    i += 4
                    continue
                except ValueError:
                    pass
            if e in _SIMPLE_ESCAPES:
                out += _SIMPLE_ESCAPES[e]
                where.append(i)
                i += 2
                continue
        out.append(c)
        where.append(i)
        i += 1
    return bytes(out), where


def utf16_codec(head: bytes) -> str | None:
    """The UTF-16 codec a file's first bytes show (BOM, or NULs on every other position as ASCII-heavy
    UTF-16 has), or None. Judged on the head alone, so a binary file is never read whole to find out."""
    if len(head) < 4:
        return None
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    sample = head[:8192]
    half = len(sample) // 2
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    if odd_nuls > 0.7 * half and even_nuls < 0.1 * half:
        return "utf-16-le"
    if even_nuls > 0.7 * half and odd_nuls < 0.1 * half:
        return "utf-16-be"
    return None


def utf16_text(data: bytes, codec: str | None = None) -> bytes | None:
    """UTF-8 text of UTF-16 data (LE or BE, with or without BOM), or None when it is not UTF-16."""
    codec = codec or utf16_codec(data)
    if codec is None:
        return None
    try:
        return data[: len(data) - len(data) % 2].decode(codec).encode("utf-8")
    except UnicodeDecodeError:
        return None


# --- the registry -------------------------------------------------------------------------------------------
# One object per encoding. The engine knows none of them by name: a hit on a decoder's signature asks that
# decoder for the region to decode (region) and for its decoded views (views); signatures() asks each
# decoder for the encoded forms of a keyword (keyword_forms). A new encoding is one class and one entry
# in DECODERS.


class View(NamedTuple):
    data: bytes
    where: Sequence[int] | QuadMap | None  # decoded byte i came from region offset where[i]; None: the whole value
    label: str  # the finding's `encoding` for what this view holds (url, url+url, base64, ...)


class Decoder(Protocol):
    name: str  # the finding's `encoding`, and the kind its signatures carry
    whole_run: bool  # the region is a whole encoded run: hits inside the last one decoded are skipped

    def keyword_forms(self, keyword: bytes) -> list[tuple[bytes, tuple[bytes, ...]]]:
        """(caseless literal for the prefilter, variants whose base64 is looked for too) per encoded form."""
        ...

    def region(self, data: bytes, pos: int, line: tuple[int, int]) -> tuple[int, int]:
        """What to decode around a signature hit at pos (line: the hit's bounded line)."""
        ...

    def views(self, region: bytes) -> list[View]:
        """The region decoded: none when nothing in it was encoded."""
        ...


class Base64:
    """Base64 (standard and URL-safe, any alignment, wrapped at a fixed width as PEM and MIME write it). Its
    signatures are the keyword's own base64 characters (see signatures()), not escaped forms."""

    name = "base64"
    whole_run = True  # a hit inside the run last decoded adds nothing: the engine skips it

    def keyword_forms(self, keyword: bytes) -> list[tuple[bytes, tuple[bytes, ...]]]:
        return []

    # optional hooks (a decoder without them decodes around its signature hits only): `markers`, caseless
    # literals whose presence in a chunk makes the engine ask marked_regions for the regions to decode once
    # whole, whose decodings marked_views gives; signature hits inside one add nothing
    markers: tuple[bytes, ...] = (DATA_URI,)

    def region(self, data: bytes, pos: int, line: tuple[int, int]) -> tuple[int, int]:
        return base64_run(data, pos)

    def marked_regions(self, data: bytes) -> list[tuple[int, int]]:
        return data_uri_runs(data)

    def marked_views(self, region: bytes) -> list[View]:
        """A data: URI's payload starts on a quad: one decoding, not four."""
        return self.views(region, range(1))

    def views(self, region: bytes, cuts: range = range(4)) -> list[View]:
        return [View(v, None if cut is None else QuadMap(cut), self.name) for v, cut in _base64_decodings(region, cuts)]


class _Escapes:
    """An encoding that escapes single characters in place: a keyword made only of letters and digits reads
    the same escaped (no signature of its own), and a hit opens the line it is on."""

    name = ""
    whole_run = False

    def keyword_forms(self, keyword: bytes) -> list[tuple[bytes, tuple[bytes, ...]]]:
        return [] if _plain(keyword) else self.escaped_forms(keyword)

    def escaped_forms(self, keyword: bytes) -> list[tuple[bytes, tuple[bytes, ...]]]:
        raise NotImplementedError

    def region(self, data: bytes, pos: int, line: tuple[int, int]) -> tuple[int, int]:
        return line


class Url(_Escapes):
    """Percent-encoding, once (`cf%5Ftoken`) or twice (`%255F`, labelled `url+url`)."""

    name = "url"

    def escaped_forms(self, keyword: bytes) -> list[tuple[bytes, tuple[bytes, ...]]]:
        """(literal, the variants whose base64 is looked for too) of the once- and twice-encoded keyword."""
        once = _escaped(keyword, b"%%%02X")
        twice = _escaped(keyword, b"%%25%02X")
        return [(once.lower(), (once, once.lower(), once.upper())), (twice.lower(), (twice, twice.lower()))]

    def views(self, region: bytes) -> list[View]:
        view, where, passes = decode_url_nested(region)
        return [] if view == region else [View(view, where, "+".join([self.name] * max(passes, 1)))]


class JsonEscapes(_Escapes):
    """JSON and JavaScript string escapes (`cf\\u005ftoken`, `\\/`)."""

    name = "json"

    def escaped_forms(self, keyword: bytes) -> list[tuple[bytes, tuple[bytes, ...]]]:
        escaped = _escaped(keyword, b"\\u%04x")
        return [(escaped.lower(), (escaped, escaped.lower(), escaped.upper().replace(b"\\U", b"\\u")))]

    def views(self, region: bytes) -> list[View]:
        view, where = decode_json(region)
        return [] if view == region else [View(view, where, self.name)]


def _plain(keyword: bytes) -> bool:
    """Only letters and digits: escaping leaves it as it is, so its escaped forms are the keyword itself."""
    return all(chr(c).isalnum() for c in keyword)


def _escaped(keyword: bytes, fmt: bytes) -> bytes:
    """The keyword with each character that is not a letter or digit written as fmt % its code."""
    return b"".join(fmt % c if not chr(c).isalnum() else bytes([c]) for c in keyword)


DECODERS: dict[str, Decoder] = {d.name: d for d in (Base64(), Url(), JsonEscapes())}
