"""GitLab: GET /api/v4/personal_access_tokens/self with PRIVATE-TOKEN
(https://docs.gitlab.com/api/personal_access_tokens/#get-single-personal-access-token).

200 describes the token itself: `active`, `revoked`, `expires_at`, `scopes`, `name`. An active token is
live; a revoked or expired one inactive. 401 is invalid, except that GitLab says "Token was revoked" or
"Token has expired" in `error_description` (inactive). 403 `insufficient_scope` means GitLab authenticated
the token, so it is live. Only personal, project and group access tokens (glpat-) can read this endpoint:
deploy, runner and other GitLab tokens would be refused while live, so they get no verifier. The default
base is gitlab.com; a self-managed instance's tokens are checked only when the operator points
TOKENSCAN_GITLAB_API_BASE at it (a host is never taken from scanned content).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanner.findings import Verification
from scanner.verify.answers import malformed, no_answer, text, undecided
from scanner.verify.options import VerifyOptions
from scanner.verify.registry import vendor, verifier

if TYPE_CHECKING:  # the HTTP machinery is loaded only when verifying, not when rules are
    from scanner.verify.http import Http

GITLAB = vendor("gitlab", "https://gitlab.com/api/v4", ("gitlab.com",), rate_requests=600, rate_window=60.0,
                docs="https://docs.gitlab.com/api/personal_access_tokens/")


@verifier("gitlab-pat", GITLAB)
def verify_gitlab_token(http: Http, secret: str, hints: dict, opts: VerifyOptions) -> Verification:
    a = http.get("/personal_access_tokens/self", {"PRIVATE-TOKEN": secret})
    if v := no_answer(a):
        return v
    body = a.body
    if a.status == 200:
        if body is None or not isinstance(body.get("active"), bool):
            return malformed(a, "no `active` field")
        scopes = [text(s) for s in body.get("scopes") or [] if isinstance(s, str)]
        reach = {"name": text(body.get("name", "")), "scopes": scopes, "expires_at": body.get("expires_at")}
        when = f", expires_at {text(body['expires_at'])}" if body.get("expires_at") else ""
        if body.get("revoked"):
            return Verification("inactive", f"revoked{when}", reach=reach)
        if not body["active"]:
            return Verification("inactive", f"expired or inactive{when}", reach=reach)
        return Verification("live", f"active, scopes: {', '.join(scopes) or 'none'}{when}", reach=reach)
    if a.status == 401:
        described = str((body or {}).get("error_description", "")).lower()
        if "revoked" in described:
            return Verification("inactive", "revoked (401 invalid_token)")
        if "expired" in described:
            return Verification("inactive", "expired (401 invalid_token)")
        return Verification("invalid", f"401 Unauthorized at {http.host}")
    if a.status == 403 and (body or {}).get("error") == "insufficient_scope":
        return Verification("live", "authenticated (403 insufficient_scope: cannot read its own details)")
    return undecided(a)
