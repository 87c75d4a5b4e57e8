"""Each vendor's verifier against its loopback stand-in: what proves a credential live, inactive or invalid,
and that everything else (429 after retries, 5xx, slow, malformed answers) is `unknown` with a reason."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import pytest
import vendorserver
from vendorserver import LIVE_INFO, VENDORS, VendorServer

from scanner.findings import Finding
from scanner.verify import verify_findings
from scanner.verify.options import VerifyOptions
from scanner.verify.registry import get

ALL = sorted(VENDORS)


@pytest.fixture(params=ALL)
def vendor(request: pytest.FixtureRequest) -> Iterator[tuple[str, VendorServer]]:
    server = vendorserver.start(request.param)
    yield request.param, server
    server.stop()


def run(name: str, server: VendorServer, *secrets: str, **kw: object) -> dict[str, Finding]:
    kind = VENDORS[name][2]
    findings = [Finding("r", "d", "high", s, f"fp-{s[-12:]}", "p", 1, 1, verify_kind=kind) for s in secrets]
    opts = VerifyOptions(api_bases={name: server.base}, **{"timeout": 2.0, "budget": 30.0, "retries": 2, **kw})  # type: ignore[arg-type]
    return {f.secret: f for f in verify_findings(findings, opts)[0]}


def make(name: str, i: int) -> str:
    return VENDORS[name][3](i)


def test_each_vendor_declares_its_kind_and_documented_host() -> None:
    for name, (_, _, kind, _) in VENDORS.items():
        entry = get(kind)
        assert entry is not None and entry.vendor.name == name
        assert entry.vendor.default_base.startswith("https://")


def test_live_and_invalid(vendor: tuple[str, VendorServer]) -> None:
    name, server = vendor
    live, dead = make(name, 1), make(name, 2)
    server.known[live] = LIVE_INFO[name]
    v = run(name, server, live, dead)
    assert v[live].verification.status == "live", v[live].verification
    assert v[dead].verification.status == "invalid", v[dead].verification
    for s, f in v.items():
        assert s not in f.verification.detail and s not in str(f.verification.reach)
    assert len(server.routes_of(live)) == 1 and len(server.routes_of(dead)) == 1  # one request each


def test_429_with_and_without_retry_after_is_retried(vendor: tuple[str, VendorServer]) -> None:
    name, server = vendor
    a, b = make(name, 3), make(name, 4)
    server.known[a] = server.known[b] = LIVE_INFO[name]
    server.throttle[a] = 1
    started = time.monotonic()
    assert run(name, server, a)[a].verification.status == "live"
    assert time.monotonic() - started >= 1.0  # Retry-After: 1 honoured
    server.retry_after = None
    server.throttle[b] = 1
    assert run(name, server, b)[b].verification.status == "live"


def test_no_usable_answer_is_unknown_with_a_reason(vendor: tuple[str, VendorServer]) -> None:
    name, server = vendor
    throttled, down, slow, garbled = (make(name, i) for i in (5, 6, 7, 8))
    for s in (throttled, down, slow, garbled):
        server.known[s] = LIVE_INFO[name]
    server.throttle[throttled] = 100
    server.retry_after = "0"
    server.failing[down] = 100
    server.slow[slow] = 1.5
    server.malformed[garbled] = (200, b'{"truncated": ')
    v = run(name, server, throttled, down, slow, garbled, timeout=0.5, retries=1)
    assert all(f.verification.status == "unknown" for f in v.values()), {k[-6:]: f.verification for k, f in v.items()}
    assert "rate limited" in v[throttled].verification.detail
    assert "server error (503)" in v[down].verification.detail
    assert "timeout" in v[slow].verification.detail
    assert "malformed answer" in v[garbled].verification.detail


# --- vendor specifics ----------------------------------------------------------------------------------------

@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[VendorServer]:
    s = vendorserver.start(request.param)
    yield s
    s.stop()


@pytest.mark.parametrize("server", ["github"], indirect=True)
def test_github_scopes_expiry_installation_rate_limit_and_refresh_tokens(server: VendorServer) -> None:
    classic, fine, inst, limited, dead, second = (make("github", i) for i in (10, 11, 12, 13, 14, 16))
    refresh = vendorserver.token("ghr_", 15)
    server.known[classic] = {"login": "octo", "scopes": "repo, admin:org"}
    server.known[fine] = {"login": "octo", "expires": "2026-12-31 00:00:00 UTC"}
    server.known[inst] = {"installation": True}
    server.known[limited] = {"exhausted": True}
    server.known[second] = {"login": "octo", "secondary": 1}
    started = time.monotonic()
    v = run("github", server, classic, fine, inst, limited, dead, refresh, second)
    assert time.monotonic() - started < 10  # an hour-long reset is not waited for
    assert v[classic].verification.reach["scopes"] == ["repo", "admin:org"]
    assert "scopes: repo, admin:org" in v[classic].verification.detail
    assert v[fine].verification.status == "live" and "scopes" not in v[fine].verification.reach
    assert "2026-12-31" in v[fine].verification.detail
    assert v[inst].verification.status == "live" and "installation" in v[inst].verification.detail
    assert v[limited].verification.status == "unknown" and "rate limited (403)" in v[limited].verification.detail
    assert v[second].verification.status == "live"  # 403 + Retry-After waited for and retried
    assert sum(r.headers.get("authorization") == f"Bearer {second}" for r in server.requests) == 2
    assert v[dead].verification.status == "invalid"
    assert v[refresh].verification.status == "unknown" and not server.routes_of(refresh)
    r = next(r for r in server.requests if r.headers.get("authorization") == f"Bearer {classic}")
    assert r.method == "GET" and r.path == "/user" and r.headers["x-github-api-version"] == "2022-11-28"


@pytest.mark.parametrize("server", ["gitlab"], indirect=True)
def test_gitlab_active_revoked_expired(server: VendorServer) -> None:
    live, revoked, expired, rev401, exp401, noscope = (make("gitlab", i) for i in range(20, 26))
    server.known[live] = {"scopes": ["read_api"], "expires_at": "2027-01-01"}
    server.known[revoked] = {"revoked": True, "active": False}
    server.known[expired] = {"active": False, "expires_at": "2025-01-01"}
    server.known[rev401] = {"state": "revoked401"}
    server.known[exp401] = {"state": "expired401"}
    server.known[noscope] = {"state": "noscope"}
    v = {s: f.verification for s, f in run("gitlab", server, live, revoked, expired, rev401, exp401, noscope).items()}
    assert v[live].status == "live" and "read_api" in v[live].detail and "2027-01-01" in v[live].detail
    assert v[revoked].status == "inactive" and "revoked" in v[revoked].detail
    assert v[expired].status == "inactive" and "2025-01-01" in v[expired].detail
    assert v[rev401].status == "inactive" and v[exp401].status == "inactive"
    assert v[noscope].status == "live"
    assert all(r.headers.get("private-token") and "authorization" not in r.headers for r in server.requests)


@pytest.mark.parametrize("server", ["slack"], indirect=True)
def test_slack_errors(server: VendorServer) -> None:
    revoked, inactive, expired, odd = (make("slack", i) for i in range(30, 34))
    server.known[revoked] = {"error": "token_revoked"}
    server.known[inactive] = {"error": "account_inactive"}
    server.known[expired] = {"error": "token_expired"}
    server.known[odd] = {"error": "team_added_to_org"}
    v = {s: f.verification for s, f in run("slack", server, revoked, inactive, expired, odd).items()}
    assert v[revoked].status == v[inactive].status == v[expired].status == "inactive"
    assert v[odd].status == "unknown" and "team_added_to_org" in v[odd].detail
    assert all(r.method == "POST" and r.path == "/api/auth.test" for r in server.requests)


@pytest.mark.parametrize("server", ["stripe"], indirect=True)
def test_stripe_expired_and_restricted_keys(server: VendorServer) -> None:
    expired, restricted = make("stripe", 40), vendorserver.token("rk_live_", 41, 24)
    server.known[expired] = {"expired": True}
    server.known[restricted] = {"restricted": True}
    v = {s: f.verification for s, f in run("stripe", server, expired, restricted).items()}
    assert v[expired].status == "inactive" and v[restricted].status == "live"
    assert all(r.headers["authorization"].startswith("Basic ") for r in server.requests)


@pytest.mark.parametrize("server", ["openai"], indirect=True)
def test_openai_401_is_read_by_its_code(server: VendorServer) -> None:
    restricted, ip = make("openai", 50), make("openai", 51)
    server.known[restricted] = {"restricted": True}
    server.known[ip] = {"ip": True}
    v = {s: f.verification for s, f in run("openai", server, restricted, ip).items()}
    assert v[restricted].status == "live"
    assert v[ip].status == "unknown" and "ip_not_authorized" in v[ip].detail


@pytest.mark.parametrize("server", ["anthropic"], indirect=True)
def test_anthropic_headers_permission_and_overload(server: VendorServer) -> None:
    forbidden, busy = make("anthropic", 60), make("anthropic", 61)
    server.known[forbidden] = {"forbidden": True}
    server.known[busy] = {"overloaded": True}
    v = {s: f.verification for s, f in run("anthropic", server, forbidden, busy, retries=1).items()}
    assert v[forbidden].status == "live"
    assert v[busy].status == "unknown" and "529" in v[busy].detail
    assert all(r.headers["anthropic-version"] == "2023-06-01" and "authorization" not in r.headers
               for r in server.requests)
    assert sum(r.headers["x-api-key"] == busy for r in server.requests) == 2  # a 5xx is retried


@pytest.mark.parametrize("server", ["digitalocean"], indirect=True)
def test_digitalocean_scoped_locked_and_refresh(server: VendorServer) -> None:
    scoped, locked = make("digitalocean", 70), make("digitalocean", 71)
    refresh = vendorserver.token("dor_v1_", 72, 64, "0123456789abcdef")
    server.known[scoped] = {"forbidden": True}
    server.known[locked] = {"status": "locked"}
    v = {s: f.verification for s, f in run("digitalocean", server, scoped, locked, refresh).items()}
    assert v[scoped].status == "live" and v[locked].status == "live" and "locked" in v[locked].detail
    assert v[refresh].status == "unknown" and not server.routes_of(refresh)


@pytest.mark.parametrize("server", ["huggingface"], indirect=True)
def test_huggingface_role(server: VendorServer) -> None:
    tok = make("huggingface", 80)
    server.known[tok] = {"name": "hfuser", "role": "write"}
    v = run("huggingface", server, tok)[tok].verification
    assert v.status == "live" and v.reach["role"] == "write" and "hfuser" in v.detail


@pytest.mark.parametrize("server", ["github"], indirect=True)
def test_env_override_sends_to_the_stand_in_only(server: VendorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    tok = make("github", 90)
    server.known[tok] = LIVE_INFO["github"]
    monkeypatch.setenv("TOKENSCAN_GITHUB_API_BASE", server.base)
    f = Finding("r", "d", "high", tok, "fp90", "p", 1, 1, verify_kind="github-token")
    (f,), _ = verify_findings([f], VerifyOptions(timeout=2.0, budget=10.0))
    assert f.verification.status == "live" and server.routes_of(tok) == {"/user"}


# --- end to end: a rule naming a kind, a scan, the vendor's base from the environment ------------------------

E2E_RULE = """
[[rules]]
id = "e2e-github-verified"
description = "a made-up token shape no shipped rule claims, checked by the GitHub verifier (test rule)"
severity = "critical"
keywords = ["tsgh_"]
regex = '''(tsgh_[A-Za-z0-9]{36})(?![A-Za-z0-9])'''
verify = "github-token"
"""


@pytest.mark.parametrize("server", ["github"], indirect=True)
def test_scan_with_a_rule_naming_a_vendor_kind(server: VendorServer, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    from scanner.pipeline.run import ScanOptions, scan_paths

    live, dead = vendorserver.token("tsgh_", 1), vendorserver.token("tsgh_", 2)
    server.known[live] = LIVE_INFO["github"]
    rules = tmp_path / "rules.toml"
    rules.write_text(E2E_RULE)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.env").write_text(f"GITHUB_TOKEN={dead}\n")
    opts = ScanOptions(jobs=1, rule_files=(str(rules),), verify=VerifyOptions(api_bases={"github": server.base}))
    [f] = [f for f in scan_paths([str(tree)], opts).findings if f.rule_id == "e2e-github-verified"]
    assert f.verification.status == "invalid"
    monkeypatch.setenv("TOKENSCAN_GITHUB_API_BASE", server.base)
    cmd = [sys.executable, "-m", "scanner", "scan", str(tree), "--rules", str(rules), "--verify", "--fail-on", "live"]
    assert subprocess.run(cmd, capture_output=True, check=False).returncode == 0
    (tree / "b.env").write_text(f"GITHUB_TOKEN={live}\n")
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert res.returncode == 1, res.stdout + res.stderr
    assert live not in res.stdout + res.stderr
    assert server.routes_of(live) == {"/user"}


@pytest.mark.parametrize("server", ["slack"], indirect=True)
def test_slack_tokens_auth_test_cannot_judge_are_not_sent(server: VendorServer) -> None:
    odd = [vendorserver.token("xoxr-", 1, 40), vendorserver.token("xoxe-1-", 2, 120),
           vendorserver.token("xoxe.xoxp-1-", 3, 120), vendorserver.token("xoxc-", 4, 60)]
    v = run("slack", server, *odd)
    assert all(f.verification.status == "unknown" for f in v.values())
    assert server.requests == []


@pytest.mark.parametrize("server", ["openai"], indirect=True)
def test_openai_admin_keys_are_not_sent(server: VendorServer) -> None:
    admin = "sk-admin-" + vendorserver.token("", 5, 30) + "T3BlbkFJ" + vendorserver.token("", 6, 30)
    assert run("openai", server, admin)[admin].verification.status == "unknown"
    assert server.requests == []


@pytest.mark.parametrize("server", ["pypi"], indirect=True)
def test_pypi_empty_upload_form_and_caveats(server: VendorServer) -> None:
    now = int(time.time())
    scoped = vendorserver.macaroon(50, ([1, ["acme"]], [0, now + 3600, now - 60]))
    expired = vendorserver.macaroon(51, ([0, now - 3600, now - 7200],))
    legacy = vendorserver.macaroon(52, ({"version": 1, "permissions": "user"},))
    odd = vendorserver.macaroon(53, ([99, "future caveat"],))
    testpypi = vendorserver.macaroon(54, location="test.pypi.org")
    for s in (scoped, expired, legacy, odd, testpypi):
        server.known[s] = {}
    v = {s: f.verification for s, f in run("pypi", server, scoped, expired, legacy, odd, testpypi).items()}
    assert v[scoped].status == "live" and "project-scoped" in v[scoped].detail and "expires" in v[scoped].detail
    assert v[expired].status == "inactive" and not server.routes_of(expired)  # its own caveat: not sent
    assert v[legacy].status == "live" and "account-wide" in v[legacy].detail
    assert v[odd].status == "unknown" and "caveats" in v[odd].detail
    assert v[testpypi].status == "unknown" and not server.routes_of(testpypi)
    for r in server.requests:  # the form holds nothing that could be published
        assert r.method == "POST" and r.path == "/legacy/"
        assert sorted(r.body.decode().split("&")) == ["%3Aaction=file_upload", "protocol_version=1"]
        assert base64.b64decode(r.headers["authorization"][6:]).decode().startswith("__token__:")
