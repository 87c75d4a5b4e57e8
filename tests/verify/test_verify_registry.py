"""The verifier registry: kinds rules may name, per-vendor bases and overrides, and where secrets may go."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from cfserver import FakeCloudflare
from tokens import cloudflare

from scanner.errors import UsageError
from scanner.findings import Finding, Verification
from scanner.rules.loader import load_rules
from scanner.verify import check_verify_kind, known_kinds, registry, verify_findings
from scanner.verify.http import Http, RateLimiter
from scanner.verify.options import VerifyOptions, api_base_for, env_var_for


def test_cloudflare_kinds_registered_and_unknown_kinds_refused() -> None:
    assert {"cloudflare-user-token", "cloudflare-account-token", "cloudflare-global-key"} <= known_kinds()
    check_verify_kind("cloudflare-user-token")
    check_verify_kind(None)
    with pytest.raises(UsageError, match="unknown verify kind 'cloudflare-usr-token'"):
        check_verify_kind("cloudflare-usr-token", "rules/x.toml: rule r")


def test_every_shipped_rule_names_a_registered_kind() -> None:
    for rule in load_rules():
        if rule.verify:
            assert rule.verify in known_kinds(), rule.id


def test_every_vendor_declares_an_https_base_on_a_documented_host() -> None:
    for name, v in registry.vendors().items():
        parts = urlsplit(v.default_base)
        if v.host_pattern:  # one host per customer (Shopify): only hosts matching the pattern are ever asked
            assert v.default_base.startswith("https://{host}/"), name
            assert re.fullmatch(v.host_pattern, "acme.myshopify.com") and not re.fullmatch(v.host_pattern, "a.example")
        else:
            assert parts.scheme == "https" and parts.hostname in v.hosts, name
        assert env_var_for(name) == f"TOKENSCAN_{name.upper()}_API_BASE"


def test_a_vendor_must_not_default_to_plain_http() -> None:
    with pytest.raises(ValueError):
        registry.vendor("bogus-test-vendor", "http://api.example.com")


def test_env_override_per_vendor_and_its_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKENSCAN_GITHUB_API_BASE", "http://127.0.0.1:9/x")
    assert api_base_for("github", "https://api.github.com") == "http://127.0.0.1:9/x"
    monkeypatch.setenv("TOKENSCAN_GITHUB_API_BASE", "http://10.0.0.1/x")
    with pytest.raises(UsageError, match="TOKENSCAN_GITHUB_API_BASE"):
        api_base_for("github", "https://api.github.com")
    monkeypatch.delenv("TOKENSCAN_GITHUB_API_BASE")
    assert api_base_for("github", "https://api.github.com") == "https://api.github.com"
    assert api_base_for("github", "https://api.github.com", "https://ghe.example.com/api/v3/") == \
        "https://ghe.example.com/api/v3"


def test_cloudflare_env_base_reaches_the_scheduler(cf: FakeCloudflare, monkeypatch: pytest.MonkeyPatch) -> None:
    tok = cloudflare("cfut_", 80)
    cf.user_tokens[tok] = {"status": "active"}
    monkeypatch.setenv("TOKENSCAN_CLOUDFLARE_API_BASE", cf.base)
    f = Finding("r", "d", "high", tok, "fp80", "p", 1, 1, verify_kind="cloudflare-user-token")
    (f,), _ = verify_findings([f], VerifyOptions(timeout=2.0, budget=10.0))
    assert f.verification.status == "live" and cf.routes_of(tok)


def test_compatible_constructor_and_vendor_maps() -> None:
    o = VerifyOptions(cloudflare_api_base="http://127.0.0.1:1/v4", cloudflare_email="a@example.com",
                      cloudflare_account_id="0" * 32, api_bases={"github": "http://localhost:2/"})
    assert o.api_bases == {"cloudflare": "http://127.0.0.1:1/v4", "github": "http://localhost:2"}
    assert o.param("cloudflare", "email") == "a@example.com" and o.param("cloudflare", "account_id") == "0" * 32
    assert o.param("github", "email") is None
    with pytest.raises(UsageError):
        VerifyOptions(api_bases={"github": "http://203.0.113.5/"})


def test_requests_only_take_paths(cf: FakeCloudflare) -> None:
    """A verifier cannot aim a credential at another host: absolute and scheme-relative URLs are refused."""
    http = Http(cf.base, 1.0, 0, RateLimiter(10, 1.0), float("inf"), 1.0)
    try:
        for bad in ("https://evil.example/x", "//evil.example/x", "x"):
            with pytest.raises(ValueError):
                http.get(bad, {})
    finally:
        http.close()
    assert cf.requests == []


def test_secret_never_in_detail_even_if_a_verifier_echoes_it(monkeypatch: pytest.MonkeyPatch,
                                                               cf: FakeCloudflare) -> None:
    tok = cloudflare("cfut_", 81)

    def echo(http: Http, secret: str, hints: dict, opts: VerifyOptions) -> Verification:
        return Verification("unknown", f"vendor said: bad key {secret}", reach={"names": [secret]})

    entry = registry.get("cloudflare-user-token")
    assert entry is not None
    monkeypatch.setitem(registry._VERIFIERS, "cloudflare-user-token", registry.Verifier(entry.kind, entry.vendor, echo))
    f = Finding("r", "d", "high", tok, "fp81", "p", 1, 1, verify_kind="cloudflare-user-token")
    (f,), _ = verify_findings([f], VerifyOptions(cloudflare_api_base=cf.base))
    assert tok not in f.verification.detail and tok not in str(f.verification.reach)
    assert "[secret]" in f.verification.detail


def test_parse_api_bases_option() -> None:
    assert registry.parse_api_bases(["GitHub=http://127.0.0.1:5/", "gitlab=https://gitlab.example.com/api/v4"]) == {
        "github": "http://127.0.0.1:5", "gitlab": "https://gitlab.example.com/api/v4"}
    for bad in ("github", "nosuch=https://x.example", "github=http://198.51.100.1/"):
        with pytest.raises(UsageError):
            registry.parse_api_bases([bad])


def test_only_live_reports_the_live_findings_of_any_verified_vendor(tmp_path):
    import os
    import subprocess
    import sys

    from cfserver import FakeCloudflare
    from tokens import cloudflare

    cf = FakeCloudflare().start()
    try:
        live, dead = cloudflare("cfut_", 301), cloudflare("cfut_", 302)
        cf.user_tokens[live] = {"status": "active"}
        (tmp_path / "a.env").write_text(f"CF_API_TOKEN={live}\nCF_OTHER_TOKEN={dead}\n")
        env = {**os.environ, "TOKENSCAN_CLOUDFLARE_API_BASE": cf.base}
        cmd = [sys.executable, "-m", "scanner", "scan", str(tmp_path), "--format", "json"]
        res = subprocess.run([*cmd, "--only-live"], capture_output=True, text=True, env=env, check=False)
        assert res.returncode == 2 and "--only-live needs --verify" in res.stderr and cf.requests == []
        res = subprocess.run([*cmd, "--only-live", "--verify"], capture_output=True, text=True, env=env, check=False)
        import json

        found = json.loads(res.stdout)["findings"]
        assert res.returncode == 1 and [f["verification"]["status"] for f in found] == ["live"]
    finally:
        cf.stop()
