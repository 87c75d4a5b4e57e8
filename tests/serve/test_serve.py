"""`tokenscan serve` over HTTP: the guards every answer has (Host, CSRF, CSP), secrets only with --show-secrets,
decisions recorded as `triage set` records them, re-verification only with --verify, a clean stop."""

from __future__ import annotations

import json
import re

import httpx
from clirun import tokenscan


def csrf_of(page: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    assert m, "no CSRF token in the page"
    return m.group(1)


def fingerprints(datastore) -> dict:
    doc = json.loads(tokenscan("findings", "--datastore", str(datastore), "--format", "json").stdout)
    return {f["fingerprint"]: f for f in doc["findings"]}


def test_pages_carry_a_strict_policy_and_no_secret_without_show_secrets(audited, serve):
    s = serve()
    with httpx.Client(base_url=s.base) as c:
        index = c.get("/")
        assert index.status_code == 200
        csp = index.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert index.headers["x-frame-options"] == "DENY"
        pages = [index.text]
        for fp in fingerprints(audited.datastore):
            page = c.get(f"/secret/{fp[:16]}")
            assert page.status_code == 200
            pages.append(page.text)
        for asset in ("/static/app.css", "/static/app.js"):
            assert c.get(asset).status_code == 200
    for text in pages:
        for secret in audited.secrets.values():
            assert secret not in text
        assert not re.search(r'(src|href)="(https?:)?//', text.replace('href="https://developers.cloudflare.com', "")
                             .replace('href="https://docs.github.com', "").replace('href="https://github.com', ""))
    log = s.stop()
    for secret in audited.secrets.values():
        assert secret not in log
    assert "GET / 200" in log


def test_show_secrets_shows_what_the_datastore_holds(audited, serve):
    s = serve("--show-secrets")
    page = httpx.get(s.base + "/").text
    assert audited.secrets["live"] in page


def test_the_live_secret_comes_first(audited, serve):
    s = serve()
    page = httpx.get(s.base + "/").text
    rows = re.findall(r'data-verification="([^"]+)"', page)
    assert rows[0] == "live" and rows.count("live") == 1


def test_writes_need_the_csrf_token_and_this_origin(audited, serve):
    s = serve()
    fp = next(iter(fingerprints(audited.datastore)))
    with httpx.Client(base_url=s.base) as c:
        token = csrf_of(c.get("/").text)
        assert c.post("/triage", data={"fingerprint": fp, "status": "revoked"}).status_code == 403
        assert c.post("/triage", data={"fingerprint": fp, "status": "revoked", "csrf": "x" * 43}).status_code == 403
        other = c.post("/triage", data={"fingerprint": fp, "status": "revoked", "csrf": token},
                       headers={"Origin": "http://evil.example"})
        assert other.status_code == 403
    # another browser session's token is not this one's
    with httpx.Client(base_url=s.base) as c2:
        c2.get("/")
        assert c2.post("/triage", data={"fingerprint": fp, "status": "revoked", "csrf": token}).status_code == 403
    assert fingerprints(audited.datastore)[fp]["status"] == "open"


def test_a_foreign_host_header_is_refused(audited, serve):
    s = serve()
    assert httpx.get(s.base + "/", headers={"Host": "rebind.example:80"}).status_code == 421


def test_triage_from_the_server_is_what_triage_set_records(audited, serve, tmp_path):
    import shutil

    ds = tmp_path / "copy.db"
    shutil.copy(audited.datastore, ds)
    from conftest import Server

    s = Server(["--datastore", str(ds)])
    try:
        fps = list(fingerprints(ds))[:2]
        with httpx.Client(base_url=s.base) as c:
            token = csrf_of(c.get("/").text)
            r = c.post("/triage", data={"fingerprint": fps, "status": "false-positive", "note": "test fixture",
                                        "csrf": token, "next": "/"})
            assert r.status_code == 303 and r.headers["location"] == "/"
            assert "2 secrets marked false-positive" in c.get("/").text
            bad = c.post("/triage", data={"fingerprint": fps[0], "status": "open", "csrf": token,
                                          "next": "https://evil.example/"})
            assert bad.headers["location"] == "/"  # never a redirect to another origin
        after = fingerprints(ds)
        assert after[fps[0]]["status"] == "open" and after[fps[1]]["status"] == "false-positive"
        assert after[fps[1]]["note"] == "test fixture"
        log = json.loads(tokenscan("triage", "list", "--datastore", str(ds), "--format", "json").stdout)
        assert any(f["fingerprint"] == fps[1] and f["status"] == "false-positive" for f in log["findings"])
        import sqlite3

        db = sqlite3.connect(ds)
        who = {row[0] for row in db.execute("SELECT by FROM triage_log")}
        assert who == {"alice"}
    finally:
        s.stop()


def test_reverification_only_with_verify_and_with_a_stored_secret(audited, serve):
    live_fp = next(fp for fp, f in fingerprints(audited.datastore).items() if f["verification"] == "live")
    s = serve()
    with httpx.Client(base_url=s.base) as c:
        token = csrf_of(c.get("/").text)
        assert c.post(f"/secret/{live_fp[:16]}/verify", data={"csrf": token}).status_code == 404
    before = len(audited.cf.requests)
    s2 = serve("--verify", "--cloudflare-api-base", audited.cf.base)
    with httpx.Client(base_url=s2.base) as c:
        page = c.get(f"/secret/{live_fp[:16]}").text
        assert "verify again with the vendor" in page
        r = c.post(f"/secret/{live_fp[:16]}/verify", data={"csrf": csrf_of(page)})
        assert r.status_code == 303
        assert "verified: live" in c.get(r.headers["location"]).text
    asked = audited.cf.requests[before:]  # the token check, then what the live token reaches
    assert asked and all(audited.secrets["live"] in str(r.headers) for r in asked)


def test_listening_elsewhere_is_said_and_a_missing_datastore_is_exit_2(audited, tmp_path):
    proc = tokenscan("serve", "--datastore", str(tmp_path / "none.db"))
    assert proc.returncode == 2 and "no datastore there" in proc.stderr
    assert not (tmp_path / "none.db").exists()
    from conftest import Server

    s = Server(["--datastore", str(audited.datastore), "--host", "0.0.0.0"])
    try:
        assert httpx.get(s.base.replace("0.0.0.0", "127.0.0.1") + "/").status_code == 200
    finally:
        log = s.stop()
    assert "no authentication" in log and "Traceback" not in log
    assert s.proc.returncode in (0, 143)
