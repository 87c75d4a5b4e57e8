"""DigitalOcean: GET /v2/account with the token as Bearer (https://docs.digitalocean.com/reference/api/digitalocean/#tag/Account).

200 is live (account status active / warning / locked, e-mail, team); 401 `unauthorized` invalid; 403
`forbidden` means a scoped token that may not read the account authenticated: live. Refresh tokens
(dor_v1_) are not accepted by the API, so they are not sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanner.findings import Verification
from scanner.verify.answers import bearer, malformed, no_answer, text, undecided
from scanner.verify.options import VerifyOptions
from scanner.verify.registry import vendor, verifier

if TYPE_CHECKING:  # the HTTP machinery is loaded only when verifying, not when rules are
    from scanner.verify.http import Http

DIGITALOCEAN = vendor("digitalocean", "https://api.digitalocean.com/v2", ("api.digitalocean.com",),
                      rate_requests=200, rate_window=60.0,
                      docs="https://docs.digitalocean.com/reference/api/digitalocean/#tag/Account")


@verifier("digitalocean-token", DIGITALOCEAN)
def verify_do_token(http: Http, secret: str, hints: dict, opts: VerifyOptions) -> Verification:
    if secret.startswith("dor_"):
        return Verification("unknown", "refresh token: exchanged only through OAuth, cannot be checked (not sent)")
    a = http.get("/account", bearer(secret))
    if v := no_answer(a):
        return v
    if a.status == 200:
        account = (a.body or {}).get("account")
        if not isinstance(account, dict):
            return malformed(a, "no account")
        reach = {"status": text(account.get("status", "")), "email": text(account.get("email", "")),
                 "team": text((account.get("team") or {}).get("name", ""))}
        return Verification("live", f"account {reach['email']} ({reach['status'] or 'status not given'})", reach=reach)
    if a.status == 401:
        return Verification("invalid", "401 unauthorized")
    if a.status == 403:
        return Verification("live", "authenticated scoped token (403: may not read the account)")
    return undecided(a)
