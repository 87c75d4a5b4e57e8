"""Shared timing helpers for the benchmarks: wall time and peak RSS of a command's whole process tree, best of N.

Peak RSS is sampled (every 10 ms, from /proc) over the command's process and all its descendants, summed:
`tokenscan` with its worker processes and git helpers, `find | xargs cat` with its pipeline. (getrusage's
RUSAGE_CHILDREN, used before, reports the largest single process ever waited for by the bench, so after
the floor ran it could report the floor's git process for tokenscan.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def tokenscan_cmd() -> list[str]:
    """The installed `tokenscan`, or `python -m scanner` when PYTHONPATH is set (to time another checkout:
    `PYTHONPATH=/tmp/old python tests/bench/bench_dense.py` times that checkout's code)."""
    if os.environ.get("PYTHONPATH"):  # -P: run from the repository root, `-m` would import ./scanner first
        return [sys.executable, "-P", "-m", "scanner"]
    exe = shutil.which("tokenscan") or str(Path(sys.executable).with_name("tokenscan"))
    return [exe] if os.path.exists(exe) else [sys.executable, "-m", "scanner"]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _tree_rss(root: int) -> int:
    """Resident bytes of root and every descendant (0 where a process is already gone)."""
    tree = _children()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo += tree.get(pid, [])
        try:
            with open(f"/proc/{pid}/statm", "rb") as fh:
                total += int(fh.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            pass
    return total


def run_measured(cmd: list[str] | str, env: dict | None = None, rss: bool = True) -> tuple[float, float, int, str]:
    """One run: (wall seconds, peak RSS of the process tree in MiB, exit code, stderr tail).

    rss=False: no sampling. Walking /proc every 10 ms takes a core's share from a command that uses both
    (tokenscan's workers, Kingfisher's threads) but not from one that uses one (`cat`), so timed runs go
    unsampled and the peak is taken in a run of its own."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, shell=isinstance(cmd, str), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=env)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            if os.path.isdir("/proc"):
                peak[0] = max(peak[0], _tree_rss(proc.pid))
            done.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    if rss:
        sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    if rss:
        sampler.join()
    return wall, peak[0] / 2**20, proc.returncode, err.decode(errors="replace")[-500:]


def timed(cmd: list[str] | str, repeat: int = 3, ok: tuple[int, ...] | None = (0, 1),
          env: dict | None = None) -> tuple[float, float]:
    """Best wall seconds over `repeat` unsampled runs, and the peak RSS (MiB, whole process tree) of one
    more run that samples it.

    ok: the exit codes that mean the command worked; None takes any (a peer's exit code is data: Kingfisher
    exits 200 when it finds something)."""
    best, rss = float("inf"), 0.0
    for n in range(repeat + 1):
        wall, peak, code, err = run_measured(cmd, env, rss=n == repeat)
        if ok is not None and code not in ok:
            raise SystemExit(f"{cmd!r} failed ({code}): {err}")
        if n < repeat:
            best = min(best, wall)
        rss = max(rss, peak)
    return best, rss


def row(name: str, wall: float, mb: float, floor: float, peer: float | None, rss: float | None = None) -> str:
    out = f"{name:14} {wall:7.2f} s  {mb / wall:8.1f} MB/s  x{wall / floor:5.2f} floor"
    if peer:
        out += f"  x{wall / peer:5.2f} peer"
    if rss is not None:
        out += f"  peak RSS {rss:6.0f} MiB"
    return out
