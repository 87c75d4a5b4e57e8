"""OpenAI: GET /v1/models with the key as Bearer (https://platform.openai.com/docs/api-reference/models/list).

200 is live. Only `invalid_api_key` ("Incorrect API key provided") proves a key dead: OpenAI also answers
401 for a restricted key lacking a scope ("insufficient permissions ... Missing scopes", which proves the
key authenticated: live) and for a request from an IP address the project does not allow (proves nothing).
A deactivated account's key is inactive. Admin keys (sk-admin-) work only on the Admin API, so a refusal
here would not prove them dead: they are not sent. 403 (unsupported region, scopes) is read the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanner.findings import Verification
from scanner.verify.answers import bearer, models_listed, no_answer, undecided
from scanner.verify.options import VerifyOptions
from scanner.verify.registry import vendor, verifier

if TYPE_CHECKING:  # the HTTP machinery is loaded only when verifying, not when rules are
    from scanner.verify.http import Http

OPENAI = vendor("openai", "https://api.openai.com/v1", ("api.openai.com",), rate_requests=100, rate_window=60.0,
                docs="https://platform.openai.com/docs/guides/error-codes")


@verifier("openai-key", OPENAI)
def verify_openai_key(http: Http, secret: str, hints: dict, opts: VerifyOptions) -> Verification:
    if secret.startswith("sk-admin-"):
        return Verification("unknown", "admin key: accepted only by the Admin API, which this verifier does not "
                                       "call (not sent)")
    a = http.get("/models", bearer(secret))
    if v := no_answer(a):
        return v
    if a.status == 200:
        return models_listed(a)
    error = (a.body or {}).get("error")
    error = error if isinstance(error, dict) else {}
    message = str(error.get("message", "")).lower()
    if a.status in (401, 403):
        if error.get("code") == "invalid_api_key":
            return Verification("invalid", "invalid_api_key (401)")
        if "insufficient permissions" in message or "missing scopes" in message:
            return Verification("live", f"authenticated restricted key ({a.status}: lacks the models scope)")
        if "deactivated" in message:
            return Verification("inactive", "account deactivated")
    return undecided(a, f"error code {error.get('code')!s:.40}" if error.get("code") else "")
