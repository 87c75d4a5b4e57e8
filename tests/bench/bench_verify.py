"""Benchmark: verify 500 distinct tokens against a loopback stand-in of the Cloudflare API answering in
50 ms; reports throughput and checks the client-side limit (1,000 requests per 5 minutes) was kept.

    python tests/bench/bench_verify.py [N] [DELAY_S]
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from cfserver import FakeCloudflare  # noqa: E402
from tokens import cloudflare  # noqa: E402

from scanner.pipeline.run import ScanOptions, verify_tokens  # noqa: E402
from scanner.verify.options import VerifyOptions  # noqa: E402


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0.05
    cf = FakeCloudflare(delay=delay).start()
    try:
        tokens = [cloudflare("cfut_", 1000 + i) for i in range(n)]
        for t in tokens[::2]:
            cf.user_tokens[t] = {"status": "disabled"}  # inactive: no blast-radius calls
        opts = VerifyOptions(cloudflare_api_base=cf.base, budget=600)
        started = time.monotonic()
        report = verify_tokens(tokens, ScanOptions(verify=opts))
        wall = time.monotonic() - started
        counts: dict[str, int] = {}
        for f in report.findings:
            counts[f.verification.status] = counts.get(f.verification.status, 0) + 1
        print(f"{n} tokens, server delay {delay * 1000:.0f} ms, concurrency {opts.concurrency}: {wall:.2f} s, "
              f"{len(cf.requests)} requests, {len(cf.requests) / wall:.1f} requests/s; statuses {counts}")
        print(f"rate limit kept: {len(cf.requests) <= opts.rate_requests} "
              f"({len(cf.requests)} requests <= {opts.rate_requests} per {opts.rate_window:.0f} s); "
              f"floor at this concurrency: {n * delay / opts.concurrency:.2f} s")
    finally:
        cf.stop()


if __name__ == "__main__":
    main()
