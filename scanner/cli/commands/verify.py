"""`tokenscan verify`: credentials given by hand, classified and verified."""

from __future__ import annotations

import sys
from typing import Any

import click

from scanner.cli.options import report_options, settings_of
from scanner.cli.shared import configure, emit
from scanner.errors import UsageError
from scanner.pipeline.config import VerifySettings


@click.command()
@click.argument("tokens", nargs=-1)
@report_options
def verify(**params: Any) -> None:
    """Verify credentials given as arguments, or one per line on stdin with "-".

    Exit code 1 when any is live (--fail-on any: when any is recognised).
    """
    from scanner.pipeline.run import verify_tokens

    s = settings_of(VerifySettings, params)
    values, given_on = list(s.tokens), "argument"
    if values == ["-"]:  # bytes: a line that is not UTF-8 is a warning naming it, not a crash
        lines = sys.stdin.buffer.read().decode("utf-8", "surrogateescape").splitlines()
        values, given_on = [line.strip() for line in lines], "stdin line"
        if not any(values):
            values = []
    if not values:
        raise UsageError("verify: give credentials as arguments, or - to read them from stdin")
    if s.fail_on == "any" and "fail_on" not in s.given:
        s.fail_on = "live"
    s.force_verify = True
    emit(verify_tokens(values, configure(s, "."), given_on), s)
