"""Prefilter -> rule regex in a window around each keyword hit -> validators, on bytes.

The engine knows nothing of files or git: it takes bytes and returns matches with offsets. Line and column
are worked out by the caller only for matches, never for the whole chunk.

Two kinds of rule. Keyword-anchored rules (a prefix such as `cfut_`) run their regex in a window around
each keyword hit. Candidate-first rules (a `[rules.context]` table: unprefixed values such as legacy
Cloudflare tokens) only need to know that one of their keywords occurs in the chunk; their candidates are
runs of the value's character class, and each is judged by the name it is assigned to (scanner/rules/context.py).
Their cost follows the number of candidates, not the number of times the chunk names the vendor.

Every rule pattern runs under a time budget per chunk (`rule_timeout`): rules may come from an untrusted
file, and one catastrophic regex must not hang a scan. A rule over budget is skipped for the rest of the
chunk and reported as a `rule-timeout` warning.

One module on purpose: the hot loop (hit -> window -> regex -> checksum) and the tables it reads are
built together in Engine.__init__; split, every hit would pay an attribute lookup across modules.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import re
import time
from dataclasses import dataclass
from typing import Any

from scanner.engine import decoders
from scanner.engine.prefilter import GATE, HYPERSCAN_AVAILABLE, PREFILTER, Pattern, Prefilter, gate_refused
from scanner.engine.runs import RunFinder, Shape, class_bytes, shape_of
from scanner.errors import UsageError
from scanner.rules.checksums import CHECKSUMS, FILTERS, low_information, shannon_entropy
from scanner.rules.context import gate_error
from scanner.rules.loader import Rule

# How far a rule's regex may reach from a keyword hit: to the line's ends, but never further than this.
# Tokens are short; the caps keep a 60 KB minified line from turning one hit into a 60 KB regex run.
WINDOW_BEFORE = 512
WINDOW_AFTER = 1024


@dataclass(frozen=True)
class Match:
    rule: Rule
    start: int  # offsets of the secret in the chunk
    end: int
    secret: str
    checksum: str  # valid | invalid | none
    tags: tuple[str, ...] = ()
    encoding: str = "plain"  # plain | base64 | url | json | utf-16, nested as base64+json


def _lines_above(data: bytes, line_start: int, lines: int, reach: int) -> int:
    """The start of the line `lines` lines above the one starting at line_start, each at most reach bytes."""
    lo = line_start
    for _ in range(lines):
        if lo == 0:
            break
        floor = max(0, lo - 1 - reach)
        nl = data.rfind(b"\n", floor, lo - 1)
        lo = floor if nl < 0 else nl + 1
    return lo


def _line_bounds(data: bytes, start: int, end: int, before: int, after: int, lines_after: int = 0
                 ) -> tuple[int, int]:
    """The line(s) around [start, end): back to the line start, forward to the end of the line and
    `lines_after` more lines (a key under a `cloudflare:` block), never further than before/after bytes."""
    lo = max(0, start - before)
    nl = data.rfind(b"\n", lo, start)
    lo = lo if nl < 0 else nl + 1
    hi = min(len(data), end + after * (1 + lines_after))
    nl = data.find(b"\n", end, hi)
    for _ in range(lines_after):
        if nl < 0:
            break
        nl = data.find(b"\n", nl + 1, hi)
    return lo, (hi if nl < 0 else nl)


def _span_at(spans: list[tuple[int, int]] | None, pos: int) -> tuple[int, int] | None:
    """The one of the sorted, disjoint spans that holds pos, if any."""
    if not spans:
        return None
    i = bisect.bisect_right(spans, (pos, 1 << 62)) - 1
    return spans[i] if i >= 0 and spans[i][0] <= pos < spans[i][1] else None


_RUN_END: dict[bytes, Any] = {}  # a byte -> the regex of any other byte (_keyword_windows)

DEFAULT_DECODE_DEPTH = 2
# All of a rule's filters must pass, so they run cheapest first: on a file of commit ids, `not-hex`
# rejects a candidate in a microsecond that `not-placeholder` would take several to pass.
_FILTER_COST = {"not-hex": 0, "mixed-case": 1, "has-digit": 1, "not-identifier": 2, "not-placeholder": 3}
DEFAULT_RULE_TIMEOUT = 2.0  # seconds one rule's patterns may take on one chunk


class RuleTimeout(Exception):
    """A rule's patterns used up their time budget on this chunk."""


class _Budget:
    """One rule's remaining time on one chunk; every pattern call of the rule draws on it."""

    __slots__ = ("deadline", "skipped")

    def __init__(self, seconds: float, skipped: Warnings | None = None) -> None:
        self.deadline = time.monotonic() + seconds
        self.skipped = skipped  # receives a "placeholder" warning for each value dropped as one

    def left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise RuleTimeout
        return left

    def search(self, pattern: Any, text: bytes, lo: int = 0, hi: int | None = None) -> Any:
        try:
            return pattern.search(text, lo, len(text) if hi is None else hi, timeout=self.left())
        except TimeoutError:
            raise RuleTimeout from None

    def found(self, pattern: Any, text: bytes) -> bool:
        return self.search(pattern, text) is not None


Warnings = list[tuple[str, str]]  # (kind, message)


def refused_gates(rules: list[Rule]) -> list[tuple[Rule, str]]:
    """(rule, gate) for each context gate of a user's rule that Hyperscan (when installed) refuses: an error
    when the rules are built, not a gate searched with `regex` on every chunk. Shipped rules: the tests."""
    return [(r, g) for r in rules if not r.shipped and r.context_spec is not None
            for g in r.context_spec.gates if gate_refused(g)]


class Engine:
    """decode_depth bounds how many encodings deep a secret is looked for (0: plain text only);
    rule_timeout is each rule's time budget per chunk."""

    def __init__(self, rules: list[Rule], accelerated: bool | None = None,
                 decode_depth: int = DEFAULT_DECODE_DEPTH, rule_timeout: float = DEFAULT_RULE_TIMEOUT) -> None:
        bad_gates = refused_gates(rules)
        if bad_gates:
            r, gate = bad_gates[0]
            raise UsageError(f"{r.source}: rule '{r.id}' {gate_error(gate)}")
        self.rules = rules
        self.decode_depth = decode_depth
        self.rule_timeout = rule_timeout
        self._use_hs = HYPERSCAN_AVAILABLE if accelerated is None else bool(accelerated)
        literals: list[tuple[bytes, bool]] = []
        targets: list[int] = []  # per keyword literal: its rule
        self._always = [ri for ri, rule in enumerate(rules) if not rule.keywords]  # gitleaks rules without keywords
        self._kw = [tuple(dict.fromkeys(k.lower().encode("utf-8") for k in r.keywords)) for r in rules]
        # A candidate-first rule's candidates: the runs of its class its regex may match whole, and the base64
        # runs that may encode them (when decoding), all found by one RunFinder pass (scanner/engine/runs.py).
        self._cand_shape = {ri: shape_of(r.pattern, *r.context_spec.run) for ri, r in enumerate(rules)
                            if r.context_spec is not None}
        # the same values base64-encoded under their name (a Kubernetes Secret's data)
        b64_shape = {ri: Shape.plain(*_base64_run(r.context_spec.run)) for ri, r in enumerate(rules)
                     if r.context_spec is not None and decode_depth > 0}
        self.runs = RunFinder([*self._cand_shape.values(), *b64_shape.values()])
        run_index = {shape: i for i, shape in enumerate(self.runs.shapes)}
        self._cand_of = {ri: run_index[shape] for ri, shape in self._cand_shape.items()}
        self._b64_of = {ri: run_index[b64_shape[ri]] if ri in b64_shape else -1 for ri in self._cand_shape}
        # Native patterns (Hyperscan only). A keyword-anchored rule whose regex Hyperscan takes (in prefilter
        # mode: a superset, never a miss) is judged only where its regex can match: its keywords are then
        # looked for near those places, not reported at every occurrence. See _chains and _native_shape.
        # A candidate-first rule's context gates are matched there too.
        patterns: list[list[Pattern]] = []
        self._pattern_target: list[tuple[str, int]] = []  # ("rule" | "gate", rule index)
        self._offered: set[int] = set()
        self._pattern_of_rule: dict[int, int] = {}
        if self._use_hs:
            for ri, rule in enumerate(rules):
                if rule.context_spec is None and rule.keywords:
                    shape = _native_shape(rule.pattern)
                    if shape is not None:
                        self._pattern_of_rule[ri] = len(patterns)
                        patterns.append([(shape, PREFILTER)])
                        self._pattern_target.append(("rule", ri))
                        self._offered.add(ri)
                elif rule.context_spec is not None:
                    for gate in rule.context_spec.gates:  # in play where a gate matches, as where a keyword occurs
                        patterns.append([(gate.encode("utf-8"), GATE)])
                        self._pattern_target.append(("gate", ri))
        for ri in range(len(rules)):
            for k in self._kw[ri]:
                literals.append((k, True))
                targets.append(ri)
        decoder_of: dict[tuple[bytes, bool], str] = {}  # (literal, caseless) -> decoder kind
        marker_of: dict[tuple[bytes, bool], str] = {}  # a marker (data: URI) -> the decoder it opens a region of
        if decode_depth > 0:
            for sigs in decoders.signatures_of(sorted({k for rule in rules for k in rule.keywords})).values():
                decoder_of.update(((lit.lower() if ci else lit, ci), kind) for lit, kind, ci in sigs)
            marker_of = {(m.lower(), True): kind for kind, d in decoders.DECODERS.items()
                         for m in getattr(d, "markers", ())}
            # markers (reported at their first occurrence) before signatures: both matcher paths meet a
            # marker before the signature hits inside any region (Hyperscan reports by end offset; the
            # fallback literal by literal)
            literals.extend(marker_of)
            literals.extend(decoder_of)
        # a keyword whose rules only need to know that it occurs in the chunk (candidate-first rules, rules
        # with a native pattern) is reported once per chunk, not at every occurrence
        positional = {(k, True) for ri, rule in enumerate(rules) if rule.context_spec is None and ri not in self._offered
                      for k in self._kw[ri]}
        presence = [(k, True) for ri, rule in enumerate(rules) if rule.context_spec is not None or ri in self._offered
                    for k in self._kw[ri]]
        # a deferred pattern (a slow rule regex) has a pass of its own, run only where its rule is in play
        groups = [f"{kind}:{t}" for kind, t in self._pattern_target]
        self.prefilter = Prefilter(literals, accelerated, [lit for lit in presence if lit not in positional] + [*marker_of],
                                   patterns, groups)
        # rule -> the group of its deferred native pattern
        self._group_of = {t: g for (_, t), d, g in zip(self._pattern_target, self.prefilter.deferred, groups,
                                                       strict=True) if d}
        index = {lit: i for i, lit in enumerate(self.prefilter.literals)}
        rules_of: list[list[int]] = [[] for _ in self.prefilter.literals]
        context_of: list[list[int]] = [[] for _ in self.prefilter.literals]
        self._decoder_of: list[str | None] = [None] * len(self.prefilter.literals)
        for sig, kind in decoder_of.items():
            self._decoder_of[index[sig]] = kind
        # per literal that is a decoder's signature and nothing else, that decoder: such a hit inside a region
        # of its decoder decoded whole is skipped at once (a megabyte inline source map holds ~100,000)
        self._signature_only: list[str | None] = list(self._decoder_of)
        self._marker_of: list[str | None] = [None] * len(self.prefilter.literals)
        for marker, kind in marker_of.items():
            if self._decoder_of[index[marker]] is None:
                self._marker_of[index[marker]] = kind
        for (lit, ci), target in zip(literals[:len(targets)], targets, strict=True):  # keywords come first
            i = index[(lit.lower() if ci else lit, ci)]
            self._signature_only[i] = None
            gated = rules[target].context_spec is not None or target in self._offered
            into = context_of if gated else rules_of
            if target not in into[i]:
                into[i].append(target)
        # per literal, the rules it serves: most literals (encoded forms) serve none, and share one empty
        # tuple, which keeps the engine small to load from the cache (scanner/engine/saved.py)
        self._rules_of: list[tuple[int, ...]] = [tuple(x) if x else () for x in rules_of]
        self._context_of: list[tuple[int, ...]] = [tuple(x) if x else () for x in context_of]
        # per literal, the rules whose every match starts with it after a lookbehind: a hit of it glued to
        # a byte that lookbehind refuses (`ion_` in `version_`) cannot start a match, and costs that rule
        # nothing (a match elsewhere starts at a hit of its own)
        leads = {ri: lead for ri, r in enumerate(rules) if (lead := _lead_of(r.pattern)) is not None}
        self._refused_before: list[dict[int, frozenset[int]]] = [
            {ri: leads[ri][1] for ri in serves if ri in leads and leads[ri][0].startswith(lit)} or _NONE
            for (lit, ci), serves in zip(self.prefilter.literals, self._rules_of, strict=True)]
        # a denylist entry ending in `*`: a published sample with its tail edited (AWS's documentation secret
        # turned `…bPxRfiCYFAKEKEY`) is the same sample
        self._denied_prefixes = [tuple(d[:-1] for d in r.denylist if d.endswith("*")) for r in self.rules]
        self._filters = [tuple(FILTERS[n] for n in sorted(r.filters, key=lambda n: _FILTER_COST.get(n, 9)))
                         for r in rules]
        self._anchored: dict[int, Any] = {}  # candidate-first rules' regexes anchored to whole lines
        # gates: pattern indices of the native ones; compiled with `regex` where Hyperscan is not used or
        # refused one (a rule with any such gate tests all of its gates that way)
        self._gate_pis = frozenset(pi for pi, (kind, _) in enumerate(self._pattern_target)
                                   if kind == "gate" and self.prefilter.native[pi] >= 0)
        refused = {t for pi, (kind, t) in enumerate(self._pattern_target) if kind == "gate" and pi not in self._gate_pis}
        self._gate_regex = {ri: r.context_spec.gate_patterns for ri, r in enumerate(rules)
                            if r.context_spec is not None and r.context_spec.gates and (not self._use_hs or ri in refused)}
        # per candidate-first rule: the base64 characters that can open a quad encoding its values (see
        # _encoded_candidates), as translate()'s delete argument
        self._b64_heads = {ri: _b64_heads(r.context_spec.run[0]) for ri, r in enumerate(rules)
                           if r.context_spec is not None}

    @property
    def accelerated(self) -> bool:
        return self.prefilter.accelerated

    def scan(self, data: bytes, depth: int = 0, path: str | None = None,
             warnings: Warnings | None = None, binary: bool = False) -> list[Match]:
        """path (optional) serves rules and allowlists restricted to some paths; the engine reads nothing.
        warnings (optional) receives (kind, message) pairs, e.g. a rule that ran out of time.
        binary: binary content was asked for (--include-binary): embedded assets are decoded too."""
        hits, native = self.prefilter.scan(data)
        gates = ({self._pattern_target[pi][1] for pi, _s, _e in native if pi in self._gate_pis}
                 if self._gate_pis and native else set())
        if not hits and not gates and not self._always and not self._gate_regex:
            return []
        windows: dict[int, list[tuple[int, int]]] = {ri: [(0, len(data))] for ri in self._always}
        gated: set[int] = set()  # rules one of whose keywords occurs in the chunk (candidate-first, native)
        regions: dict[str, set[tuple[int, int]]] = {}
        lengths = self.prefilter.lengths
        last_run: dict[str, tuple[int, int]] = {}
        marked: dict[str, list[tuple[int, int]]] = {}  # regions markers offer, per decoder, in order
        opened: dict[tuple[str, int, int], list[decoders.View]] = {}  # offered regions decoded whole
        inside = ("", -1, -1)  # the region last decoded whole, and its decoder: its signature hits add nothing
        signature_only = self._signature_only
        public: list[tuple[int, int]] | None = None  # armour around public material (see _public_armour)
        for kid, pos in hits:
            if inside[1] <= pos < inside[2] and signature_only[kid] == inside[0]:
                continue
            gated.update(self._context_of[kid])
            kind = self._decoder_of[kid]
            if kind is None and not self._rules_of[kid]:
                marker = self._marker_of[kid]  # (reported once per chunk: its decoder finds every region)
                if marker is not None and depth < self.decode_depth:
                    marked[marker] = decoders.DECODERS[marker].marked_regions(data)  # type: ignore[attr-defined]
                continue
            if kind is not None and depth < self.decode_depth:
                if public is None:  # at the first signature hit: most chunks have none
                    public = _public_armour(data)
                if not _within(public, pos, pos):  # a certificate's base64 is not decoded
                    decoder = decoders.DECODERS[kind]
                    last = last_run.get(kind, (0, 0))
                    # a hit well inside the run last decoded (a wrapped base64 block is one run), or inside a
                    # region a marker offered that decodes whole to text, adds nothing; such a region is decoded
                    # at its first signature hit (one with none costs nothing)
                    whole = _span_at(marked.get(kind), pos)
                    key = (kind, *whole) if whole is not None else None
                    if key is not None and key not in opened:
                        opened[key] = self._open(decoder, data, whole)  # type: ignore[arg-type]
                        if opened[key]:
                            inside = key  # type: ignore[assignment]
                    if not (decoder.whole_run and last[0] <= pos < last[1] - WINDOW_AFTER) and \
                            not (key is not None and opened[key]):
                        # a run's decoder (base64) never reads the line: a bundle's signature hits cost no line search
                        line = (pos, pos) if decoder.whole_run else _line_bounds(data, pos, pos + lengths[kid],
                                                                                 WINDOW_BEFORE, WINDOW_AFTER)
                        region = decoder.region(data, pos, line)
                        last_run[kind] = region
                        regions.setdefault(kind, set()).add(region)
            span: tuple[int, int] | None = None  # the hit's line: one search for every rule of the keyword
            refused = self._refused_before[kid]
            for ri in self._rules_of[kid]:
                if refused and pos and ri in refused and data[pos - 1] in refused[ri]:
                    continue
                extra = self.rules[ri].lines_after
                if extra:
                    window = _line_bounds(data, pos, pos + lengths[kid], WINDOW_BEFORE, WINDOW_AFTER, extra)
                else:
                    window = span = span or _line_bounds(data, pos, pos + lengths[kid], WINDOW_BEFORE, WINDOW_AFTER)
                windows.setdefault(ri, []).append(window)
        gated.update(gates)
        # gates searched with `regex` (without Hyperscan, or one it refused): only for a rule with a candidate
        # in the chunk, found first (most chunks have none: then no gate is compiled, nor `regex` loaded)
        pending = [ri for ri in self._gate_regex if ri not in gated]
        candidate_first = {ri for ri in gated if self.rules[ri].context_spec is not None}
        if self._use_hs:
            wanted = {self._group_of[ri] for ri in gated if ri in self._group_of}
            if wanted:  # deferred patterns serving a rule in play
                native += self.prefilter.scan_deferred(data, sorted(wanted))
            self._native_windows(data, native, gated, windows)
        else:
            for ri in gated - candidate_first:  # (not reached: without Hyperscan no rule is gated by keyword)
                windows[ri] = self._keyword_windows(ri, data, 0, len(data))
        b64 = self.runs.find(data) if candidate_first or pending else []
        if public is None and any(b64):
            public = _public_armour(data)
        if public:  # a certificate's or public key's base64 holds no secret: no candidate there
            b64 = [[(s, e) for s, e in spans if not _within(public, s, e)] for spans in b64]
        decode = depth < self.decode_depth
        for ri in pending:  # under the rule's budget
            if (b64[self._cand_of[ri]] or (decode and b64[self._b64_of[ri]])) and \
                    self._gate_matches(ri, self._gate_regex[ri], data, path, warnings):
                candidate_first.add(ri)
        cands = {ri: b64[self._cand_of[ri]] for ri in candidate_first}
        found: dict[tuple[int, int, str], Match] = {}
        taken: set[tuple[int, int]] = set()  # a span claimed by an earlier rule is not reported twice
        # a candidate-first rule in play with no candidate, plain or encoded, costs nothing more (most chunks
        # that name Cloudflare hold none)
        in_play = windows.keys() | {ri for ri in candidate_first if cands.get(ri) or (decode and b64[self._b64_of[ri]])}
        for ri in sorted(in_play):
            rule = self.rules[ri]
            if rule.path_pattern is not None and (path is None or not rule.path_pattern.search(path)):
                continue
            budget = _Budget(self.rule_timeout, warnings if depth == 0 else None)
            try:
                if ri in candidate_first:
                    self._candidates(ri, data, cands.get(ri, []), path, budget, found, taken)
                    if decode:
                        self._encoded_candidates(ri, data, b64[self._b64_of[ri]], path, budget, found, taken)
                else:
                    self._windows(ri, data, windows[ri], path, budget, found, taken)
            except RuleTimeout:
                if warnings is not None:
                    message = (f"rule '{rule.id}' ({rule.source}) ran over its {self.rule_timeout:g} s budget "
                               f"on {path or 'a chunk'}; skipped there")
                    warnings.append(("rule-timeout", message))
        for (kind, lo, hi), views in opened.items():
            if views:
                regions.setdefault(kind, set()).add((lo, hi))
        decoded = [m for kind, spans in regions.items() for span in sorted(spans)
                   for m in self._scan_decoded(data, kind, span, depth, path, warnings, binary,
                                               opened.get((kind, *span)))]
        for m in decoded:  # one encoded value may hold several secrets: keyed by secret too
            found.setdefault((m.start, m.end, m.secret), m)
        return sorted(found.values(), key=lambda m: m.start)

    def _gate_matches(self, ri: int, gate_patterns: tuple[Any, ...], data: bytes, path: str | None,
                      warnings: Warnings | None) -> bool:
        """A gate out of time is taken as matched: the rule is then in play, as without gates (and its own
        budget bounds what follows)."""
        budget = _Budget(self.rule_timeout)
        try:
            return any(g.search(data, timeout=budget.left()) for g in gate_patterns)
        except TimeoutError:
            if warnings is not None:
                warnings.append(("rule-timeout", f"rule '{self.rules[ri].id}' ({self.rules[ri].source}): a context "
                                 f"gate ran over its {self.rule_timeout:g} s budget on {path or 'a chunk'}"))
            return True

    def _native_windows(self, data: bytes, native: list[tuple[int, int, int]], gated: set[int],
                        windows: dict[int, list[tuple[int, int]]]) -> None:
        """The windows of keyword-anchored rules in play that the Hyperscan pass found: only around places
        their regex may match, and only when one of their keywords occurs in the chunk."""
        ends: dict[int, list[int]] = {}
        for pi, _start, end in native:
            kind, t = self._pattern_target[pi]
            if kind == "rule" and t in gated:
                ends.setdefault(t, []).append(end)
        for ri, es in ends.items():
            chains = self._chains(ri, data, sorted(set(es)))
            if chains:
                windows[ri] = chains
        for ri in gated:
            if ri in self._offered and self.prefilter.native[self._pattern_of_rule[ri]] < 0:
                windows[ri] = self._keyword_windows(ri, data, 0, len(data))  # Hyperscan refused the regex

    def _keyword_windows(self, ri: int, data: bytes, a: int, b: int) -> list[tuple[int, int]]:
        """The windows of the rule's keyword occurrences that start in [a, b) (overlapping ones included,
        caseless), as the prefilter would have reported them."""
        a, b = max(0, a), min(len(data), b)
        if a >= b:
            return []
        kws = self._kw[ri]
        extra = self.rules[ri].lines_after
        hay = data[a:b + max(len(k) for k in kws) - 1].lower()
        out: list[tuple[int, int]] = []
        for k in kws:
            i = hay.find(k)
            while 0 <= i < b - a:
                # overlapping occurrences (a run of "AAAA…" holds the keyword at every offset) make one
                # window from the first's start to the last's end: what merging their windows gives, since
                # window bounds grow with the hit. A keyword of one repeated byte jumps to its run's end.
                last = i
                nxt = hay.find(k, i + 1)
                while 0 <= nxt < b - a and nxt < last + len(k):
                    last = nxt
                    if k.count(k[:1]) == len(k):
                        run = _RUN_END.setdefault(k[:1], re.compile(b"[^" + re.escape(k[:1]) + b"]"))
                        stop = run.search(hay, last)
                        last = min((stop.start() if stop else len(hay)) - len(k), b - a - 1)
                    nxt = hay.find(k, last + 1)
                lo = _line_bounds(data, a + i, a + i + len(k), WINDOW_BEFORE, WINDOW_AFTER, extra)[0]
                out.append((lo, _line_bounds(data, a + last, a + last + len(k), WINDOW_BEFORE, WINDOW_AFTER, extra)[1]))
                i = nxt
        return out

    def _chains(self, ri: int, data: bytes, ends: list[int]) -> list[tuple[int, int]]:
        """The merged keyword windows (as _merge makes them from every keyword hit) that hold one of the
        sorted `ends` where the rule's regex may match: found by looking for the keywords only near those
        ends, and further out only while the windows found still reach further. Cost follows the places
        shaped like the rule's credential, not the number of times the chunk names the keyword."""
        kws = self._kw[ri]
        after = WINDOW_AFTER * (1 + self.rules[ri].lines_after) + max(len(k) for k in kws) + 1
        before = WINDOW_BEFORE + 1
        n = len(data)
        out: list[tuple[int, int]] = []
        for e in ends:
            if out and e <= out[-1][1]:
                continue  # inside the chain just found (ends ascend; chains are disjoint)
            a, b = max(0, e - after), min(n, e + before)
            ws = self._keyword_windows(ri, data, a, b)
            while True:
                comp = _component(ws, e)
                if comp is None:
                    break
                lo, hi = comp
                need_a, need_b = max(0, lo - after), min(n, hi + before)
                if need_a >= a and need_b <= b:
                    out.append(comp)
                    break
                grow = max(after, hi - lo)  # a long chain is followed in doubling steps, not window by window
                if need_a < a:
                    na = max(0, min(need_a, a - grow))
                    ws += self._keyword_windows(ri, data, na, a)
                    a = na
                if need_b > b:
                    nb = min(n, max(need_b, b + grow))
                    ws += self._keyword_windows(ri, data, b, nb)
                    b = nb
        return out

    def _windows(self, ri: int, data: bytes, spans: list[tuple[int, int]], path: str | None, budget: _Budget,
                 found: dict[tuple[int, int, str], Match], taken: set[tuple[int, int]]) -> None:
        """A keyword-anchored rule: its regex in the windows around its keyword hits."""
        rule = self.rules[ri]
        g = rule.secret_group
        for lo, hi in _merge(spans):
            try:
                for m in rule.compiled.finditer(data, lo, hi, timeout=budget.left()):
                    s, e = m.span(g)
                    if s >= 0:
                        self._take(ri, data, s, e, m, g, path, budget, found, taken)
            except TimeoutError:
                raise RuleTimeout from None

    def _take(self, ri: int, data: bytes, s: int, e: int, m: Any, g: int | str, path: str | None,
              budget: _Budget, found: dict[tuple[int, int, str], Match], taken: set[tuple[int, int]]) -> None:
        """Judge the secret at [s, e) once: a span an earlier match already holds is not judged again."""
        if (s, e) in taken:
            return
        match = self._judge(ri, data, s, e, m.group(g), m, path, budget)
        if match is not None:
            found[(s, e, match.secret)] = match
            taken.add((s, e))

    def _candidates(self, ri: int, data: bytes, spans: list[tuple[int, int]], path: str | None,
                    budget: _Budget, found: dict[tuple[int, int, str], Match], taken: set[tuple[int, int]]) -> None:
        """A candidate-first rule: every run of its value's class is a candidate; the regex must match the
        whole run, then the value filters, then the name it is assigned to (cheap rejections first).

        The candidates are joined one per line and the rule's regex, anchored to whole lines, runs once over
        them: rejecting a commit id costs C time, not a Python call per candidate."""
        rule = self.rules[ri]
        if not spans:
            return
        anchored = self._anchored.get(ri)
        if anchored is None:
            import regex

            anchored = self._anchored[ri] = regex.compile(b"(?m)^(?:" + rule.pattern.encode("utf-8") + b")$")
        joined = b"\n".join(data[s:e] for s, e in spans)
        starts: list[int] = []
        at = 0
        for s, e in spans:
            starts.append(at)
            at += e - s + 1
        g = rule.secret_group
        try:
            for m in anchored.finditer(joined, timeout=budget.left()):
                k = bisect.bisect_right(starts, m.start()) - 1
                shift = spans[k][0] - starts[k]
                gs, ge = m.span(g)
                if gs < 0:
                    continue
                self._take(ri, data, gs + shift, ge + shift, m, g, path, budget, found, taken)
        except TimeoutError:
            raise RuleTimeout from None

    def _encoded_candidates(self, ri: int, data: bytes, spans: list[tuple[int, int]], path: str | None,
                            budget: _Budget, found: dict[tuple[int, int, str], Match],
                            taken: set[tuple[int, int]]) -> None:
        """A candidate-first rule's values base64-encoded where they are assigned (`CF_API_TOKEN: <base64>`
        under a Kubernetes Secret's `data:`): each base64 run of the encoded length is decoded (a trailing
        newline from `echo` dropped), must match the rule's regex whole, and is judged by the name the
        ENCODED value is assigned to. The finding's place is the encoded text, its encoding `base64`."""
        rule = self.rules[ri]
        g = rule.secret_group
        heads = self._b64_heads[ri]
        for s, e in spans:
            if (s, e) in taken:
                continue
            # every quad but the last (which may encode the trailing newline) opens with a character that
            # encodes a byte of the value's class: a path or a CamelCase name fails here, without decoding
            if data[s:e - 4:4].translate(None, heads):
                continue
            end = e
            while end < len(data) and end - e < 2 and data[end] == 0x3D:  # padding
                end += 1
            try:
                value = base64.b64decode(data[s:end] + b"=" * (-(end - s) % 4), validate=True).rstrip(b"\r\n")
            except (binascii.Error, ValueError):
                continue
            try:
                m = rule.compiled.fullmatch(value, timeout=budget.left())
            except TimeoutError:
                raise RuleTimeout from None
            if m is None or m.span(g)[0] < 0:
                continue
            match = self._judge(ri, data, s, end, m.group(g), m, path, budget)
            if match is not None:
                match = Match(rule, s, end, match.secret, match.checksum, match.tags, "base64")
                found[(s, end, match.secret)] = match
                taken.add((s, e))

    def _scan_decoded(self, data: bytes, kind: str, span: tuple[int, int], depth: int, path: str | None,
                      warnings: Warnings | None = None, binary: bool = False,
                      views: list[decoders.View] | None = None) -> list[Match]:
        """Matches inside an encoded region, placed on the encoded text in the original chunk. views: the
        region's decodings when already made (a region a marker offered, see _open)."""
        lo, hi = span
        region = data[lo:hi]
        out: list[Match] = []
        # a value with no offset map (base64) is placed as a whole; of a wrapped block, on its first line
        nl = region.find(b"\n")
        end = hi if nl < 0 else lo + len(region[:nl].rstrip(b"\r"))
        if views is None:
            views = decoders.DECODERS[kind].views(region)
            if not binary:
                views = [v for v, keep in zip(views, decoders.worth_scanning([v.data for v in views]), strict=True)
                         if keep]
        for view in views:
            for m in self.scan(view.data, depth + 1, path, warnings, binary):
                encoding = view.label if m.encoding == "plain" else f"{view.label}+{m.encoding}"
                if view.where is None:
                    out.append(Match(m.rule, lo, end, m.secret, m.checksum, m.tags, encoding))
                else:
                    out.append(Match(m.rule, lo + view.where[m.start], lo + decoders.mapped_end(view.where, m.end),
                                     m.secret, m.checksum, m.tags, encoding))
        return out

    @staticmethod
    def _open(decoder: Any, data: bytes, span: tuple[int, int]) -> list[decoders.View]:
        """The decodings of a region a marker offered, if they are text to scan whole (a data: URI's payload);
        none (the region's hits are then decoded around each, as any run's) when the payload does not
        decode from its first character, or decodes to binary (a NUL, noise): a window around a hit may
        still hold a clean piece."""
        views = decoder.marked_views(data[span[0]:span[1]])
        if not views or any(not keep for keep in decoders.worth_scanning([v.data for v in views], alone=True)):
            return []
        return views

    def _judge(self, ri: int, data: bytes, s: int, e: int, raw: bytes, m: object, path: str | None,
               budget: _Budget) -> Match | None:
        rule = self.rules[ri]
        secret = raw.decode("utf-8", "replace")
        if secret in rule.denylist or (self._denied_prefixes[ri] and secret.startswith(self._denied_prefixes[ri])):
            self._skip(budget, rule, data, s, "a sample key its vendor publishes (the rule's denylist)")
            return None
        for check in self._filters[ri]:
            if not check(secret):
                if check is _NOT_PLACEHOLDER:
                    self._skip(budget, rule, data, s, "a placeholder (README's placeholder policy)")
                return None
        if rule.context_spec is not None and not rule.context_spec.owns(data, s, e, budget.found):
            return None
        if rule.min_entropy and shannon_entropy(secret) < rule.min_entropy:
            return None
        if rule.compiled_context is not None:
            lo, hi = _line_bounds(data, s, e, WINDOW_BEFORE, WINDOW_BEFORE)
            # a rule that reaches lines_after below its keyword reads its context as far above the secret:
            # `provider "mailgun" {` over `api_key = "key-..."`, `- name: AIRTABLE_KEY` over `value: ...`
            lo = _lines_above(data, lo, rule.lines_after, WINDOW_BEFORE)
            if budget.search(rule.compiled_context, data, lo, hi) is None:
                return None
        if rule.allowlists:
            lo, hi = _line_bounds(data, s, e, WINDOW_BEFORE, WINDOW_AFTER)
            whole = m.group(0)  # type: ignore[attr-defined]
            budget.left()  # allowlist patterns are short and run on one line; checked between candidates
            if any(a.allows(raw, whole, data[lo:hi], path) for a in rule.allowlists):
                return None
        checksum, tags = "none", rule.tags
        if rule.validator:
            construction = CHECKSUMS[rule.validator]
            checksum = "valid" if construction.valid(secret) else "invalid"
            if checksum == "valid" and low_information(secret[construction.body_slice]):
                tags = tags + ("test-token",)
            elif checksum == "invalid" and _NOT_PLACEHOLDER not in self._filters[ri] and not _NOT_PLACEHOLDER(secret):
                # a checksum rule needs no placeholder filter while its checksum holds; once it fails, the
                # value is listed, so the policy applies as in every other rule (`ghp_xxxx…` is a placeholder)
                self._skip(budget, rule, data, s, "a placeholder (README's placeholder policy)")
                return None
        return Match(rule, s, e, secret, checksum, tags)


    @staticmethod
    def _skip(budget: _Budget, rule: Rule, data: bytes, s: int, why: str) -> None:
        """What --list-skipped names: the rule, the place and why, never the value (a sample key is still a
        key-shaped string)."""
        if budget.skipped is not None:
            line = data.count(b"\n", 0, s) + 1
            col = s - data.rfind(b"\n", 0, s)
            budget.skipped.append(("placeholder", f"line {line} column {col}: {rule.id} not reported: the value "
                                                  f"is {why}"))


_NOT_PLACEHOLDER = FILTERS["not-placeholder"]


_ARMOUR = re.compile(rb"-----BEGIN ((?:TRUSTED )?CERTIFICATE|X509 CRL|(?:NEW )?CERTIFICATE REQUEST|"
                     rb"(?:RSA |EC )?PUBLIC KEY|PGP PUBLIC KEY BLOCK)-----")


def _public_armour(data: bytes) -> list[tuple[int, int]]:
    """The spans of PEM (and PGP) armour around public material: certificates, CRLs, requests,
    public keys. Their base64 is public by construction (a CA bundle is megabytes of it, and decoding its
    DER cost pip's history a tenth of its scan), while a prefixed token pasted inside is still found by its
    keyword rule on the raw text."""
    if b"-----BEGIN " not in data:
        return []
    out = []
    for m in _ARMOUR.finditer(data):
        end = data.find(b"-----END " + m.group(1) + b"-----", m.end())
        if end >= 0:
            out.append((m.start(), end + len(m.group(1)) + 14))
    return out


def _within(blocks: list[tuple[int, int]], s: int, e: int) -> bool:
    """Whether [s, e) lies inside one of the sorted, disjoint blocks."""
    i = bisect.bisect_right(blocks, (s + 1,)) - 1  # the last block starting at or before s
    return i >= 0 and blocks[i][0] <= s and e <= blocks[i][1]


def _base64_run(run: tuple[str, int, int]) -> tuple[str, int, int]:
    """The standard-base64 run that encodes a value of the given lengths, plus up to two newline bytes."""
    _, lo, hi = run
    return ("A-Za-z0-9+/", -(-4 * lo // 3), -(-4 * (hi + 2) // 3))


def _b64_heads(cls: str) -> bytes:
    """The base64 characters that open a quad whose first byte is in the class (byte >> 2 picks it)."""
    return bytes(sorted({decoders.B64_ALPHABET[b >> 2] for b in class_bytes(cls)}))


def _component(windows: list[tuple[int, int]], e: int) -> tuple[int, int] | None:
    """The merged window (as _merge merges) holding the end offset e: lo < e <= hi."""
    for lo, hi in _merge(windows) if windows else []:
        if lo < e <= hi:
            return lo, hi
    return None


_NONE: dict[int, frozenset[int]] = {}
_LEAD = re.compile(r"\(\?<!\[((?:[^\]\\]|\\.)+)\]\)\((?:\?:|\?P<\w+>)?((?:[A-Za-z0-9_]|\\[-.~$/])+)(.?)")


def _lead_of(pattern: str) -> tuple[bytes, frozenset[int]] | None:
    """(literal every match starts with, lowercased; the bytes the lookbehind before it refuses) for a
    pattern of the form `(?<![class])(literal...`, else None. A literal's last character followed by a
    quantifier is not part of it."""
    m = _LEAD.match(pattern)
    if m is None or "|" in pattern:  # (an alternative may start otherwise)
        return None
    literal = re.sub(r"\\(.)", r"\1", m.group(2))
    if m.group(3) in ("?", "*", "{"):
        literal = literal[:-1]
    if not literal:
        return None
    try:
        cls = re.compile(f"[{m.group(1)}]".encode())
    except re.error:
        return None
    return literal.lower().encode(), frozenset(b for b in range(256) if cls.fullmatch(bytes([b])))


_BOUND = re.compile(r"\{(\d*)(?:,(\d*))?\}")
_UNSAFE = re.compile(r"\{,|\\[AZzG]|\(\?P?[=>&]|(?<!^)\(\?[a-zA-Z]+\)")
_NAMED = re.compile(r"\(\?P?<(?![=!])\w+>")


def _native_shape(pattern: str) -> bytes | None:
    """A rule's regex as Hyperscan may take it, or None to keep it off the native pass (a catastrophic or
    differently-read pattern must not cost minutes of compiling or lose a match): named groups become plain
    groups; refused are repeat bounds over 2048 (or 4096 in all; Hyperscan unrolls them: two {1,12000}
    repeats took 80 s to compile), `{,n}` (a literal in PCRE), anchors of the whole text, back references
    and flags switched on mid-pattern (global in `regex`, scoped in PCRE)."""
    if _UNSAFE.search(pattern):
        return None
    total = 0
    for m in _BOUND.finditer(pattern):
        bound = int(m.group(2) or m.group(1) or 0)
        if bound > 2048:
            return None
        total += bound
    if total > 4096:
        return None
    return _NAMED.sub("(", pattern).encode("utf-8")


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    spans.sort()
    out = [spans[0]]
    for lo, hi in spans[1:]:
        plo, phi = out[-1]
        if lo <= phi:
            if hi > phi:
                out[-1] = (plo, hi)
        else:
            out.append((lo, hi))
    return out
