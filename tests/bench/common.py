"""Shared timing helpers for the benchmarks: wall time and peak RSS of a child command, best of N."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path


def tokenscan_cmd() -> list[str]:
    exe = shutil.which("tokenscan") or str(Path(sys.executable).with_name("tokenscan"))
    return [exe] if os.path.exists(exe) else [sys.executable, "-m", "scanner"]


def timed(cmd: list[str] | str, repeat: int = 3, ok=(0, 1)) -> tuple[float, float]:
    """Best wall seconds over `repeat` runs and the peak RSS (MiB) of any run."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(cmd, shell=isinstance(cmd, str), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
        wall = time.perf_counter() - start
        if proc.returncode not in ok:
            raise SystemExit(f"{cmd!r} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
        best = min(best, wall)
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return best, rss


def row(name: str, wall: float, mb: float, floor: float, peer: float | None, rss: float | None = None) -> str:
    out = f"{name:14} {wall:7.2f} s  {mb / wall:8.1f} MB/s  x{wall / floor:5.2f} floor"
    if peer:
        out += f"  x{wall / peer:5.2f} peer"
    if rss is not None:
        out += f"  peak RSS {rss:6.0f} MiB"
    return out
