"""Issue 15: what an audit skips, and that skipping never changes what it reports.

Every test compares an audit that skipped work with what a full `history` scan of the same repository
reports (findings, places, commits, refs, at_head), so a skip that loses or misplaces anything fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from clirun import tokenscan as cli
from gitrepo import Repo
from tokens import cloudflare, github

import scanner.audit.incremental
import scanner.pipeline.run
import scanner.rules.loader
from scanner.audit.datastore import Datastore
from scanner.audit.runner import run_audit
from scanner.audit.targets import Target
from scanner.findings import fingerprint
from scanner.pipeline.run import ScanOptions, history_scan


def opts(**kw) -> ScanOptions:
    return ScanOptions(jobs=1, **kw)


def audit(paths, store, tmp_path, **kw):
    targets = [Target(os.path.realpath(p), "path", os.path.realpath(p)) for p in paths]
    return run_audit(targets, kw.pop("options", None) or opts(), store, cache_dir=str(tmp_path / "cache"), **kw)


def one(result):
    [r] = result.results
    assert r.error is None, r.error
    return r


def places(findings):
    """Everything a reader sees of a finding's place, secrets aside."""
    return sorted((f.fingerprint, f.rule_id, f.path, f.line, f.column, f.source, f.commit, f.author, f.date,
                   f.refs, f.at_head) for f in findings)


def same_as_history(r, path, **kw):
    plain = history_scan(str(path), opts(**kw))
    assert places(r.findings) == places(plain.findings)
    return plain


@pytest.fixture()
def repo(tmp_path) -> Repo:
    """Four commits, two secrets (one rotated out of its file, one still at HEAD), on main and a tag."""
    r = Repo(tmp_path / "alpha")
    r.commit("init", README="hello\n", **{"src__app.py": "print('x')\n"})
    r.commit("config", **{"conf__app.env": f"CF_TOKEN={cloudflare('cfut_', 201)}\n"})
    r.commit("rotate", **{"conf__app.env": "CF_TOKEN=${CF_TOKEN}\n"})
    r.commit("gh", **{"deploy.sh": f"export GH={github('ghp_', 202)}\n"})
    r.git("tag", "v1")
    return r


def _forbid_scanning(monkeypatch):
    def boom(*a, **kw):
        raise AssertionError("scanned although nothing changed")

    monkeypatch.setattr(scanner.audit.incremental, "audit_history", boom)
    monkeypatch.setattr(scanner.pipeline.run, "history_scan", boom)
    monkeypatch.setattr(scanner.rules.loader, "load_rules", boom)  # the rule-set hash comes from its sources' digest


def test_an_unchanged_repository_is_not_scanned_and_reports_the_same_findings(repo, tmp_path, monkeypatch):
    store = Datastore(str(tmp_path / "ds.db"))
    r1 = one(audit([repo.path], store, tmp_path))
    assert not r1.unchanged and len(r1.findings) == 2
    _forbid_scanning(monkeypatch)  # the second audit must not even plan a scan
    r2 = one(audit([repo.path], store, tmp_path))
    assert r2.unchanged and r2.record.blobs_read == [] and r2.record.bytes_scanned == 0
    assert r2.skipped_blobs == r1.record.blobs_planned and places(r2.findings) == places(r1.findings)
    monkeypatch.undo()
    same_as_history(r2, repo.path)
    # its places are current in the datastore (the views read the latest scan of each repository)
    view = {row["fingerprint"]: row for row in store.findings_view()}
    assert {fp for fp, row in view.items() if row["places"]} == {f.fingerprint for f in r1.findings}
    # and no secret went into the stored report
    secrets = [cloudflare("cfut_", 201), github("ghp_", 202)]
    stored = "".join(row[0] for row in store.db.execute("SELECT reported FROM scans WHERE reported IS NOT NULL"))
    assert stored and not any(s in stored for s in secrets)


def test_a_new_commit_reads_only_its_blob_and_message_and_places_match_a_full_scan(repo, tmp_path):
    store = Datastore(str(tmp_path / "ds.db"))
    one(audit([repo.path], store, tmp_path))
    t3 = cloudflare("cfat_", 203)
    repo.commit("more", **{"extra.txt": f"token {t3}\n"})
    r = one(audit([repo.path], store, tmp_path))
    assert not r.unchanged and r.covered_commits == 4
    assert len(r.record.blobs_read) == 1 and len(r.record.messages_read) == 1  # extra.txt and "more"
    assert fingerprint(t3) in {f.fingerprint for f in r.findings} and len(r.findings) == 3
    same_as_history(r, repo.path)


def test_a_fork_branching_below_the_tip_gets_its_own_places(repo, tmp_path):
    """A fork cut from an older commit, with a branch of its own that brings an old secret back under a new
    path: the covered history is not walked again, and every place (commit, refs, at_head) is the fork's."""
    store = Datastore(str(tmp_path / "ds.db"))
    one(audit([repo.path], store, tmp_path))
    fork_path = tmp_path / "fork"
    subprocess.run(["git", "clone", "-q", str(repo.path), str(fork_path)], check=True, capture_output=True)
    fork = Repo.__new__(Repo)
    fork.path, fork.tick = fork_path, 900
    fork.git("checkout", "-q", "-b", "feature", "HEAD~2")  # at "config": the Cloudflare token is there
    fork.commit("copy", **{"backup__app.env": (repo.path / "conf" / "app.env").read_text()})  # not the token
    fork.write("backup/old.env", fork.git("show", "HEAD~1:conf/app.env") + "\n")  # the old blob, new path
    fork.commit("restore old config")
    r = one(audit([fork_path], store, tmp_path))
    assert r.covered_commits >= 2 and len(r.record.messages_read) == 2
    plain = same_as_history(r, fork_path)
    restored = [f for f in plain.findings if f.path == "backup/old.env"]
    assert restored and restored[0].refs == ("refs/heads/feature",)


def test_changed_suppression_inputs_rules_or_head_mean_a_rescan(repo, tmp_path):
    store = Datastore(str(tmp_path / "ds.db"))
    first = one(audit([repo.path], store, tmp_path))
    gh = next(f for f in first.findings if f.rule_id.startswith("github"))
    (repo.path / ".tokenscanignore").write_text(f"{gh.fingerprint}\n")  # not committed: read from the work tree
    r = one(audit([repo.path], store, tmp_path))
    assert not r.unchanged and gh.fingerprint not in {f.fingerprint for f in r.findings}
    assert r.record.blobs_read == []  # a rescan, but every blob is known
    assert one(audit([repo.path], store, tmp_path)).unchanged
    repo.git("checkout", "-q", "v1~1")  # HEAD moves (detached), no ref changes: at_head may differ
    r = one(audit([repo.path], store, tmp_path))
    assert not r.unchanged
    same_as_history(r, repo.path)
    extra = tmp_path / "extra.toml"
    extra.write_text('[[rules]]\nid = "acme-key"\ndescription = "ACME key"\nseverity = "high"\n'
                     'keywords = ["acme_"]\nregex = \'(acme_[a-z0-9]{20})\'\n')
    r = one(audit([repo.path], store, tmp_path, options=opts(rule_files=(str(extra),))))
    assert not r.unchanged and r.covered_commits == 0 and len(r.record.blobs_read) == r.record.blobs_planned
    assert one(audit([repo.path], store, tmp_path, options=opts(rule_files=(str(extra),)))).unchanged
    extra.write_text(extra.read_text().replace("{20}", "{24}"))  # the same file, another rule
    r = one(audit([repo.path], store, tmp_path, options=opts(rule_files=(str(extra),))))
    assert not r.unchanged and r.covered_commits == 0 and len(r.record.blobs_read) == r.record.blobs_planned
    assert store.db.execute("SELECT count(*) FROM rulesets").fetchone()[0] == 3


def test_full_and_secrets_needed_are_never_answered_from_the_datastore(repo, tmp_path):
    store = Datastore(str(tmp_path / "ds.db"))
    one(audit([repo.path], store, tmp_path))
    r = one(audit([repo.path], store, tmp_path, full=True))
    assert not r.unchanged and r.skipped_blobs == 0 and len(r.record.blobs_read) == r.record.blobs_planned
    r = one(audit([repo.path], store, tmp_path, show_secrets=True))
    assert not r.unchanged and {f.secret for f in r.findings} == {cloudflare("cfut_", 201), github("ghp_", 202)}


def test_cli_second_audit_says_unchanged_and_full_rescans(repo, tmp_path):
    ds = str(tmp_path / "cli.db")
    first = json.loads(cli("audit", str(repo.path), "--datastore", ds, "--format", "json").stdout)
    again = json.loads(cli("audit", str(repo.path), "--datastore", ds, "--format", "json").stdout)
    full = json.loads(cli("audit", str(repo.path), "--datastore", ds, "--format", "json", "--full").stdout)
    assert first["summary"]["blobs_read"] == full["summary"]["blobs_read"] > 0 == again["summary"]["blobs_read"]
    assert first["findings"] == again["findings"] == full["findings"]
    assert [r["unchanged"] for r in (first, again, full) for r in r["repositories"]] == [False, True, False]
    repo.commit("more", **{"more.txt": "nothing\n"})
    text = cli("audit", str(repo.path), "--datastore", ds).stdout
    assert "4 commits covered by earlier scans" in text and "1 of 3 blobs read (2 known)" in text
    assert any("--full" in n for n in full["notes"])


def test_first_scan_records_coverage_and_per_commit_adds(repo, tmp_path):
    store = Datastore(str(tmp_path / "ds.db"))
    r = one(audit([repo.path], store, tmp_path))
    head = repo.git("rev-parse", "HEAD")
    ruleset = store.db.execute("SELECT hash FROM rulesets").fetchone()[0]
    assert head in store.covered(ruleset)
    adds = store.commit_adds(ruleset)
    introduced = {f.commit for f in r.findings}
    assert introduced and introduced <= set(adds)  # the commits that brought each secret in
    assert all(Path(p).name in ("app.env", "deploy.sh") for pairs in adds.values() for _, p in pairs)


def test_at_head_by_tree_lookup_matches_history_also_for_odd_names(tmp_path):
    """at_head is looked up per path in HEAD's tree (no listing of the whole tree); for a name that is
    not plain (not UTF-8, so shown escaped or quoted) the full listing decides, and the audit still says
    exactly what `history` says."""
    bare = tmp_path / "odd.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    t1, t2 = cloudflare("cfut_", 211), github("ghp_", 212)
    body1, body2 = f"CF={t1}\n".encode(), f"GH={t2}\n".encode()
    stream = (b"commit refs/heads/main\ncommitter T <t@example.com> 1700000000 +0000\ndata 4\ninit\n"
              b"M 100644 inline caf\xe9.env\ndata %d\n%s\nM 100644 inline dir/plain.env\ndata %d\n%s\n\n"
              % (len(body1), body1, len(body2), body2))
    subprocess.run(["git", "-C", str(bare), "fast-import", "--quiet"], input=stream, check=True)
    store = Datastore(str(tmp_path / "ds.db"))
    r = one(audit([bare], store, tmp_path))
    assert len(r.findings) == 2 and {f.at_head for f in r.findings if f.path == "dir/plain.env"} == {True}
    same_as_history(r, bare)


def test_covered_part_marks_ancestors_and_names_only_the_topmost_covered_commits():
    from scanner.audit.incremental import Walk, covered_part

    # d merges b and c, both children of a; e is a new commit on top of d (newest first, as rev-list gives)
    w = Walk(order=["e", "d", "c", "b", "a"], bits={},
             parents={"e": ["d"], "d": ["b", "c"], "c": ["a"], "b": ["a"], "a": []})
    old, top = covered_part(w, ["b", "a"])
    assert old == {"b", "a"} and top == ["b"]  # c is new: only b's history is covered
    old, top = covered_part(w, ["a", "d", "c"])
    assert old == {"d", "c", "b", "a"} and top == ["d"]


def test_a_known_public_secret_stays_suppressed_when_its_finding_is_rebuilt(tmp_path):
    """A stored finding keeps no secret: whether it is known-public is judged when the blob is read and
    kept with it, so a new commit (or a fork) does not bring a published example back as open."""
    example = next(ex for r in scanner.rules.loader.load_rules() if r.id.startswith("grafana") for ex in r.examples
                   if "glsa_" in ex)
    r = Repo(tmp_path / "e")
    r.commit("c1", **{"s.txt": example + "\n"})
    store = Datastore(str(tmp_path / "ds.db"))
    first = one(audit([r.path], store, tmp_path))
    assert first.findings == [] and first.suppressed.get("known-public") == 1
    r.commit("c2", **{"g.txt": "z\n"})
    again = one(audit([r.path], store, tmp_path))
    assert again.findings == [] and again.suppressed.get("known-public") == 1
    same_as_history(again, r.path)


def test_a_change_in_the_matching_code_rescans_what_was_read_before(tmp_path, repo, monkeypatch):
    """The rule set's identity includes the engine's code: an engine fix reaches blobs scanned before it,
    even where the version number stayed the same."""
    import scanner.audit.cache as cache

    store = Datastore(str(tmp_path / "ds.db"))
    first = one(audit([repo.path], store, tmp_path))
    assert first.record is not None and first.record.blobs_read
    assert not one(audit([repo.path], store, tmp_path)).record.blobs_read  # unchanged: nothing read
    monkeypatch.setattr(cache, "matcher_digest", lambda: "another engine")
    again = one(audit([repo.path], store, tmp_path))
    assert sorted(again.record.blobs_read) == sorted(first.record.blobs_read)
    same_as_history(again, repo.path)


def test_archive_members_keep_their_places_when_rebuilt(tmp_path):
    """A finding inside an archive blob is placed at `app.zip!pkg/a.py`, still at HEAD, whether the blob
    was read this time or its findings came back from the datastore."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("pkg/a.py", f"T='{cloudflare('cfut_', 301)}'\n")
        z.writestr("pkg/b.py", f"T='{cloudflare('cfut_', 302)}'\n")
    r = Repo(tmp_path / "z")
    r.commit("readme", **{"README": "x\n"})
    (r.path / "app.zip").write_bytes(buf.getvalue())
    r.git("add", "-A")
    r.git("commit", "-qm", "archive")
    store = Datastore(str(tmp_path / "ds.db"))
    first = one(audit([r.path], store, tmp_path))
    assert sorted((f.path, f.at_head) for f in first.findings) == [("app.zip!pkg/a.py", True), ("app.zip!pkg/b.py", True)]
    same_as_history(first, r.path)
    r.commit("more", **{"g.txt": "z\n"})
    again = one(audit([r.path], store, tmp_path))
    same_as_history(again, r.path)
