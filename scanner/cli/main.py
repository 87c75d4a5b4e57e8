"""The command line's entry point: the `tokenscan` group, its error handling (one line and exit 2 for bad
input, 130/143 on signals, never a traceback) and one registration line per command module in
scanner/cli/commands/. Options shared by the commands live in scanner/cli/options.py."""

from __future__ import annotations

import importlib
import os
import signal
import sys
from typing import Any

import click

from scanner import __version__
from scanner.cli.options import _CLOSED
from scanner.errors import UsageError


class Terminated(BaseException):
    """SIGTERM (CI cancel, `timeout`, `docker stop`) unwinds like Ctrl-C: workers and git helpers are ended
    and waited for on the way out, so nothing is left holding the caller's pipes."""


def _on_sigterm(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once is enough: the unwinding must not be interrupted
    raise Terminated()


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
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            click.echo(f"tokenscan: error: {exc}", err=True)
            ctx.exit(2)
        except KeyboardInterrupt:
            click.echo("tokenscan: interrupted", err=True)
            ctx.exit(130)
        except Terminated:
            click.echo("tokenscan: terminated", err=True)
            ctx.exit(143)
        except BrokenPipeError:  # `tokenscan ... | head`: the reader left; say nothing more
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(1)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except Exception as exc:  # a bug: say so briefly; TOKENSCAN_DEBUG=1 shows the traceback
            if os.environ.get("TOKENSCAN_DEBUG"):
                raise
            click.echo(f"tokenscan: internal error: {type(exc).__name__}: {exc}", err=True)
            ctx.exit(2)


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


def main() -> None:
    for name in ("stdout", "stderr"):  # started with `>&-`: a report to -o still works; stdout is refused in _write
        if getattr(sys, name) is None:
            _CLOSED.add(name)
            setattr(sys, name, open(os.devnull, "w"))
    signal.signal(signal.SIGTERM, _on_sigterm)
    cli(prog_name="tokenscan")
