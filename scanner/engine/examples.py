"""Each rule proves itself on its own examples: every example found, no negative example reported."""

from __future__ import annotations

import regex

from scanner.engine.matcher import Engine
from scanner.rules.loader import Rule


def check_rules(rules: list[Rule], accelerated: bool | None = None) -> list[str]:
    """Problems found, one line each; runs the real engine with all rules so keyword routing is tested too."""
    problems = []
    for rule in rules:  # shipped patterns compile on first use: check every one here
        for what, pattern in (("regex", rule.compiled), ("context", rule.compiled_context)):
            try:
                groups = pattern.groups if pattern is not None else 1
            except regex.error as exc:
                problems.append(f"{rule.source}: rule '{rule.id}': {what} does not compile: {exc}")
                continue
            if what == "regex" and groups < 1:
                problems.append(f"{rule.source}: rule '{rule.id}': regex needs a capture group for the secret")
    if problems:
        return problems
    engine = Engine(rules, accelerated)
    for rule in rules:
        for ex in rule.examples:
            hits = [m for m in engine.scan(ex.encode()) if m.rule.id == rule.id and m.checksum != "invalid"]
            if not hits:
                problems.append(f"{rule.source}: rule '{rule.id}': example not found: {ex[:80]!r}")
        for ex in rule.negative_examples:
            hits = [m for m in engine.scan(ex.encode()) if m.checksum != "invalid"]
            if hits:
                ids = ", ".join(sorted({m.rule.id for m in hits}))
                problems.append(f"{rule.source}: rule '{rule.id}': negative example reported by {ids}: {ex[:80]!r}")
    return problems
