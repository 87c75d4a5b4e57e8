"""`tokenscan rules`: list the rules, or check each against its own examples."""

from __future__ import annotations

import sys

import click


@click.group()
def rules() -> None:
    """List the rules, or check every rule against its own examples."""


@rules.command("list")
@click.option("--rules", "rule_files", multiple=True, type=click.Path(dir_okay=False))
def rules_list(rule_files: tuple[str, ...]) -> None:
    """Print every rule: id, severity, checksum validator, keywords."""
    from scanner.pipeline.run import load_checked_rules

    click.echo(f"{'rule':40} {'severity':9} {'certainty':16} {'verified by':22} keywords")
    for r in load_checked_rules(rule_files):
        check = r.validator or "shape" + ("+context" if r.context else "")
        click.echo(f"{r.id:40} {r.severity:9} {check:16} {_verified_by(r.verify):22} {', '.join(r.keywords)}")


def _verified_by(kind: str | None) -> str:
    """How `--verify` checks a rule's findings: the vendor's host, or that it is not verified."""
    if not kind:
        return "-"
    from scanner.verify.registry import get

    v = get(kind)
    return f"{v.vendor.hosts[0]}" if v is not None and v.vendor.hosts else kind


@rules.command("check")
@click.option("--rules", "rule_files", multiple=True, type=click.Path(dir_okay=False))
def rules_check(rule_files: tuple[str, ...]) -> None:
    """Run every rule on its examples (must be found) and negative examples (must not be)."""
    from scanner.engine.examples import check_rules
    from scanner.pipeline.run import load_checked_rules

    rules_ = load_checked_rules(rule_files)
    problems = check_rules(rules_)
    for p in problems:
        click.echo(p, err=True)
    n_ex = sum(len(r.examples) + len(r.negative_examples) for r in rules_)
    click.echo(f"{len(rules_)} rules, {n_ex} examples: {len(problems)} problem(s)")
    sys.exit(1 if problems else 0)
