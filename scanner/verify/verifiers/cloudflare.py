"""Cloudflare: which endpoint proves each credential type live, how to read its answer, what it reaches.

Facts relied on (TOKEN_FORMATS.md): user tokens verify at /user/tokens/verify; account tokens only at
/accounts/{id}/tokens/verify (the user endpoint calls a live account token invalid); global keys at /user
with X-Auth-Email + X-Auth-Key. Only an explicit authentication failure proves a credential dead, and for a
global key there is none: Cloudflare's refusal (9103) names the pair, not the key, so a key no candidate
e-mail unlocks is `unknown` (pairing), never `invalid`. Only GET requests are made, to read-only endpoints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanner.findings import Verification
from scanner.verify.options import DEFAULT_CLOUDFLARE_API, VerifyOptions
from scanner.verify.registry import vendor, verifier

if TYPE_CHECKING:  # the HTTP machinery is loaded only when verifying, not when rules are
    from scanner.verify.http import Answer, Http

CLOUDFLARE = vendor("cloudflare", DEFAULT_CLOUDFLARE_API, ("api.cloudflare.com",), rate_requests=1000,
                    rate_window=300.0, docs="https://developers.cloudflare.com/fundamentals/api/")

# Error codes that are explicit authentication failures (code 1000: "Invalid API Token"; for the key+e-mail
# pair 9103: "Unknown X-Auth-Key or X-Auth-Email", 9106/9107: missing or malformed auth headers).
TOKEN_AUTH_FAILURES = {1000, 1001}
KEY_AUTH_FAILURES = {9103, 9106, 9107, 10000}
MALFORMED = {6003, 6103, 6111}
REACH_NAMES = 5


def _codes(a: Answer) -> set[int]:
    errors = (a.body or {}).get("errors") or []
    return {e["code"] for e in errors if isinstance(e, dict) and isinstance(e.get("code"), int)}


def _unknown(a: Answer, what: str = "") -> Verification:
    """An answer that decides nothing, with the reason (no answer, rate limited, 5xx, malformed, unexpected)."""
    if a.status is None or a.status == 429 or a.status >= 500:
        return Verification("unknown", what + (a.problem or f"HTTP {a.status}"))
    if a.body is None:
        return Verification("unknown", f"{what}malformed answer (HTTP {a.status}, not a JSON object)")
    return Verification("unknown", f"{what}HTTP {a.status}, error codes {sorted(_codes(a)) or 'none'}")


def _read_token_verify(a: Answer) -> Verification | None:
    """live / inactive / invalid from a tokens/verify answer; None when the answer decides nothing."""
    if a.status == 200 and a.body and a.body.get("success"):
        result = a.body.get("result") or {}
        status = result.get("status")
        dates = {k: result[k] for k in ("not_before", "expires_on") if result.get(k)}
        if status == "active":
            return Verification("live", "active" + "".join(f", {k} {v}" for k, v in dates.items()))
        if status in ("disabled", "expired"):
            return Verification("inactive", status + "".join(f", {k} {v}" for k, v in dates.items()))
        return Verification("unknown", f"malformed answer: unexpected token status {status!r}")
    if a.status in (400, 401, 403) and _codes(a) & TOKEN_AUTH_FAILURES:
        return Verification("invalid", "Invalid API Token (code 1000)")
    return None


def _reach(http: Http, headers: dict[str, str], user: bool) -> dict:
    """Blast radius: counts and first names of the zones and accounts a live credential can read."""
    reach: dict = {}
    lists = (("zones", "/zones"), ("accounts", "/accounts")) + ((("memberships", "/memberships"),) if user else ())
    for name, path in lists:
        a = http.get(path, headers, params={"per_page": 50})
        if a.status != 200 or not a.body or not a.body.get("success"):
            reach[name] = None  # not readable with this credential, or no answer
            continue
        items = a.body.get("result") or []
        info = a.body.get("result_info") or {}
        reach[name] = info.get("total_count", len(items))
        names = []
        for item in items[:REACH_NAMES]:
            if isinstance(item, dict):
                label = item.get("name") or (item.get("account") or {}).get("name")
                if label:
                    names.append(label)
        reach[f"{name}_names"] = names
    return reach


@verifier("cloudflare-user-token", CLOUDFLARE)
def verify_user_token(http: Http, secret: str, hints: dict, opts: VerifyOptions) -> Verification:
    headers = {"Authorization": f"Bearer {secret}"}
    a = http.get("/user/tokens/verify", headers)
    v = _read_token_verify(a) or _unknown(a)
    if v.status == "live":
        v.reach = _reach(http, headers, user=True)
    return v


@verifier("cloudflare-account-token", CLOUDFLARE, hints=("account_ids",))
def verify_account_token(http: Http, secret: str, hints: dict, opts: VerifyOptions) -> Verification:
    given = opts.param("cloudflare", "account_id")
    candidates = [given] if given else list(hints.get("account_ids", []))
    if not candidates:
        return Verification("unknown", "account id needed (--cloudflare-account-id)")
    headers = {"Authorization": f"Bearer {secret}"}
    rejected: list[str] = []
    last: Verification | None = None
    for account in candidates:
        a = http.get(f"/accounts/{account}/tokens/verify", headers)
        v = _read_token_verify(a)
        if v is None:
            last = _unknown(a, f"account {account}: ")
            if a.status is None or a.status == 429 or (a.status or 0) >= 500:
                return last  # no answer: trying more ids would only spend the budget
            continue  # e.g. 404 / routing error: this id is not the token's account
        if v.status == "invalid":
            rejected.append(account)
            continue
        v.detail += f" (account {account})"
        if v.status == "live":
            v.reach = _reach(http, headers, user=False)
        return v
    if rejected:
        return Verification("invalid", f"Invalid API Token (code 1000) for account(s) {', '.join(rejected)}")
    return last or Verification("unknown", "no account id accepted")


MAX_EMAILS = 5


def _email_candidates(hints: dict, opts: VerifyOptions) -> list[str]:
    """The --cloudflare-email value first, then e-mails near the key (nearest first), each once, bounded."""
    given = opts.param("cloudflare", "email")
    out: list[str] = []
    for email in ([given] if given else []) + list(hints.get("emails", [])):
        if email and email.lower() not in {e.lower() for e in out}:
            out.append(email)
    return out[:MAX_EMAILS]


@verifier("cloudflare-global-key", CLOUDFLARE, hints=("emails",))
def verify_global_key(http: Http, secret: str, hints: dict, opts: VerifyOptions) -> Verification:
    """A global key is judged only together with an e-mail, and Cloudflare's refusal (9103 "Unknown X-Auth-Key
    or X-Auth-Email") does not say which half is wrong. So every candidate e-mail is tried, and a key that no
    candidate unlocks is `unknown` (a pairing problem), never `invalid`: a live key written next to the wrong
    address must not pass a `--fail-on live` gate. No Cloudflare answer proves a global key dead on its own."""
    candidates = _email_candidates(hints, opts)
    if not candidates:
        return Verification("unknown", "email needed (--cloudflare-email): no e-mail found near the key")
    tried = 0
    for email in candidates:
        headers = {"X-Auth-Email": email, "X-Auth-Key": secret}
        a = http.get("/user", headers)
        tried += 1
        if a.status == 200 and a.body and a.body.get("success"):
            v = Verification("live", f"global key accepted with {email}")
            v.reach = _reach(http, headers, user=True)
            return v
        codes = _codes(a)
        if a.status in (400, 401, 403) and codes & KEY_AUTH_FAILURES:
            continue  # this pair is wrong; the key may still be live with another address
        if a.status in (400, 401, 403) and codes & MALFORMED:
            return Verification("unknown", f"request rejected as malformed (codes {sorted(codes)})")
        return _unknown(a)  # no usable answer: more e-mails would only spend the budget
    return Verification("unknown", f"pairing: no e-mail paired with this key: tried {tried} "
                                   f"({', '.join(candidates)}); pass --cloudflare-email")

