"""`tokenscan staged`: what `git commit` would add, for pre-commit hooks. The body is shared with the
hook's lean path (scanner/cli/precommit.py), which runs it without click."""

from __future__ import annotations

from typing import Any

import click

from scanner.cli.options import report_options, settings_of
from scanner.pipeline.config import StagedSettings


@click.command()
@click.argument("repo", default=".", type=click.Path())
@report_options
def staged(**params: Any) -> None:
    """Scan what `git commit` would add (index against HEAD); for pre-commit hooks."""
    from scanner.cli.precommit import run

    run(settings_of(StagedSettings, params))
