"""Prefilter -> rule regex in a window around each keyword hit -> validators, on bytes.

The engine knows nothing of files or git: it takes bytes and returns matches with offsets. Line and column
are worked out by the caller only for matches, never for the whole chunk.

Two kinds of rule. Keyword-anchored rules (a prefix such as `cfut_`) run their regex in a window around
each keyword hit. Candidate-first rules (a `[rules.context]` table: unprefixed values such as legacy
Cloudflare tokens) only need to know that one of their keywords occurs in the chunk; their candidates are
runs of the value's character class, and each is judged by the name it is assigned to (scanner/context.py).
Their cost follows the number of candidates, not the number of times the chunk names the vendor.

Every rule pattern runs under a time budget per chunk (`rule_timeout`): rules may come from an untrusted
file, and one catastrophic regex must not hang a scan. A rule over budget is skipped for the rest of the
chunk and reported as a `rule-timeout` warning.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import time
from dataclasses import dataclass
from typing import Any

import regex

from scanner import decoders
from scanner.prefilter import Prefilter, RunFinder
from scanner.rules import Rule
from scanner.validators import CHECKSUMS, FILTERS, low_information, shannon_entropy

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


DEFAULT_DECODE_DEPTH = 2
# All of a rule's filters must pass, so they run cheapest first: on a file of commit ids, `not-hex`
# rejects a candidate in a microsecond that `not-placeholder` would take several to pass.
_FILTER_COST = {"not-hex": 0, "mixed-case": 1, "has-digit": 1, "not-identifier": 2, "not-placeholder": 3}
DEFAULT_RULE_TIMEOUT = 2.0  # seconds one rule's patterns may take on one chunk


class RuleTimeout(Exception):
    """A rule's patterns used up their time budget on this chunk."""


class _Budget:
    """One rule's remaining time on one chunk; every pattern call of the rule draws on it."""

    __slots__ = ("deadline",)

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

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


class Engine:
    """decode_depth bounds how many encodings deep a secret is looked for (0: plain text only);
    rule_timeout is each rule's time budget per chunk."""

    def __init__(self, rules: list[Rule], accelerated: bool | None = None,
                 decode_depth: int = DEFAULT_DECODE_DEPTH, rule_timeout: float = DEFAULT_RULE_TIMEOUT) -> None:
        self.rules = rules
        self.decode_depth = decode_depth
        self.rule_timeout = rule_timeout
        literals: list[tuple[bytes, bool]] = []
        targets: list[object] = []  # per literal: list of rule indices, or a decoder kind
        self._always = [ri for ri, rule in enumerate(rules) if not rule.keywords]  # gitleaks rules without keywords
        for ri, rule in enumerate(rules):
            for k in rule.keywords:
                literals.append((k.lower().encode("utf-8"), True))
                targets.append(ri)
        if decode_depth > 0:
            for k in sorted({k for rule in rules for k in rule.keywords}):
                for sig in decoders.signatures(k):
                    literals.append((sig.literal, sig.caseless))
                    targets.append(sig.kind)
        # a keyword only candidate-first rules use needs reporting once per chunk, not at every occurrence
        positional = {(k.lower().encode("utf-8"), True) for rule in rules if rule.context_spec is None
                      for k in rule.keywords}
        presence = [(k.lower().encode("utf-8"), True) for rule in rules if rule.context_spec is not None
                    for k in rule.keywords]
        self.prefilter = Prefilter(literals, accelerated, [lit for lit in presence if lit not in positional])
        index = {lit: i for i, lit in enumerate(self.prefilter.literals)}
        self._rules_of: list[list[int]] = [[] for _ in self.prefilter.literals]
        self._context_of: list[list[int]] = [[] for _ in self.prefilter.literals]
        self._decoder_of: list[str | None] = [None] * len(self.prefilter.literals)
        for (lit, ci), target in zip(literals, targets, strict=True):
            i = index[(lit.lower() if ci else lit, ci)]
            if isinstance(target, str):
                self._decoder_of[i] = target
            else:
                assert isinstance(target, int)
                into = self._context_of if rules[target].context_spec is not None else self._rules_of
                if target not in into[i]:
                    into[i].append(target)
        self._filters = [tuple(FILTERS[n] for n in sorted(r.filters, key=lambda n: _FILTER_COST.get(n, 9)))
                         for r in rules]
        self._anchored: dict[int, Any] = {}  # candidate-first rules' regexes anchored to whole lines
        specs = [r.context_spec.run for r in rules if r.context_spec is not None]
        if decode_depth > 0:  # the same values base64-encoded under their name (a Kubernetes Secret's data)
            specs += [_base64_run(r.context_spec.run) for r in rules if r.context_spec is not None]
        self.runs = RunFinder(specs)
        self._run_index = {spec: i for i, spec in enumerate(self.runs.specs)}

    @property
    def accelerated(self) -> bool:
        return self.prefilter.accelerated

    def scan(self, data: bytes, depth: int = 0, path: str | None = None,
             warnings: Warnings | None = None) -> list[Match]:
        """path (optional) serves rules and allowlists restricted to some paths; the engine reads nothing.
        warnings (optional) receives (kind, message) pairs, e.g. a rule that ran out of time."""
        hits = self.prefilter.hits(data)
        if not hits and not self._always:
            return []
        windows: dict[int, list[tuple[int, int]]] = {ri: [(0, len(data))] for ri in self._always}
        candidate_first: set[int] = set()
        regions: dict[str, set[tuple[int, int]]] = {}
        kws = self.prefilter.keywords
        last_b64 = (0, 0)
        for kid, pos in hits:
            candidate_first.update(self._context_of[kid])
            kind = self._decoder_of[kid]
            if kind is None and not self._rules_of[kid]:
                continue
            span = _line_bounds(data, pos, pos + len(kws[kid]), WINDOW_BEFORE, WINDOW_AFTER)
            if kind is not None and depth < self.decode_depth:
                if kind == "base64":
                    # a hit well inside the last base64 region (a wrapped block is one region) adds nothing
                    if not last_b64[0] <= pos < last_b64[1] - WINDOW_AFTER:
                        last_b64 = decoders.base64_run(data, pos)
                        regions.setdefault(kind, set()).add(last_b64)
                else:
                    regions.setdefault(kind, set()).add(span)
            for ri in self._rules_of[kid]:
                extra = self.rules[ri].lines_after
                windows.setdefault(ri, []).append(
                    _line_bounds(data, pos, pos + len(kws[kid]), WINDOW_BEFORE, WINDOW_AFTER, extra) if extra else span)
        runs = self.runs.find(data) if candidate_first else []
        found: dict[tuple[int, int, str], Match] = {}
        taken: set[tuple[int, int]] = set()  # a span claimed by an earlier rule is not reported twice
        for ri in sorted(windows.keys() | candidate_first):
            rule = self.rules[ri]
            if rule.path_pattern is not None and (path is None or not rule.path_pattern.search(path)):
                continue
            budget = _Budget(self.rule_timeout)
            try:
                if ri in candidate_first:
                    self._candidates(ri, data, runs, path, budget, found, taken)
                    if depth < self.decode_depth:
                        self._encoded_candidates(ri, data, runs, path, budget, found, taken)
                else:
                    self._windows(ri, data, windows[ri], path, budget, found, taken)
            except RuleTimeout:
                if warnings is not None:
                    message = (f"rule '{rule.id}' ({rule.source}) ran over its {self.rule_timeout:g} s budget "
                               f"on {path or 'a chunk'}; skipped there")
                    warnings.append(("rule-timeout", message))
        decoded = [m for kind, spans in regions.items() for span in sorted(spans)
                   for m in self._scan_decoded(data, kind, span, depth, path, warnings)]
        for m in decoded:  # one encoded value may hold several secrets: keyed by secret too
            found.setdefault((m.start, m.end, m.secret), m)
        return sorted(found.values(), key=lambda m: m.start)

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

    def _candidates(self, ri: int, data: bytes, runs: list[list[tuple[int, int]]], path: str | None,
                    budget: _Budget, found: dict[tuple[int, int, str], Match], taken: set[tuple[int, int]]) -> None:
        """A candidate-first rule: every run of its value's class is a candidate; the regex must match the
        whole run, then the value filters, then the name it is assigned to (cheap rejections first).

        The candidates are joined one per line and the rule's regex, anchored to whole lines, runs once over
        them: rejecting a commit id costs C time, not a Python call per candidate."""
        rule = self.rules[ri]
        spec = rule.context_spec
        assert spec is not None
        spans = runs[self._run_index[spec.run]]
        if not spans:
            return
        anchored = self._anchored.get(ri)
        if anchored is None:
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

    def _encoded_candidates(self, ri: int, data: bytes, runs: list[list[tuple[int, int]]], path: str | None,
                            budget: _Budget, found: dict[tuple[int, int, str], Match],
                            taken: set[tuple[int, int]]) -> None:
        """A candidate-first rule's values base64-encoded where they are assigned (`CF_API_TOKEN: <base64>`
        under a Kubernetes Secret's `data:`): each base64 run of the encoded length is decoded (a trailing
        newline from `echo` dropped), must match the rule's regex whole, and is judged by the name the
        ENCODED value is assigned to. The finding's place is the encoded text, its encoding `base64`."""
        rule = self.rules[ri]
        spec = rule.context_spec
        assert spec is not None
        g = rule.secret_group
        for s, e in runs[self._run_index[_base64_run(spec.run)]]:
            if (s, e) in taken:
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
                      warnings: Warnings | None = None) -> list[Match]:
        """Matches inside an encoded region, placed on the encoded text in the original chunk."""
        lo, hi = span
        region = data[lo:hi]
        out: list[Match] = []
        if kind == "base64":  # every alignment that decodes: stray leading characters make garbage views
            # the whole encoded value is the place; of a wrapped block, its first line
            nl = region.find(b"\n")
            end = hi if nl < 0 else lo + len(region[:nl].rstrip(b"\r"))
            for view in decoders.base64_views(region):
                for m in self.scan(view, depth + 1, path, warnings):
                    encoding = kind if m.encoding == "plain" else f"{kind}+{m.encoding}"
                    out.append(Match(m.rule, lo, end, m.secret, m.checksum, m.tags, encoding))
            return out
        if kind == "url":  # a value percent-encoded twice (`%255F`) is undone in one step: `url+url`
            view, where, passes = decoders.decode_url_nested(region)
            kind = "+".join(["url"] * max(passes, 1))
        else:
            view, where = decoders.decode_json(region)
        if view == region:
            return []
        for m in self.scan(view, depth + 1, path, warnings):
            encoding = kind if m.encoding == "plain" else f"{kind}+{m.encoding}"
            out.append(Match(m.rule, lo + where[m.start], lo + where[m.end - 1] + 1, m.secret, m.checksum,
                             m.tags, encoding))
        return out

    def _judge(self, ri: int, data: bytes, s: int, e: int, raw: bytes, m: object, path: str | None,
               budget: _Budget) -> Match | None:
        rule = self.rules[ri]
        secret = raw.decode("utf-8", "replace")
        if secret in rule.denylist:
            return None
        for check in self._filters[ri]:
            if not check(secret):
                return None
        if rule.context_spec is not None and not rule.context_spec.owns(data, s, e, budget.found):
            return None
        if rule.min_entropy and shannon_entropy(secret) < rule.min_entropy:
            return None
        if rule.compiled_context is not None:
            lo, hi = _line_bounds(data, s, e, WINDOW_BEFORE, WINDOW_BEFORE)
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
        return Match(rule, s, e, secret, checksum, tags)


def _base64_run(run: tuple[str, int, int]) -> tuple[str, int, int]:
    """The standard-base64 run that encodes a value of the given lengths, plus up to two newline bytes."""
    _, lo, hi = run
    return ("A-Za-z0-9+/", -(-4 * lo // 3), -(-4 * (hi + 2) // 3))


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
