"""gitleaks configuration compatibility: a team's custom gitleaks rules and allowlists run unchanged.

Supported: [[rules]] with id, description, regex, secretGroup, entropy, keywords, path, tags, and
[rules.allowlist] / [[rules.allowlists]]; global [allowlist] / [[allowlists]] (with targetRules); in
allowlists: regexes (regexTarget secret, match or line), stopwords, paths, commits, condition OR/AND.
Refused with exit 2 rather than silently ignored: [extend] (gitleaks's default rules are not bundled;
tokenscan's own rules always run), path-only rules (no regex), commits under condition AND, unknown keys.
Go RE2 syntax is compiled with the `regex` module; `\\z` becomes `\\Z`.
"""

from __future__ import annotations

from typing import Any

import regex

from scanner.errors import UsageError
from scanner.rules.loader import Allowlist, Rule

_TOP = {"title", "description", "rules", "allowlist", "allowlists", "extend", "minVersion"}
_RULE = {"id", "description", "regex", "secretGroup", "entropy", "keywords", "path", "tags", "allowlist",
         "allowlists", "severity"}
_ALLOW = {"description", "condition", "commits", "paths", "regexTarget", "regexes", "stopwords", "targetRules"}


def is_gitleaks_config(data: dict) -> bool:
    rules = data.get("rules")
    return (isinstance(rules, list) and any(isinstance(r, dict) for r in rules)) or bool(
        {"extend", "allowlist", "allowlists", "title"} & set(data))


def _go_regex(pattern: str) -> str:
    return pattern.replace("\\z", "\\Z")


def _compile(where: str, what: str, pattern: Any, as_bytes: bool) -> Any:
    if not isinstance(pattern, str):
        raise UsageError(f"{where}: {what} must be a string")
    try:
        p = _go_regex(pattern)
        return regex.compile(p.encode("utf-8") if as_bytes else p)
    except regex.error as exc:
        raise UsageError(f"{where}: {what} does not compile: {exc}") from None


def _list(where: str, raw: dict, key: str) -> list:
    value = raw.get(key, [])
    if not isinstance(value, list):
        raise UsageError(f"{where}: '{key}' must be a list")
    return value


def _allowlist(raw: Any, where: str) -> tuple[Allowlist, list[str]]:
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: an allowlist must be a table")
    unknown = sorted(set(raw) - _ALLOW)
    if unknown:
        raise UsageError(f"{where}: unknown allowlist key(s) {', '.join(unknown)}")
    condition = str(raw.get("condition", "OR")).upper()
    if condition not in ("OR", "AND"):
        raise UsageError(f"{where}: condition must be OR or AND")
    target = raw.get("regexTarget", "secret")
    if target not in ("secret", "match", "line"):
        raise UsageError(f"{where}: regexTarget must be secret, match or line")
    commits = frozenset(str(c) for c in _list(where, raw, "commits"))
    if commits and condition == "AND":
        raise UsageError(f"{where}: commits under condition AND cannot be honoured (use OR)")
    allow = Allowlist(
        regexes=tuple(_compile(where, "allowlist regex", r, True) for r in _list(where, raw, "regexes")),
        regex_target=target,
        stopwords=tuple(str(w).lower() for w in _list(where, raw, "stopwords")),
        paths=tuple(_compile(where, "allowlist path", p, False) for p in _list(where, raw, "paths")),
        commits=commits, condition=condition)
    return allow, [str(t) for t in _list(where, raw, "targetRules")]


def _allowlists(raw: dict, where: str) -> list[tuple[Allowlist, list[str]]]:
    out = []
    if "allowlist" in raw:
        out.append(_allowlist(raw["allowlist"], f"{where} [allowlist]"))
    for i, a in enumerate(_list(where, raw, "allowlists")):
        out.append(_allowlist(a, f"{where} [[allowlists]] #{i + 1}"))
    return out


def load_gitleaks(data: dict, source: str) -> list[Rule]:
    unknown = sorted(set(data) - _TOP)
    if unknown:
        raise UsageError(f"{source}: unknown gitleaks key(s) {', '.join(unknown)}")
    if "extend" in data:
        raise UsageError(f"{source}: [extend] cannot be honoured: gitleaks's default rules are not bundled "
                         "(tokenscan's own rules always run); remove [extend] to use this file's rules")
    global_allow = _allowlists(data, source)
    rules: list[Rule] = []
    for raw in _list(source, data, "rules"):
        if not isinstance(raw, dict):
            raise UsageError(f"{source}: each [[rules]] entry must be a table")
        rid = raw.get("id")
        if not isinstance(rid, str) or not rid:
            raise UsageError(f"{source}: a rule has no 'id'")
        where = f"{source}: rule '{rid}'"
        bad = sorted(set(raw) - _RULE)
        if bad:
            raise UsageError(f"{where}: unknown field(s) {', '.join(bad)}")
        if "regex" not in raw:
            raise UsageError(f"{where}: path-only rules (no regex) are not supported")
        compiled = _compile(where, "regex", raw["regex"], True)
        group = raw.get("secretGroup")
        if group is not None and (not isinstance(group, int) or group < 0 or group > compiled.groups):
            raise UsageError(f"{where}: secretGroup {group} does not exist in the regex")
        if group is None:  # gitleaks: the only capture group if there is exactly one, else the whole match
            group = 1 if compiled.groups == 1 else 0
        entropy = raw.get("entropy", 0.0)
        if not isinstance(entropy, (int, float)):
            raise UsageError(f"{where}: entropy must be a number")
        keywords = tuple(str(k) for k in _list(where, raw, "keywords") if str(k))
        allow = [a for a, _ in _allowlists(raw, where)]
        allow += [a for a, targets in global_allow if not targets or rid in targets]
        rules.append(Rule(
            id=rid, description=str(raw.get("description") or rid), severity="high",
            keywords=keywords, pattern=raw["regex"], min_entropy=float(entropy),
            tags=tuple(str(t) for t in _list(where, raw, "tags")) + ("gitleaks",), source=source,
            compiled=compiled, group=group,
            path_pattern=_compile(where, "path", raw["path"], False) if "path" in raw else None,
            allowlists=tuple(allow)))
    return rules


def _commit_allowed(rule: Rule, commit: str | None) -> bool:
    return commit is not None and any(any(commit.startswith(c) for c in a.commits)
                                      for a in rule.allowlists if a.commits)


def drop_allowlisted_commits(findings: list, rules: list[Rule]) -> tuple[list, int]:
    """Allowlisted commits (condition OR) can only be checked once findings are attributed to commits."""
    by_id = {r.id: r for r in rules}
    kept = [f for f in findings if not (f.rule_id in by_id and _commit_allowed(by_id[f.rule_id], f.commit))]
    return kept, len(findings) - len(kept)
