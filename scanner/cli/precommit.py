"""The pre-commit hook's lean path: the command lines a hook runs (`tokenscan staged`, from
.pre-commit-hooks.yaml; `tokenscan staged --no-color REPO`, from install-hook; `-q`) are read here
without click, whose import and option table cost a hook ~25 ms on every commit. `run` is the staged
command's whole body, which the click command (scanner/cli/commands/staged.py) runs too: both paths apply
the same config, ignore file and baseline, and end alike (scanner/cli/guard.py). Any other command line,
`--help` included, is click's."""

from __future__ import annotations

import atexit
import os
import sys
from typing import Any

from scanner.cli.guard import guarded
from scanner.cli.shared import configure, emit, repo_root
from scanner.pipeline.config import StagedSettings

FLAGS = {"--no-color": "no_color", "-q": "quiet", "--quiet": "quiet"}


def parse(argv: list[str]) -> dict[str, Any] | None:
    """The staged command's parameters from a hook's command line; None for anything else."""
    if not argv or argv[0] != "staged":
        return None
    params: dict[str, Any] = {}
    for arg in argv[1:]:
        if arg in FLAGS:
            params[FLAGS[arg]] = True
        elif arg and not arg.startswith("-") and "repo" not in params:
            params["repo"] = arg
        else:
            return None
    return params


def run(s: StagedSettings) -> None:
    """Scan what `git commit` would add (index against HEAD), report, and exit with the gate's code."""
    from scanner.pipeline.run import staged_scan

    report = staged_scan(s.repo, configure(s, repo_root(s.repo)))
    if report.findings and s.fmt == "text" and s.output is None:
        print("tokenscan: credentials in staged changes; the commit was stopped.\n"
              "  Remove them (and rotate any real credential), or, for a false alarm, add the finding's\n"
              "  fingerprint to .tokenscanignore or put `tokenscan:allow` in a comment on that line.",
              file=sys.stderr, flush=True)
    s.quiet = s.quiet or not report.findings
    emit(report, s)


def main(params: dict[str, Any]) -> int:
    """The exit code of `run` with these parameters (they were all given on the command line)."""
    try:
        code = guarded(lambda: run(StagedSettings.of(params, params)))
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 0 if done.code is None else 1
    return code if code is not None else 0


def end(code: int) -> None:
    """Exits with code as the interpreter would, minus its teardown: the at-exit handlers run and the
    streams are flushed, but the engine's ~150,000 objects are not freed one by one (~10 ms of a hook's
    run, spent on memory the process is about to give back whole)."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed, or a reader that left: nothing more can be said there
            pass
    os._exit(code)
