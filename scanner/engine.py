"""Prefilter -> rule regex in a window around each keyword hit -> validators, on bytes.

The engine knows nothing of files or git: it takes bytes and returns matches with offsets. Line and column
are worked out by the caller only for matches, never for the whole chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.prefilter import Prefilter
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


def _line_bounds(data: bytes, start: int, end: int, before: int, after: int) -> tuple[int, int]:
    lo = max(0, start - before)
    nl = data.rfind(b"\n", lo, start)
    lo = lo if nl < 0 else nl + 1
    hi = min(len(data), end + after)
    nl = data.find(b"\n", end, hi)
    return lo, (hi if nl < 0 else nl)


class Engine:
    def __init__(self, rules: list[Rule], accelerated: bool | None = None) -> None:
        self.rules = rules
        keywords: list[str] = []
        for rule in rules:
            keywords.extend(rule.keywords)
        self.prefilter = Prefilter(keywords, accelerated)
        index = {k: i for i, k in enumerate(self.prefilter.keywords)}
        self._rules_of: list[list[int]] = [[] for _ in self.prefilter.keywords]
        for ri, rule in enumerate(rules):
            for k in rule.keywords:
                bucket = self._rules_of[index[k.lower().encode("utf-8")]]
                if ri not in bucket:
                    bucket.append(ri)

    @property
    def accelerated(self) -> bool:
        return self.prefilter.accelerated

    def scan(self, data: bytes) -> list[Match]:
        hits = self.prefilter.hits(data)
        if not hits:
            return []
        windows: dict[int, list[tuple[int, int]]] = {}
        kws = self.prefilter.keywords
        for kid, pos in hits:
            span = _line_bounds(data, pos, pos + len(kws[kid]), WINDOW_BEFORE, WINDOW_AFTER)
            for ri in self._rules_of[kid]:
                windows.setdefault(ri, []).append(span)
        found: dict[tuple[int, int], Match] = {}
        for ri in sorted(windows):
            rule = self.rules[ri]
            for lo, hi in _merge(windows[ri]):
                for m in rule.compiled.finditer(data, lo, hi):
                    g = rule.secret_group
                    s, e = m.span(g)
                    if s < 0 or (s, e) in found:
                        continue
                    match = self._judge(rule, data, s, e, m.group(g))
                    if match is not None:
                        found[(s, e)] = match
        return sorted(found.values(), key=lambda m: m.start)

    def _judge(self, rule: Rule, data: bytes, s: int, e: int, raw: bytes) -> Match | None:
        secret = raw.decode("utf-8", "replace")
        if secret in rule.denylist:
            return None
        if any(not FILTERS[name](secret) for name in rule.filters):
            return None
        if rule.min_entropy and shannon_entropy(secret) < rule.min_entropy:
            return None
        if rule.compiled_context is not None:
            lo, hi = _line_bounds(data, s, e, WINDOW_BEFORE, WINDOW_BEFORE)
            if rule.compiled_context.search(data, lo, hi) is None:
                return None
        checksum, tags = "none", rule.tags
        if rule.validator:
            construction = CHECKSUMS[rule.validator]
            checksum = "valid" if construction.valid(secret) else "invalid"
            if checksum == "valid" and low_information(secret[construction.body_slice]):
                tags = tags + ("test-token",)
        return Match(rule, s, e, secret, checksum, tags)


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
