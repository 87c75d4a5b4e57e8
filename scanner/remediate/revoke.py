"""`tokenscan revoke FINGERPRINT... --from REPORT.json --yes`: revoke leaked credentials where the vendor lets
anyone holding a credential revoke it, and say what to do by hand everywhere else.

Why a command of its own, never a side effect: revoking breaks whatever uses the credential, and cannot be
undone. So nothing else (`scan --verify`, `remediate`, the API) ever revokes, this command acts only on the
fingerprints it is given, and without `--yes` it only prints what it would send.

Where the secret comes from: a report written with `--show-secrets`, or, for a redacted report, lines on
standard input. Either way a secret is used only when its SHA-256 is the fingerprint asked for, so a wrong
line or a stale report can never revoke another credential.

What can be revoked (vendors' own documentation):
- GitHub personal access tokens (classic and fine-grained), OAuth app, GitHub App user and refresh tokens:
  `POST https://api.github.com/credentials/revoke` with `{"credentials": [...]}`, sent *unauthenticated*
  (GitHub answers 403 to an authenticated request); 202 means GitHub accepted the list, will revoke and will
  notify the owner (https://docs.github.com/en/rest/credentials/revoke).
- Cloudflare user API tokens holding the permission to manage API tokens: `GET /user/tokens/verify` names
  the token's id, then `DELETE /user/tokens/{id}` with the token itself
  (https://developers.cloudflare.com/api/resources/user/subresources/tokens/methods/delete/). A 403 means the
  token may not delete itself: the manual step is printed.
Everything else gets the vendor's manual step (scanner.findings.advice.advice_line).

Every request is printed (method, URL, redacted credential, answer status); a secret is never printed.
Requests go only to the vendors' documented HTTPS hosts, or to TOKENSCAN_<VENDOR>_API_BASE (loopback
stand-ins in tests), through the same client as verification (no redirects, no proxy for loopback).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import sys
import time
from dataclasses import dataclass
from typing import Any

import click

from scanner.errors import UsageError

GITHUB_API = "https://api.github.com"
GITHUB_REVOCABLE = ("ghp_", "github_pat_", "gho_", "ghu_", "ghr_")  # the types GitHub's revoke API lists
GITHUB_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
                  "Content-Type": "application/json"}
CLOUDFLARE_TOKENS_MANUAL = "https://developers.cloudflare.com/fundamentals/api/how-to/roll-token/"
FINGERPRINT = re.compile(r"[0-9a-f]{12,64}")


@dataclass
class Target:
    """One credential asked for: its report entry, and its secret when one proved to match the fingerprint."""

    fingerprint: str
    rule_id: str
    verify_kind: str | None
    shown: str  # redacted, for output
    secret: str | None = None


def _sha(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def load_report(path: str) -> list[dict]:
    try:
        with open(path, encoding="utf-8") as fh:
            report = json.load(fh)
    except OSError as exc:
        raise UsageError(f"--from {path}: {exc.strerror}") from None
    except ValueError:
        raise UsageError(f"--from {path}: not a JSON report (write one with --format json)") from None
    findings = report.get("findings") if isinstance(report, dict) else None
    if not isinstance(findings, list):
        raise UsageError(f"--from {path}: no findings list (write the report with --format json)")
    return [f for f in findings if isinstance(f, dict) and isinstance(f.get("fingerprint"), str)]


@functools.lru_cache(maxsize=1)
def _rules() -> dict[str, Any]:
    from scanner.rules.loader import load_rules

    return {r.id: r for r in load_rules()}


def _prefix(rule_id: str, secret: str) -> str:
    """The vendor prefix a redacted secret keeps (as in reports), from the rule's keywords."""
    from scanner.findings import vendor_prefix

    rule = _rules().get(rule_id)
    return vendor_prefix(tuple(rule.keywords), secret) if rule else ""


def resolve_targets(asked: tuple[str, ...], findings: list[dict]) -> list[Target]:
    """Each asked fingerprint (full, or a unique prefix of at least 12 hex digits) resolved in the report."""
    from scanner.findings import redact

    rules = _rules()
    by_fp: dict[str, dict] = {}
    for f in findings:
        by_fp.setdefault(f["fingerprint"], f)
    out: list[Target] = []
    for want in asked:
        want = want.strip().lower()
        if not FINGERPRINT.fullmatch(want):
            raise UsageError(f"{want}: a fingerprint is 12 to 64 hex digits (as in the report)")
        matches = [fp for fp in by_fp if fp.startswith(want)]
        if not matches:
            raise UsageError(f"{want}: no finding with this fingerprint in the report")
        if len(matches) > 1:
            raise UsageError(f"{want}: matches {len(matches)} findings; give more digits")
        f = by_fp[matches[0]]
        rule = rules.get(str(f.get("rule_id")))
        secret = f.get("secret") if isinstance(f.get("secret"), str) and _sha(f["secret"]) == matches[0] else None
        shown = redact(secret, _prefix(str(f.get("rule_id")), secret)) if secret else str(f.get("secret") or "…")
        if matches[0] not in {t.fingerprint for t in out}:
            out.append(Target(matches[0], str(f.get("rule_id")), rule.verify if rule else None, shown, secret))
    return out


def secrets_from_stdin(targets: list[Target]) -> None:
    """Secrets for a redacted report, one per line on stdin; a line is used only for the fingerprint it hashes to."""
    from scanner.findings import redact

    wanted = {t.fingerprint: t for t in targets if t.secret is None}
    if not wanted or sys.stdin is None or sys.stdin.isatty():
        return
    for line in sys.stdin.read().splitlines():
        value = line.strip()
        t = wanted.get(_sha(value)) if value else None
        if t is not None:
            t.secret = value
            t.shown = redact(value, _prefix(t.rule_id, value))


# --- vendors ---------------------------------------------------------------------------------------------

def _client(vendor: str, default: str) -> Any:
    from scanner.verify.http import Http, RateLimiter
    from scanner.verify.options import api_base_for

    base = api_base_for(vendor, default)
    return Http(base, 10.0, 2, RateLimiter(30, 60.0), time.monotonic() + 120.0, 30.0)


def _log(method: str, url: str, shown: str, status: int | None, problem: str = "") -> None:
    answer = f"HTTP {status}" if status is not None else (problem or "no answer")
    click.echo(f"  {method} {url} [{shown}] -> {answer}")


def _revoke_github(t: Target, yes: bool) -> bool:
    from scanner.verify.options import api_base_for

    assert t.secret is not None
    url = api_base_for("github", GITHUB_API) + "/credentials/revoke"
    if not yes:
        click.echo(f"  would POST {url} (unauthenticated) with {{\"credentials\": [{t.shown}]}}")
        return True
    http = _client("github", GITHUB_API)
    try:
        body = json.dumps({"credentials": [t.secret]}).encode()
        a = http.request("POST", "/credentials/revoke", dict(GITHUB_HEADERS), content=body)
    finally:
        http.close()
    _log("POST", url, t.shown, a.status, a.problem)
    if a.status == 202:
        click.echo("  submitted: GitHub accepted it for revocation and notifies the token's owner")
        return True
    click.echo(f"  not revoked: GitHub answered {a.status or a.problem} (422: refused or rate limited)")
    return False


def _revoke_cloudflare(t: Target, yes: bool) -> bool:
    from scanner.findings.advice import advice_line
    from scanner.verify.options import DEFAULT_CLOUDFLARE_API, api_base_for

    assert t.secret is not None
    base = api_base_for("cloudflare", DEFAULT_CLOUDFLARE_API)
    if not yes:
        click.echo(f"  would GET {base}/user/tokens/verify [{t.shown}] for the token's id, "
                   f"then DELETE {base}/user/tokens/{{id}} [{t.shown}]")
        return True
    http = _client("cloudflare", DEFAULT_CLOUDFLARE_API)
    headers = {"Authorization": f"Bearer {t.secret}"}
    try:
        a = http.get("/user/tokens/verify", headers)
        _log("GET", f"{base}/user/tokens/verify", t.shown, a.status, a.problem)
        result = (a.body or {}).get("result") if a.status == 200 and (a.body or {}).get("success") else None
        token_id = result.get("id") if isinstance(result, dict) else None
        if not isinstance(token_id, str) or not re.fullmatch(r"[0-9a-f]{32}", token_id):
            click.echo(f"  not revoked: Cloudflare did not name the token's id (HTTP {a.status or a.problem}); "
                       f"{advice_line(t.rule_id)}")
            return False
        d = http.request("DELETE", f"/user/tokens/{token_id}", headers)
        _log("DELETE", f"{base}/user/tokens/{token_id}", t.shown, d.status, d.problem)
    finally:
        http.close()
    if d.status == 200 and (d.body or {}).get("success"):
        click.echo("  revoked: Cloudflare deleted the token")
        return True
    if d.status == 403:
        click.echo("  not revoked: the token lacks the permission to delete itself (API Tokens Write); "
                   f"do it by hand: {advice_line(t.rule_id)}")
        return False
    click.echo(f"  not revoked: Cloudflare answered {d.status or d.problem}; {advice_line(t.rule_id)}")
    return False


def revoker_for(t: Target) -> Any:
    """The revocation a credential allows, or None (then only the manual step is printed). Decided by the
    rule's verify kind and, for GitHub, the token's type (read from the redacted form when the secret is not
    yet known: it keeps the vendor prefix)."""
    if t.verify_kind == "github-token" and (t.secret or t.shown).startswith(GITHUB_REVOCABLE):
        return _revoke_github
    if t.verify_kind == "cloudflare-user-token":
        return _revoke_cloudflare
    return None
