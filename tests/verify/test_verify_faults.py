"""Issue 9: verification faults. A wrong e-mail pairing never makes a live global key `invalid`; loopback
verification traffic never goes through a proxy from the environment; every `unknown` says why and is
counted."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest
from cfserver import FakeCloudflare
from proxyserver import RecordingProxy
from tokens import cloudflare, legacy_key

from scanner.findings import Finding
from scanner.pipeline.run import ScanOptions, scan_paths, verify_tokens
from scanner.verify import hints, verify_findings
from scanner.verify.http import Http, RateLimiter, _retry_after, make_client
from scanner.verify.options import VerifyOptions

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")



@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingProxy]:
    """Every proxy variable points at a recording proxy, and nothing is exempted by NO_PROXY."""
    p = RecordingProxy()
    for var in PROXY_VARS:
        monkeypatch.setenv(var, p.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    yield p
    p.stop()


def vopts(cf: FakeCloudflare, **kw: object) -> VerifyOptions:
    return VerifyOptions(cloudflare_api_base=cf.base, **{"timeout": 2.0, "budget": 30.0, **kw})  # type: ignore[arg-type]


def user_emails(cf: FakeCloudflare) -> list[str]:
    return [r.headers.get("x-auth-email", "") for r in cf.requests if r.path == "/client/v4/user"]


# --- 1. pairing ---------------------------------------------------------------------------------------------

def test_hints_keep_every_email_nearest_first_measured_by_gap() -> None:
    key = "K" * 20
    # a long address just above the key and a short one further below: the gap decides, not the length
    data = (b"someone.with.a.long.address@example.com\n" + key.encode() + b"\n" + b"x" * 30 + b"\nb@e.io\n"
            + b"".join(b"n%d@example.org\n" % i for i in range(8)))
    s = data.index(key.encode())
    emails = hints.collect("cloudflare-global-key", data, s, s + len(key))["emails"]
    assert emails[:3] == ["someone.with.a.long.address@example.com", "b@e.io", "n0@example.org"]
    assert len(emails) == hints.MAX_EMAILS
    # the same address twice (different case) is one candidate
    data = b"Ops@Example.com " + key.encode() + b" ops@example.com"
    assert hints.collect("cloudflare-global-key", data, 16, 16 + len(key))["emails"] == ["Ops@Example.com"]


def test_live_global_key_next_to_a_wrong_email_is_found_live_with_the_second(cf: FakeCloudflare, tmp_path) -> None:
    key = cloudflare("cfk_", 60)
    cf.global_keys[key] = "owner@example.com"
    (tmp_path / ".env").write_text(f"# contact owner@example.com\nCLOUDFLARE_EMAIL=wrong@example.com\n"
                                   f"CLOUDFLARE_API_KEY={key}\n")
    [f] = scan_paths([str(tmp_path)], ScanOptions(jobs=1, verify=vopts(cf))).findings
    assert f.verification.status == "live" and "owner@example.com" in f.verification.detail
    assert user_emails(cf)[:2] == ["wrong@example.com", "owner@example.com"]


def test_option_email_first_then_nearby(cf: FakeCloudflare, tmp_path) -> None:
    key = legacy_key(61)
    cf.global_keys[key] = "near@example.com"
    (tmp_path / ".env").write_text(f"CLOUDFLARE_EMAIL=near@example.com\nCLOUDFLARE_API_KEY={key}\n")
    [f] = scan_paths([str(tmp_path)], ScanOptions(jobs=1, verify=vopts(cf, cloudflare_email="given@example.com"))).findings
    assert f.verification.status == "live"
    assert user_emails(cf)[:2] == ["given@example.com", "near@example.com"]


def test_no_matching_email_is_unknown_pairing_never_invalid(cf: FakeCloudflare, tmp_path) -> None:
    key = cloudflare("cfk_", 62)
    cf.global_keys[key] = "elsewhere@example.com"  # live, but with an address the file does not hold
    lines = "".join(f"EMAIL_{i}=user{i}@example.com\n" for i in range(7))
    (tmp_path / ".env").write_text(f"{lines}CLOUDFLARE_API_KEY={key}\n")
    [f] = scan_paths([str(tmp_path)], ScanOptions(jobs=1, verify=vopts(cf))).findings
    assert f.verification.status == "unknown"
    assert "no e-mail paired with this key: tried 5" in f.verification.detail
    assert len(user_emails(cf)) == 5 and user_emails(cf)[0] == "user6@example.com"  # nearest first, bounded
    assert key not in f.verification.detail


def test_fail_on_live_is_not_fooled_by_a_wrong_pairing(cf: FakeCloudflare, tmp_path) -> None:
    key = cloudflare("cfk_", 63)
    cf.global_keys[key] = "right@example.com"
    wrong = "".join(f"# wrong{i}@example.com\n" for i in range(4))  # four wrong addresses nearer than the right
    (tmp_path / "c.env").write_text(f"# right@example.com\n\n\n{wrong}CLOUDFLARE_API_KEY={key}\n")
    res = subprocess.run([sys.executable, "-m", "scanner", "scan", str(tmp_path), "--verify", "--fail-on", "live",
                          "--cloudflare-api-base", cf.base], capture_output=True, text=True, check=False)
    assert res.returncode == 1, res.stdout + res.stderr
    assert key not in res.stdout + res.stderr


# --- 2. proxies ---------------------------------------------------------------------------------------------

def test_loopback_verification_never_goes_through_an_environment_proxy(cf: FakeCloudflare,
                                                                       proxy: RecordingProxy) -> None:
    tok = cloudflare("cfut_", 64)
    cf.user_tokens[tok] = {"status": "active"}
    [f] = verify_tokens([tok], ScanOptions(verify=vopts(cf))).findings
    assert f.verification.status == "live"
    assert proxy.lines == [] and cf.routes_of(tok)


def test_loopback_never_proxied_from_a_subprocess_either(cf: FakeCloudflare, proxy: RecordingProxy) -> None:
    tok = cloudflare("cfut_", 65)
    cf.user_tokens[tok] = {"status": "active"}
    res = subprocess.run([sys.executable, "-m", "scanner", "verify", tok, "--cloudflare-api-base", cf.base],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 1, res.stderr
    assert proxy.lines == []


def test_vendor_hosts_still_honour_the_environment_proxy(proxy: RecordingProxy) -> None:
    client = make_client("https://api.cloudflare.com/client/v4", 2.0)
    try:
        with pytest.raises(httpx.HTTPError):  # the recording proxy refuses: nothing leaves the machine
            client.get("/user/tokens/verify")
    finally:
        client.close()
    assert proxy.lines == ["CONNECT api.cloudflare.com:443 HTTP/1.1"]


# --- 3. every unknown says why, and is counted --------------------------------------------------------------

def finding(secret: str, kind: str = "cloudflare-user-token") -> Finding:
    return Finding("r", "d", "high", secret, secret[-8:] + "fp", "p", 1, 1, verify_kind=kind)


def test_unknown_reasons_and_count(cf: FakeCloudflare) -> None:
    throttled, malformed, html, down, key = (cloudflare("cfut_", 70), cloudflare("cfut_", 71),
                                              cloudflare("cfut_", 72), cloudflare("cfut_", 73),
                                              cloudflare("cfk_", 74))
    cf.retry_after = None
    cf.throttle[throttled] = 100
    cf.malformed[malformed] = (200, b'{"success": true, "result": ')
    cf.malformed[html] = (401, b"<html>gateway says no</html>")
    cf.failing[down] = 100
    cf.global_keys[key] = "x@example.com"
    findings = [finding(t) for t in (throttled, malformed, html, down)] + [finding(key, "cloudflare-global-key")]
    findings.append(finding(down))  # a second place for the same secret
    findings[-1] = replace(findings[-1], path="q")
    findings, stats = verify_findings(findings, vopts(cf, retries=1))
    detail = {f.secret: f.verification.detail for f in findings}
    assert all(f.verification.status == "unknown" for f in findings)
    assert "rate limited" in detail[throttled]
    assert "malformed answer" in detail[malformed] and "malformed answer" in detail[html]
    assert "server error (503)" in detail[down]
    assert "email needed" in detail[key]
    assert stats.unknown == 5 and stats.unknown_findings == 6 and stats.statuses == {"unknown": 5}
    assert not any(s in d for s in (throttled, malformed, html, down, key) for d in detail.values())


def test_429_without_retry_after_is_retried_with_backoff(cf: FakeCloudflare) -> None:
    tok = cloudflare("cfut_", 75)
    cf.user_tokens[tok] = {"status": "active"}
    cf.retry_after = None
    cf.throttle[tok] = 2
    [f] = verify_tokens([tok], ScanOptions(verify=vopts(cf))).findings
    assert f.verification.status == "live"
    assert len([r for r in cf.requests if r.path.endswith("/tokens/verify")]) == 3


def test_retry_after_beyond_the_limit_gives_up_at_once(cf: FakeCloudflare) -> None:
    tok = cloudflare("cfut_", 76)
    cf.user_tokens[tok] = {"status": "active"}
    cf.retry_after = "3600"
    cf.throttle[tok] = 1
    started = time.monotonic()
    [f] = verify_tokens([tok], ScanOptions(verify=vopts(cf))).findings
    assert time.monotonic() - started < 2
    assert f.verification.status == "unknown" and "rate limited" in f.verification.detail
    assert "3600" in f.verification.detail


def test_budget_exhausted_is_a_reason(cf: FakeCloudflare) -> None:
    http = Http(cf.base, 1.0, 0, RateLimiter(10, 1.0), time.monotonic() - 1, 5.0)
    try:
        a = http.get("/user/tokens/verify", {})
    finally:
        http.close()
    assert a.status is None and "budget exhausted" in a.problem and cf.requests == []


def test_retry_after_http_date() -> None:
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    wait = _retry_after(httpx.Response(429, headers={"Retry-After": when}))
    assert wait is not None and 25 <= wait <= 31
    assert _retry_after(httpx.Response(429, headers={"Retry-After": "soon"})) is None
