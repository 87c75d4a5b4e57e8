"""The command line's entry point. The pre-commit hook's own command lines (`tokenscan staged [--no-color]
[-q] [REPO]`) take a lean path that never imports click (scanner/cli/precommit.py): a hook runs on every
commit, and click with its options costs ~25 ms before a byte is read. Every other command line goes to
the click group (scanner/cli/group.py). Both end through scanner/cli/guard.py."""

from __future__ import annotations

import os
import signal
import sys

from scanner.cli.guard import on_sigterm
from scanner.cli.shared import CLOSED


def main() -> None:
    for name in ("stdout", "stderr"):  # started with `>&-`: a report to -o still works; stdout is refused in _write
        if getattr(sys, name) is None:
            CLOSED.add(name)
            setattr(sys, name, open(os.devnull, "w"))
    signal.signal(signal.SIGTERM, on_sigterm)
    from scanner.cli import precommit

    params = precommit.parse(sys.argv[1:])
    if params is not None:
        precommit.end(precommit.main(params))
    from scanner.cli.group import cli

    cli(prog_name="tokenscan")
