"""Deterministic synthetic git history for benchmarks, written with `git fast-import`.

    python tests/bench/make_history.py DEST [--commits 20000] [--blobs 50000] [--mb 800] [--cloudflare]

Each commit changes a few files of a fixed pool; contents are slices of a word corpus, so blobs are
text-like and delta-compressible, like source code. A handful of synthetic credentials are planted.
`--cloudflare` writes the history of a Cloudflare-heavy repository instead: every few lines name Cloudflare,
its API, tokens and keys, next to zone/account ids, UUIDs, hashes and ray ids (what an SDK's history holds),
none of them a credential; the planted credentials are the only findings.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tokens import cloudflare  # noqa: E402

WORDS = ("def return import self class value config token data result error request response user "
         "name path file line index count items list dict None True False yield async await with for "
         "while if else elif try except finally raise lambda pass break continue").split()


CLOUDFLARE = (
    'client := cloudflare.NewClient(option.WithAPIToken(os.Getenv("CLOUDFLARE_API_TOKEN")))',
    'zoneID := "{h32}" // cloudflare zone id',
    'accountID = "{h32}"  # CLOUDFLARE_ACCOUNT_ID',
    'resource "cloudflare_record" "www" {{ zone_id = "{h32}" name = "www" }}',
    '"id": "{uuid}", "type": "cloudflare_api_token", "status": "active", "issued_on": "2024-01-01"',
    'cf_ray = "{h16}-SJC"  # the Cloudflare ray id of the failing request',
    'api_token_id := "{h32}" // not the token: its id',
    'sha256 = "{h64}"  # cloudflare-go release artifact',
    'cf_api_key_header = "X-Auth-Key"  # Cloudflare global API key header name',
    '// See https://developers.cloudflare.com/api/ for the token permissions: Zone.DNS {uuid}',
    'etag: "{h32}" cf-cache-status: HIT cloudflare',
    'params := cloudflare.ListZonesParams{{AccountID: cloudflare.F("{h32}")}}',
)


def cloudflare_line(rng: random.Random) -> str:
    def hexs(n: int) -> str:
        return f"{rng.getrandbits(4 * n):0{n}x}"
    u = hexs(32)
    return rng.choice(CLOUDFLARE).format(h16=hexs(16), h32=hexs(32), h64=hexs(64),
                                         uuid=f"{u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:]}")


def corpus(rng: random.Random, size: int, cloudflare_heavy: bool = False) -> bytes:
    out, n = [], 0
    while n < size:
        if cloudflare_heavy and rng.random() < 0.5:
            line = "    " * rng.randint(0, 3) + cloudflare_line(rng)
        else:
            line = "    " * rng.randint(0, 3) + " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
        out.append(line)
        n += len(line) + 1
    return ("\n".join(out) + "\n").encode()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dest")
    ap.add_argument("--commits", type=int, default=20000)
    ap.add_argument("--blobs", type=int, default=50000)
    ap.add_argument("--mb", type=int, default=800)
    ap.add_argument("--cloudflare", action="store_true", help="a Cloudflare-heavy corpus (keyword-dense)")
    args = ap.parse_args()
    rng = random.Random(1234)
    text = corpus(rng, 8 << 20, args.cloudflare)
    paths = [f"pkg{i % 40}/mod{i}.py" for i in range(max(100, args.blobs // 12))]
    avg = args.mb * 1_000_000 // args.blobs
    per_commit = max(1, args.blobs // args.commits)
    planted = {rng.randrange(args.commits): cloudflare("cfut_", i) for i in range(5)}
    subprocess.run(["git", "init", "-q", "--bare", args.dest], check=True)
    fi = subprocess.Popen(["git", "-C", args.dest, "fast-import", "--quiet"], stdin=subprocess.PIPE)
    w = fi.stdin.write
    mark = 0
    for c in range(args.commits):
        files = []
        for _ in range(per_commit + (1 if rng.random() < (args.blobs / args.commits - per_commit) else 0)):
            size = max(200, int(rng.expovariate(1 / avg)))
            start = rng.randrange(0, len(text) - size)
            body = text[start:start + size]
            if c in planted and not files:
                body += f"CF_TOKEN={planted[c]}\n".encode()
            mark += 1
            w(b"blob\nmark :%d\ndata %d\n" % (mark, len(body)) + body + b"\n")
            files.append((rng.choice(paths), mark))
        msg = f"change {c}".encode()
        w(b"commit refs/heads/main\ncommitter Bench <bench@example.com> %d +0000\ndata %d\n%s\n"
          % (1_700_000_000 + c * 60, len(msg), msg))
        for path, m in files:
            w(b"M 100644 :%d %s\n" % (m, path.encode()))
        w(b"\n")
    fi.stdin.close()
    if fi.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "-C", args.dest, "repack", "-adq", "--window=10", "--depth=50"], check=True)
    print(f"{args.dest}: {args.commits} commits, {mark} blobs written, {len(planted)} planted credentials")


if __name__ == "__main__":
    main()
