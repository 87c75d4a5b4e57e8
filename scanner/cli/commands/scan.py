"""`tokenscan scan`: files on disk."""

from __future__ import annotations

from typing import Any

import click

from scanner.cli.options import parse_size, report_options, settings_of
from scanner.cli.shared import configure, emit, run_closing
from scanner.pipeline.config import ScanSettings


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=False))
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip paths matching GLOB (gitignore syntax).")
@click.option("--no-gitignore", is_flag=True, help="Scan files that .gitignore excludes too.")
@click.option("--include-binary", is_flag=True, help="Scan files with NUL bytes in their first 8 KiB.")

@click.option("--max-file-size", default="10M", show_default=True, callback=lambda c, p, v: parse_size(v),
              help="Files larger than this are streamed in overlapping windows.")
@report_options
def scan(**params: Any) -> None:
    """Scan files on disk (default: the current directory)."""
    from scanner.pipeline.run import scan_paths

    s = settings_of(ScanSettings, params)
    roots = list(s.paths) or ["."]
    opts = configure(s, roots[0], "scanning files")
    emit(run_closing(opts, scan_paths, roots, opts, s.exclude, not s.no_gitignore, s.max_file_size, s.include_binary), s)
