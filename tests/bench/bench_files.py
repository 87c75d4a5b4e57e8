"""Benchmark: `tokenscan scan` over a large tree against the floor (cat every file) and a peer (Kingfisher).

    python tests/bench/bench_files.py [TREE] [--archive-depth N]   # default: this Python's standard library

The peer is measured in the same run when `kingfisher` is on PATH (PyPI: kingfisher-bin); its exit code
is data (200: it found something), never a failure of the bench. Each command is one process tree reading
the same files; peak RSS is that tree's (tokenscan and its workers; find, xargs and cat). Not a test:
prints figures, asserts nothing about time.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig

from common import row, run_measured, timed, tokenscan_cmd


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    tree = args[0] if args else sysconfig.get_paths()["stdlib"]
    extra = []
    if "--archive-depth" in sys.argv:
        extra = ["--archive-depth", sys.argv[sys.argv.index("--archive-depth") + 1]]
        tree = next((a for a in args if a != extra[1]), sysconfig.get_paths()["stdlib"])
    size = int(subprocess.run(["du", "-sb", tree], capture_output=True, text=True).stdout.split()[0])
    mb = size / 1e6
    files = int(subprocess.run(f"find '{tree}' -type f | wc -l", shell=True, capture_output=True,
                               text=True).stdout)
    print(f"tree {tree}: {files} files, {mb:.0f} MB")
    floor, floor_rss = timed(f"find '{tree}' -type f -print0 | xargs -0 cat > /dev/null")
    ours, rss = timed(tokenscan_cmd() + ["scan", tree, "-q", "--no-gitignore"] + extra)
    peer = peer_rss = None
    if shutil.which("kingfisher"):
        cmd = ["kingfisher", "scan", tree, "--no-validate", "--format", "json"]
        _, _, code, _ = run_measured(cmd)  # warms its rule cache; 200/205 mean findings
        peer, peer_rss = timed(cmd, ok=None)
        print(f"(kingfisher exit code {code})")
    print(row("cat (floor)", floor, mb, floor, peer, floor_rss))
    if peer:
        print(row("kingfisher", peer, mb, floor, peer, peer_rss))
    print(row("tokenscan", ours, mb, floor, peer, rss))


if __name__ == "__main__":
    main()
