"""Benchmark: `tokenscan scan` over a large tree against the floor (cat every file) and a peer (Kingfisher).

    python tests/bench/bench_files.py [TREE]      # default: this Python's standard library directory

The peer is measured in the same run when `kingfisher` is on PATH (PyPI: kingfisher-bin). Not a test:
prints figures, asserts nothing about time.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig

from common import row, timed, tokenscan_cmd


def main() -> None:
    tree = sys.argv[1] if len(sys.argv) > 1 else sysconfig.get_paths()["stdlib"]
    size = int(subprocess.run(["du", "-sb", tree], capture_output=True, text=True).stdout.split()[0])
    mb = size / 1e6
    files = int(subprocess.run(f"find '{tree}' -type f | wc -l", shell=True, capture_output=True,
                               text=True).stdout)
    print(f"tree {tree}: {files} files, {mb:.0f} MB")
    floor, _ = timed(f"find '{tree}' -type f -print0 | xargs -0 cat > /dev/null")
    ours, rss = timed(tokenscan_cmd() + ["scan", tree, "-q", "--no-gitignore"])  # before the peer: RSS is ours
    peer = None
    if shutil.which("kingfisher"):
        timed(["kingfisher", "scan", tree, "--no-validate", "--format", "json"], repeat=1)  # warm its rule cache
        peer, _ = timed(["kingfisher", "scan", tree, "--no-validate", "--format", "json"], ok=(0, 200, 205))
    print(row("cat (floor)", floor, mb, floor, peer))
    if peer:
        print(row("kingfisher", peer, mb, floor, peer))
    print(row("tokenscan", ours, mb, floor, peer, rss))


if __name__ == "__main__":
    main()
