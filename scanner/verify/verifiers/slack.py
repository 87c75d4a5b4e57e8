"""Slack: POST /api/auth.test with the token as Bearer (https://api.slack.com/methods/auth.test).

Slack answers 200 with `ok`; `ok: true` is live (team, user, scopes from X-OAuth-Scopes). Errors:
`invalid_auth` is invalid (Slack documents one other cause: a request from an IP address the workspace does
not allow; the detail says so), `token_revoked`, `token_expired` and `account_inactive` are inactive;
`not_authed`, `ratelimited` and anything else prove nothing. 429 carries Retry-After and is retried.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from scanner.findings import Verification
from scanner.verify.answers import bearer, malformed, no_answer, text, undecided
from scanner.verify.options import VerifyOptions
from scanner.verify.registry import vendor, verifier

if TYPE_CHECKING:  # the HTTP machinery is loaded only when verifying, not when rules are
    from scanner.verify.http import Http

SLACK = vendor("slack", "https://slack.com/api", ("slack.com",), rate_requests=50, rate_window=60.0,
               docs="https://api.slack.com/methods/auth.test")
# Tokens auth.test cannot judge: refresh tokens (xoxr-, xoxe-) are only exchanged, configuration tokens
# (xoxe.xox*) only call the manifest APIs, client tokens (xoxc-) need the browser's session cookie, and
# session cookies (xoxd-) are not tokens. A refusal would not prove them dead, so they are not sent.
NOT_CHECKABLE = ("xoxr-", "xoxe-", "xoxe.", "xoxc-", "xoxd-")
INACTIVE = {"token_revoked": "revoked", "token_expired": "expired", "account_inactive": "account deactivated"}


@verifier("slack-token", SLACK)
def verify_slack_token(http: Http, secret: str, hints: dict, opts: VerifyOptions) -> Verification:
    if secret.startswith(NOT_CHECKABLE):
        return Verification("unknown", "a token auth.test cannot judge (refresh, configuration or client token): "
                                       "not sent")
    a = http.request("POST", "/auth.test", bearer(secret))
    if v := no_answer(a):
        return v
    if a.status != 200:
        return undecided(a)
    if a.body is None or not isinstance(a.body.get("ok"), bool):
        return malformed(a, "no `ok` field")
    if a.body["ok"]:
        reach: dict[str, object] = {k: text(a.body[k]) for k in ("team", "user", "url", "bot_id") if a.body.get(k)}
        scopes = a.headers.get("x-oauth-scopes")
        if scopes is not None:
            reach["scopes"] = [s.strip() for s in scopes.split(",") if s.strip()]
        who = ", ".join(f"{k} {reach[k]}" for k in ("team", "user") if k in reach)
        return Verification("live", who or "ok", reach=reach)
    error = str(a.body.get("error", ""))
    code = error if re.fullmatch(r"[a-z_]{1,40}", error) else "unrecognised"
    if code == "invalid_auth":
        return Verification("invalid", "invalid_auth (or a request from an IP address the workspace does not allow)")
    if code in INACTIVE:
        return Verification("inactive", f"{INACTIVE[code]} ({code})")
    if code == "ratelimited":
        return Verification("unknown", "rate limited (ratelimited)")
    return Verification("unknown", f"answer proves nothing (error {code})")
