"""`tokenscan staged`: what `git commit` would add, for pre-commit hooks."""

from __future__ import annotations

from typing import Any

import click

from scanner.cli.options import configure, emit, repo_root, report_options, settings_of
from scanner.pipeline.config import StagedSettings


@click.command()
@click.argument("repo", default=".", type=click.Path())
@report_options
def staged(**params: Any) -> None:
    """Scan what `git commit` would add (index against HEAD); for pre-commit hooks."""
    from scanner.pipeline.run import staged_scan

    s = settings_of(StagedSettings, params)
    report = staged_scan(s.repo, configure(s, repo_root(s.repo)))
    if report.findings and s.fmt == "text" and s.output is None:
        click.echo("tokenscan: credentials in staged changes; the commit was stopped.", err=True)
        click.echo("  Remove them (and rotate any real credential), or, for a false alarm, add the finding's\n"
                   "  fingerprint to .tokenscanignore or put `tokenscan:allow` in a comment on that line.",
                   err=True)
    s.quiet = s.quiet or not report.findings
    emit(report, s)
