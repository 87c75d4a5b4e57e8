"""The triage application: routes, the security headers every answer carries, and the CSRF check on every
write. Pages are Jinja templates in templates/ (autoescaped); the one stylesheet and the one small script
are in static/."""

from __future__ import annotations

import hmac
import secrets
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, flash, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from scanner.audit.datastore import SHOWN_STATUSES, STATUSES, Datastore, parse_since
from scanner.audit.views import headline, summary
from scanner.errors import UsageError
from scanner.findings.advice import advice

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
VERIFICATIONS = ("live", "unknown", "not-checked", "inactive", "invalid")
FILTERS = ("status", "rule", "repository", "verification", "since")


def create_app(datastore: str, *, hosts: tuple[str, ...], show_secrets: bool = False, verify: Any = None,
               who: Callable[[], str] = lambda: "unknown") -> Flask:
    """hosts: the Host header values this server answers to (its own address and port)."""
    app = Flask(__name__)
    app.secret_key = secrets.token_bytes(32)  # one per server run: sessions and CSRF tokens end with it
    app.config.update(SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_HTTPONLY=True, MAX_CONTENT_LENGTH=1 << 20)

    def store() -> Datastore:
        if "store" not in g:
            g.store = Datastore(datastore)
        return g.store  # type: ignore[no-any-return]

    @app.teardown_appcontext
    def close(_: BaseException | None) -> None:
        opened = g.pop("store", None)
        if opened is not None:
            opened.close()

    @app.before_request
    def guard() -> None:
        if request.host not in hosts and not app.config.get("ANY_HOST"):  # DNS rebinding: a page elsewhere
            abort(421)                                                      # whose name resolves to 127.0.0.1
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(32)
        if request.method == "POST":
            sent = request.form.get("csrf", "")
            origin = request.headers.get("Origin")
            foreign = origin and urlsplit(origin).netloc not in hosts and not app.config.get("ANY_HOST")
            if not hmac.compare_digest(sent, session["csrf"]) or foreign:
                abort(403)

    @app.after_request
    def headers(resp: Response) -> Response:
        resp.headers["Content-Security-Policy"] = CSP
        resp.headers["X-Content-Type-Options"] = "nosniff"
        # same-origin, not no-referrer: under no-referrer a browser sends `Origin: null` with its own forms,
        # and the Origin check could not tell them from a foreign page's
        resp.headers["Referrer-Policy"] = "same-origin"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Cache-Control"] = "no-store"
        return resp

    @app.errorhandler(403)
    def refused(_: Exception) -> tuple[str, int]:
        return render_template("error.html", title="Refused", text="This form is not from this page of the server "
                               "(it restarted since the page was loaded, or the form came from another site). "
                               "Reload the page and try again."), 403

    @app.errorhandler(404)
    def missing(_: Exception) -> tuple[str, int]:
        return render_template("error.html", title="Not found", text="No such secret or page in this datastore."), 404

    @app.context_processor
    def common() -> dict:
        return {"csrf": session.get("csrf", ""), "datastore": datastore, "show_secrets": show_secrets,
                "statuses": STATUSES, "can_verify": verify is not None}

    @app.get("/")
    def index() -> str:
        everything = store().findings_view(show_secrets=show_secrets)
        chosen = {k: request.args.get(k, "").strip() for k in FILTERS}
        error = ""
        since = None
        if chosen["since"]:
            try:
                since = parse_since(chosen["since"])
            except UsageError as exc:
                error = str(exc)
        rows = store().findings_view(status=chosen["status"] or None, rule=chosen["rule"] or None,
                                     repository=chosen["repository"] or None,
                                     verification=chosen["verification"] or None, since=since,
                                     show_secrets=show_secrets)
        facets = {
            "status": Counter(r["status"] for r in everything),
            "rule": Counter(r["rule_id"] for r in everything),
            "repository": Counter(repo for r in everything for repo in r["repositories"]),
            "verification": Counter(r["verification"] for r in everything),
        }
        return render_template("secrets.html", rows=rows, total=len(everything), summary=summary(rows),
                               chosen=chosen, facets=facets, shown_statuses=SHOWN_STATUSES,
                               verifications=VERIFICATIONS, headline=headline, error=error)

    @app.get("/secret/<fingerprint>")
    def secret(fingerprint: str) -> str:
        row = _row(store(), fingerprint, show_secrets)
        from scanner.sources.images import layer_digest

        return render_template("secret.html", r=row, headline=headline(row), advice=advice(row["rule_id"]),
                               history=store().triage_history(row["fingerprint"]), layer_digest=layer_digest,
                               stored=verify is not None and store().verification_input(row["fingerprint"]) is not None)

    @app.post("/triage")
    def triage() -> Response:
        fingerprints = request.form.getlist("fingerprint")
        status = request.form.get("status", "")
        note = request.form.get("note", "").strip() or None
        back = _local(request.form.get("next", "")) or url_for("index")
        if status not in STATUSES or not fingerprints:
            flash("choose a status and at least one secret", "error")
            return redirect(back, 303)
        done = []
        for fp in fingerprints:
            try:
                done.extend(store().triage_set(fp, status, note, who()))
            except UsageError as exc:
                flash(str(exc), "error")
        if done:
            flash(f"{len(done)} secret{'s' if len(done) != 1 else ''} marked {status}", "ok")
        return redirect(back, 303)

    @app.post("/secret/<fingerprint>/verify")
    def reverify(fingerprint: str) -> Response:
        if verify is None:
            abort(404)
        row = _row(store(), fingerprint, False)
        back = url_for("secret", fingerprint=row["fingerprint"])
        given = store().verification_input(row["fingerprint"])
        if given is None:
            flash("the datastore does not hold this secret (an audit with --show-secrets keeps it): "
                  "it cannot be verified from here", "error")
            return redirect(back, 303)
        status, detail = _verify(given, row["fingerprint"], verify)
        store().update_verification([{"fingerprint": row["fingerprint"], "verification": status}])
        flash(f"verified: {status}" + (f" ({detail})" if detail else ""), "ok")
        return redirect(back, 303)

    return app


def _row(store: Datastore, fingerprint: str, show_secrets: bool) -> dict:
    if not fingerprint.isalnum() or len(fingerprint) < 8:
        abort(404)
    rows = [r for r in store.findings_view(show_secrets=show_secrets) if r["fingerprint"].startswith(fingerprint)]
    if len(rows) != 1:
        abort(404)
    return rows[0]


def _local(target: str) -> str | None:
    """A redirect target only on this server: a path, never another origin."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _verify(given: dict, fingerprint: str, opts: Any) -> tuple[str, str]:
    from scanner.findings import Finding
    from scanner.verify import verify_findings

    f = Finding(given["rule_id"], given["description"], given["severity"], given["secret"], fingerprint, "", 0, 0,
                checksum=given["checksum"] or "none", verify_kind=given["verify_kind"], prefix=given["prefix"] or "")
    [checked], _ = verify_findings([f], opts)
    return checked.verification.status, checked.verification.detail
