"""Whose credential is this value? The name it is assigned to, and the blocks around it, across syntaxes.

Unprefixed credentials (a legacy Cloudflare token, an AWS secret key) have no shape of their own that
says whose they are: 40 base64url characters are a Cloudflare token when they are assigned to
`CF_API_TOKEN`, and a commit id when they follow `commit`. Rules for them are *candidate-first*: the
engine finds runs of the value's character class (the rule's `context.run`), and only for each run
asks this module what the value is assigned to. Work is per candidate, never per keyword hit, so a file
that names the vendor 90,000 times but holds no credential-shaped value costs one pass of C code.

One small reader serves every syntax instead of one regex per spelling:

* **the assigned name** on the value's own line, read backwards from the value: `NAME = v`, `NAME: v`,
  `NAME := v` (and `::=`, `:::=`, `?=`, `+=`, `.=`, `=>`), `"NAME": "v"`, `ENV NAME v`, `--flag v`,
  `setProperty("NAME", "v")`, `$env:NAME = "v"`, `var NAME string = "v"`, `val NAME: String = "v"`,
  `<NAME>v</NAME>`, `Authorization: Bearer v`;
* **indirection**: a generic `value`/`default` takes its name from a `name=`/`key=` attribute on the same
  line or from the enclosing line (`- name: CF_API_TOKEN` above `value: ...` in a Kubernetes manifest,
  `variable "cloudflare_api_token" {` above `default = ...`); a value alone on its line (a multi-line XML
  element, a YAML block scalar) takes the enclosing line;
* **the surrounding block**, for generic names (`api_token`, `token`, `Authorization`, `--api-token`):
  enclosing lines by indentation (`cloudflare:`, `provider "cloudflare" {`, `"cloudflare": {`, a curl
  command above its indented `-H` lines), TOML/INI section headers (`[cloudflare]`), siblings of the
  innermost enclosing line within its parent (`uses: cloudflare/wrangler-action` beside `with:`), the
  value's own line (`wrangler ... --api-token v`), and a few neighbouring lines that stay inside the
  block (a URL on the line above a header).

A rule then matches the name against its own patterns (`names`: alone enough; `generic_names`: need one
of `scopes` in the surrounding block), so other vendors' keyword-dependent rules can reuse this piece.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# --- the name a value is assigned to (trusted patterns: stdlib `re`, bounded input) ----------------------

PREFIX_REACH = 256  # bytes before the value read for its name; names and operators are short
_NAME = rb"[A-Za-z0-9_$@.\-]*[A-Za-z0-9_$@](?::[A-Za-z0-9_$@.\-]*[A-Za-z0-9_$@])*"
_TAIL = re.compile(rb"""
    (?:
        (?P<name>""" + _NAME + rb""")
        (?:\\?["'`\])]){0,3}                                    # "NAME"], 'NAME'), \"NAME\" (escaped JSON)
        (?:\s*:\s*[&*]?(?:'\w+\s+)?[A-Za-z_][\w.<>\[\]?:]*(?=\s*=))?  # type: val NAME: String =, NAME: &str =
        (?:\s+(?:string|String|str|const|final|readonly)(?=\s*=))?   # Go: var NAME string =
        (?:\s*(?P<op>:::=|::=|:=|\?=|\+=|\.=|=>|->|<-|=|:|,)\s*|\s+)  # operator, or a space (ENV K V, --flag V)
      |
        <(?P<tag>[A-Za-z_][\w.:-]*)(?:\s[^<>]*)?>\s*           # <NAME attr="...">value
    )
    (?:\\?["'`(\[{]\s*){0,2}                                  # opening quotes and brackets, \" too
    (?:(?i:bearer|token|basic)\s+)?                            # Authorization scheme
    \Z""", re.VERBOSE)
_WORD_START = re.compile(rb"(?<![A-Za-z0-9_$@.\-])[A-Za-z0-9_$@.\-]|<")
_ALONE = re.compile(rb"[\s\"'`>(\[{,-]*\Z")  # nothing but indentation, quotes, a list dash before the value
# `value`/`default` are only a slot: the real name is a name=/key= attribute or the enclosing line
# after a run that opens its line: the run is itself a name (`DiscoveryOperationsV4PagePaginationArray = class
# …` in a bundle, a call, a YAML key over a block), not a value
_TARGET = re.compile(rb"[ \t]*(?:=(?!=)|\(|:[ \t]*\r?$)")
_YAML_KEY = re.compile(rb"^-\s+|\s*:\s*(?:[|>][-+]?\s*)?$")  # a list dash; the colon and block indicator
_INDIRECTION = re.compile(rb"(?i)(?:value|default|default_?value|val)")
_ATTR_NAME = re.compile(rb"""(?i)(?:name|key|id|env|variable)["']?\s*[=:]\s*["']?(""" + _NAME + rb")")
# top-level YAML keys that hold a manifest's values without naming their owner
_CONTAINER = re.compile(rb"(?:data|stringData|env|environment|spec|secrets|variables|vars|config)\s*:\s*(?:#.*)?\Z")
_SECTION = re.compile(rb"\s*\[[^\]\n]{1,100}\]\s*(?:#.*)?\Z")  # [cloudflare], [profile.cf]


def assigned_name(data: bytes, s: int, line_lo: int) -> tuple[bytes | None, int]:
    """The name the value at `s` is assigned to on its own line, and where that name's clause starts.

    (None, -1) when nothing on the line before the value reads as an assignment; (b"", s) when the value
    stands alone on its line (its name is on an enclosing line)."""
    lo = max(line_lo, s - PREFIX_REACH)
    prefix = data[lo:s]
    if _ALONE.match(prefix):
        return b"", s
    for start in _WORD_START.finditer(prefix):  # leftmost first, as search would, but only at word starts:
        m = _TAIL.match(prefix, start.start())  # search would retry inside every word (quadratic per word)
        if m is not None:
            return (m.group("name") or m.group("tag")), lo + m.start()
    return None, -1


def _indent(line: bytes) -> int:
    return len(line) - len(line.lstrip(b" \t"))


@dataclass
class Block:
    """The lines around a value that may name its owner."""

    enclosing: list[bytes]  # innermost first
    neighbours: list[bytes]  # same block, above and below, the value's own line included


def surrounding(data: bytes, s: int, e: int, line_lo: int, line_hi: int, lines_above: int, lines_around: int
                ) -> Block:
    """Enclosing lines by indentation (and section headers) within `lines_above` lines; siblings of the
    innermost enclosing line within its parent; neighbouring lines that stay inside the value's block.
    The value itself is cut out of its line, so it cannot name its own owner."""
    own = _indent(data[line_lo:line_hi])
    enclosing: list[bytes] = []
    siblings: list[bytes] = []
    neighbours = [data[line_lo:s] + b" " + data[e:line_hi]]
    cur = own
    pos = line_lo
    n = 0
    while n < lines_above and pos > 0:
        n += 1
        start = data.rfind(b"\n", 0, pos - 1) + 1
        text = data[start:pos - 1]
        pos = start
        if not text.strip():
            continue
        ind = _indent(text)
        if ind < cur or _SECTION.match(text):
            enclosing.append(text)
            cur = ind
            if len(enclosing) == 2 or _SECTION.match(text) or cur == 0:
                break  # a top-level block's siblings are other blocks, not its scope ...
        elif len(enclosing) == 1 and ind == cur:
            siblings.append(text)
        elif not enclosing and n <= lines_around:
            neighbours.append(text)
    if len(enclosing) == 1 and cur == 0 and _CONTAINER.match(enclosing[0]):
        # ... except for a manifest's anonymous container: a Secret's `stringData:` belongs to the document
        # whose `metadata: name: cloudflare-api-token` is above it (up to `---`)
        while n < lines_above and pos > 0:
            n += 1
            start = data.rfind(b"\n", 0, pos - 1) + 1
            text = data[start:pos - 1]
            pos = start
            if text.startswith(b"---"):
                break
            neighbours.append(text)
    pos = line_hi
    for _ in range(lines_around):
        if pos >= len(data):
            break
        end = data.find(b"\n", pos + 1)
        end = len(data) if end < 0 else end
        text = data[pos + 1:end]
        pos = end
        if text.strip():
            if _indent(text) < own:
                break
            neighbours.append(text)
    return Block(enclosing, neighbours + (siblings if len(enclosing) >= 2 else []))


# --- a rule's context model (from its [rules.context] table) ------------------------------------------

_RUN = re.compile(r"\[([A-Za-z0-9_+/=.\-]+)\]\{(\d+)(?:,(\d+))?\}")
FIELDS = {"run", "names", "generic_names", "scopes", "lines_above", "lines_around", "gates"}
# not in a gate (Hyperscan has none of them; `regex` may backtrack on them): lookarounds, atomic groups,
# possessive quantifiers, back references (numbered or named), conditionals, recursion
_NOT_NATIVE = re.compile(r"\(\?<?[=!>]|[*+?}]\+|\\(?:[1-9]|[gk][<{'])|\(\?P[=>]|\(\?\(|\(\?[R&+\-0-9]")
GATE_MAX = 1000  # characters of one gate

Search = Callable[[Any, bytes], bool]  # (compiled rule pattern, text) -> found; the engine adds a time budget


@dataclass(frozen=True)
class ContextSpec:
    """A candidate-first rule's context: which runs are candidates, which names own them.

    run: the value's character class and length bounds, `[A-Za-z0-9_-]{37,45}`; a candidate is a maximal
        run of the class (both neighbours outside it) within the bounds, and the rule's regex must match
        the whole run.
    names: patterns (searched in the assigned name) that alone make the value this rule's: `CF_API_TOKEN`.
    generic_names: patterns (matched against the whole name) for names that do so only inside a block
        or command naming the vendor: `api_token`, `Authorization`, `--api-token`.
    scopes: patterns for the vendor in the surrounding block: `cloudflare`, `wrangler`.
    gates: patterns (Hyperscan's syntax: no lookarounds) that gate the rule besides its keywords, for a
        vendor word too common to gate on as a literal: `CF_`/`cfToken`, where `cf` alone occurs in `cfg`
        and in every hex dump. A chunk matching no keyword and no gate is not searched for candidates, so
        a gate must match wherever a name or scope naming the vendor that way could.
    """

    run: tuple[str, int, int]  # (class, min, max)
    names: tuple[Any, ...]
    generic_names: tuple[Any, ...] = ()
    scopes: tuple[Any, ...] = ()
    lines_above: int = 30
    lines_around: int = 3
    gates: tuple[str, ...] = ()
    gate_patterns: tuple[Any, ...] = ()  # gates compiled with `regex` (no Hyperscan, or a gate it refused)

    def owns(self, data: bytes, s: int, e: int, search: Search) -> bool:
        """Whether the value at [s, e) is assigned to a name (or sits in a block) this rule owns."""
        line_lo = data.rfind(b"\n", 0, s) + 1
        line_hi = data.find(b"\n", e)
        line_hi = len(data) if line_hi < 0 else line_hi
        name, clause = assigned_name(data, s, line_lo)
        if name is None or (not name and _TARGET.match(data, e, line_hi)):
            return False
        block: Block | None = None
        if not name or _INDIRECTION.fullmatch(name):
            attrs = _ATTR_NAME.findall(data, max(line_lo, clause - PREFIX_REACH), clause) if name else []
            if attrs:
                name = attrs[-1]
            else:
                block = surrounding(data, s, e, line_lo, line_hi, self.lines_above, self.lines_around)
                if not block.enclosing:
                    return False
                # a YAML key over its value (`api_token:` or `api_token: |` with the value on the next line)
                name = _YAML_KEY.sub(b"", block.enclosing[0].strip())
        if any(search(p, name) for p in self.names):
            return True
        if not any(search(p, name) for p in self.generic_names):
            return False
        if block is None:
            block = surrounding(data, s, e, line_lo, line_hi, self.lines_above, self.lines_around)
        return any(search(p, text) for text in block.enclosing + block.neighbours for p in self.scopes)


def gate_error(gate: str) -> str:
    return (f"context.gates: {gate[:80]!r} is not a gate Hyperscan runs as written (no lookaround, atomic group, "
            f"possessive quantifier, back reference, conditional or recursion; at most {GATE_MAX} characters)")


def build_spec(raw: object, fail: Callable[[str], Exception], compile_: Callable[[str, str], Any]) -> ContextSpec:
    """Checks a [rules.context] table; `fail(msg)` makes the error naming the file and rule. Whether
    Hyperscan itself takes each gate is the engine's check (scanner.engine.matcher.refused_gates), made
    when a user's rules are built into one."""
    if not isinstance(raw, dict):
        raise fail("'context' must be a regex string or a table")
    unknown = sorted(set(raw) - FIELDS)
    if unknown:
        raise fail(f"unknown context field(s) {', '.join(unknown)} (known: {', '.join(sorted(FIELDS))})")
    run = raw.get("run")
    m = _RUN.fullmatch(run) if isinstance(run, str) else None
    if m is None:
        raise fail("context.run must be a character class with length bounds, like '[A-Za-z0-9_-]{37,45}'")
    lo, hi = int(m.group(2)), int(m.group(3) or m.group(2))
    if not 8 <= lo <= hi <= 512:
        raise fail("context.run lengths must be within 8..512, the lower first")

    def patterns(key: str) -> tuple[Any, ...]:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail(f"context.{key} must be a list of regex strings")
        return tuple(compile_(v, f"context.{key}") for v in value)

    names = patterns("names")
    if not names:
        raise fail("context.names needs at least one pattern")
    generic, scopes = patterns("generic_names"), patterns("scopes")
    if generic and not scopes:
        raise fail("context.generic_names need context.scopes")
    gate_patterns = patterns("gates")
    gates = tuple(raw.get("gates", []))
    for gate in gates:
        if _NOT_NATIVE.search(gate) or len(gate) > GATE_MAX:
            raise fail(gate_error(gate))
    bounds = {}
    for key, default in (("lines_above", 30), ("lines_around", 3)):
        v = raw.get(key, default)
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 100:
            raise fail(f"context.{key} must be a whole number from 0 to 100")
        bounds[key] = v
    return ContextSpec((m.group(1), lo, hi), names, generic, scopes, **bounds, gates=gates,
                       gate_patterns=gate_patterns)
