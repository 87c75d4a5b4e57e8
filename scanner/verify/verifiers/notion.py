"""Notion: GET /v1/users/me with the integration token as Bearer
(https://developers.notion.com/reference/get-self).

Why this call: it reads only the token's own bot user (its name and workspace) and needs no capability, so
any working token answers 200: live. 401 (error code `unauthorized`, "API token is invalid") is invalid;
403 and anything else prove nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanner.findings import Verification
from scanner.verify.answers import bearer, malformed, no_answer, text, undecided
from scanner.verify.options import VerifyOptions
from scanner.verify.registry import vendor, verifier

if TYPE_CHECKING:  # the HTTP machinery is loaded only when verifying, not when rules are
    from scanner.verify.http import Http

NOTION = vendor("notion", "https://api.notion.com/v1", ("api.notion.com",), rate_requests=100, rate_window=60.0,
                docs="https://developers.notion.com/reference/get-self")
HEADERS = {"Notion-Version": "2022-06-28"}  # a version header is required on every request


@verifier("notion-token", NOTION)
def verify_notion_token(http: Http, secret: str, hints: dict, opts: VerifyOptions) -> Verification:
    a = http.get("/users/me", {**bearer(secret), **HEADERS})
    if v := no_answer(a):
        return v
    if a.status == 200:
        if a.body is None or a.body.get("object") != "user":
            return malformed(a, "not a user object")
        bot = a.body.get("bot") if isinstance(a.body.get("bot"), dict) else {}
        reach = {"name": text(a.body.get("name") or ""), "type": text(a.body.get("type") or ""),
                 "workspace": text((bot or {}).get("workspace_name") or "")}
        where = f" in workspace {reach['workspace']}" if reach["workspace"] else ""
        return Verification("live", f"{reach['type'] or 'user'} {reach['name']}{where}", reach=reach)
    if a.status == 401:
        return Verification("invalid", "401 unauthorized")
    return undecided(a)
