"""`tokenscan baseline`: record today's findings so a gate fails only on new leaks."""

from __future__ import annotations

from typing import Any

import click

from scanner.cli.options import report_options, settings_of
from scanner.cli.shared import configure, repo_root, run_closing, write_output
from scanner.errors import UsageError
from scanner.pipeline.config import BaselineSettings


@click.group()
def baseline() -> None:
    """Record today's findings so a CI gate fails only on new leaks."""


@baseline.command("create")
@click.argument("target", default=".", type=click.Path())
@click.option("--history", "use_history", is_flag=True, help="Baseline the git history of TARGET, not its files.")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip paths matching GLOB (file scans).")
@report_options
def baseline_create(**params: Any) -> None:
    """Write the current findings of TARGET (fingerprints and places, never secrets) to --output."""
    from scanner.findings.suppress import baseline_document
    from scanner.pipeline.run import history_scan, scan_paths

    s = settings_of(BaselineSettings, params)
    if not s.output:
        raise UsageError("baseline create: --output FILE is required")
    opts = configure(s, repo_root(s.target) if s.use_history else s.target, "baselining")
    opts.baseline, opts.verify = None, None  # a baseline records everything that is there now
    if s.use_history:
        report = run_closing(opts, history_scan, s.target, opts)
    else:
        report = run_closing(opts, scan_paths, [s.target], opts, s.exclude)
    write_output(baseline_document(report.findings), s.output, secret_bearing=False)
    n = len(report.findings)
    click.echo(f"baseline: {n} finding{'s' if n != 1 else ''} recorded in {s.output}", err=True)
