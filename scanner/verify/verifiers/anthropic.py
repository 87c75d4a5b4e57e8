"""Anthropic: GET /v1/models with x-api-key and anthropic-version (https://docs.anthropic.com/en/api/models-list,
errors: https://docs.anthropic.com/en/api/errors).

200 is live; 401 `authentication_error` invalid; 403 `permission_error` means the key authenticated but may
not list models: live. 429 `rate_limit_error` is retried honouring Retry-After, 529 `overloaded_error` like
any 5xx.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanner.findings import Verification
from scanner.verify.answers import models_listed, no_answer, undecided
from scanner.verify.options import VerifyOptions
from scanner.verify.registry import vendor, verifier

if TYPE_CHECKING:  # the HTTP machinery is loaded only when verifying, not when rules are
    from scanner.verify.http import Http

ANTHROPIC = vendor("anthropic", "https://api.anthropic.com/v1", ("api.anthropic.com",), rate_requests=50,
                   rate_window=60.0, docs="https://docs.anthropic.com/en/api/errors")
VERSION = "2023-06-01"


@verifier("anthropic-key", ANTHROPIC)
def verify_anthropic_key(http: Http, secret: str, hints: dict, opts: VerifyOptions) -> Verification:
    a = http.get("/models", {"x-api-key": secret, "anthropic-version": VERSION})
    if v := no_answer(a):
        return v
    if a.status == 200:
        return models_listed(a)
    error = (a.body or {}).get("error")
    kind = error.get("type") if isinstance(error, dict) else None
    if a.status == 401 and kind == "authentication_error":
        return Verification("invalid", "authentication_error (401)")
    if a.status == 403 and kind == "permission_error":
        return Verification("live", "authenticated (403 permission_error: may not list models)")
    return undecided(a, f"error type {kind!s:.40}" if kind else "")
