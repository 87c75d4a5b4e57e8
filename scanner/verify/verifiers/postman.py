"""Postman: GET /me with the key in X-Api-Key (https://learning.postman.com/docs/developer/postman-api/authentication/,
https://learning.postman.com/api-docs/api-reference/users/get-authenticated-user).

Why this call: it reads only the key owner's own user. 200 is live (username, team); 401 (an
AuthenticationError, "Invalid API Key") is invalid; anything else (403 from a team's IP allow-list, for
instance) proves nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanner.findings import Verification
from scanner.verify.answers import malformed, no_answer, text, undecided
from scanner.verify.options import VerifyOptions
from scanner.verify.registry import vendor, verifier

if TYPE_CHECKING:  # the HTTP machinery is loaded only when verifying, not when rules are
    from scanner.verify.http import Http

POSTMAN = vendor("postman", "https://api.getpostman.com", ("api.getpostman.com",), rate_requests=100,
                 rate_window=60.0, docs="https://learning.postman.com/api-docs/api-reference/users/get-authenticated-user")


@verifier("postman-key", POSTMAN)
def verify_postman_key(http: Http, secret: str, hints: dict, opts: VerifyOptions) -> Verification:
    a = http.get("/me", {"X-Api-Key": secret})
    if v := no_answer(a):
        return v
    if a.status == 200:
        user = (a.body or {}).get("user")
        if not isinstance(user, dict) or not user.get("id"):
            return malformed(a, "no user")
        reach = {"username": text(user.get("username") or ""), "team": text(user.get("teamName") or "")}
        team = f", team {reach['team']}" if reach["team"] else ""
        return Verification("live", f"user {reach['username']}{team}", reach=reach)
    if a.status == 401:
        return Verification("invalid", "401 AuthenticationError")
    return undecided(a)
