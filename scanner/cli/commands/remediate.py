"""`tokenscan remediate`: the filter-repo plan for a history's leaked secrets (scanner.remediate.plan)."""

from __future__ import annotations

import sys

import click

from scanner.remediate.plan import run


@click.command("remediate")
@click.argument("repo", default=".", type=click.Path())
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False),
              help="Replacements file for `git filter-repo --replace-text` (created 0600; outside the repository).")
@click.option("--force", is_flag=True, help="Replace an existing --output file.")
@click.option("--rules", "rule_files", multiple=True, type=click.Path(dir_okay=False),
              help="Extra rule file (TOML); repeatable.")
@click.option("--no-suppress", is_flag=True, help="Include findings suppressed by inline allows and the ignore file.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Worker processes.")
def remediate(repo: str, output: str, force: bool, rule_files: tuple[str, ...], no_suppress: bool,
              jobs: int | None) -> None:
    """Scan REPO's whole history and write a `git filter-repo` replacements file; print the steps
    (rotate first, rewrite a mirror clone, force-push, re-clone, purge caches, delete the file).

    Never rewrites or pushes anything itself. Secrets go only into --output, never to the terminal.
    """
    text, _ = run(repo, output, rule_files, no_suppress, jobs, force)
    sys.stdout.write(text)
    sys.stdout.flush()
