"""`tokenscan ci`: the gate of a pull request, merge request or push, over the commits the change adds.

Its own command rather than flags on `history`: it reads the CI system's environment, may fetch into the
job's shallow checkout, and writes several reports from one scan (SARIF for code scanning, GitLab's report,
GitHub's annotations and job summary), none of which `history` should do when a person runs it."""

from __future__ import annotations

import os
import secrets
from typing import Any

import click

from scanner.cli.options import report_options, settings_of
from scanner.cli.shared import check_output, configure, emit, repo_root, run_closing, write_output
from scanner.errors import UsageError
from scanner.pipeline.config import CiSettings
from scanner.report.formats import FORMATS


def _extra_reports(specs: tuple[str, ...]) -> list[tuple[str, str]]:
    """--report FORMAT:FILE, checked before the scan (a typo must not cost its work)."""
    out = []
    for spec in specs:
        fmt, sep, path = spec.partition(":")
        if not sep or not path or fmt not in FORMATS:
            raise UsageError(f"--report {spec}: expected FORMAT:FILE with FORMAT one of {', '.join(FORMATS)}")
        check_output(path)
        out.append((fmt, path))
    return out


@click.command()
@click.argument("repo", default=".", type=click.Path())
@click.option("--base", metavar="REV", help="The change's base (default: from the CI system's environment).")
@click.option("--head", metavar="REV", help="The change's head (default: from the CI system, else HEAD).")
@click.option("--remote", default="origin", show_default=True, help="Where a shallow checkout fetches from.")
@click.option("--fetch/--no-fetch", default=True, show_default=True,
              help="Fetch what the range needs into a shallow checkout; --no-fetch: stop and say what to set.")
@click.option("--report", "reports", multiple=True, metavar="FORMAT:FILE",
              help="Also write this format to FILE from the same scan (sarif:tokenscan.sarif, "
                   "gitlab:gl-secret-detection-report.json); repeatable.")
@click.option("--github-output/--no-github-output", default=None,
              help="Annotations on files and lines, and a job summary (default: on in GitHub Actions).")
@click.option("--include-binary", is_flag=True, help="Scan blobs with NUL bytes in their first 8 KiB.")
@report_options
def ci(**params: Any) -> None:
    """Gate a pull request, merge request or push: scan only the commits the change adds (GitHub Actions and
    GitLab CI are read from their environment; elsewhere give --base and --head)."""
    from scanner.pipeline.cirange import complete, detect
    from scanner.pipeline.run import history_scan
    from scanner.report import render

    s = settings_of(CiSettings, params)
    extra = _extra_reports(s.reports)
    root = repo_root(s.repo)
    change, notes = complete(root, detect(os.environ, s.base, s.head), s.remote, s.fetch)
    opts = configure(s, root, "scanning the change", base_rev=change.base)
    opts.notes[:0] = notes
    report = run_closing(opts, history_scan, s.repo, opts, change.head, change.base, None, s.include_binary)
    for fmt, path in extra:
        write_output(render(report, fmt, s.show_secrets), path, s.show_secrets)
    github = s.github_output if s.github_output is not None else os.environ.get("GITHUB_ACTIONS") == "true"
    if not github:
        emit(report, s)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:  # appended: other steps of the job write there too
        try:
            with open(summary, "a", encoding="utf-8") as fh:
                fh.write(render(report, "markdown", False))
        except OSError as exc:
            click.echo(f"tokenscan: warning: GITHUB_STEP_SUMMARY {summary}: {exc.strerror or exc}", err=True)
    if s.output is None and s.fmt != "text":  # stdout carries a machine format: no workflow commands in it
        emit(report, s)
    click.echo(render(report, "github", False), nl=False)
    token = secrets.token_hex(16)  # nothing in the report below, a file name included, is read as a command
    click.echo(f"::stop-commands::{token}")
    try:
        emit(report, s)
    finally:
        click.echo(f"::{token}::")
