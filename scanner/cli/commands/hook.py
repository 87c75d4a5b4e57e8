"""`tokenscan install-hook`: the pre-commit hook that runs `tokenscan staged`."""

from __future__ import annotations

import click


@click.command("install-hook")
@click.argument("repo", default=".", type=click.Path())
@click.option("--force", is_flag=True, help="Replace an existing, different pre-commit hook.")
def install_hook(repo: str, force: bool) -> None:
    """Write .git/hooks/pre-commit running `tokenscan staged` (this command writes into the repository)."""
    from scanner.pipeline.hook import install

    path = install(repo, force)
    click.echo(f"installed {path}")
