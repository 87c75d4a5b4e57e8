"""The datastore's cross-repository view (`tokenscan findings`), triage that a later verification contradicts
(revoked-but-live), triage export/import as a baseline reused by a CI gate, and foreign datastore files."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from cfserver import FakeCloudflare
from gitrepo import Repo
from test_audit import audit, cli, make_org
from tokens import cloudflare

from scanner.audit.datastore import Datastore
from scanner.audit.report import render_text
from scanner.audit.runner import gate_report
from scanner.findings import fingerprint
from scanner.findings.suppress import load_baseline
from scanner.pipeline.run import exit_code
from scanner.verify.options import VerifyOptions


def audit_cli(ds: str, *targets: Path, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return cli("audit", *map(str, targets), "--datastore", ds, "--format", "json", *extra)


# --- the cross-repository view ---------------------------------------------------------------------------------

def test_findings_lists_each_secret_once_with_every_repository_it_is_in(tmp_path):
    org = make_org(tmp_path / "org")
    ds = str(tmp_path / "ds.db")
    assert audit_cli(ds, org["alpha"], org["bare"], org["fork"], org["clean"]).returncode == 1
    t1, t2, t3 = org["secrets"]
    run = cli("findings", "--datastore", ds, "--format", "json")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["schema"] == "tokenscan.findings/1"
    rows = {r["fingerprint"]: r for r in doc["findings"]}
    assert set(rows) == {fingerprint(t1), fingerprint(t2), fingerprint(t3)}  # one row per secret
    shared = rows[fingerprint(t1)]
    names = {os.path.basename(r) for r in shared["repositories"]}
    assert names == {"alpha", "old.git", "alpha-fork"}
    assert len(shared["places"]) == 3 and {p["path"] for p in shared["places"]} == {"conf/app.env"}
    assert shared["first_committed"]["date"].startswith("2026-01-01")
    assert shared["first_committed"]["repository"] in shared["repositories"]
    assert {os.path.basename(r) for r in rows[fingerprint(t3)]["repositories"]} == {"alpha-fork"}
    assert shared["remediation"]["what"] and doc["summary"]["secrets"] == 3 and doc["summary"]["places"] == 7
    for secret in (t1, t2, t3):
        assert secret not in run.stdout
    text = cli("findings", "--datastore", ds).stdout
    assert f"cfut_…{t1[-4:]} in 3 repositories, first committed 2026-01-01 in " in text
    assert "fix: " in text and t1 not in text
    # filters
    fork_only = json.loads(cli("findings", "--datastore", ds, "--format", "json", "--repository", "alpha-fork").stdout)
    assert len(fork_only["findings"]) == 3
    by_rule = json.loads(cli("findings", "--datastore", ds, "--format", "json", "--rule",
                             shared["rule_id"]).stdout)["findings"]
    assert [r["fingerprint"] for r in by_rule] == [fingerprint(t1)]
    assert json.loads(cli("findings", "--datastore", ds, "--format", "json", "--since", "2027-01-01"
                          ).stdout)["findings"] == []
    assert len(json.loads(cli("findings", "--datastore", ds, "--format", "json", "--since", "2025-12-31"
                              ).stdout)["findings"]) == 3
    assert json.loads(cli("findings", "--datastore", ds, "--format", "json", "--status", "revoked"
                          ).stdout)["findings"] == []
    bad = cli("findings", "--datastore", ds, "--since", "last tuesday")
    assert bad.returncode == 2 and "--since last tuesday" in bad.stderr


def _verified_org(tmp_path: Path) -> dict:
    """Two repositories with Cloudflare tokens only (every verification request stays on the loopback
    stand-in): `shared` is committed in both, `lone` only in web."""
    shared, lone = cloudflare("cfut_", 301), cloudflare("cfut_", 302)
    api = Repo(tmp_path / "org" / "api")
    api.commit("init", **{"deploy.env": f"CF_TOKEN={shared}\n"})
    web = Repo(tmp_path / "org" / "web")
    web.commit("init", README="web\n")
    web.commit("config", **{"ci.env": f"CF_TOKEN={shared}\nOTHER={lone}\n"})
    return {"api": api.path, "web": web.path, "shared": shared, "lone": lone}


@pytest.fixture()
def cf(monkeypatch):
    server = FakeCloudflare().start()
    monkeypatch.setenv("TOKENSCAN_CLOUDFLARE_API_BASE", server.base)
    yield server
    server.stop()


def verify_opts(cf: FakeCloudflare) -> VerifyOptions:
    return VerifyOptions(cloudflare_api_base=cf.base, timeout=2.0, budget=30.0)


def test_findings_put_live_credentials_first_and_render_sarif_and_html_per_secret(tmp_path, cf):
    org = _verified_org(tmp_path)
    cf.user_tokens[org["lone"]] = {"status": "active"}
    ds = str(tmp_path / "ds.db")
    run = audit_cli(ds, org["api"], org["web"], extra=("--verify",))
    assert run.returncode == 1, run.stderr
    doc = json.loads(cli("findings", "--datastore", ds, "--format", "json").stdout)
    first, second = doc["findings"]
    assert first["fingerprint"] == fingerprint(org["lone"]) and first["verification"] == "live"
    assert second["verification"] == "invalid" and len(second["repositories"]) == 2  # wider, but dead: second
    assert doc["summary"]["live"] == 1
    live = json.loads(cli("findings", "--datastore", ds, "--format", "json", "--verification", "live").stdout)
    assert [r["fingerprint"] for r in live["findings"]] == [fingerprint(org["lone"])]
    sarif = cli("findings", "--datastore", ds, "--format", "sarif")
    assert sarif.returncode == 0, sarif.stderr
    results = json.loads(sarif.stdout)["runs"][0]["results"]
    assert len(results) == 3  # one per place
    assert {os.path.basename(r["properties"]["repository"]) for r in results} == {"api", "web"}
    assert {r["properties"]["status"] for r in results} == {"open"}
    out = tmp_path / "findings.html"
    html = cli("findings", "--datastore", ds, "--format", "html", "-o", str(out))
    assert html.returncode == 0, html.stderr
    page = out.read_text()
    assert page.count('<section class="secret"') == 2  # grouped by secret, not by place
    assert page.index(org["lone"][-4:]) < page.index(org["shared"][-4:])  # live first
    for text in (sarif.stdout, page):
        assert org["shared"] not in text and org["lone"] not in text


# --- triage contradicted by verification -----------------------------------------------------------------------

def test_a_revoked_finding_that_verifies_live_again_is_flagged_and_fails_the_gate(tmp_path, cf):
    org = _verified_org(tmp_path)
    cf.user_tokens[org["shared"]] = {"status": "active"}
    store = Datastore(str(tmp_path / "ds.db"))
    repos = [org["api"], org["web"]]
    fp, lone = fingerprint(org["shared"]), fingerprint(org["lone"])
    first = audit(repos, store, tmp_path, verify=verify_opts(cf))
    assert {f.verification.status for f in first.findings if f.fingerprint == fp} == {"live"}
    store.triage_set(fp, "revoked", "rotated on Monday", "ada")
    store.triage_set(lone, "false-positive", None, "ada")
    # no verification since the decision: the decision stands
    quiet = audit(repos, store, tmp_path)
    assert quiet.results[0].statuses[fp] == ("revoked", "rotated on Monday")
    assert exit_code(gate_report(quiet), "any") == 0
    # verified again, and still live: the rotation did not take
    again = audit(repos, store, tmp_path, verify=verify_opts(cf))
    assert {r.statuses[fp][0] for r in again.results} == {"revoked-but-live"}
    assert {f.fingerprint for f in gate_report(again).findings} == {fp}
    assert exit_code(gate_report(again), "any") == 1 and exit_code(gate_report(again), "live") == 1
    text = render_text(again, False, "ds.db")
    assert "ALERT: 1 finding marked revoked" in text and "revoked-but-live (rotated on Monday)" in text
    assert org["shared"] not in text
    assert store.triage_list("revoked-but-live")[0]["fingerprint"] == fp
    [row] = store.findings_view(status="revoked-but-live")
    assert row["decision"] == "revoked" and row["verification"] == "live"
    assert store.findings_view()[0]["fingerprint"] == fp  # first in the view
    # the CLI says so too, and the export leaves it out (it must keep failing)
    listing = cli("findings", "--datastore", str(tmp_path / "ds.db"))
    assert "revoked-but-live" in listing.stdout and "ALERT" in listing.stdout
    base = tmp_path / "base.json"
    run = cli("triage", "export", "-o", str(base), "--datastore", str(tmp_path / "ds.db"))
    assert run.returncode == 0 and "1 left out" in run.stderr
    assert {e["fingerprint"] for e in load_baseline(str(base)).entries} == {lone}
    # revoked for real now: the vendor says invalid, and the decision holds again
    del cf.user_tokens[org["shared"]]
    fixed = audit(repos, store, tmp_path, verify=verify_opts(cf))
    assert {r.statuses[fp][0] for r in fixed.results} == {"revoked"}
    assert exit_code(gate_report(fixed), "any") == 0
    # a decision made after the last live verification is not contradicted by it
    cf.user_tokens[org["shared"]] = {"status": "active"}
    audit(repos, store, tmp_path, verify=verify_opts(cf))
    store.triage_set(fp, "fixed", "rotated again", "ada")
    assert store.statuses([fp])[fp] == ("fixed", "rotated again")


# --- triage export / import: a CI gate reuses the audit's work -------------------------------------------------

def test_triage_export_is_a_baseline_that_a_ci_history_gate_reuses(tmp_path):
    org = make_org(tmp_path / "org")
    ds = str(tmp_path / "ds.db")
    t1, t2, t3 = org["secrets"]
    assert audit_cli(ds, org["alpha"], org["fork"]).returncode == 1
    base = tmp_path / "triage.json"
    assert cli("triage", "set", fingerprint(t1)[:16], "accepted-risk", "--datastore", ds).returncode == 0
    run = cli("triage", "export", "-o", str(base), "--datastore", ds)
    assert run.returncode == 0, run.stderr
    assert "1 decisions, 2 places" in run.stderr  # t1 in alpha and in the fork
    entries = load_baseline(str(base)).entries
    assert {(e["fingerprint"], e["path"]) for e in entries} == {(fingerprint(t1), "conf/app.env")}
    assert t1 not in base.read_text()
    # CI: the repository's gate with the audit's decisions
    gate = cli("history", str(org["alpha"]), "--baseline", str(base), "--format", "json")
    assert gate.returncode == 1  # t2 is still open
    doc = json.loads(gate.stdout)
    assert [f["fingerprint"] for f in doc["findings"]] == [fingerprint(t2)]
    assert doc["scan"]["suppressed"] == {"baseline": 1}
    # every finding of alpha decided: the gate passes without scanning anything differently
    assert cli("triage", "set", fingerprint(t2)[:16], "revoked", "--datastore", ds).returncode == 0
    assert cli("triage", "export", "-o", str(base), "--datastore", ds).returncode == 0
    assert cli("history", str(org["alpha"]), "--baseline", str(base)).returncode == 0
    # the fork's own leak was never decided: its gate still fails on it, and only on it
    fork = json.loads(cli("history", str(org["fork"]), "--baseline", str(base), "--format", "json").stdout)
    assert [f["fingerprint"] for f in fork["findings"]] == [fingerprint(t3)]
    # --repository: one repository's places only
    only = tmp_path / "alpha-only.json"
    assert cli("triage", "export", "-o", str(only), "--repository", "team/alpha", "--datastore", ds).returncode == 0
    assert len(load_baseline(str(only)).entries) == 2
    assert cli("triage", "export", "--datastore", ds).returncode == 2  # -o is required


def test_triage_import_reads_a_baseline_back_as_decisions(tmp_path):
    org = make_org(tmp_path / "org")
    t1, t2, _ = org["secrets"]
    base = tmp_path / "base.json"
    made = cli("baseline", "create", str(org["alpha"]), "--history", "-o", str(base))
    assert made.returncode == 0, made.stderr
    ds = str(tmp_path / "ds.db")
    # before any audit: the decisions are recorded and an audit that finds the secrets keeps them
    run = cli("triage", "import", str(base), "--datastore", ds)
    assert run.returncode == 0 and "2 not seen yet" in run.stderr, run.stderr
    doc = json.loads(audit_cli(ds, org["alpha"]).stdout)
    assert {g["status"] for g in doc["findings"]} == {"accepted-risk"}
    assert all(g["note"] == f"imported from {base}" for g in doc["findings"])
    assert audit_cli(ds, org["alpha"]).returncode == 0  # nothing open
    rows = json.loads(cli("findings", "--datastore", ds, "--format", "json").stdout)["findings"]
    assert all(r["description"] and r["secret"].startswith(("cfut_", "ghp_")) for r in rows)  # filled by the audit
    # an existing decision is kept; an open finding takes the given status
    assert cli("triage", "set", fingerprint(t2)[:16], "open", "--datastore", ds).returncode == 0
    again = cli("triage", "import", str(base), "--status", "false-positive", "--datastore", ds)
    assert "1 set to false-positive" in again.stderr and "1 already decided (kept)" in again.stderr
    statuses = {r["fingerprint"]: r["status"] for r in json.loads(
        cli("triage", "list", "--datastore", ds, "--format", "json").stdout)["findings"]}
    assert statuses == {fingerprint(t1): "accepted-risk", fingerprint(t2): "false-positive"}
    log = sqlite3.connect(ds).execute("SELECT count(*) FROM triage_log").fetchone()[0]
    assert log == 4
    # not a baseline: exit 2 naming the file, nothing recorded
    junk = tmp_path / "junk.json"
    junk.write_text('{"schema": "something/else", "findings": []}')
    bad = cli("triage", "import", str(junk), "--datastore", ds)
    assert bad.returncode == 2 and str(junk) in bad.stderr and "Traceback" not in bad.stderr
    assert sqlite3.connect(ds).execute("SELECT count(*) FROM triage_log").fetchone()[0] == 4
    assert cli("triage", "import", str(base), "--status", "open", "--datastore", ds).returncode == 2


# --- datastore files that are not ours ---------------------------------------------------------------------------

def _foreign_files(tmp_path: Path) -> dict[str, Path]:
    text = tmp_path / "notes.db"
    text.write_text("not a database, just notes\n" * 200)
    other = tmp_path / "other-app.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    db.execute("INSERT INTO notes (body) VALUES ('keep me')")
    db.commit()
    db.close()
    damaged = tmp_path / "damaged.db"
    store = Datastore(str(damaged))
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.db.execute("PRAGMA journal_mode = DELETE")
    store.close()
    raw = bytearray(damaged.read_bytes())
    raw[100:4096] = b"\xa5" * (4096 - 100)  # the schema page garbled, the header intact
    damaged.write_bytes(bytes(raw))
    return {"text": text, "other": other, "damaged": damaged}


@pytest.mark.parametrize("kind", ["text", "other", "damaged"])
def test_a_foreign_or_corrupt_datastore_is_exit_2_naming_it_and_never_modified(tmp_path, kind):
    path = _foreign_files(tmp_path)[kind]
    before = path.read_bytes()
    repo = Repo(tmp_path / "repo")
    repo.commit("init", **{"a.env": f"CF={cloudflare('cfut_', 401)}\n"})
    for args in (["audit", str(repo.path)], ["findings"], ["triage", "list"],
                 ["triage", "set", "0123456789abcdef", "fixed"]):
        run = cli(*args, "--datastore", str(path))
        assert run.returncode == 2, (args, run.stdout, run.stderr)
        assert str(path) in run.stderr and "Traceback" not in run.stderr
        assert ("not a tokenscan datastore" in run.stderr) or kind == "damaged"
        assert path.read_bytes() == before
        assert not Path(f"{path}-wal").exists() and not Path(f"{path}-shm").exists()
    if kind == "other":
        assert "tables: notes" in run.stderr
        assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_reading_commands_do_not_create_a_datastore_for_a_typo(tmp_path):
    missing = tmp_path / "typo.db"
    for args in (["findings"], ["triage", "list"], ["triage", "export", "-o", str(tmp_path / "b.json")],
                 ["triage", "set", "0123456789abcdef", "fixed"]):
        run = cli(*args, "--datastore", str(missing))
        assert run.returncode == 2 and "no datastore there" in run.stderr and str(missing) in run.stderr, args
        assert not missing.exists()


def test_an_empty_file_is_a_new_datastore(tmp_path):
    path = tmp_path / "fresh.db"
    path.touch(mode=0o600)
    store = Datastore(str(path))
    assert store.counts()["findings"] == 0



def test_findings_show_secrets_only_where_an_audit_stored_them(tmp_path):
    import stat

    org = make_org(tmp_path / "org")
    t1, t2, _ = org["secrets"]
    kept = tmp_path / "kept.db"
    audit([org["alpha"]], Datastore(str(kept)), tmp_path, show_secrets=True)
    plain = tmp_path / "plain.db"
    audit([org["alpha"]], Datastore(str(plain)), tmp_path)
    out = tmp_path / "full.txt"
    assert cli("findings", "--datastore", str(kept), "--show-secrets", "-o", str(out)).returncode == 0
    assert t1 in out.read_text() and t2 in out.read_text()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    redacted = cli("findings", "--datastore", str(kept)).stdout
    assert t1 not in redacted and f"cfut_…{t1[-4:]}" in redacted
    never = cli("findings", "--datastore", str(plain), "--show-secrets").stdout  # nothing stored, nothing shown
    assert t1 not in never and f"cfut_…{t1[-4:]}" in never
