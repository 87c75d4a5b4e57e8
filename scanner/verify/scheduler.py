"""Runs verifications: each distinct secret once, bounded concurrency, shared rate limit and deadline."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from scanner.findings import Finding, Verification
from scanner.verify import registry
from scanner.verify.http import Http, RateLimiter
from scanner.verify.options import VerifyOptions, api_base_for


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


def _scrub(v: Verification, secret: str) -> Verification:
    """Last line of defence: a verifier's detail or reach never carries the secret, whatever a vendor echoed."""
    def clean(x: object) -> object:
        if isinstance(x, str):
            return x.replace(secret, "[secret]") if secret else x
        if isinstance(x, list):
            return [clean(i) for i in x]
        if isinstance(x, dict):
            return {k: clean(i) for k, i in x.items()}
        return x
    return replace(v, detail=str(clean(v.detail)), reach=clean(v.reach))  # type: ignore[arg-type]


def verify_findings(findings: list[Finding], opts: VerifyOptions) -> tuple[list[Finding], VerifyStats]:
    """The findings with their verdicts (new findings where one was reached; the others as given), and
    what it took. Findings of one secret share one answer.

    One HTTP client per vendor, on that vendor's base (resolved before any request, so a bad override is a
    usage error and not a half-run) with that vendor's own rate limit; the concurrency limit and the budget
    are shared by the whole run."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if registry.get(f.verify_kind) is not None and f.checksum != "invalid":
            groups.setdefault((f.verify_kind or "", f.fingerprint), []).append(f)
    stats = VerifyStats(secrets=len(groups))
    if not groups:
        return list(findings), stats
    verdicts: dict[int, Verification] = {}  # id(finding) -> its verdict
    used = {registry.get(kind).vendor for kind, _ in groups}  # type: ignore[union-attr]
    bases = {v.name: opts.api_bases.get(v.name) or api_base_for(v.name, v.default_base) for v in used}
    started = time.monotonic()
    deadline = started + opts.budget
    clients = {v.name: Http(bases[v.name], opts.timeout, opts.retries,
                            RateLimiter(min(v.rate_requests, opts.rate_requests), max(v.rate_window, opts.rate_window)),
                            deadline, opts.max_retry_after) for v in used}
    for v in used:
        if v.host_pattern:
            clients[v.name].host_pattern = re.compile(v.host_pattern)

    def run(key: tuple[str, str]) -> tuple[tuple[str, str], Verification]:
        members = groups[key]
        entry = registry.get(key[0])
        assert entry is not None
        try:
            verdict = entry.fn(clients[entry.vendor.name], members[0].secret, _merge_hints(members), opts)
        except Exception as exc:  # noqa: BLE001 - one broken answer must not stop the run; never echo headers
            verdict = Verification("unknown", f"verifier error ({type(exc).__name__})")
        return key, _scrub(verdict, members[0].secret)

    try:
        with ThreadPoolExecutor(max_workers=max(1, opts.concurrency)) as pool:
            for key, verdict in pool.map(run, list(groups)):
                if verdict.status == "unknown" and not verdict.detail:
                    verdict.detail = "no reason given by the verifier"  # every unknown says why
                stats.statuses[verdict.status] = stats.statuses.get(verdict.status, 0) + 1
                if verdict.status == "unknown":
                    stats.unknown_findings += len(groups[key])
                for f in groups[key]:
                    verdicts[id(f)] = replace(verdict, reach=dict(verdict.reach))
    finally:
        for http in clients.values():
            http.close()
    stats.requests = sum(http.requests for http in clients.values())
    stats.seconds = time.monotonic() - started
    return [replace(f, verification=verdicts[id(f)]) if id(f) in verdicts else f for f in findings], stats
