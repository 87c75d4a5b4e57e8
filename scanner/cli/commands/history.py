"""`tokenscan history`: a repository's whole history, or the part a change adds."""

from __future__ import annotations

from typing import Any

import click

from scanner.cli.options import report_options, settings_of
from scanner.cli.shared import configure, emit, repo_root, run_closing
from scanner.pipeline.config import HistorySettings


@click.command()
@click.argument("repo", default=".", type=click.Path())
@click.option("--branch", metavar="REF", help="Only REF's ancestry (default: every ref, tag and stash).")
@click.option("--since", metavar="REV", help="Only commits not reachable from REV (CI: --since origin/main).")
@click.option("--max-commits", type=click.IntRange(min=1), help="Scan at most N commits (newest first).")
@click.option("--include-binary", is_flag=True, help="Scan blobs with NUL bytes in their first 8 KiB.")
@report_options
def history(**params: Any) -> None:
    """Scan git history: every blob reachable from any ref once, plus every commit message."""
    from scanner.pipeline.run import history_scan

    s = settings_of(HistorySettings, params)
    opts = configure(s, repo_root(s.repo), "scanning history", base_rev=s.since)
    emit(run_closing(opts, history_scan, s.repo, opts, s.branch, s.since, s.max_commits, s.include_binary), s)
