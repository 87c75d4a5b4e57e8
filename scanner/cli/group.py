"""The `tokenscan` click group: one registration line per command module in scanner/cli/commands/, and
the error handling every command shares (scanner/cli/guard.py). Options shared by the commands live in
scanner/cli/options.py."""

from __future__ import annotations

import importlib
from typing import Any

import click

from scanner import __version__
from scanner.cli.guard import guarded


class _Group(click.Group):
    """Turns UsageError (bad input, named precisely) into one stderr line and exit 2, never a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS and name not in self.commands:
            module, _, attr = COMMANDS[name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return self.commands.get(name)

    def invoke(self, ctx: click.Context) -> Any:
        code = guarded(lambda: super(_Group, self).invoke(ctx),
                       (click.exceptions.Exit, click.ClickException, click.exceptions.Abort))
        if code is not None:
            ctx.exit(code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tokenscan")
def cli() -> None:
    """tokenscan: find leaked credentials with certainty (prefix + checksum) and say whether they are live.

    Exit codes: 0 no findings, 1 findings, 2 usage or runtime error.
    """


# One line per command: its name and where it lives. A command's module is imported only when that command
# runs (or --help lists them): a pre-commit run of `staged` does not pay for the audit datastore's imports.
COMMANDS = {
    "scan": "scanner.cli.commands.scan:scan",
    "history": "scanner.cli.commands.history:history",
    "ci": "scanner.cli.commands.ci:ci",
    "staged": "scanner.cli.commands.staged:staged",
    "install-hook": "scanner.cli.commands.hook:install_hook",
    "verify": "scanner.cli.commands.verify:verify",
    "baseline": "scanner.cli.commands.baseline:baseline",
    "rules": "scanner.cli.commands.rules:rules",
    "remediate": "scanner.cli.commands.remediate:remediate",
    "revoke": "scanner.cli.commands.revoke:revoke",
    "audit": "scanner.cli.commands.audit:audit",
    "triage": "scanner.cli.commands.audit:triage",
    "findings": "scanner.cli.commands.audit:findings",
    "serve": "scanner.cli.commands.serve:serve",
}
