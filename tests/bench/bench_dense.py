"""Benchmark: a keyword-dense file (every line names Cloudflare, holds hashes, UUIDs and ids, no credential).

    python tests/bench/bench_dense.py [--mb 2.3] [--files 20] [--before REV]

Issue 11: a 2.3 MB API reference mentions `cloudflare` ~90,000 times; work per keyword hit made it cost 1.3 s.
Each comparison reads the same bytes in the same process model:

* in process: the engine's scan of the file against reading it (`read_bytes`, page cache) and against the
  native matching pass alone (the Hyperscan database over the bytes, no Python callback: what no Python
  work can go below);
* one process per command over a tree of `--files` such files (distinct contents, ~46 MB): `tokenscan
  scan DIR` against `cat` of the same files and, where installed, Kingfisher; start-up is paid once per
  command, as it is by every tool.

With `--before REV` (default 4b59d73, the last commit with keyword-anchored legacy rules) it also times the
Cloudflare rules alone: REV's rules/cloudflare.toml against today's, on the same engine. To time another
checkout's code, run this script with PYTHONPATH=<that checkout>. Not a test: asserts nothing about time.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import row, run_measured, timed, tokenscan_cmd


def dense_text(mb: float = 2.3, seed: int = 11, sha1: bool = True) -> bytes:
    """API-reference-like lines, each naming Cloudflare three or four times, with look-alike values and no
    secret. With sha1, two lines in five hold a 40-hex commit id: a candidate of both legacy rules' shape
    (the worst case: every one is judged); without, no value has a 37-45 character shape."""
    rng = random.Random(seed)
    words = ["Zone", "Settings", "Origin", "Max", "Http", "Version", "Cache", "Rules", "Page", "Worker"]
    out: list[str] = []
    size = 0
    i = 0
    while size < mb * 1e6:
        commit = f"{rng.getrandbits(160):040x}" if sha1 else f"{rng.getrandbits(128):032x}"
        sha256 = f"{rng.getrandbits(256):064x}"
        uuid = "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}".format(*tuple(rng.getrandbits(b) for b in (32, 16, 16, 16, 48)))
        zone = f"{rng.getrandbits(128):032x}"
        ident = "cloudflare" + "".join(rng.choice(words) for _ in range(4))
        line = [f"cloudflare.zones.get(zone_id=`{zone}`) cloudflare {ident}",
                f"cloudflare commit {commit} cloudflare cf_ray={rng.getrandbits(64):016x} cloudflare",
                f"cloudflare request {uuid} cloudflare cloudflare_id: {zone}",
                f"cloudflare sha256:{sha256} cloudflare cloudflare",
                f"cloudflare_etag = \"{commit}\" # cloudflare api.cloudflare.com/client/v4/{i}"][i % 5] + "\n"
        out.append(line)
        size += len(line)
        i += 1
    return "".join(out).encode()


def best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    mb = float(sys.argv[sys.argv.index("--mb") + 1]) if "--mb" in sys.argv else 2.3
    files = int(sys.argv[sys.argv.index("--files") + 1]) if "--files" in sys.argv else 20
    from scanner.engine.matcher import Engine
    from scanner.engine.prefilter import HYPERSCAN_AVAILABLE
    from scanner.rules.loader import load_rules

    rules = load_rules()
    for sha1 in (True, False):
        data = dense_text(mb, sha1=sha1)
        label = "with 40-hex commit ids" if sha1 else "no 37-45 character values"
        print(f"dense file ({label}): {len(data) / 1e6:.2f} MB, {data.count(b'cloudflare')} mentions of 'cloudflare'")
        measure(data, rules, Engine, HYPERSCAN_AVAILABLE)
        before_and_after(data, Engine, HYPERSCAN_AVAILABLE)
    tree(mb, files)


def tree(mb: float, files: int) -> None:
    """`tokenscan scan DIR` over `files` dense files against `cat` of the same files (and Kingfisher)."""
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(files):
            Path(tmp, f"api{i}.md").write_bytes(dense_text(mb, seed=100 + i, sha1=i % 2 == 0))
        total = files * mb
        print(f"dense tree: {files} files, {total:.0f} MB (half with commit ids), one process per command")
        floor, floor_rss = timed(f"cat '{tmp}'/*.md > /dev/null", repeat=5)
        ours, rss = timed(tokenscan_cmd() + ["scan", tmp, "-q", "--no-gitignore"])
        peer = peer_rss = None
        if shutil.which("kingfisher"):
            cmd = ["kingfisher", "scan", tmp, "--no-validate", "--format", "json"]
            run_measured(cmd)  # warms its rule cache
            peer, peer_rss = timed(cmd, ok=None)  # its exit code is data (200: findings)
        print("  " + row("cat (floor)", floor, total, floor, peer, floor_rss))
        if peer:
            print("  " + row("kingfisher", peer, total, floor, peer, peer_rss))
        print("  " + row("tokenscan", ours, total, floor, peer, rss))


def before_and_after(data: bytes, engine_class: type, hyperscan: bool) -> None:
    """The Cloudflare rules alone: an older revision's rule file against today's, on today's engine."""
    from scanner.rules.loader import load_rule_file, load_rules

    rev = sys.argv[sys.argv.index("--before") + 1] if "--before" in sys.argv else "4b59d73"
    old = subprocess.run(["git", "show", f"{rev}:rules/cloudflare.toml"], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent, check=False)
    if old.returncode != 0:
        print(f"  (no rules/cloudflare.toml at {rev}: before/after skipped)")
        return
    now = [r for r in load_rules() if r.source == "rules/cloudflare.toml"]
    for label, rules in ((f"Cloudflare rules at {rev}", load_rule_file("before.toml", old.stdout)),
                         ("Cloudflare rules now", now)):
        engine = engine_class(rules, hyperscan)
        t = best(lambda e=engine: e.scan(data))
        print(f"  {label:26} {t * 1e3:8.1f} ms")


def measure(data: bytes, rules: list, engine_class: type, hyperscan: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "api.md")
        Path(path).write_bytes(data)
        read = best(lambda: Path(path).read_bytes(), 5)
        cat, _ = timed(f"cat '{path}' > /dev/null", repeat=5)
        print(f"  read in process   {read * 1e3:8.1f} ms   (floor, same process model as the engine)")
        print(f"  cat               {cat * 1e3:8.1f} ms   (a process: its start-up included)")
        native = None
        for accelerated in ([True] if hyperscan else []) + [False]:
            engine = engine_class(rules, accelerated)
            if accelerated:
                db = engine.prefilter._db  # the pass every chunk pays (deferred ones run only where needed)
                native = best(lambda db=db: db.scan(data), 5)
                print(f"  native pass alone {native * 1e3:8.1f} ms   (the main Hyperscan database over the bytes, no Python)")
            found = engine.scan(data)
            t = best(lambda e=engine: e.scan(data), 5)
            label = "hyperscan" if accelerated else "regex"
            vs_native = f"  x{t / native:5.1f} native pass" if native else ""
            print(f"  engine ({label:9}) {t * 1e3:8.1f} ms  x{t / read:6.1f} read{vs_native}  findings {len(found)}")
        empty = os.path.join(tmp, "empty.md")
        Path(empty).write_bytes(b"\n")
        base, _ = timed(tokenscan_cmd() + ["scan", empty, "-q", "-j", "1"], repeat=5)
        wall, _ = timed(tokenscan_cmd() + ["scan", path, "-q", "-j", "1"], repeat=5)
        print(f"  CLI scan          {wall * 1e3:8.1f} ms  (start-up on an empty file {base * 1e3:.1f} ms)")


if __name__ == "__main__":
    main()
