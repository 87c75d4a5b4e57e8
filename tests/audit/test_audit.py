"""`tokenscan audit` and `triage`: targets, incremental scans over a real datastore, triage, the CLI."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from clirun import tokenscan as cli
from gitrepo import Repo
from tokens import cloudflare, github

from scanner.audit.datastore import Datastore
from scanner.audit.runner import gate_report, run_audit
from scanner.audit.targets import (
    Target,
    cache_path,
    find_repositories,
    public_url,
    resolve,
)
from scanner.errors import UsageError
from scanner.pipeline.run import ScanOptions, history_scan


def make_org(root: Path) -> dict:
    """Two repositories (one bare), a fork of the first sharing its history, and a clean one."""
    a = Repo(root / "team" / "alpha")
    t1, t2 = cloudflare("cfut_", 101), github("ghp_", 102)
    a.commit("init", README="hello\n", **{"src__app.py": "print('x')\n"})
    a.commit("config", **{"conf__app.env": f"CF_TOKEN={t1}\n"})
    a.commit("rotate", **{"conf__app.env": "CF_TOKEN=${CF_TOKEN}\n"})
    a.commit("gh", **{"deploy.sh": f"export GH={t2}\n"})
    clean = Repo(root / "team" / "clean")
    clean.commit("init", README="nothing here\n")
    bare = root / "archive" / "old.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(a.path), str(bare)], check=True, capture_output=True)
    fork = root / "forks" / "alpha-fork"
    subprocess.run(["git", "clone", "-q", str(a.path), str(fork)], check=True, capture_output=True)
    f = Repo.__new__(Repo)
    f.path, f.tick = fork, 500
    t3 = cloudflare("cfat_", 103)
    f.commit("fork work", **{"fork.txt": f"token {t3}\n"})
    return {"alpha": a.path, "clean": clean.path, "bare": bare, "fork": fork, "secrets": (t1, t2, t3)}


@pytest.fixture()
def org(tmp_path):
    return make_org(tmp_path / "org")


def opts() -> ScanOptions:
    return ScanOptions(jobs=1)


def audit(paths, store, tmp_path, **kw):
    targets = [Target(os.path.realpath(p), "path", os.path.realpath(p)) for p in paths]
    return run_audit(targets, kw.pop("options", None) or opts(), store, cache_dir=str(tmp_path / "cache"), **kw)


def by_target(result):
    return {r.target.key: r for r in result.results}


# --- targets -------------------------------------------------------------------------------------------------

def test_folder_discovery_finds_work_trees_and_bare_repositories_without_descending(org, tmp_path):
    found = sorted(os.path.relpath(p, tmp_path / "org") for p in find_repositories(str(tmp_path / "org")))
    assert found == ["archive/old.git", "forks/alpha-fork", "team/alpha", "team/clean"]


def test_resolve_dedupes_and_warns_for_listed_paths_but_refuses_bad_arguments(org, tmp_path):
    warnings: list[str] = []
    got = resolve([str(org["alpha"]), str(tmp_path / "org" / "team")], [str(tmp_path / "nope")], warnings)
    assert sorted(t.key for t in got) == sorted(os.path.realpath(p) for p in (org["alpha"], org["clean"]))
    assert len(warnings) == 1 and "nope" in warnings[0]
    with pytest.raises(UsageError, match="nope"):
        resolve([str(tmp_path / "nope")], [], [])


def test_urls_lose_their_credentials_in_keys_and_cache_names(tmp_path):
    url = "https://bot:s3cr3t-t0ken@git.example.com/org/repo.git"
    assert public_url(url) == "https://git.example.com/org/repo.git"
    [t] = resolve([url], [], [])
    assert "s3cr3t" not in t.key and t.location == url
    assert "s3cr3t" not in cache_path(str(tmp_path), t.key)


# --- incremental ---------------------------------------------------------------------------------------------

def test_second_audit_reads_no_blob_and_reports_the_same_findings(org, tmp_path):
    store = Datastore(str(tmp_path / "ds.db"))
    first = audit([org["alpha"]], store, tmp_path)
    [r1] = first.results
    assert r1.record.blobs_planned >= 5 and len(r1.record.blobs_read) == r1.record.blobs_planned
    second = audit([org["alpha"]], store, tmp_path)
    [r2] = second.results
    assert r2.record.blobs_read == [] and r2.skipped_blobs == r1.record.blobs_planned
    assert r2.record.bytes_scanned == 0 and r2.record.messages_read == []  # not even a commit message
    assert r2.skipped_messages == len(r1.record.messages_read) == 4
    # the same findings, at the same places, with the same attribution
    key = lambda f: (f.fingerprint, f.path, f.line, f.commit, f.author, f.at_head)
    assert sorted(map(key, r2.findings)) == sorted(map(key, r1.findings))
    assert len(r1.findings) == 2
    assert {f.at_head for f in r2.findings} == {True, False}  # the rotated token is gone, the GitHub one is not
    # and what history itself reports
    plain = history_scan(str(org["alpha"]), opts())
    assert sorted(map(key, plain.findings)) == sorted(map(key, r2.findings))
    assert not any(f.secret in json.dumps([f.secret for f in r2.findings]) for f in plain.findings)


def test_a_fork_shares_scanned_blobs_and_reports_its_own_places(org, tmp_path):
    store = Datastore(str(tmp_path / "ds.db"))
    first = by_target(audit([org["alpha"]], store, tmp_path))
    alpha_blobs = first[os.path.realpath(org["alpha"])].record.blobs_planned
    fork = by_target(audit([org["fork"]], store, tmp_path))[os.path.realpath(org["fork"])]
    assert len(fork.record.blobs_read) == 1  # only fork.txt is new
    # alpha's history is covered: not walked again; only its blobs holding findings come back (not read)
    assert fork.covered_commits == 4 and len(fork.record.messages_read) == 1
    assert 0 < fork.skipped_blobs < alpha_blobs
    key = lambda f: (f.fingerprint, f.rule_id, f.path, f.line, f.column, f.commit, f.author, f.date, f.refs, f.at_head)
    plain = history_scan(str(org["fork"]), opts())  # the places a full scan of the fork gives, exactly
    assert sorted(map(key, fork.findings)) == sorted(map(key, plain.findings))
    t1, t2, t3 = org["secrets"]
    from scanner.findings import fingerprint
    assert {f.fingerprint for f in fork.findings} == {fingerprint(t1), fingerprint(t2), fingerprint(t3)}
    env = next(f for f in fork.findings if f.fingerprint == fingerprint(t1))
    assert env.path == "conf/app.env" and env.commit and env.author == "Ada Dev <ada@example.com>"
    places = store.db.execute("SELECT count(DISTINCT target_id) FROM places WHERE fingerprint = ?",
                              (fingerprint(t1),)).fetchone()[0]
    assert places == 2


def test_a_changed_rule_set_rescans_every_blob(org, tmp_path):
    store = Datastore(str(tmp_path / "ds.db"))
    audit([org["alpha"]], store, tmp_path)
    extra = tmp_path / "extra.toml"
    extra.write_text('[[rules]]\nid = "acme-key"\ndescription = "ACME key"\nseverity = "high"\n'
                     'keywords = ["acme_"]\nregex = \'(acme_[a-z0-9]{20})\'\n')
    again = audit([org["alpha"]], store, tmp_path, options=ScanOptions(jobs=1, rule_files=(str(extra),)))
    [r] = again.results
    assert r.skipped_blobs == 0 and len(r.record.blobs_read) == r.record.blobs_planned > 0
    assert store.db.execute("SELECT count(*) FROM rulesets").fetchone()[0] == 2


def test_secrets_are_not_stored_unless_asked_and_then_the_file_is_owner_only(org, tmp_path):
    path = tmp_path / "ds.db"
    store = Datastore(str(path))
    audit([org["alpha"]], store, tmp_path)
    t1, t2, _ = org["secrets"]
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("ds.db*") if p.is_file())
    assert t1.encode() not in raw and t2.encode() not in raw
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret_path = tmp_path / "secret.db"
    s2 = Datastore(str(secret_path))
    result = audit([org["alpha"]], s2, tmp_path, show_secrets=True)
    s2.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert {r[0] for r in s2.db.execute("SELECT secret FROM findings")} == {t1, t2}
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in tmp_path.glob("secret.db*") if p.is_file())
    # next time the secret comes back from the datastore without reading the blob
    again = audit([org["alpha"]], s2, tmp_path, show_secrets=True)
    assert again.results[0].record.blobs_read == []
    assert {f.secret for f in again.findings} == {f.secret for f in result.findings} == {t1, t2}


def test_without_stored_secrets_show_secrets_reads_only_the_blobs_with_findings(org, tmp_path):
    store = Datastore(str(tmp_path / "ds.db"))
    audit([org["alpha"]], store, tmp_path)
    again = audit([org["alpha"]], store, tmp_path, show_secrets=True)
    [r] = again.results
    assert len(r.record.blobs_read) == 2  # the two blobs holding secrets, nothing else
    assert {f.secret for f in r.findings} == set(org["secrets"][:2])


# --- triage --------------------------------------------------------------------------------------------------

def test_triage_is_kept_across_rescans_and_only_open_findings_gate(org, tmp_path):
    store = Datastore(str(tmp_path / "ds.db"))
    first = audit([org["alpha"]], store, tmp_path)
    assert len(gate_report(first).findings) == 2
    fp = min(f.fingerprint for f in first.findings)
    store.triage_set(fp[:16], "revoked", "rotated 2026-01-02", "ada")
    again = audit([org["alpha"]], store, tmp_path)
    [r] = again.results
    assert r.statuses[fp] == ("revoked", "rotated 2026-01-02")
    assert [f.fingerprint for f in gate_report(again).findings] != [] and fp not in {
        f.fingerprint for f in gate_report(again).findings}
    other = next(f.fingerprint for f in again.findings if f.fingerprint != fp)
    store.triage_set(other, "false-positive", None, "ada")
    assert gate_report(audit([org["alpha"]], store, tmp_path)).findings == []
    log = store.db.execute("SELECT status, by FROM triage_log ORDER BY id").fetchall()
    assert log == [("revoked", "ada"), ("false-positive", "ada")]
    with pytest.raises(UsageError, match="no finding"):
        store.triage_set("0123456789abcdef", "fixed", None, "ada")
    with pytest.raises(UsageError, match="unknown status"):
        store.triage_set(fp, "ignored", None, "ada")


# --- broken targets ------------------------------------------------------------------------------------------

def test_a_broken_target_is_a_warning_and_the_audit_goes_on(org, tmp_path):
    store = Datastore(str(tmp_path / "ds.db"))
    broken = tmp_path / "org" / "broken"
    broken.mkdir()
    (broken / ".git").write_text("gitdir: /nonexistent/place\n")
    result = audit([broken, org["alpha"]], store, tmp_path)
    by = by_target(result)
    assert by[os.path.realpath(broken)].error
    assert len(by[os.path.realpath(org["alpha"])].findings) == 2
    assert any("broken" in w for w in result.warnings)
    assert store.db.execute("SELECT count(*) FROM scans WHERE status = 'failed'").fetchone()[0] == 1


# --- git URLs ------------------------------------------------------------------------------------------------

def test_git_urls_are_cloned_bare_into_the_cache_and_fetched_next_time(org, tmp_path):
    server = tmp_path / "server" / "alpha.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(org["alpha"]), str(server)], check=True, capture_output=True)
    subprocess.run(["git", "-C", str(server), "config", "uploadpack.allowFilter", "true"], check=True)
    url = server.as_uri()
    store = Datastore(str(tmp_path / "ds.db"))
    cache = tmp_path / "cache"
    targets = resolve([url], [], [])
    first = run_audit(targets, opts(), store, cache_dir=str(cache))
    [r] = first.results
    assert r.action == "cloned" and len(r.findings) == 2 and not r.error
    [clone] = [p for p in cache.iterdir() if p.suffix == ".git"]
    config = subprocess.run(["git", "--git-dir", str(clone), "config", "--list"], capture_output=True, text=True,
                            check=True).stdout
    assert "core.bare=true" in config and "partialclonefilter=blob:none" in config
    # a new commit on the server: fetched, not cloned again, and only the new blob is read
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", url, str(work)], check=True, capture_output=True)
    w = Repo.__new__(Repo)
    w.path, w.tick = work, 900
    new = cloudflare("cfk_", 104)
    w.commit("more", **{"more.txt": f"key {new}\n"})
    w.git("push", "-q", "origin", "main")
    second = run_audit(targets, opts(), store, cache_dir=str(cache))
    [r2] = second.results
    assert r2.action == "fetched" and len(r2.record.blobs_read) == 1 and len(r2.findings) == 3
    assert [p for p in cache.iterdir() if p.suffix == ".git"] == [clone]


def test_an_unreachable_url_is_a_broken_target(tmp_path):
    store = Datastore(":memory:")
    result = run_audit(resolve([(tmp_path / "missing.git").as_uri()], [], []), opts(), store,
                       cache_dir=str(tmp_path / "cache"))
    assert result.results[0].error and "clone failed" in result.results[0].error


# --- CLI -----------------------------------------------------------------------------------------------------

def test_cli_audit_triage_and_gate(org, tmp_path):
    ds = str(tmp_path / "ds.db")
    listing = f"# the org\n{org['alpha']}\n\n{org['bare']}\n{tmp_path / 'gone'}\n"
    run = cli("audit", str(org["clean"]), "--targets-file", "-", "--datastore", ds, "--format", "json",
              "--cache-dir", str(tmp_path / "cache"), stdin=listing)
    assert run.returncode == 1, run.stderr
    doc = json.loads(run.stdout)
    assert doc["schema"] == "tokenscan.audit/1" and doc["summary"]["repositories"] == 3
    assert doc["summary"]["findings"] == 2 and doc["summary"]["places"] == 4  # alpha and its bare copy
    assert any("gone" in w for w in doc["warnings"])
    t1, t2, _ = org["secrets"]
    assert t1 not in run.stdout and t2 not in run.stdout
    fps = [g["fingerprint"] for g in doc["findings"]]
    # the bare copy shares every blob with alpha: read once, for both
    repos = {os.path.basename(r["target"]): r for r in doc["repositories"]}
    assert repos["old.git"]["blobs_read"] == 0 and repos["old.git"]["blobs_skipped"] > 0
    listed = cli("triage", "list", "--datastore", ds)
    assert listed.returncode == 0 and fps[0][:16] in listed.stdout and "open" in listed.stdout
    for fp in fps:
        assert cli("triage", "set", fp[:16], "accepted-risk", "--note", "test fixture", "--datastore", ds
                   ).returncode == 0
    text = cli("audit", str(org["alpha"]), "--datastore", ds)
    assert text.returncode == 0, text.stdout + text.stderr  # triaged: no open finding fails the gate
    assert "accepted-risk (test fixture)" in text.stdout and "0 of " in text.stdout
    j = json.loads(cli("triage", "list", "--datastore", ds, "--format", "json", "--status", "accepted-risk").stdout)
    assert len(j["findings"]) == 2


def test_cli_bad_input_exits_2_naming_it(org, tmp_path):
    ds = str(tmp_path / "ds.db")
    r = cli("audit", "--targets-file", str(tmp_path / "missing.txt"), "--datastore", ds)
    assert r.returncode == 2 and "missing.txt" in r.stderr
    r = cli("audit", str(tmp_path / "nowhere"), "--datastore", ds)
    assert r.returncode == 2 and "nowhere" in r.stderr
    r = cli("audit", str(org["alpha"]), "--format", "sarif", "--datastore", ds)
    assert r.returncode == 2 and "--format sarif" in r.stderr
    r = cli("triage", "set", "zz", "fixed", "--datastore", ds)
    assert r.returncode == 2 and "fingerprint" in r.stderr
    r = cli("triage", "set", "0123456789abcdef", "wontfix", "--datastore", ds)
    assert r.returncode == 2 and "wontfix" in r.stderr
    r = cli("audit", str(org["alpha"]), "--datastore", str(tmp_path))
    assert r.returncode == 2 and "--datastore" in r.stderr


def test_cli_default_locations_follow_xdg(org, tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    r = cli("audit", str(org["clean"]), env=env)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "data" / "tokenscan" / "datastore.db").is_file()


def test_cli_memory_datastore_is_throwaway(org, tmp_path):
    r = cli("audit", str(org["alpha"]), "--datastore", ":memory:", "--format", "json")
    assert r.returncode == 1 and json.loads(r.stdout)["summary"]["findings"] == 2
    assert not Path(":memory:").exists()


# --- verification and progress -------------------------------------------------------------------------------

def test_verify_asks_once_per_secret_across_repositories_and_stores_the_status(org, tmp_path, monkeypatch):
    from cfserver import FakeCloudflare

    from scanner.pipeline.run import exit_code
    from scanner.verify.options import VerifyOptions

    cf = FakeCloudflare().start()
    # the org holds a (synthetic) GitHub token too: its verification goes to the loopback stand-in, which
    # does not know it, never to api.github.com
    monkeypatch.setenv("TOKENSCAN_GITHUB_API_BASE", cf.base)
    try:
        t1 = org["secrets"][0]
        cf.user_tokens[t1] = {"status": "active"}
        store = Datastore(str(tmp_path / "ds.db"))
        audit([org["alpha"]], store, tmp_path)  # an earlier audit without secrets in the datastore
        result = audit([org["alpha"], org["fork"]], store, tmp_path,
                       verify=VerifyOptions(cloudflare_api_base=cf.base, timeout=2.0, budget=30.0))
        asked = [r for r in cf.requests if r.path.endswith("/user/tokens/verify") and t1 in str(r.headers)]
        assert len(asked) == 1  # in two repositories, verified once
        live = {f.verification.status for f in result.findings if f.secret == t1 or f.fingerprint == _fp(t1)}
        assert live == {"live"}
        assert store.db.execute("SELECT verification FROM findings WHERE fingerprint = ?",
                                (_fp(t1),)).fetchone()[0] == "live"
        by = by_target(result)
        assert len(by[os.path.realpath(org["alpha"])].record.blobs_read) == 2  # only blobs holding findings
        assert exit_code(gate_report(result), "live") == 1
        assert not any(f.secret == t1 for f in result.findings)  # secrets dropped once verified
    finally:
        cf.stop()


def _fp(secret: str) -> str:
    from scanner.findings import fingerprint

    return fingerprint(secret)


def test_progress_line_counts_repositories_findings_and_eta():
    import io

    from scanner.audit.runner import AuditProgress

    out = io.StringIO()
    p = AuditProgress(4, out)
    p(1, 3, "/org/alpha")
    p(2, 5, "/org/beta")
    p.close()
    text = out.getvalue()
    assert "audit: 2/4 repositories, 5 findings, ETA " in text and text.endswith("\r\033[K")


def test_two_audits_at_once_on_one_datastore(org, tmp_path):
    ds = str(tmp_path / "shared.db")
    procs = [subprocess.Popen([sys.executable, "-m", "scanner", "audit", str(p), "--datastore", ds, "--format", "json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for p in (org["alpha"], org["fork"], org["bare"])]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [1, 1, 1], [e for _, e in outs]
    store = Datastore(ds)
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert store.counts()["targets"] == 3 and store.counts()["scans"] == 3 and store.counts()["findings"] == 3


def test_cli_a_target_not_scanned_never_passes(org, tmp_path):
    """Issue 28: a target that could not be scanned at all is exit 2 when nothing else fails the gate,
    named in the report and on stderr; findings elsewhere still make it 1."""
    listing = f"{tmp_path / 'gone'}\n"
    base = ["audit", str(org["clean"]), "--targets-file", "-", "--datastore", ":memory:"]
    for extra in ([], ["--fail-on-incomplete"]):
        run = cli(*base, *extra, stdin=listing)
        assert run.returncode == 2 and "gone" in run.stdout and "1 of 2 targets could not be scanned" in run.stderr
    run = cli("audit", str(org["alpha"]), "--targets-file", "-", "--datastore", ":memory:", stdin=listing)
    assert run.returncode == 1 and "gone" in run.stdout


def test_a_blob_that_could_not_be_read_is_not_recorded_and_is_tried_again(tmp_path):
    r = Repo(tmp_path / "damaged")
    r.commit("init", **{"a.txt": "alpha\n", "b.txt": f"token {cloudflare('cfut_', 77)}\n"})
    oid = r.git("rev-parse", "HEAD:a.txt")
    (r.path / ".git" / "objects" / oid[:2] / oid[2:]).unlink()  # a loose blob lost
    store = Datastore(str(tmp_path / "ds.db"))
    [first] = audit([r.path], store, tmp_path).results
    assert any(w["kind"] == "missing-object" for w in first.record.warnings)
    assert oid not in first.record.blobs_read and len(first.findings) == 1
    assert store.known_blobs(first.record.ruleset, [oid]) == {}
    [second] = audit([r.path], store, tmp_path).results
    assert any(w["kind"] == "missing-object" and oid in w["message"] for w in second.record.warnings)  # again
    assert oid not in second.record.blobs_read and store.known_blobs(first.record.ruleset, [oid]) == {}
    assert len(second.findings) == 1


def test_unreadable_or_timed_out_blobs_are_left_out_of_the_record():
    from scanner.audit.cache import BlobCache
    from scanner.findings import Warning
    from scanner.sources.blobs import BlobItem

    a, b, c = "a" * 40, "b" * 64, "c" * 40  # SHA-1 and SHA-256 ids
    cache = BlobCache(None)
    cache.record([BlobItem(a, "x", 1), BlobItem(b, "y", 1), BlobItem(c, "z", 1)], [],
                 [Warning("missing-object", f"blob {a} is not in the store"),
                  Warning("corrupt-object", f"cannot read blob {b}: damaged")])
    assert cache.read == [c] and cache.attempted == 3
    cache.record([BlobItem(a, "x", 1), BlobItem(c, "z", 1)], [], [Warning("rule-timeout", "out of time", "z")])
    assert cache.read == [a]
    cache.record([BlobItem(a, "", 1)], [], [Warning("rule-timeout", "out of time", "")])
    assert cache.read == []  # which blob is unknown: none is recorded


def test_commit_messages_are_cached_by_commit_id_and_still_reported(tmp_path):
    r = Repo(tmp_path / "msg")
    tok = cloudflare("cfut_", 88)
    r.commit("init", README="x\n")
    intro = r.commit(f"deploy with {tok} for now")
    store = Datastore(str(tmp_path / "ds.db"))
    [first] = audit([r.path], store, tmp_path).results
    [second] = audit([r.path], store, tmp_path).results
    assert len(first.record.messages_read) == 2 and second.record.messages_read == []
    [f1], [f2] = first.findings, second.findings
    assert f2.source == "commit-message" and f2.commit == intro == f1.commit and f2.path == f1.path
    assert f2.author == "Ada Dev <ada@example.com>" and f2.fingerprint == _fp(tok)
