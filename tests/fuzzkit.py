"""What every fuzzed input must satisfy, whatever its bytes: the properties of issue 28.

- the exit code is 0, 1 or 2 (2 with one clear line, never a traceback or "internal error");
- the run ends within a bound (an example slower than LIMIT seconds is a hang);
- nothing is written anywhere but the output the user named (the input tree is unchanged);
- a secret planted in the input is found wherever the input is still scannable.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner
from tokens import cloudflare

from scanner.cli.group import cli

LIMIT = 30.0  # seconds: far above any real example here
PLANTED = cloudflare("cfut_", 2801)  # a valid-checksum synthetic token
SHOWN = PLANTED[-4:]  # what a redacted report shows of it


@dataclass(frozen=True)
class Run:
    code: int
    output: str
    seconds: float


def run(args: Sequence[str], stdin: bytes | None = None, cwd: str | None = None) -> Run:
    """The CLI in-process (its own error handling included: scanner.cli.group._Group), checked for the
    properties every input must keep."""
    old = os.getcwd()
    if cwd:
        os.chdir(cwd)
    try:
        t0 = time.perf_counter()
        res = CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=True)
        seconds = time.perf_counter() - t0
    finally:
        os.chdir(old)
    out = res.output
    crashed = res.exception is not None and not isinstance(res.exception, SystemExit)
    assert not crashed, f"{args}: {type(res.exception).__name__}: {res.exception}"
    assert res.exit_code in (0, 1, 2), (args, res.exit_code, out)
    assert "Traceback" not in out and "internal error" not in out, (args, out)
    assert seconds < LIMIT, (args, seconds)
    return Run(res.exit_code, out, seconds)


def tree_state(root: str | Path) -> dict[str, str]:
    """Every file under root and a digest of its bytes (links and special files by kind)."""
    out: dict[str, str] = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = "link:" + os.readlink(p)
            elif os.path.isfile(p):
                with open(p, "rb") as fh:
                    out[rel] = hashlib.sha256(fh.read()).hexdigest()
            elif os.path.isdir(p):
                out[rel] = "dir"
            else:
                out[rel] = "special"
    return out
