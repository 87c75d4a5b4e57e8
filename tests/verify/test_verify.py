import json
import subprocess
import sys
import time

import pytest
from tokens import account_id, cloudflare, legacy_key, legacy_token

from scanner.errors import UsageError
from scanner.pipeline.run import ScanOptions, scan_paths, verify_tokens
from scanner.verify.options import VerifyOptions, check_api_base


def vopts(cf, **kw):
    return VerifyOptions(cloudflare_api_base=cf.base, **{"timeout": 2.0, "budget": 30.0, **kw})


def statuses(report):
    return {f.secret: f.verification for f in report.findings}


def test_user_token_statuses_and_blast_radius(cf):
    live, disabled, expired, dead = (cloudflare("cfut_", i) for i in range(4))
    cf.user_tokens[live] = {"status": "active"}
    cf.user_tokens[disabled] = {"status": "disabled"}
    cf.user_tokens[expired] = {"status": "expired", "expires_on": "2026-01-01T00:00:00Z"}
    rep = verify_tokens([live, disabled, expired, dead], ScanOptions(verify=vopts(cf)))
    v = statuses(rep)
    assert v[live].status == "live"
    assert v[live].reach["zones"] == 7 and v[live].reach["zones_names"][0] == "zone-0.example"
    assert v[live].reach["memberships"] == 5 and v[live].reach["memberships_names"] == ["Acme Corp"]
    assert v[disabled].status == "inactive" and "disabled" in v[disabled].detail
    assert v[expired].status == "inactive" and "2026-01-01" in v[expired].detail
    assert v[dead].status == "invalid"
    assert all(r.method == "GET" for r in cf.requests)


def test_account_token_never_judged_dead_by_user_endpoint(cf, tmp_path):
    tok, acct = cloudflare("cfat_", 1), account_id(1)
    cf.account_tokens[tok] = (acct, "active")
    zone_id = account_id(99)  # another 32-hex id nearer the token: tried, not accepted, then the real one
    (tmp_path / "c.yaml").write_text(f"account: {acct}\nzone: {zone_id}\ntoken: {tok}\n")
    rep = scan_paths([str(tmp_path)], ScanOptions(jobs=1, verify=vopts(cf)))
    [f] = rep.findings
    assert f.verification.status == "live" and acct in f.verification.detail
    assert cf.routes_of(tok) <= {f"/client/v4/accounts/{zone_id}/tokens/verify",
                                 f"/client/v4/accounts/{acct}/tokens/verify",
                                 "/client/v4/zones", "/client/v4/accounts"}
    assert "/client/v4/user/tokens/verify" not in cf.routes_of(tok)


def test_account_token_without_account_id_is_unknown(cf):
    tok = cloudflare("cfat_", 2)
    cf.account_tokens[tok] = (account_id(2), "active")
    [f] = verify_tokens([tok], ScanOptions(verify=vopts(cf))).findings
    assert f.verification.status == "unknown" and "account id needed" in f.verification.detail
    assert cf.requests == []
    [f] = verify_tokens([tok], ScanOptions(verify=vopts(cf, cloudflare_account_id=account_id(2)))).findings
    assert f.verification.status == "live"


def test_global_key_uses_email_from_same_file_with_both_headers(cf, tmp_path):
    key, other = cloudflare("cfk_", 1), legacy_key(4)
    cf.global_keys[key] = "ops@example.com"
    (tmp_path / ".env").write_text(f"CLOUDFLARE_EMAIL=ops@example.com\nCLOUDFLARE_API_KEY={key}\n"
                                   f"CF_LEGACY_KEY={other}\n")
    rep = scan_paths([str(tmp_path)], ScanOptions(jobs=1, verify=vopts(cf)))
    v = statuses(rep)
    assert v[key].status == "live"
    # 9103 only proves the pair wrong: the other key may be live with another address (issue 9)
    assert v[other].status == "unknown" and "no e-mail paired" in v[other].detail
    user_calls = [r for r in cf.requests if r.path == "/client/v4/user"]
    assert all(r.headers.get("x-auth-email") == "ops@example.com" and r.headers.get("x-auth-key") for r in user_calls)
    assert all("authorization" not in r.headers for r in user_calls)


def test_global_key_without_email_is_unknown(cf):
    [f] = verify_tokens([cloudflare("cfk_", 2)], ScanOptions(verify=vopts(cf))).findings
    assert f.verification.status == "unknown" and "email needed" in f.verification.detail


def test_429_is_retried_honouring_retry_after(cf):
    tok = cloudflare("cfut_", 10)
    cf.user_tokens[tok] = {"status": "active"}
    cf.throttle[tok] = 1
    started = time.monotonic()
    [f] = verify_tokens([tok], ScanOptions(verify=vopts(cf))).findings
    assert f.verification.status == "live"
    assert time.monotonic() - started >= 1.0  # Retry-After: 1
    assert [r.path for r in cf.requests][:2] == ["/client/v4/user/tokens/verify"] * 2


def test_5xx_retried_then_unknown_and_slow_answer_times_out(cf):
    flaky, down, slow = cloudflare("cfut_", 11), cloudflare("cfut_", 12), cloudflare("cfut_", 13)
    for t in (flaky, down, slow):
        cf.user_tokens[t] = {"status": "active"}
    cf.failing[flaky] = 2
    cf.failing[down] = 100
    cf.slow[slow] = 1.5
    rep = verify_tokens([flaky, down, slow], ScanOptions(verify=vopts(cf, timeout=0.5, retries=2)))
    v = statuses(rep)
    assert v[flaky].status == "live"
    assert v[down].status == "unknown" and "503" in v[down].detail
    assert v[slow].status == "unknown" and "timeout" in v[slow].detail
    verify_calls = [r for r in cf.requests if r.path.endswith("/tokens/verify")]
    assert sum(down in r.headers.get("authorization", "") for r in verify_calls) == 3  # 1 + 2 retries


def test_each_secret_verified_once_per_run(cf, tmp_path):
    tok = cloudflare("cfut_", 20)
    cf.user_tokens[tok] = {"status": "disabled"}
    for i in range(5):
        (tmp_path / f"f{i}.env").write_text(f"T={tok}\n")
    rep = scan_paths([str(tmp_path)], ScanOptions(jobs=1, verify=vopts(cf)))
    assert len(rep.findings) == 5 and {f.verification.status for f in rep.findings} == {"inactive"}
    assert len(cf.requests) == 1


def test_budget_bounds_the_run(cf):
    toks = [cloudflare("cfut_", 30 + i) for i in range(4)]
    for t in toks:
        cf.slow[t] = 1.0
    started = time.monotonic()
    rep = verify_tokens(toks, ScanOptions(verify=vopts(cf, timeout=5, budget=1.5, concurrency=1)))
    assert time.monotonic() - started < 4
    assert any("budget" in f.verification.detail for f in rep.findings)


def test_legacy_token_verified_at_user_endpoint(cf):
    tok = legacy_token(7)
    cf.user_tokens[tok] = {"status": "active"}
    [f] = verify_tokens([tok], ScanOptions(verify=vopts(cf))).findings
    assert f.rule_id == "cloudflare-api-token-legacy" and f.verification.status == "live"


@pytest.mark.parametrize("url,ok", [
    ("https://api.cloudflare.com/client/v4", True), ("http://127.0.0.1:8080/x", True),
    ("http://localhost:1/x", True), ("http://[::1]:1/x", True),
    ("http://api.cloudflare.com/client/v4", False), ("http://10.1.2.3/x", False), ("ftp://x/y", False),
])
def test_api_base_must_be_https_or_loopback(url, ok):
    if ok:
        assert check_api_base(url) == url.rstrip("/")
    else:
        with pytest.raises(UsageError):
            check_api_base(url)


def test_cli_verify_from_stdin_exit_codes_and_no_secret_in_output(cf):
    live, dead = cloudflare("cfut_", 40), cloudflare("cfut_", 41)
    cf.user_tokens[live] = {"status": "active"}
    env_base = ["--cloudflare-api-base", cf.base]
    res = subprocess.run([sys.executable, "-m", "scanner", "verify", "-", "--format", "json", *env_base],
                         input=f"{live}\n{dead}\n", capture_output=True, text=True, check=False)
    assert res.returncode == 1, res.stderr
    body = json.loads(res.stdout)
    assert sorted(f["verification"]["status"] for f in body["findings"]) == ["invalid", "live"]
    assert live not in res.stdout + res.stderr and dead not in res.stdout + res.stderr
    res = subprocess.run([sys.executable, "-m", "scanner", "verify", dead, *env_base], capture_output=True, text=True, check=False)
    assert res.returncode == 0
    res = subprocess.run([sys.executable, "-m", "scanner", "verify", dead, "--cloudflare-api-base",
                          "http://192.168.1.1/v4"], capture_output=True, text=True, check=False)
    assert res.returncode == 2 and "loopback" in res.stderr


def test_scan_fail_on_live(cf, tmp_path):
    live, dead = cloudflare("cfut_", 50), cloudflare("cfut_", 51)
    cf.user_tokens[live] = {"status": "active"}
    (tmp_path / "a").write_text(dead)
    cmd = [sys.executable, "-m", "scanner", "scan", str(tmp_path), "--verify", "--fail-on", "live",
           "--cloudflare-api-base", cf.base]
    assert subprocess.run(cmd, capture_output=True, check=False).returncode == 0
    (tmp_path / "b").write_text(live)
    assert subprocess.run(cmd, capture_output=True, check=False).returncode == 1
