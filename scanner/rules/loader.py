"""Rule model and loading: rules are data (TOML), validated once at load so a bad file fails fast (exit 2)."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any

from scanner.cache import cache_dir, cache_used, store
from scanner.errors import UsageError
from scanner.rules.checksums import CHECKSUMS, FILTERS
from scanner.rules.context import ContextSpec, build_spec

SEVERITIES = ("critical", "high", "medium", "low", "info")

_FIELDS = {
    "id", "description", "severity", "keywords", "regex", "validator", "filters", "min_entropy",
    "context", "denylist", "verify", "examples", "negative_examples", "tags", "lines_after",
}


@dataclass(frozen=True)
class Allowlist:
    """gitleaks-style allowlist: a candidate is dropped when its criteria match (any, or all with AND).

    Commits are only known after attribution, so `commits` is checked on findings, not in the engine."""

    regexes: tuple[Any, ...] = ()  # compiled bytes patterns
    regex_target: str = "secret"  # secret | match | line
    stopwords: tuple[str, ...] = ()
    paths: tuple[Any, ...] = ()  # compiled str patterns
    commits: frozenset[str] = frozenset()
    condition: str = "OR"

    def allows(self, secret: bytes, match: bytes, line: bytes, path: str | None) -> bool:
        target = {"secret": secret, "match": match, "line": line}[self.regex_target]
        checks = []
        if self.regexes:
            checks.append(any(r.search(target) for r in self.regexes))
        if self.stopwords:
            low = secret.decode("utf-8", "replace").lower()
            checks.append(any(w in low for w in self.stopwords))
        if self.paths:
            checks.append(path is not None and any(p.search(path) for p in self.paths))
        if not checks:
            return False
        return all(checks) if self.condition == "AND" else any(checks)


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    severity: str
    keywords: tuple[str, ...]
    pattern: str
    validator: str | None = None
    filters: tuple[str, ...] = ()
    min_entropy: float = 0.0
    context: str | None = None
    denylist: frozenset[str] = frozenset()
    verify: str | None = None
    examples: tuple[str, ...] = ()
    negative_examples: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    source: str = ""
    shipped: bool = field(default=False, compare=False)  # from tokenscan's own rules/ (checked by the test suite)
    compiled: Any = field(default=None, compare=False, repr=False)
    compiled_context: Any = field(default=None, compare=False, repr=False)
    group: int | None = None  # which group is the secret, when not (?P<secret>) or group 1 (gitleaks secretGroup)
    path_pattern: Any = field(default=None, compare=False, repr=False)  # only files whose path matches
    allowlists: tuple[Allowlist, ...] = ()
    lines_after: int = 0  # the regex may match this many lines below a keyword's line
    # candidate-first: runs of context_spec.run are candidates wherever a keyword occurs in the chunk; the
    # regex must match the whole run and the name it is assigned to must be the rule's (scanner/rules/context.py)
    context_spec: ContextSpec | None = field(default=None, compare=False, repr=False)

    @property
    def secret_group(self) -> int | str:
        if self.group is not None:
            return self.group
        return "secret" if "secret" in self.compiled.groupindex else 1


def _fail(where: str, rule_id: str | None, msg: str) -> UsageError:
    who = f" rule '{rule_id}'" if rule_id else ""
    return UsageError(f"{where}:{who} {msg}")


def _compile(where: str, rid: str, pattern: str, what: str, lazy: bool = False) -> Any:
    if lazy:
        return LazyPattern(pattern.encode("utf-8"))
    import regex

    try:
        return regex.compile(pattern.encode("utf-8"))
    except regex.error as exc:
        raise _fail(where, rid, f"{what} does not compile: {exc}") from None


class LazyPattern:
    """A shipped rule's pattern, compiled on its first use. Compiling all 180-odd patterns costs a
    pre-commit run ~0.2 s, and most rules never see their keyword in a small change; the shipped patterns
    are compiled and checked by `tokenscan rules check` (run by the test suite) instead. A user's rule file
    is compiled at load, so its errors still exit 2 naming file and rule."""

    __slots__ = ("_pattern", "_compiled")

    def __init__(self, pattern: bytes) -> None:
        self._pattern = pattern
        self._compiled: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._compiled is None:
            import regex  # here: a run in which no rule is in play never loads it

            self._compiled = regex.compile(self._pattern)
        return getattr(self._compiled, name)

    def __getstate__(self) -> bytes:
        return self._pattern

    def __setstate__(self, state: bytes) -> None:
        self._pattern, self._compiled = state, None


def _str_list(where: str, rid: str, raw: dict, key: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(where, rid, f"'{key}' must be a list of strings")
    return tuple(value)


def build_rule(raw: dict, where: str, shipped: bool = False) -> Rule:
    """Checks one rule table and returns it compiled; every error names the file and the rule id."""
    rid = raw.get("id")
    if not isinstance(rid, str) or not rid:
        raise _fail(where, None, "a rule has no 'id'")
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise _fail(where, rid, f"unknown field(s) {', '.join(unknown)}")
    for key in ("description", "regex"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise _fail(where, rid, f"needs a non-empty string '{key}'")
    severity = raw.get("severity", "high")
    if severity not in SEVERITIES:
        raise _fail(where, rid, f"severity must be one of {', '.join(SEVERITIES)}")
    keywords = _str_list(where, rid, raw, "keywords")
    if not keywords or any(len(k) < 2 for k in keywords):
        raise _fail(where, rid, "needs 'keywords': literals of 2+ characters the prefilter looks for")
    compiled = _compile(where, rid, raw["regex"], "regex", lazy=shipped)
    if not shipped and compiled.groups < 1:
        raise _fail(where, rid, "regex needs a capture group for the secret (group 1 or (?P<secret>...))")
    validator = raw.get("validator")
    if validator is not None and validator not in CHECKSUMS:
        raise _fail(where, rid, f"unknown validator '{validator}' (known: {', '.join(CHECKSUMS)})")
    filters = _str_list(where, rid, raw, "filters")
    for name in filters:
        if name not in FILTERS:
            raise _fail(where, rid, f"unknown filter '{name}' (known: {', '.join(FILTERS)})")
    context = raw.get("context")
    context_spec = None
    if isinstance(context, dict):  # [rules.context]: a candidate-first context model
        context_spec = build_spec(context, lambda msg: _fail(where, rid, msg),
                                  lambda pattern, what: _compile(where, rid, pattern, what, lazy=shipped))
        context = None
    elif context is not None and not isinstance(context, str):
        raise _fail(where, rid, "'context' must be a regex string or a table")
    compiled_context = _compile(where, rid, context, "context", lazy=shipped) if context else None
    min_entropy = raw.get("min_entropy", 0.0)
    if not isinstance(min_entropy, (int, float)):
        raise _fail(where, rid, "'min_entropy' must be a number")
    lines_after = raw.get("lines_after", 0)
    if not isinstance(lines_after, int) or not 0 <= lines_after <= 10:
        raise _fail(where, rid, "'lines_after' must be a whole number from 0 to 10")
    verify = raw.get("verify")
    if verify is not None and not isinstance(verify, str):
        raise _fail(where, rid, "'verify' must be a verifier's name")
    # which names a verifier answers to is the verify layer's to say: scanner.verify.registry.checked
    return Rule(
        id=rid,
        description=raw["description"],
        severity=severity,
        keywords=keywords,
        pattern=raw["regex"],
        validator=validator,
        filters=filters,
        min_entropy=float(min_entropy),
        context=context,
        denylist=frozenset(_str_list(where, rid, raw, "denylist")),
        verify=verify,
        examples=_str_list(where, rid, raw, "examples"),
        negative_examples=_str_list(where, rid, raw, "negative_examples"),
        tags=_str_list(where, rid, raw, "tags"),
        source=where,
        shipped=shipped,
        compiled=compiled,
        compiled_context=compiled_context,
        lines_after=lines_after,
        context_spec=context_spec,
    )


def _parse(where: str, text: str) -> dict:
    if sys.version_info >= (3, 11):  # here: the shipped rules are read from a cache, parsed once
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{where}: TOML error: {exc}") from None


def _tables(where: str, data: dict) -> list:
    extra = sorted(set(data) - {"rules"})
    if extra:
        raise UsageError(f"{where}: unknown top-level key(s) {', '.join(extra)} (expected [[rules]])")
    tables = data.get("rules", [])
    if not isinstance(tables, list):
        raise UsageError(f"{where}: 'rules' must be an array of tables ([[rules]])")
    return tables


def load_rule_file(path: str | os.PathLike[str], text: str | None = None, shipped: bool = False) -> list[Rule]:
    where = str(path)
    try:
        if text is None:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
    except FileNotFoundError:
        raise UsageError(f"{where}: rule file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{where}: cannot read rule file: {exc}") from None
    return [build_rule(t, where, shipped) for t in _tables(where, _parse(where, text))]


def _parsed_builtin(files: list[tuple[str, str]]) -> list[tuple[str, dict]]:
    """The shipped rule files parsed, through a JSON copy in the user's cache folder keyed by their text:
    parsing ~130 TOML files costs a pre-commit run ~40 ms, reading one JSON file ~3 ms. The copy is only
    data (every table still goes through build_rule); any cache problem just means parsing."""
    key = hashlib.sha256(json.dumps(files).encode()).hexdigest()[:32]
    path = os.path.join(cache_dir(), f"rules-{key}.json")
    try:
        with open(path, encoding="utf-8") as fh:
            cached = json.load(fh)
        if [name for name, _ in cached] == [name for name, _ in files]:
            cache_used(path)
            return [(name, data) for name, data in cached]
    except Exception:  # noqa: BLE001, S110 - parse instead
        pass
    parsed = [(name, _parse(name, text)) for name, text in files]
    try:
        blob = json.dumps(parsed)  # TOML dates would not survive: then no cache
    except (TypeError, ValueError):
        return parsed
    store(path, blob.encode(), prune="rules")
    return parsed


def shipped_dir() -> str:
    """The shipped rules/ folder: package data (scanner/rules/data) in a wheel, the checkout's top-level
    rules/ in a source checkout or editable install."""
    here = os.path.dirname(os.path.realpath(__file__))
    data = os.path.join(here, "data")
    return data if os.path.isdir(data) else os.path.join(os.path.dirname(os.path.dirname(here)), "rules")


def builtin_rule_files() -> list[tuple[str, str]]:
    """(name, text) of the rule files shipped inside the package (rules/ is installed as package data)."""
    root = shipped_dir()
    out = []
    for name in sorted(os.listdir(root)):
        if name.endswith(".toml"):
            with open(os.path.join(root, name), encoding="utf-8") as fh:
                out.append((f"rules/{name}", fh.read()))
    return out


def load_rules(extra_files: tuple[str, ...] | list[str] = (), builtin: bool = True, extra: tuple[Rule, ...] = ()
               ) -> list[Rule]:
    rules: list[Rule] = []
    if builtin:
        for name, data in _parsed_builtin(builtin_rule_files()):
            rules.extend(build_rule(t, name, shipped=True) for t in _tables(name, data))
    for path in extra_files:
        rules.extend(load_rule_file(path))
    rules.extend(extra)
    seen: dict[str, str] = {}
    for rule in rules:
        if rule.id in seen:
            raise UsageError(f"{rule.source}: rule '{rule.id}' is already defined in {seen[rule.id]}")
        seen[rule.id] = rule.source
    return rules
