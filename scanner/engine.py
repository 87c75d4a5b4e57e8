"""Prefilter -> rule regex in a window around each keyword hit -> validators, on bytes.

The engine knows nothing of files or git: it takes bytes and returns matches with offsets. Line and column
are worked out by the caller only for matches, never for the whole chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner import decoders
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


class Engine:
    """decode_depth bounds how many encodings deep a secret is looked for (0: plain text only)."""

    def __init__(self, rules: list[Rule], accelerated: bool | None = None,
                 decode_depth: int = DEFAULT_DECODE_DEPTH) -> None:
        self.rules = rules
        self.decode_depth = decode_depth
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
        self.prefilter = Prefilter(literals, accelerated)
        index = {lit: i for i, lit in enumerate(self.prefilter.literals)}
        self._rules_of: list[list[int]] = [[] for _ in self.prefilter.literals]
        self._decoder_of: list[str | None] = [None] * len(self.prefilter.literals)
        for (lit, ci), target in zip(literals, targets):
            i = index[(lit.lower() if ci else lit, ci)]
            if isinstance(target, str):
                self._decoder_of[i] = target
            elif target not in self._rules_of[i]:
                self._rules_of[i].append(target)

    @property
    def accelerated(self) -> bool:
        return self.prefilter.accelerated

    def scan(self, data: bytes, depth: int = 0, path: str | None = None) -> list[Match]:
        """path (optional) serves rules and allowlists restricted to some paths; the engine reads nothing."""
        hits = self.prefilter.hits(data)
        if not hits and not self._always:
            return []
        windows: dict[int, list[tuple[int, int]]] = {ri: [(0, len(data))] for ri in self._always}
        regions: dict[str, set[tuple[int, int]]] = {}
        kws = self.prefilter.keywords
        for kid, pos in hits:
            span = _line_bounds(data, pos, pos + len(kws[kid]), WINDOW_BEFORE, WINDOW_AFTER)
            kind = self._decoder_of[kid]
            if kind is not None and depth < self.decode_depth:
                regions.setdefault(kind, set()).add(decoders.base64_run(data, pos) if kind == "base64" else span)
            for ri in self._rules_of[kid]:
                extra = self.rules[ri].lines_after
                windows.setdefault(ri, []).append(
                    _line_bounds(data, pos, pos + len(kws[kid]), WINDOW_BEFORE, WINDOW_AFTER, extra) if extra else span)
        found: dict[tuple[int, int, str], Match] = {}
        taken: set[tuple[int, int]] = set()  # a span claimed by an earlier rule is not reported twice
        for ri in sorted(windows):
            rule = self.rules[ri]
            if rule.path_pattern is not None and (path is None or not rule.path_pattern.search(path)):
                continue
            for lo, hi in _merge(windows[ri]):
                for m in rule.compiled.finditer(data, lo, hi):
                    g = rule.secret_group
                    s, e = m.span(g)
                    if s < 0 or (s, e) in taken:
                        continue
                    match = self._judge(rule, data, s, e, m.group(g), m, path)
                    if match is not None:
                        found[(s, e, match.secret)] = match
                        taken.add((s, e))
        decoded = [m for kind, spans in regions.items() for span in sorted(spans)
                   for m in self._scan_decoded(data, kind, span, depth, path)]
        for m in decoded:  # one encoded value may hold several secrets: keyed by secret too
            found.setdefault((m.start, m.end, m.secret), m)
        return sorted(found.values(), key=lambda m: m.start)

    def _scan_decoded(self, data: bytes, kind: str, span: tuple[int, int], depth: int, path: str | None
                      ) -> list[Match]:
        """Matches inside an encoded region, placed on the encoded text in the original chunk."""
        lo, hi = span
        region = data[lo:hi]
        if kind == "base64":
            view = decoders.decode_base64(region)
            if not view:
                return []
            place = lambda a, b: (lo, hi)  # noqa: E731 - the whole encoded value is the place
        else:
            view, where = decoders.decode_url(region) if kind == "url" else decoders.decode_json(region)
            if view == region:
                return []
            place = lambda a, b: (lo + where[a], lo + where[b - 1] + 1)  # noqa: E731
        out = []
        for m in self.scan(view, depth + 1, path):
            s, e = place(m.start, m.end)
            encoding = kind if m.encoding == "plain" else f"{kind}+{m.encoding}"
            out.append(Match(m.rule, s, e, m.secret, m.checksum, m.tags, encoding))
        return out

    def _judge(self, rule: Rule, data: bytes, s: int, e: int, raw: bytes, m: object, path: str | None
               ) -> Match | None:
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
        if rule.allowlists:
            lo, hi = _line_bounds(data, s, e, WINDOW_BEFORE, WINDOW_AFTER)
            whole = m.group(0)  # type: ignore[attr-defined]
            if any(a.allows(raw, whole, data[lo:hi], path) for a in rule.allowlists):
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
