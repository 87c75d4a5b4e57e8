"""Shopify tokens against a loopback stand-in that serves several shops by Host: a token is judged only on
a *.myshopify.com shop written near it, and a refusal by the wrong shop never calls it invalid."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import vendorserver
from vendorserver import ShopifyServer

from scanner.findings import Finding
from scanner.verify import hints, verify_findings
from scanner.verify.http import Http, RateLimiter
from scanner.verify.options import VerifyOptions


def tok(i: int, prefix: str = "shpat_") -> str:
    return vendorserver.token(prefix, i, 32, "0123456789abcdef")


@pytest.fixture
def shopify() -> Iterator[ShopifyServer]:
    server = ShopifyServer()
    server.start()
    server.shops.update({"acme.myshopify.com", "other.myshopify.com", "cold.myshopify.com"})
    server.frozen.add("cold.myshopify.com")
    yield server
    server.stop()


def run(server: ShopifyServer, *findings: Finding, **kw: object) -> list[Finding]:
    opts = VerifyOptions(api_bases={"shopify": server.base}, **{"timeout": 2.0, "budget": 30.0, "retries": 1, **kw})  # type: ignore[arg-type]
    return verify_findings(list(findings), opts)[0]


def finding(secret: str, *shops: str) -> Finding:
    return Finding("shopify-access-token", "d", "critical", secret, f"fp-{secret[-8:]}-{shops}", "p", 1, 1,
                   verify_kind="shopify-token", context_hints={"shopify_shops": list(shops)})


def test_token_paired_with_its_shop(shopify: ShopifyServer) -> None:
    live = tok(1)
    shopify.known[live] = "acme.myshopify.com"
    a = finding(live, "other.myshopify.com", "ACME.myshopify.com")  # wrong shop first, then its own
    b = finding(live, "other.myshopify.com")
    c = finding(tok(2), "acme.myshopify.com")
    d = finding(tok(3), "nosuch.myshopify.com")
    e = finding(live, "cold.myshopify.com")
    a, b, c, d, e = run(shopify, a, b, c, d, e)
    assert a.verification.status == "live" and a.verification.reach["name"] == "Acme Store"
    for f in (b, c, d):
        assert f.verification.status == "unknown" and "pairing" in f.verification.detail, f.verification
    assert e.verification.status == "unknown" and "frozen" in e.verification.detail
    assert all(r.path == "/admin/api/2025-10/shop.json" and r.method == "GET" for r in shopify.requests)
    assert {r.headers["host"] for r in shopify.requests} <= shopify.shops | {"nosuch.myshopify.com"}


def test_not_sent_without_a_shop_or_for_a_shared_secret(shopify: ShopifyServer) -> None:
    a, b = finding(tok(4)), finding(tok(5, "shpss_"), "acme.myshopify.com")
    a, b = run(shopify, a, b)
    assert a.verification.status == b.verification.status == "unknown"
    assert shopify.requests == []


def test_no_usable_answer_is_unknown(shopify: ShopifyServer) -> None:
    throttled, down, slow, garbled = (tok(10 + i) for i in range(4))
    for s in (throttled, down, slow, garbled):
        shopify.known[s] = "acme.myshopify.com"
    shopify.retry_after = "0"
    shopify.throttle[throttled] = 100
    shopify.failing[down] = 100
    shopify.slow[slow] = 1.5
    shopify.malformed[garbled] = (200, b"<html>not json</html>")
    fs = [finding(s, "acme.myshopify.com") for s in (throttled, down, slow, garbled)]
    fs = run(shopify, *fs, timeout=0.5)
    assert all(f.verification.status == "unknown" and f.verification.detail for f in fs)
    assert "rate limited" in fs[0].verification.detail and "503" in fs[1].verification.detail
    assert "timeout" in fs[2].verification.detail and "malformed" in fs[3].verification.detail


def test_429_retry_after_is_honoured(shopify: ShopifyServer) -> None:
    live = tok(20)
    shopify.known[live] = "acme.myshopify.com"
    shopify.throttle[live] = 1
    f = finding(live, "acme.myshopify.com")
    (f,) = run(shopify, f)
    assert f.verification.status == "live"


def test_hosts_outside_myshopify_are_refused() -> None:
    import re

    http = Http("https://{host}/admin/api", 1.0, 0, RateLimiter(1, 1.0), 0.0, 1.0)
    http.host_pattern = re.compile(r"[a-z0-9][a-z0-9-]{0,61}\.myshopify\.com")
    for bad in ("evil.example.com", "acme.myshopify.com.evil.example", "acme.myshopify.com/x", "a@acme.myshopify.com"):
        with pytest.raises(ValueError):
            http.request("GET", "/x", {}, host=bad)
    with pytest.raises(ValueError):
        http.request("GET", "/x", {})  # a per-shop vendor never sends without a shop
    assert http._target("/2025-10/shop.json", {}, "acme.myshopify.com")[0] == \
        "https://acme.myshopify.com/admin/api/2025-10/shop.json"
    http.close()


def test_shop_hints_are_collected() -> None:
    t = tok(30)
    data = f"SHOPIFY_STORE=Acme.myshopify.com\nSHOPIFY_TOKEN={t}\nsee https://x.myshopify.com.evil.example/\n".encode()
    start = data.index(t.encode())
    assert hints.collect("shopify-token", data, start, start + len(t)) == {"shopify_shops": ["Acme.myshopify.com"]}
