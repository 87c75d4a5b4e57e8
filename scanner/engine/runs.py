"""The candidates of candidate-first rules: maximal runs of a character class, kept by their shape.

A rule's shape is what its regex says of a whole run, read from the regex itself (`shape_of`): the lengths
it allows, a class every character must be in (`[a-f0-9]{37,39}|[a-f0-9]{41,45}`), classes some
character must be in (`(?=[^A-Z\\n]*[A-Z])`) and classes the run must not be made of only
(`(?![0-9a-fA-F]{40})`). Each is a necessary condition, so a shape keeps a superset of what the regex
matches and the engine still runs the regex on every run kept: a construct the reader does not know only
keeps more runs. What the shape drops never reaches Python (most 37-45 character runs in source code are
identifiers and commit ids).

One pass per class serves all its shapes, in C (`_runs.c`, built with the package where a compiler
exists) or, identically, in Python (`bytes.translate` and `bytes.find`): source code holds runs of a
token's class at nearly every line, and Hyperscan's bounded-repeat engines take them at a third of the
speed of its literal pass, where the C loop skips ahead by the shortest length.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

try:  # built from _runs.c where a compiler was found at install (see scanner/engine/build_hook.py)
    from scanner.engine import _runs as _native  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - depends on the install
    _native = None

NATIVE = _native is not None
MAX_FEATURES = 7  # table bits 1-7; further features are dropped (a shape only keeps more runs)


def class_bytes(body: str) -> frozenset[int]:
    """The bytes of the regex character class `[body]`."""
    pat = re.compile(f"[{body}]".encode())
    return frozenset(b for b in range(256) if pat.fullmatch(bytes([b])))


@dataclass(frozen=True)
class Shape:
    """Runs of `cls` (a class body, as in `[...]`) whose length is in `lengths`, all of whose characters
    are in `all_of` (when given), holding a character of each of `any_of`, and not only characters of
    each of `not_all_of`."""

    cls: str
    lengths: frozenset[int]
    all_of: str | None = None
    any_of: tuple[str, ...] = ()
    not_all_of: tuple[str, ...] = ()
    _bounds: tuple[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.lengths or min(self.lengths) < 1:
            raise ValueError(f"a run shape needs lengths of at least 1: {sorted(self.lengths)}")
        object.__setattr__(self, "_bounds", (min(self.lengths), max(self.lengths)))

    @classmethod
    def plain(cls, klass: str, lo: int, hi: int) -> Shape:
        return cls(klass, frozenset(range(lo, hi + 1)))

    @property
    def features(self) -> tuple[str, ...]:
        return ((self.all_of,) if self.all_of else ()) + self.any_of + self.not_all_of


_LOOKAHEAD = re.compile(r"\(\?(?P<neg>[=!])(?:\[\^(?P<skip>[^\]\\]*(?:\\.[^\]\\]*)*)\]\*)?"
                        r"\[(?P<cls>[^\]\\]*(?:\\.[^\]\\]*)*)\](?:\{(?P<n>\d+)\})?\)")
_BODY = re.compile(r"\((?:\?P<\w+>|\?:)?(?P<alts>.*)\)|(?P<bare>.*)", re.DOTALL)
_ALT = re.compile(r"\[(?P<cls>[^\]\\]*(?:\\.[^\]\\]*)*)\]\{(?P<lo>\d+)(?:,(?P<hi>\d+))?\}")


def shape_of(pattern: str, cls: str, lo: int, hi: int) -> Shape:
    """What `pattern`, matched against a whole run of `[cls]{lo,hi}`, requires of it (see the module
    docstring). Read: leading lookaheads `(?=[^X\\n]*[X])` (a character of X), `(?![X]{n})` (not only X,
    when every allowed length is at least n), then a body of `[X]{a,b}` alternatives (one X: all of X;
    their lengths). Anything else ends the reading: what was read so far still holds."""
    lengths = frozenset(range(lo, hi + 1))
    any_of: list[str] = []
    not_all: list[tuple[str, int]] = []  # (class, length of the lookahead)
    at = 0
    while True:
        m = _LOOKAHEAD.match(pattern, at)
        if m is None:
            break
        at = m.end()
        if m.group("neg") == "=" and m.group("skip") is not None and m.group("n") is None:
            if 0x0A in class_bytes(m.group("skip")):  # [^..\n]*[X]: an X on the line, which is the run
                any_of.append(m.group("cls"))
        elif m.group("neg") == "!" and m.group("skip") is None and m.group("n") is not None:
            not_all.append((m.group("cls"), int(m.group("n"))))
    body = _BODY.fullmatch(pattern[at:])
    alts = (body.group("alts") if body.group("alts") is not None else body.group("bare")).split("|") if body else []
    parsed = [m for m in (_ALT.fullmatch(a) for a in alts) if m is not None]
    all_of = None
    if parsed and len(parsed) == len(alts) and len({p.group("cls") for p in parsed}) == 1:
        allowed: set[int] = set()
        for p in parsed:
            a = int(p.group("lo"))
            allowed.update(range(a, int(p.group("hi") or a) + 1))
        if lengths & allowed:
            lengths &= frozenset(allowed)
            x = parsed[0].group("cls")
            all_of = None if class_bytes(x) >= class_bytes(cls) else x
    shortest = min(lengths)
    kept_not_all = tuple(x for x, n in not_all if shortest >= n)
    return Shape(cls, lengths, all_of, tuple(any_of), kept_not_all)


class RunFinder:
    """Per shape, the sorted (start, end) of every maximal run of its class that the shape keeps."""

    def __init__(self, shapes: Iterable[Shape]) -> None:
        self.shapes: list[Shape] = list(dict.fromkeys(shapes))
        self._classes: dict[str, list[int]] = {}  # class -> indices of its shapes
        for i, shape in enumerate(self.shapes):
            self._classes.setdefault(shape.cls, []).append(i)
        self._tables: dict[str, bytes] = {}
        self._args: dict[str, list[tuple[bytes, int, int, int]]] = {}
        self._members: dict[str, list[frozenset[int]]] = {}  # class -> the byte set of each feature bit
        for c, indices in self._classes.items():
            features: list[str] = []
            for i in indices:
                features += [f for f in self.shapes[i].features if f not in features]
            features = features[:MAX_FEATURES]
            members = [class_bytes(c)] + [class_bytes(f) for f in features]
            self._members[c] = members
            self._tables[c] = bytes(sum(1 << bit for bit, m in enumerate(members) if b in m) for b in range(256))
            bit = {f: 1 << (j + 1) for j, f in enumerate(features)}
            self._args[c] = []
            for i in indices:
                s = self.shapes[i]
                lengths = bytes(1 if n in s.lengths else 0 for n in range(max(s.lengths) + 1))
                self._args[c].append((lengths, bit.get(s.all_of or "", 0), _bits(bit, s.any_of), _bits(bit, s.not_all_of)))
        self.native = NATIVE

    def find(self, data: bytes) -> list[list[tuple[int, int]]]:
        out: list[list[tuple[int, int]]] = [[] for _ in self.shapes]
        for c, indices in self._classes.items():
            lists = (_native.find(data, self._tables[c], self._args[c]) if self.native
                     else _find_python(data, self._tables[c], self._args[c]))
            for i, spans in zip(indices, lists, strict=True):
                out[i] = spans
        return out


def _bits(bit: dict[str, int], features: tuple[str, ...]) -> int:
    mask = 0
    for f in features:
        mask |= bit.get(f, 0)
    return mask


@functools.lru_cache(maxsize=64)
def _python_tables(table: bytes) -> tuple[bytes, list[bytes]]:
    """For _find_python, once per class table: the translation of the class to `a` (the rest to a space),
    and per feature bit the bytes that have it (translate()'s delete argument)."""
    return (bytes(0x61 if t & 1 else 0x20 for t in table),
            [bytes(b for b in range(256) if table[b] & (1 << bit)) for bit in range(8)])


def _find_python(data: bytes, table: bytes, shapes: list[tuple[bytes, int, int, int]]) -> list[list[tuple[int, int]]]:
    """What _runs.find returns, in Python: the chunk translated once (class bytes to `a`, the rest to a
    space: a C pass at memory speed), then `bytes.find` jumps from one run of the shortest length to the
    next; Python work is per run of that length, never per byte."""
    out: list[list[tuple[int, int]]] = [[] for _ in shapes]
    kept = [n for lengths, *_ in shapes for n in range(1, len(lengths)) if lengths[n]]
    if not kept:
        return out
    lo, hi = min(kept), max(kept)
    to_text, keep = _python_tables(table)
    text = data.translate(to_text)
    masks = any(a | y | z for _, a, y, z in shapes)
    needle = b"a" * lo
    i = text.find(needle)
    while i >= 0:  # i starts a run: the search resumes after the previous run's end
        j = text.find(b" ", i + lo)
        j = len(text) if j < 0 else j
        n = j - i
        if n <= hi:
            every = anyone = 0
            if masks:
                run = data[i:j]
                for bit in range(1, 8):
                    rest = run.translate(None, keep[bit])
                    every |= (not rest) << bit
                    anyone |= (len(rest) < n) << bit
            for k, (lengths, all_of, any_of, not_all) in enumerate(shapes):
                if n < len(lengths) and lengths[n] and every & all_of == all_of and anyone & any_of == any_of \
                        and not every & not_all:
                    out[k].append((i, j))
        i = text.find(needle, j)
    return out
