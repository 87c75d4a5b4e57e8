"""Netlify: GET /api/v1/user with the personal access token as Bearer
(https://open-api.netlify.com/#tag/user/operation/getCurrentUser).

Why this call: it reads only the token owner's own profile. 200 is live (the account's slug); 401 invalid
(a revoked or never-issued token); anything else proves nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanner.findings import Verification
from scanner.verify.answers import bearer, malformed, no_answer, text, undecided
from scanner.verify.options import VerifyOptions
from scanner.verify.registry import vendor, verifier

if TYPE_CHECKING:  # the HTTP machinery is loaded only when verifying, not when rules are
    from scanner.verify.http import Http

NETLIFY = vendor("netlify", "https://api.netlify.com/api/v1", ("api.netlify.com",), rate_requests=200,
                 rate_window=60.0, docs="https://docs.netlify.com/api/get-started/")


@verifier("netlify-token", NETLIFY)
def verify_netlify_token(http: Http, secret: str, hints: dict, opts: VerifyOptions) -> Verification:
    a = http.get("/user", bearer(secret))
    if v := no_answer(a):
        return v
    if a.status == 200:
        if a.body is None or not a.body.get("id"):
            return malformed(a, "no user id")
        reach = {"slug": text(a.body.get("slug") or ""), "full_name": text(a.body.get("full_name") or "")}
        return Verification("live", f"user {reach['slug'] or reach['full_name'] or text(a.body['id'])}", reach=reach)
    if a.status == 401:
        return Verification("invalid", "401 Unauthorized")
    return undecided(a)
