"""Benchmark: what the audit datastore saves. Prints figures; asserts nothing (not part of the test suite).

    python tests/bench/bench_audit.py [--forks 10] [--commits 5000] [--blobs 15000] [--mb 100] [--keep DIR]
                                      [--repeat N]

Builds one synthetic repository (make_history.py: text-like blobs, five planted synthetic credentials) and
N forks of it (local bare clones, each with one commit of its own holding a new synthetic credential), then
times, each into its own datastore file:

  first audit     the repository, empty datastore: every blob read
  second audit    the same repository again: nothing new, nothing should be read (issue 15: <= 5% of the first)
  N forks         the N forks, empty datastore: the shared history is read once (issue 15: <= 1.3x one)

Why these three: an organisation's audit is mostly re-audits and forks; a per-repository cost that does not
shrink with the datastore is what the ratios expose. --repeat N runs each of the three N times (a fresh
datastore each time for the first audit and the forks) and prints the best: the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from common import tokenscan_cmd

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from tokens import cloudflare  # noqa: E402


def fork(src: str, dest: str, n: int) -> None:
    """A bare clone sharing src's history (hardlinked objects, as a hosting service shares a fork network)
    plus one commit of its own on main."""
    subprocess.run(["git", "clone", "-q", "--bare", src, dest], check=True)
    body = f"fork {n}\nCF_TOKEN={cloudflare('cfut_', 9000 + n)}\n".encode()
    msg = f"fork {n} work".encode()
    stream = (b"commit refs/heads/main\ncommitter Fork <fork@example.com> %d +0000\ndata %d\n%s\n"
              b"from refs/heads/main^0\nM 100644 inline fork_%d.txt\ndata %d\n%s\n\n"
              % (1_800_000_000 + n, len(msg), msg, n, len(body), body))
    subprocess.run(["git", "-C", dest, "fast-import", "--quiet"], input=stream, check=True)


def audit(targets: list[str], datastore: str) -> tuple[float, dict]:
    """Wall seconds of one `tokenscan audit` (a fresh process, as a scheduled job runs it) and its summary."""
    cmd = tokenscan_cmd() + ["audit", *targets, "--datastore", datastore, "--format", "json"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"audit failed ({proc.returncode}): {proc.stderr[-800:]}")
    return wall, json.loads(proc.stdout)["summary"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--forks", type=int, default=10)
    ap.add_argument("--commits", type=int, default=5000)
    ap.add_argument("--blobs", type=int, default=15000)
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--keep", metavar="DIR", help="build in DIR and keep it (default: a temporary folder)")
    ap.add_argument("--repeat", type=int, default=1, help="run each audit N times and keep the best time")
    args = ap.parse_args()
    root = args.keep or tempfile.mkdtemp(prefix="bench-audit-")
    os.makedirs(root, exist_ok=True)
    repo = os.path.join(root, "origin.git")
    if not os.path.isdir(repo):
        subprocess.run([sys.executable, os.path.join(HERE, "make_history.py"), repo, "--commits", str(args.commits),
                        "--blobs", str(args.blobs), "--mb", str(args.mb)], check=True, stdout=subprocess.DEVNULL)
    forks = []
    for n in range(args.forks):
        dest = os.path.join(root, "forks", f"fork{n:03d}.git")
        if not os.path.isdir(dest):
            fork(repo, dest, n)
        forks.append(dest)
    def fresh(name: str) -> str:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(os.path.join(root, name + suffix)):
                os.remove(os.path.join(root, name + suffix))
        return os.path.join(root, name)

    for name in ("one.db", "forks.db", "tiny.db"):
        fresh(name)

    tiny = os.path.join(root, "tiny.git")  # the per-process floor: start, rule loading, engine build
    if not os.path.isdir(tiny):
        subprocess.run(["git", "init", "-q", "--bare", tiny], check=True)
        subprocess.run(["git", "-C", tiny, "fast-import", "--quiet"], check=True, input=(
            b"commit refs/heads/main\ncommitter T <t@example.com> 1700000000 +0000\ndata 4\ninit\n"
            b"M 100644 inline README\ndata 3\nhi\n\n"))
    if os.path.exists(os.path.join(root, "tiny.db")):
        os.remove(os.path.join(root, "tiny.db"))
    fixed, _ = audit([tiny], os.path.join(root, "tiny.db"))
    start = time.perf_counter()
    subprocess.run(["git", "--git-dir", repo, "rev-list", "--objects", "--all"], stdout=subprocess.DEVNULL, check=True)
    walk = time.perf_counter() - start

    first, s1 = min((audit([repo], fresh("one.db")) for _ in range(args.repeat)), key=lambda r: r[0])
    second, s2 = min((audit([repo], os.path.join(root, "one.db")) for _ in range(args.repeat)), key=lambda r: r[0])
    many, sn = min((audit(forks, fresh("forks.db")) for _ in range(args.repeat)), key=lambda r: r[0])
    print(f"repository: {args.commits} commits, {s1['blobs_planned']} blobs ({args.mb} MB asked); "
          f"{args.forks} forks of it; {os.cpu_count()} cores")
    print(f"first audit       {first:7.2f} s  blobs read {s1['blobs_read']:>6}  findings {s1['findings']}")
    print(f"second audit      {second:7.2f} s  blobs read {s2['blobs_read']:>6}  findings {s2['findings']}  "
          f"= {100 * second / first:5.1f}% of the first (target <= 5%)")
    print(f"{args.forks:3d} forks audit   {many:7.2f} s  blobs read {sn['blobs_read']:>6}  findings {sn['findings']}  "
          f"= {many / first:5.2f}x one repository (target <= 1.3x); {(many - first) / max(1, args.forks - 1):.2f} s "
          f"per extra fork")
    print(f"floors: an audit of a one-commit repository {fixed:.2f} s (process, rules, engine); "
          f"git rev-list --objects --all {walk:.2f} s (the walk every audit of a repository makes)")
    if not args.keep:
        subprocess.run(["rm", "-rf", root], check=False)


if __name__ == "__main__":
    main()
