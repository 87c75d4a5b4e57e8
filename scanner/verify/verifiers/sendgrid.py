"""SendGrid: GET /v3/scopes with the key as Bearer
(https://www.twilio.com/docs/sendgrid/api-reference/api-key-permissions/retrieve-a-list-of-scopes-for-which-this-user-has-access).

200 lists the key's scopes: live. 401 invalid at api.sendgrid.com (an EU regional subuser's key lives at
api.eu.sendgrid.com: point TOKENSCAN_SENDGRID_API_BASE there to check one). 403 proves nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanner.findings import Verification
from scanner.verify.answers import bearer, malformed, no_answer, text, undecided
from scanner.verify.options import VerifyOptions
from scanner.verify.registry import vendor, verifier

if TYPE_CHECKING:  # the HTTP machinery is loaded only when verifying, not when rules are
    from scanner.verify.http import Http

SENDGRID = vendor("sendgrid", "https://api.sendgrid.com/v3", ("api.sendgrid.com", "api.eu.sendgrid.com"),
                  rate_requests=300, rate_window=60.0,
                  docs="https://www.twilio.com/docs/sendgrid/api-reference/api-key-permissions")


@verifier("sendgrid-key", SENDGRID)
def verify_sendgrid_key(http: Http, secret: str, hints: dict, opts: VerifyOptions) -> Verification:
    a = http.get("/scopes", bearer(secret))
    if v := no_answer(a):
        return v
    if a.status == 200:
        if a.body is None or not isinstance(a.body.get("scopes"), list):
            return malformed(a, "no scopes list")
        scopes = sorted(text(s) for s in a.body["scopes"] if isinstance(s, str))
        return Verification("live", f"{len(scopes)} scopes", reach={"scopes": scopes[:20], "scope_count": len(scopes)})
    if a.status == 401:
        return Verification("invalid", f"401 Unauthorized at {http.host}")
    return undecided(a)
