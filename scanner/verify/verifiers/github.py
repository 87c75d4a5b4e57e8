"""GitHub: GET /user with the token as Bearer (https://docs.github.com/en/rest/users/users#get-the-authenticated-user).

200 is live (login; classic tokens list their scopes in X-OAuth-Scopes, fine-grained ones have none; an
expiring token names its date in GitHub-Authentication-Token-Expiration). 401 "Bad credentials" is invalid.
403 is read carefully: a rate limit (X-RateLimit-Remaining: 0, or Retry-After) is waited for and retried
like a 429 and never a verdict, while "Resource not accessible by integration" means GitHub authenticated
the token (an installation token may not read /user), so it is live. Refresh tokens (ghr_) are never
accepted by the API: a 401 would not prove them dead, so they are not sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanner.findings import Verification
from scanner.verify.answers import bearer, malformed, no_answer, text, undecided
from scanner.verify.options import VerifyOptions
from scanner.verify.registry import vendor, verifier

if TYPE_CHECKING:  # the HTTP machinery is loaded only when verifying, not when rules are
    from scanner.verify.http import Http

GITHUB = vendor("github", "https://api.github.com", ("api.github.com",), rate_requests=1000, rate_window=3600.0,
                docs="https://docs.github.com/en/rest/users/users#get-the-authenticated-user")
HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


def _rate_limited(status: int, headers: dict[str, str]) -> bool:
    """GitHub's primary and secondary rate limits may answer 403 (or 429) with Retry-After or with
    X-RateLimit-Remaining: 0 and a reset time."""
    return status in (403, 429) and ("retry-after" in headers or headers.get("x-ratelimit-remaining") == "0")


@verifier("github-token", GITHUB)
def verify_github_token(http: Http, secret: str, hints: dict, opts: VerifyOptions) -> Verification:
    if secret.startswith("ghr_"):
        return Verification("unknown", "refresh token: the API accepts it only with the app's client secret, "
                                       "so it cannot be checked (not sent)")
    a = http.get("/user", {**bearer(secret), **HEADERS}, throttled=_rate_limited)
    if v := no_answer(a):
        return v
    if a.status == 200:
        if a.body is None or not a.body.get("login"):
            return malformed(a, "no login")
        reach: dict = {"login": text(a.body["login"])}
        detail = f"user {reach['login']}"
        scopes = a.headers.get("x-oauth-scopes")
        if scopes is not None:
            reach["scopes"] = [s.strip() for s in scopes.split(",") if s.strip()]
            detail += f", scopes: {', '.join(reach['scopes']) or 'none'}"
        expires = a.headers.get("github-authentication-token-expiration")
        if expires:
            reach["expires"] = text(expires)
            detail += f", expires {reach['expires']}"
        return Verification("live", detail, reach=reach)
    if a.status == 401:
        return Verification("invalid", "Bad credentials (401)")
    if a.status == 403:
        message = str((a.body or {}).get("message", ""))
        if message.startswith("Resource not accessible by integration"):
            return Verification("live", "authenticated (an app installation token: /user is not readable)")
    return undecided(a)
