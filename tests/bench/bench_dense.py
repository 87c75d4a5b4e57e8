"""Benchmark: a keyword-dense file (every line names Cloudflare, holds hashes, UUIDs and ids, no credential).

    python tests/bench/bench_dense.py [--mb 2.3] [--before REV]

Issue 11: a 2.3 MB API reference mentions `cloudflare` ~90,000 times; work per keyword hit made it cost 1.3 s.
Legacy Cloudflare rules are candidate-first (a credential-shaped value, then its name), so this file should
cost about what reading it costs. Prints the in-process engine time on both prefilter paths and the CLI wall
time, each as a ratio against `cat` of the same bytes. Not a test: asserts nothing about time.

With `--before REV` (default 4b59d73, the last commit with keyword-anchored legacy rules) it also times the
Cloudflare rules alone: REV's rules/cloudflare.toml against today's, on the same engine.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import timed, tokenscan_cmd


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
    from scanner.engine import Engine
    from scanner.prefilter import HYPERSCAN_AVAILABLE
    from scanner.rules import load_rules

    rules = load_rules()
    for sha1 in (True, False):
        data = dense_text(mb, sha1=sha1)
        label = "with 40-hex commit ids" if sha1 else "no 37-45 character values"
        print(f"dense file ({label}): {len(data) / 1e6:.2f} MB, {data.count(b'cloudflare')} mentions of 'cloudflare'")
        measure(data, rules, Engine, HYPERSCAN_AVAILABLE)
        before_and_after(data, Engine, HYPERSCAN_AVAILABLE)


def before_and_after(data: bytes, engine_class: type, hyperscan: bool) -> None:
    """The Cloudflare rules alone: an older revision's rule file against today's, on today's engine."""
    from scanner.rules import load_rule_file, load_rules

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
        print(f"  read in process   {read * 1e3:8.1f} ms")
        print(f"  cat (floor)       {cat * 1e3:8.1f} ms")
        for accelerated in ([True] if hyperscan else []) + [False]:
            engine = engine_class(rules, accelerated)
            found = engine.scan(data)
            t = best(lambda e=engine: e.scan(data))
            label = "hyperscan" if accelerated else "regex"
            print(f"  engine ({label:9}) {t * 1e3:8.1f} ms  x{t / cat:6.1f} cat  x{t / read:6.1f} read"
                  f"  findings {len(found)}")
        empty = os.path.join(tmp, "empty.md")
        Path(empty).write_bytes(b"\n")
        base, _ = timed(tokenscan_cmd() + ["scan", empty, "-q", "-j", "1"])
        wall, _ = timed(tokenscan_cmd() + ["scan", path, "-q", "-j", "1"])
        print(f"  CLI scan          {wall * 1e3:8.1f} ms  (start-up on an empty file {base * 1e3:.1f} ms; "
              f"scan beyond start-up x{(wall - base) / cat:.1f} cat)")

if __name__ == "__main__":
    main()
