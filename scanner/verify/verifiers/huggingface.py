"""Hugging Face: GET /api/whoami-v2 with the token as Bearer (https://huggingface.co/docs/hub/api).

200 is live (account name, organisations, the token's role from auth.accessToken); 401 invalid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanner.findings import Verification
from scanner.verify.answers import bearer, malformed, no_answer, text, undecided
from scanner.verify.options import VerifyOptions
from scanner.verify.registry import vendor, verifier

if TYPE_CHECKING:  # the HTTP machinery is loaded only when verifying, not when rules are
    from scanner.verify.http import Http

HUGGINGFACE = vendor("huggingface", "https://huggingface.co", ("huggingface.co",), rate_requests=300,
                     rate_window=300.0, docs="https://huggingface.co/docs/hub/api")


@verifier("huggingface-token", HUGGINGFACE)
def verify_hf_token(http: Http, secret: str, hints: dict, opts: VerifyOptions) -> Verification:
    a = http.get("/api/whoami-v2", bearer(secret))
    if v := no_answer(a):
        return v
    if a.status == 200:
        if a.body is None or not a.body.get("name"):
            return malformed(a, "no name")
        token = ((a.body.get("auth") or {}).get("accessToken") or {})
        reach = {"name": text(a.body["name"]), "type": text(a.body.get("type", "")),
                 "orgs": [text(o.get("name", "")) for o in a.body.get("orgs") or [] if isinstance(o, dict)][:5]}
        if token.get("role"):
            reach["role"] = text(token["role"])
        role = f", role {reach['role']}" if "role" in reach else ""
        return Verification("live", f"{reach['type'] or 'account'} {reach['name']}{role}", reach=reach)
    if a.status == 401:
        return Verification("invalid", "401 Unauthorized")
    return undecided(a)
