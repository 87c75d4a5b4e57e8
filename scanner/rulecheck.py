"""Each rule proves itself on its own examples: every example found, no negative example reported."""

from __future__ import annotations

from scanner.engine import Engine
from scanner.rules import Rule


def check_rules(rules: list[Rule], accelerated: bool | None = None) -> list[str]:
    """Problems found, one line each; runs the real engine with all rules so keyword routing is tested too."""
    engine = Engine(rules, accelerated)
    problems = []
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
