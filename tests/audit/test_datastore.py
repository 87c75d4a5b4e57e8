"""The audit datastore: WAL, versioned migrations (older upgraded, newer refused untouched), concurrent writers."""

from __future__ import annotations

import hashlib
import multiprocessing
import sqlite3
import stat
import subprocess
import sys

import pytest

from scanner.audit.datastore import (
    SCHEMA_VERSION,
    Datastore,
    ScanRecord,
    StoredFinding,
    now,
)
from scanner.errors import UsageError


def record(key: str, n: int, ruleset: str = "r" * 64) -> ScanRecord:
    """A scan of `key` that read n blobs, one of which holds a finding shared by every writer."""
    blobs = [hashlib.sha1(f"{key}-{i}".encode()).hexdigest() for i in range(n)]
    shared = hashlib.sha1(b"shared").hexdigest()
    sf = StoredFinding("cloudflare-api-token", "f" * 64, "", 3, 7, 40, "plain", "valid", (), False, "Cloudflare token",
                       "critical", "cloudflare-token", "cfut_", "cfut_…abcd", None)
    finding = {"fingerprint": "f" * 64, "rule_id": "cloudflare-api-token", "description": "Cloudflare token",
               "severity": "critical", "redacted": "cfut_…abcd", "secret": None, "commit": "c" * 40,
               "path": "conf/app.env", "line": 3, "column": 7, "source": "blob", "author": "Ada", "date": "2026",
               "at_head": False, "verification": "not-checked"}
    return ScanRecord(key, "path", ruleset, 10, now(), now(), {"refs/heads/main": "c" * 40}, n + 1,
                      [*blobs, shared], {shared: [sf]}, 1000, [finding], [])


def test_new_datastore_is_wal_owner_only_and_current(tmp_path):
    path = tmp_path / "sub" / "ds.db"
    store = Datastore(str(path))
    assert store.version == SCHEMA_VERSION
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] >= 10_000


def test_merge_records_blobs_findings_and_places(tmp_path):
    store = Datastore(str(tmp_path / "ds.db"))
    store.merge(record("/repo/a", 3), store_secrets=False)
    known = store.known_blobs("r" * 64, [hashlib.sha1(b"/repo/a-0").hexdigest(), hashlib.sha1(b"shared").hexdigest(),
                                         "0" * 40])
    assert len(known) == 2 and "0" * 40 not in known
    assert [s.fingerprint for s in known[hashlib.sha1(b"shared").hexdigest()]] == ["f" * 64]
    assert store.known_blobs("x" * 64, list(known)) == {}  # another rule set knows nothing
    store.merge(record("/repo/a", 3), store_secrets=False)  # a rescan: same place, no duplicate
    assert store.counts()["places"] == 1 and store.counts()["scans"] == 2


def test_an_older_datastore_is_upgraded_keeping_its_data(tmp_path):
    path = str(tmp_path / "old.db")
    old = Datastore(path, upto=1)
    assert old.version == 1
    _write_v1(old, record("/repo/a", 2))  # as a tokenscan of schema 1 wrote it (no verified_at yet)
    with pytest.raises(sqlite3.OperationalError):
        old.db.execute("SELECT * FROM triage_log")
    old.close()
    new = Datastore(path)
    assert new.version == SCHEMA_VERSION
    assert new.counts()["scanned_blobs"] == 3 and new.counts()["findings"] == 1
    new.triage_set("f" * 16, "revoked", "rotated", "ada")  # uses the table version 2 added
    assert new.db.execute("SELECT count(*) FROM triage_log").fetchone()[0] == 1
    # version 3: a live verification from before the upgrade has no time, so it contradicts no decision
    assert new.statuses(["f" * 64]) == {"f" * 64: ("revoked", "rotated")}
    assert [r["places"] for r in new.findings_view()][0][0]["path"] == "conf/app.env"
    assert new.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _write_v1(store: Datastore, rec: ScanRecord) -> None:
    """The rows a schema-1 tokenscan wrote for one scan, with schema 1's columns only."""
    db = store.db
    db.execute("INSERT INTO targets (key, kind, added_at) VALUES (?, 'path', ?)", (rec.target_key, rec.started_at))
    db.execute("INSERT INTO rulesets (hash, rules, first_used) VALUES (?, ?, ?)", (rec.ruleset, rec.rules, now()))
    db.execute("INSERT INTO scans (target_id, ruleset_id, started_at, finished_at, refs, blobs_planned, blobs_read, "
               "bytes_scanned, findings, warnings, status) VALUES (1, 1, ?, ?, '{}', 3, 3, 10, 1, '[]', 'ok')",
               (now(), now()))
    db.executemany("INSERT INTO scanned_blobs (ruleset_id, oid, findings) VALUES (1, ?, 0)",
                   [(bytes.fromhex(o),) for o in rec.blobs_read])
    f = rec.findings[0]
    db.execute("INSERT INTO findings (fingerprint, rule_id, description, severity, redacted, first_seen, last_seen, "
               "verification) VALUES (?, ?, ?, ?, ?, ?, ?, 'live')",
               (f["fingerprint"], f["rule_id"], f["description"], f["severity"], f["redacted"], now(), now()))
    db.execute("INSERT INTO places (fingerprint, target_id, commit_id, path, line, col, source, first_scan, last_scan) "
               "VALUES (?, 1, ?, ?, 3, 7, 'blob', 1, 1)", (f["fingerprint"], f["commit"], f["path"]))


def test_a_newer_datastore_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "new.db"
    store = Datastore(str(path))
    store.merge(record("/repo/a", 2), store_secrets=False)
    store.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    before = path.read_bytes()
    with pytest.raises(UsageError, match=f"schema version {SCHEMA_VERSION + 5} is newer"):
        Datastore(str(path))
    assert path.read_bytes() == before
    run = subprocess.run([sys.executable, "-m", "scanner", "triage", "list", "--datastore", str(path)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 2 and "newer" in run.stderr and str(path) in run.stderr
    assert path.read_bytes() == before


def test_not_a_datastore_exits_2(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not SQLite at all " * 100)
    with pytest.raises(UsageError, match="not a tokenscan datastore"):
        Datastore(str(path))


def _writer(path: str, name: str, scans: int, go) -> None:
    go.wait()
    store = Datastore(path)
    for i in range(scans):
        store.merge(record(f"/repo/{name}-{i % 3}", 50), store_secrets=False)
        store.triage_set("f" * 16, "open", f"{name} {i}", name)
    store.close()


def test_two_processes_writing_at_once_do_not_corrupt_it(tmp_path):
    path = str(tmp_path / "ds.db")
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters: two real, independent SQLite connections
    go = ctx.Event()
    procs = [ctx.Process(target=_writer, args=(path, name, 15, go)) for name in ("a", "b")]
    for p in procs:
        p.start()
    go.set()  # both open (and create, and migrate) the same new file at the same moment
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    store = Datastore(path)
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    counts = store.counts()
    assert counts["scans"] == 30 and counts["targets"] == 6
    assert counts["scanned_blobs"] == 6 * 50 + 1  # every repository's blobs, the shared one once
    assert store.db.execute("SELECT count(*) FROM triage_log").fetchone()[0] == 30
    assert store.version == SCHEMA_VERSION


def test_an_audit_killed_mid_run_leaves_a_sound_datastore_that_the_next_audit_completes(tmp_path):
    """kill -9 at some point during an audit of many repositories: every merge is one transaction, so the
    file holds whole repositories only, and the next audit finishes the job, reading only what is missing."""
    import json
    import os
    import signal
    import time

    from gitrepo import Repo
    from tokens import cloudflare

    for i in range(12):
        r = Repo(tmp_path / "org" / f"repo{i:02d}")
        r.commit("init", **{"app.env": f"CF={cloudflare('cfut_', 500 + i)}\n", "README": f"repo {i}\n"})
    ds = str(tmp_path / "ds.db")
    args = [sys.executable, "-m", "scanner", "audit", str(tmp_path / "org"), "--datastore", ds, "-j", "1"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until some, but not all, repositories are in
        if os.path.exists(ds):
            try:
                done = sqlite3.connect(ds, timeout=5).execute("SELECT count(*) FROM scans").fetchone()[0]
            except sqlite3.OperationalError:
                done = 0
            if done >= 3:
                break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    store = Datastore(ds)
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    merged = store.counts()["scans"]
    assert 3 <= merged <= 12
    # every merged scan is whole: its blobs and its finding are all there
    assert store.counts()["scanned_blobs"] == 3 * merged and store.counts()["places"] == merged  # 2 blobs, 1 message
    store.close()
    run = subprocess.run([*args, "--format", "json"], capture_output=True, text=True, check=False)
    doc = json.loads(run.stdout)
    assert run.returncode == 1 and doc["summary"]["findings"] == 12
    assert doc["summary"]["blobs_read"] == 2 * (12 - merged)
