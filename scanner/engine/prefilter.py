"""Multi-literal keyword search: every rule's keywords in one pass over a chunk.

Hyperscan (when importable) matches all literals at once in C; the pure-`regex` fallback finds the same
(keyword, position) pairs, including overlapping ones, so both paths feed the engine identical hits.
Each literal says whether case matters (rule keywords: no; base64 signatures: yes). A literal may be
*presence-only* (its users only need to know that it occurs, e.g. candidate-first context rules): it is
reported once per chunk, at its first occurrence, on both paths, so a file naming `cloudflare` 90,000
times costs no Python work per occurrence.
"""

from __future__ import annotations

import bisect
import hashlib
import importlib.util
import json
import os
import re
import sys
import time
from array import array
from collections.abc import Iterable
from typing import Any

from scanner.cache import cache_dir, cache_used, store

# The optional accelerator, imported when first used: a run matched without it (a small staged change)
# does not pay for loading it.
HYPERSCAN_AVAILABLE = importlib.util.find_spec("hyperscan") is not None
_HS: list[Any] = []


def _hs() -> Any:
    if not _HS:
        import hyperscan

        _HS.append(hyperscan)
    return _HS[0]

Hit = tuple[int, int]  # (keyword index, start offset)


def _compile_database(exprs: list[bytes], flags: list[int]) -> Any:
    hs = _hs()
    db = hs.Database(mode=hs.HS_MODE_BLOCK)
    db.compile(expressions=exprs, ids=list(range(len(exprs))), flags=flags)
    return db


# Pattern modes (Prefilter's `patterns`): how Hyperscan compiles an expression. PREFILTER: a superset of
# the rule's regex (lookarounds dropped, never a false negative), with `^` and `$` at line ends as the
# engine's line-bounded windows see them. RUN: exact. Both report match ends only (start-of-match tracking
# costs the dense benchmark ~15% of the pass; the engine recovers a run's start in C).
PREFILTER = "prefilter"
RUN = "run"
GATE = "gate"  # exact, reported once per chunk (presence), always in the main pass
Pattern = tuple[bytes, str]  # (expression, mode)


def _pattern_flags(mode: str) -> int:
    if mode == PREFILTER:
        return int(_hs().HS_FLAG_PREFILTER | _hs().HS_FLAG_MULTILINE)
    if mode == GATE:
        return int(_hs().HS_FLAG_SINGLEMATCH)
    return 0


def _compiled(expr: bytes, flags: int) -> Any:
    try:
        return _compile_database([expr], [flags])
    except Exception:  # noqa: BLE001 - Hyperscan rejects the construct: the caller falls back
        return None


def gate_refused(expr: str) -> bool:
    """Whether Hyperscan (when installed) refuses a context gate: a rule file is then an error at load,
    rather than a gate searched with `regex` on every chunk."""
    return HYPERSCAN_AVAILABLE and _compiled(expr.encode("utf-8"), _pattern_flags(GATE)) is None


def _speed_sample() -> bytes:
    """Ordinary code to time patterns on: this package's own source (present wherever it runs)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the whole scanner package
    parts = []
    for folder, _, names in os.walk(root):
        for name in sorted(names):
            if name.endswith(".py"):
                with open(os.path.join(folder, name), "rb") as fh:
                    parts.append(fh.read())
    return b"\n".join(parts)[:300_000]


def _scan_time(db: Any, sample: bytes) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        db.scan(sample, match_event_handler=lambda *_: None)
        best = min(best, time.perf_counter() - start)
    return best


Databases = tuple[Any, dict[str, Any], list[int], list[bool]]  # main, deferred per group, chosen, deferred


def _literal_database(literals: list[tuple[bytes, bool]], presence: frozenset[int] = frozenset(),
                      patterns: list[list[Pattern]] | None = None, groups: list[str] | None = None) -> Databases:
    hs = _hs()
    flags = [(hs.HS_FLAG_CASELESS if ci else 0) | (hs.HS_FLAG_SINGLEMATCH if i in presence else 0)
             for i, (_, ci) in enumerate(literals)]
    patterns = patterns or []
    return _cached_database([k for k, _ in literals], flags, patterns, groups or [str(i) for i in range(len(patterns))])


SLOW = 2.0  # a pattern scanning ordinary code this many times slower than one literal goes to the deferred pass

Class = tuple[int, bool]  # a pattern's classification: (chosen alternative, -1 none; deferred)
CLASSES_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pattern_classes.json")
CLASSIFY_COMMAND = "python -m scanner.engine.classify --classify"
_LEARNED_KEEP = 4096  # measured classifications kept in the cache folder (a user's own rules, test rule sets)


def pattern_key(alternatives: list[Pattern]) -> str:
    """Identifies one entry of `patterns` (its alternatives, in order, with their modes) independently of
    the Hyperscan and Python versions, so that a classification shipped with the package applies on any
    machine that builds the same pattern."""
    return hashlib.sha256(json.dumps([[expr.hex(), mode] for expr, mode in alternatives]).encode()).hexdigest()


_shipped: dict[str, Class] | None = None


def _valid_class(value: Any, alternatives: list[Pattern]) -> Class | None:
    """A stored classification, if it is well-formed for these alternatives (a damaged file must not
    break a scan: the pattern is then measured). A RUN alternative is always deferred, a GATE never."""
    if not (isinstance(value, list) and len(value) == 2 and type(value[0]) is int and isinstance(value[1], bool)):
        return None
    c, slow = value[0], value[1]
    if not -1 <= c < len(alternatives):
        return None
    if c >= 0 and alternatives[c][1] == GATE:
        return c, False
    return c, slow or (c >= 0 and alternatives[c][1] == RUN)


def shipped_classes() -> dict[str, Any]:
    """The classification of the shipped rules' patterns (pattern_key -> [chosen, deferred]), generated by
    `python -m scanner.engine.classify --classify`: a cold start then compiles only the final databases instead of
    compiling and timing ~200 patterns one by one (~1.7 s). Empty if the file is missing or unreadable."""
    global _shipped
    if _shipped is None:
        try:
            with open(CLASSES_FILE, encoding="utf-8") as fh:
                data = json.load(fh)
            _shipped = dict(data["classes"]) if isinstance(data.get("classes"), dict) else {}
        except (OSError, ValueError, TypeError, AttributeError):
            _shipped = {}
    return _shipped


def _learned_path() -> str:
    # acceptance depends on the Hyperscan version: one file per version (not named prefilter-*: never pruned
    # with the databases, it is what makes rebuilding one of them cheap)
    version = re.sub(r"[^A-Za-z0-9.]", "_", str(getattr(_hs(), "__version__", "")))
    return os.path.join(cache_dir(), f"classes-v1-{version}.json")


def _learned_classes() -> dict[str, Any]:
    """Classifications measured on this machine for patterns the shipped file does not list (a user's own
    rules, an edited rule): adding one rule then measures one pattern, not 200."""
    try:
        with open(_learned_path(), encoding="utf-8") as fh:
            data = json.load(fh)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _remember(measured: dict[str, Class]) -> None:
    """Adds newly measured classifications to the cache folder's file (atomically; a lost race between two
    processes only means measuring again)."""
    if not measured:
        return
    known = _learned_classes()
    for key, (c, slow) in measured.items():
        known.pop(key, None)
        known[key] = [c, slow]
    store(_learned_path(), json.dumps(dict(list(known.items())[-_LEARNED_KEEP:])).encode())


def measure_classes(patterns: list[list[Pattern]]) -> list[Class]:
    """Per entry: the first alternative Hyperscan compiles (-1: none), and whether the pattern is slow on
    ordinary code (this package's own source) compared with one literal, or a RUN pattern: deferred (a
    GATE never is). One small compile (and timing) per pattern, ~8 ms each."""
    if not patterns:
        return []
    sample = _speed_sample()
    base = _scan_time(_compile_database([b"qzxjqzxjq"], [0]), sample) if sample else 0.0
    out: list[Class] = []
    for alternatives in patterns:
        c, slow = -1, True
        for i, (expr, mode) in enumerate(alternatives):
            single = _compiled(expr, _pattern_flags(mode))
            if single is not None:
                c = i
                slow = mode == RUN or (mode != GATE and (not sample or _scan_time(single, sample) > SLOW * base))
                break
        out.append((c, slow))
    return out


def _classify(patterns: list[list[Pattern]], trust_stored: bool = True) -> list[Class]:
    """The classification of every pattern: from the shipped file, else from the cache folder, else
    measured (and remembered). It only routes patterns (which alternative, which pass): findings never
    depend on it."""
    classes: list[Class | None] = [None] * len(patterns)
    keys = [pattern_key(a) for a in patterns]
    if trust_stored and patterns:
        shipped, learned = shipped_classes(), _learned_classes()
        for i, (alternatives, key) in enumerate(zip(patterns, keys, strict=True)):
            stored = shipped.get(key)
            classes[i] = _valid_class(stored if stored is not None else learned.get(key), alternatives)
    todo = [i for i, c in enumerate(classes) if c is None]
    measured = dict(zip(todo, measure_classes([patterns[i] for i in todo]), strict=True))
    _remember({keys[i]: cls for i, cls in measured.items()})
    return [c if c is not None else measured[i] for i, c in enumerate(classes)]


def _build(literals: list[bytes], flags: list[int], patterns: list[list[Pattern]], groups: list[str],
           classes: list[Class]) -> dict[str, Any]:
    import regex

    parts: dict[str, tuple[list[bytes], list[int]]] = {"": ([regex.escape(k, special_only=True, literal_spaces=True)
                                                            for k in literals], list(flags))}
    for alternatives, (c, slow), group in zip(patterns, classes, groups, strict=True):
        if c >= 0:
            expr, mode = alternatives[c]
            exprs, fl = parts.setdefault(group if slow else "", ([], []))
            exprs.append(expr)
            fl.append(_pattern_flags(mode))
    return {name: _compile_database(exprs, fl) for name, (exprs, fl) in parts.items()}


def _cached_database(literals: list[bytes], flags: list[int], patterns: list[list[Pattern]], groups: list[str]
                     ) -> Databases:
    """Compiling ~16,000 literals takes seconds, and even escaping them ~0.1 s of a pre-commit run; a
    serialized database loads in microseconds. Cached per literal and pattern set in the user's cache folder
    (never in the scanned repository), keyed by the raw literals, so a cache hit escapes nothing; any cache
    problem just means compiling.

    Each entry of `patterns` lists alternatives, best first: the first Hyperscan compiles is used (which
    one is returned per entry, -1: none, stored with the database), so a rule Hyperscan cannot take falls
    back to the engine's keyword windows instead of failing the scan.

    The main database (literals and the patterns that cost ordinary code little) runs on every chunk; the
    deferred patterns (RUN patterns, and patterns without a literal Hyperscan can look for first, which made
    the standard library's pass ~9x slower) go to one database per group, each run only where a rule it
    serves is in play (see Prefilter.scan_deferred). Which alternative is used and which pattern is slow
    (measured on this package's own source) comes from the classification shipped with the package for
    the shipped rules, else from the cache folder, else is measured once per pattern (see _classify); a
    wrong guess costs speed, never a finding. If a stored classification picked an alternative this
    Hyperscan rejects (another version), every pattern is measured and the databases compiled again."""
    key = hashlib.sha256(repr((getattr(_hs(), "__version__", ""), "escaped-v5", literals, flags, patterns, groups)).encode()
                         ).hexdigest()[:32]
    path = os.path.join(cache_dir(), f"prefilter-{key}.hsdb")
    hs = _hs()
    try:
        with open(path, "rb") as fh:
            blob = fh.read()
        n = int.from_bytes(blob[:4], "little")
        header = json.loads(blob[4:4 + n])
        chosen, deferred = [int(c) for c in header["chosen"]], [bool(d) for d in header["deferred"]]
        if len(chosen) != len(patterns) or len(deferred) != len(patterns):
            raise ValueError("stale pattern list")
        loaded: dict[str, Any] = {}
        at = 4 + n
        for name, size in header["sizes"]:
            part = hs.loadb(blob[at:at + size], mode=hs.HS_MODE_BLOCK)
            part.scratch = hs.Scratch(part)
            loaded[name] = part
            at += size
        main = loaded.pop("")
        cache_used(path)
        return main, loaded, chosen, deferred
    except Exception:  # noqa: BLE001, S110 - missing, stale or unreadable cache: compile instead
        pass
    classes = _classify(patterns)
    try:
        dbs = _build(literals, flags, patterns, groups, classes)
    except Exception:  # noqa: BLE001 - a stored choice this Hyperscan rejects: measure everything
        classes = _classify(patterns, trust_stored=False)
        dbs = _build(literals, flags, patterns, groups, classes)
    chosen, deferred = [c for c, _ in classes], [slow for _, slow in classes]
    dumped = {name: _hs().dumpb(db) for name, db in dbs.items()}
    header = json.dumps({"chosen": chosen, "deferred": deferred,
                         "sizes": [[name, len(b)] for name, b in dumped.items()]}).encode()
    store(path, len(header).to_bytes(4, "little") + header + b"".join(dumped.values()), prune="prefilter")
    main = dbs.pop("")
    return main, dbs, chosen, deferred


Literal = tuple[bytes, bool]  # (bytes, caseless); caseless literals are given in lowercase


class Prefilter:
    def __init__(self, literals: Iterable[Literal], accelerated: bool | None = None,
                 presence_only: Iterable[Literal] = (), patterns: Iterable[list[Pattern]] = (),
                 groups: Iterable[str] = ()) -> None:
        """presence_only: literals reported only at their first occurrence (see the module docstring).
        patterns: regular expressions matched natively alongside the literals, each a list of alternatives
        (see _cached_database); only on the Hyperscan path (`native[i]`: which alternative was compiled,
        -1 none; the fallback compiles none) and reported by `scan`."""
        self.patterns: list[list[Pattern]] = [list(p) for p in patterns]
        # deferred patterns of one group share a database (and a pass); default: each its own
        self.groups: list[str] = list(groups) or [str(i) for i in range(len(self.patterns))]
        self._literals: list[Literal] | None = list(dict.fromkeys((k.lower() if ci else k, ci) for k, ci in literals))
        self.lengths = array("I", (len(k) for k, _ in self._literals))  # per literal: what a hit spans
        wanted = {(k.lower() if ci else k, ci) for k, ci in presence_only}
        self.presence: frozenset[int] = frozenset(i for i, lit in enumerate(self.literals) if lit in wanted)
        use_hs = HYPERSCAN_AVAILABLE if accelerated is None else accelerated
        if use_hs and not HYPERSCAN_AVAILABLE:
            raise RuntimeError("hyperscan is not installed")
        self.accelerated = bool(use_hs)
        self._db: Any = None
        self.native: list[int] = [-1] * len(self.patterns)
        self.deferred: list[bool] = [False] * len(self.patterns)
        self._later: dict[str, Any] = {}
        self._compile()

    @property
    def literals(self) -> list[Literal]:
        """(bytes, caseless) per literal; a fallback prefilter loaded from the cache unpacks them on first
        use only (its scans read the packed form)."""
        if self._literals is None:
            blob, starts, caseless = self._packed
            self._literals = [(blob[starts[i]:starts[i + 1]], bool(caseless[i])) for i in range(len(caseless))]
        return self._literals

    @property
    def keywords(self) -> list[bytes]:
        return [k for k, _ in self.literals]

    def _compile(self) -> None:
        if not self.accelerated and not hasattr(self, "_gram_index"):
            self._index_grams()
        if self.accelerated:
            self._db, self._later, self.native, self.deferred = _literal_database(
                self.literals, self.presence, self.patterns, self.groups)
            # Hyperscan id of each compiled pattern -> its index in `patterns`, per database
            self._pattern_of = [i for i, c in enumerate(self.native) if c >= 0 and not self.deferred[i]]
            self._deferred_of: dict[str, list[int]] = {}
            for i, c in enumerate(self.native):
                if c >= 0 and self.deferred[i]:
                    self._deferred_of.setdefault(self.groups[i], []).append(i)

    def _index_grams(self) -> None:
        """For the fallback, in flat arrays (a few objects to load from the cache, not ~60,000): the literals
        packed end to end, and per caseness the literals by their first four bytes (as _grams gives them):
        the grams sorted, and each gram's literals, in order. Literals shorter than four are always
        searched."""
        literals = self.literals
        starts = array("I", [0])
        for k, _ in literals:
            starts.append(starts[-1] + len(k))
        self._packed = (b"".join(k for k, _ in literals), starts, bytes(ci for _, ci in literals))
        self._short = array("I", (kid for kid, (k, _) in enumerate(literals) if len(k) < 4))
        index = []
        for caseless in (False, True):
            by: dict[int, list[int]] = {}
            for kid, (k, ci) in enumerate(literals):
                if len(k) >= 4 and ci == caseless:
                    by.setdefault(int.from_bytes(k[:4], sys.byteorder), []).append(kid)
            grams = array("I", sorted(by))
            bounds, kids = array("I", [0]), array("I")
            for g in grams:
                kids.extend(by[g])
                bounds.append(len(kids))
            index.append((grams, bounds, kids))
        self._gram_index = index
        self._gram_sets = [frozenset(grams) for grams, _, _ in index]

    def __getstate__(self) -> dict:  # compiled databases do not pickle; workers recompile
        state = {"accelerated": self.accelerated, "presence": self.presence, "lengths": self.lengths,
                 "patterns": self.patterns, "groups": self.groups}
        if self.accelerated:
            state["literals"] = self.literals
        else:
            state["packed"], state["short"], state["grams"] = self._packed, self._short, self._gram_index
        return state

    def __setstate__(self, state: dict) -> None:
        self._literals = state.get("literals")
        if "packed" in state:
            self._packed, self._short, self._gram_index = state["packed"], state["short"], state["grams"]
            self._gram_sets = [frozenset(grams) for grams, _, _ in self._gram_index]
        self.lengths = state["lengths"]
        self.presence = state["presence"]
        self.patterns = state["patterns"]
        self.groups = state["groups"]
        self.native = [-1] * len(self.patterns)
        self.deferred = [False] * len(self.patterns)
        self._later = {}
        self.accelerated = state["accelerated"]
        self._db = None
        self._compile()

    def scan(self, data: bytes) -> tuple[list[Hit], list[tuple[int, int, int]]]:
        """Literal hits, and (pattern index, start, end) of every match of a natively compiled pattern (start
        is 0: patterns report their ends; PREFILTER ones those of a superset of the real matches). Without
        Hyperscan no pattern is compiled: the second list is empty."""
        if not data:
            return [], []
        if not self.accelerated:
            return self.hits(data), []
        out: list[Hit] = []
        found: list[tuple[int, int, int]] = []
        lengths = self.lengths
        n = len(lengths)
        pattern_of = self._pattern_of

        def on_match(kid: int, start: int, to: int, _flags: int, _ctx: object) -> None:
            if kid < n:
                out.append((kid, to - lengths[kid]))
            else:
                found.append((pattern_of[kid - n], start, to))

        self._db.scan(data, match_event_handler=on_match)
        return out, found

    def scan_deferred(self, data: bytes, groups: Iterable[str]) -> list[tuple[int, int, int]]:
        """(pattern index, 0, end) of the matches of the deferred patterns of `groups` (see
        _cached_database): the caller asks only for groups serving a rule in play in the chunk."""
        found: list[tuple[int, int, int]] = []
        for group in groups:
            db = self._later.get(group)
            if db is None or not data:
                continue
            pattern_of = self._deferred_of[group]

            def on_match(pid: int, start: int, to: int, _flags: int, _ctx: object, of: list = pattern_of) -> None:
                found.append((of[pid], start, to))

            db.scan(data, match_event_handler=on_match)
        return found

    def hits(self, data: bytes) -> list[Hit]:
        if not data:
            return []
        if self.accelerated:
            return self.scan(data)[0]
        # One bytes.find pass per literal (C, memchr-fast) over the chunk, lowercased once for the caseless
        # ones: with thousands of literals (keywords and their encoded forms) this is ~35x faster than one
        # alternation regex, which tries every branch at every position. Every occurrence is reported,
        # overlapping ones included, as Hyperscan does; presence-only literals at their first only.
        # A literal of 4+ bytes is searched only when its first four are among the chunk's 4-byte grams:
        # one set intersection (in C) with the literals' own first grams picks them, so a small chunk
        # costs what its grams do, not what the ~20,000 literals do. Hits come literal by literal.
        found: list[Hit] = []
        lowered = data.lower()
        kids = list(self._short)
        for (grams, bounds, listed), present, hay in zip(self._gram_index, self._gram_sets, (data, lowered),
                                                         strict=True):
            for gram in _grams(hay) & present:
                i = bisect.bisect_left(grams, gram)
                kids.extend(listed[bounds[i]:bounds[i + 1]])
        kids.sort()
        presence = self.presence
        blob, starts, caseless = self._packed
        for kid in kids:
            k = blob[starts[kid]:starts[kid + 1]]
            hay = lowered if caseless[kid] else data
            i = hay.find(k)
            while i >= 0:
                found.append((kid, i))
                if kid in presence:
                    break
                i = hay.find(k, i + 1)
        return found


_UINT_SIZE = memoryview(b"\0" * 8).cast("I").itemsize


def _grams(data: bytes) -> set[int]:
    """Every 4-byte gram of the chunk as a native-order int: four memoryview casts (one per alignment) fill
    the set in C, twice as fast as slicing each position in Python."""
    out: set[int] = set()
    n = len(data)
    if _UINT_SIZE != 4:  # (no known platform) slice each position
        return {int.from_bytes(data[i:i + 4], sys.byteorder) for i in range(n - 3)}
    for offset in range(4):
        usable = (n - offset) // 4 * 4
        if usable > 0:
            out.update(memoryview(data[offset:offset + usable]).cast("I"))
    return out
