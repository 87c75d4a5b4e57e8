"""Stripe: GET /v1/account with the key as the HTTP Basic user (https://docs.stripe.com/api/authentication).

200 is live (account id, livemode). 401 is an authentication error: an expired key (`api_key_expired`) is
inactive, any other 401 invalid. 403 means Stripe authenticated a restricted key that may not read the
account: live. 429 is retried honouring Retry-After.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from scanner.findings import Verification
from scanner.verify.answers import malformed, no_answer, text, undecided
from scanner.verify.options import VerifyOptions
from scanner.verify.registry import vendor, verifier

if TYPE_CHECKING:  # the HTTP machinery is loaded only when verifying, not when rules are
    from scanner.verify.http import Http

STRIPE = vendor("stripe", "https://api.stripe.com", ("api.stripe.com",), rate_requests=20, rate_window=1.0,
                docs="https://docs.stripe.com/api/authentication")


@verifier("stripe-key", STRIPE)
def verify_stripe_key(http: Http, secret: str, hints: dict, opts: VerifyOptions) -> Verification:
    basic = base64.b64encode(f"{secret}:".encode()).decode()
    a = http.get("/v1/account", {"Authorization": f"Basic {basic}"})
    if v := no_answer(a):
        return v
    raw_error = (a.body or {}).get("error")
    error: dict = raw_error if isinstance(raw_error, dict) else {}
    if a.status == 200:
        if a.body is None or not a.body.get("id"):
            return malformed(a, "no account id")
        reach = {"account": text(a.body["id"]), "livemode": a.body.get("livemode")}
        return Verification("live", f"account {reach['account']}", reach=reach)
    if a.status == 401:
        if error.get("code") == "api_key_expired":
            return Verification("inactive", "expired (api_key_expired)")
        return Verification("invalid", "authentication error (401)")
    if a.status == 403:
        return Verification("live", "authenticated restricted key (403: may not read the account)")
    return undecided(a)
