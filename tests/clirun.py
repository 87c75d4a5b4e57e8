"""The one way tests run the `tokenscan` command: a real subprocess, as a user's shell would run it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the checkout: README.md, rules/, fixtures/


def tokenscan(*args: str, cwd: str | Path | None = None, env: dict[str, str] | None = None,
              stdin: str | None = None, stdout: int | None = subprocess.PIPE,
              timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run `python -m scanner ARGS` with the environment plus ENV; output captured as text, never raising."""
    return subprocess.run([sys.executable, "-m", "scanner", *args], stdout=stdout, stderr=subprocess.PIPE,
                          text=True, cwd=cwd, input=stdin, env={**os.environ, **(env or {})}, timeout=timeout,
                          check=False)
