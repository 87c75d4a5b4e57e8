"""npm: GET /-/whoami on the registry with the token as Bearer (https://docs.npmjs.com/cli/commands/npm-whoami).

200 with `username` is live; 401 invalid; anything else (403 from a token restricted to other IP ranges,
for instance) proves nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanner.findings import Verification
from scanner.verify.answers import bearer, malformed, no_answer, text, undecided
from scanner.verify.options import VerifyOptions
from scanner.verify.registry import vendor, verifier

if TYPE_CHECKING:  # the HTTP machinery is loaded only when verifying, not when rules are
    from scanner.verify.http import Http

NPM = vendor("npm", "https://registry.npmjs.org", ("registry.npmjs.org",), rate_requests=300, rate_window=60.0,
             docs="https://docs.npmjs.com/cli/commands/npm-whoami")


@verifier("npm-token", NPM)
def verify_npm_token(http: Http, secret: str, hints: dict, opts: VerifyOptions) -> Verification:
    a = http.get("/-/whoami", bearer(secret))
    if v := no_answer(a):
        return v
    if a.status == 200:
        if a.body is None or not a.body.get("username"):
            return malformed(a, "no username")
        user = text(a.body["username"])
        return Verification("live", f"user {user}", reach={"username": user})
    if a.status == 401:
        return Verification("invalid", "401 Unauthorized")
    return undecided(a)
