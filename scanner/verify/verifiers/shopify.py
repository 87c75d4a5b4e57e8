"""Shopify: GET https://{shop}.myshopify.com/admin/api/{version}/shop.json with the token in
X-Shopify-Access-Token (https://shopify.dev/docs/api/admin-rest/latest/resources/shop,
https://shopify.dev/docs/api/usage/authentication#making-authenticated-requests).

Why a host per shop: an Admin API token works only on its own shop's *.myshopify.com host, so the token is
paired with `*.myshopify.com` hosts written near it (or the operator's params["shopify.shop"]). The host is
never free: it must be a myshopify.com name (checked in Http against the vendor's host pattern), so a token
can reach no host but Shopify's. An unsupported API version is answered by the oldest supported one
(Shopify's versioning docs), so the pinned version does not go stale into failures.

Reading the answer: 200 is live (shop name, plan). 401 says the token is not valid *for that shop*: it may
belong to another one, so the next candidate is tried and none accepting it is `unknown` (pairing), never
`invalid`. 404 (no such shop) tries the next candidate; 402 (frozen shop), 423 (locked shop), 403 and the
rest prove nothing. Shared secrets (shpss_) authenticate nothing on their own and are not sent.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from scanner.findings import Verification
from scanner.verify import hints as hint_collectors
from scanner.verify.answers import malformed, no_answer, text, undecided
from scanner.verify.options import VerifyOptions
from scanner.verify.registry import vendor, verifier

if TYPE_CHECKING:  # the HTTP machinery is loaded only when verifying, not when rules are
    from scanner.verify.http import Http

SHOP_HOST = r"[a-z0-9][a-z0-9-]{0,61}\.myshopify\.com"
SHOPIFY = vendor("shopify", "https://{host}/admin/api", ("*.myshopify.com",), host_pattern=SHOP_HOST,
                 rate_requests=40, rate_window=20.0,
                 docs="https://shopify.dev/docs/api/admin-rest/latest/resources/shop")
API_VERSION = "2025-10"
MAX_SHOPS = 3
hint_collectors.register("shopify_shops",
                         rb"(?<![A-Za-z0-9.-])[A-Za-z0-9][A-Za-z0-9-]{0,61}\.myshopify\.com(?![A-Za-z0-9-]|\.[A-Za-z0-9])",
                         MAX_SHOPS, fold=True)


def _shops(hints: dict, opts: VerifyOptions) -> list[str]:
    given = opts.param("shopify", "shop")
    out: list[str] = []
    for shop in ([given] if given else []) + list(hints.get("shopify_shops", [])):
        shop = shop.lower()
        if re.fullmatch(SHOP_HOST, shop) and shop not in out:
            out.append(shop)
    return out[:MAX_SHOPS]


@verifier("shopify-token", SHOPIFY, hints=("shopify_shops",))
def verify_shopify_token(http: Http, secret: str, hints: dict, opts: VerifyOptions) -> Verification:
    if secret.startswith("shpss_"):
        return Verification("unknown", "shared secret: it signs webhooks and OAuth, it is not an access token "
                                       "(not sent)")
    shops = _shops(hints, opts)
    if not shops:
        return Verification("unknown", "pairing: no *.myshopify.com shop found near the token")
    refused: list[str] = []
    for shop in shops:
        a = http.get(f"/{API_VERSION}/shop.json", {"X-Shopify-Access-Token": secret}, host=shop)
        if v := no_answer(a):
            return v
        if a.status == 200:
            info = (a.body or {}).get("shop")
            if not isinstance(info, dict):
                return malformed(a, "no shop object")
            reach = {"shop": shop, "name": text(info.get("name") or ""), "plan": text(info.get("plan_name") or "")}
            return Verification("live", f"shop {shop} ({reach['name']}), plan {reach['plan'] or 'unknown'}",
                                reach=reach)
        if a.status in (401, 404):
            refused.append(f"{shop} ({a.status})")
            continue
        if a.status in (402, 423):
            return Verification("unknown", f"shop {shop} is {'frozen' if a.status == 402 else 'locked'} "
                                           f"({a.status}): the token cannot be judged")
        return undecided(a, f"shop {shop}")
    return Verification("unknown", f"pairing: not accepted by {', '.join(refused)}; a token works only on "
                                   "its own shop")
