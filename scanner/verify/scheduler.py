"""Runs verifications: each distinct secret once, bounded concurrency, shared rate limit and deadline."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from scanner.findings import Finding, Verification
from scanner.verify.cloudflare import VERIFIERS
from scanner.verify.http import Http, RateLimiter
from scanner.verify.options import VerifyOptions


@dataclass
class VerifyStats:
    """What a verification run did, for the report's notes and summary.

    `statuses` counts distinct secrets per status; `unknown` (distinct secrets) and `unknown_findings`
    (findings, several per secret when it is in several places) let the summary say "N unknown": an
    unknown is not a clean bill of health, so it must never disappear into the totals."""
    secrets: int = 0
    requests: int = 0
    seconds: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    unknown_findings: int = 0

    @property
    def unknown(self) -> int:
        return self.statuses.get("unknown", 0)


def _merge_hints(findings: list[Finding]) -> dict:
    merged: dict[str, list[str]] = {}
    for f in findings:
        for k, values in f.context_hints.items():
            bucket = merged.setdefault(k, [])
            bucket.extend(v for v in values if v not in bucket)
    return merged


def verify_findings(findings: list[Finding], opts: VerifyOptions) -> VerifyStats:
    """Fills f.verification for every finding with a verifier; findings of one secret share one answer."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.verify_kind in VERIFIERS and f.checksum != "invalid":
            groups.setdefault((f.verify_kind, f.fingerprint), []).append(f)
    stats = VerifyStats(secrets=len(groups))
    if not groups:
        return stats
    started = time.monotonic()
    limiter = RateLimiter(opts.rate_requests, opts.rate_window)
    http = Http(opts.cloudflare_api_base, opts.timeout, opts.retries, limiter, started + opts.budget,
                opts.max_retry_after)

    def run(key: tuple[str, str]) -> tuple[tuple[str, str], Verification]:
        members = groups[key]
        try:
            return key, VERIFIERS[key[0]](http, members[0].secret, _merge_hints(members), opts)
        except Exception as exc:  # noqa: BLE001 - one broken answer must not stop the run; never echo headers
            return key, Verification("unknown", f"verifier error ({type(exc).__name__})")

    try:
        with ThreadPoolExecutor(max_workers=max(1, opts.concurrency)) as pool:
            for key, verdict in pool.map(run, list(groups)):
                if verdict.status == "unknown" and not verdict.detail:
                    verdict.detail = "no reason given by the verifier"  # every unknown says why
                stats.statuses[verdict.status] = stats.statuses.get(verdict.status, 0) + 1
                if verdict.status == "unknown":
                    stats.unknown_findings += len(groups[key])
                for f in groups[key]:
                    f.verification = replace(verdict, reach=dict(verdict.reach))
    finally:
        http.close()
    stats.requests = http.requests
    stats.seconds = time.monotonic() - started
    return stats
