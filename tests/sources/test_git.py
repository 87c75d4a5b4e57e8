import json
import os
import subprocess

import pytest
from clirun import tokenscan as cli
from gitrepo import ENV, Repo
from tokens import cloudflare, legacy_token

from scanner.errors import UsageError
from scanner.findings import Finding
from scanner.pipeline.run import ScanOptions, history_scan, staged_scan
from scanner.sources.blobs import BlobItem
from scanner.sources.git import StoreListing, open_repo, plan_history


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """A history with credentials in every hard-to-reach place; returns (repo, {secret: introducing commit})."""
    r = Repo(tmp_path_factory.mktemp("hist") / "repo")
    t = {name: cloudflare(p, i) for i, (name, p) in enumerate([
        ("deleted", "cfut_"), ("replaced", "cfat_"), ("branch", "cfk_"), ("tag", "cfut_"),
        ("merge", "cfat_"), ("message", "cfut_"), ("stash", "cfk_")])}
    intro = {}
    r.commit("init", README="hello\n")
    intro[t["deleted"]] = r.commit("add env", **{".env": f"CF={t['deleted']}\n"})
    r.git("rm", "-q", ".env")
    r.commit("remove env")
    intro[t["replaced"]] = r.commit("config", **{"conf__app.yaml": f"token: {t['replaced']}\nname: x\n"})
    r.commit("rotate", **{"conf__app.yaml": "token: ${CF_TOKEN}\nname: x\n"})
    # unmerged branch
    r.git("checkout", "-q", "-b", "feature")
    intro[t["branch"]] = r.commit("feature", **{"f.txt": f"key {t['branch']}\n"})
    r.git("checkout", "-q", "main")
    # annotated tag on a detached commit no branch contains
    r.git("checkout", "-q", "--detach")
    intro[t["tag"]] = r.commit("release notes", **{"rel.txt": f"x {t['tag']}\n"})
    r.git("tag", "-a", "v1", "-m", "v1")
    r.git("checkout", "-q", "main")
    # a merge: the credential comes in on a side branch
    r.git("checkout", "-q", "-b", "side")
    intro[t["merge"]] = r.commit("side", **{"side.sh": f"export T={t['merge']}\n"})
    r.git("checkout", "-q", "main")
    r.commit("main moves", README="hello again\n")
    r.git("merge", "-q", "--no-ff", "side", "-m", "merge side")
    intro[t["message"]] = r.commit(f"oops pasted {t['message']} here")
    # stash
    r.write("wip.txt", f"{t['stash']}\n")
    r.git("add", "wip.txt")
    r.git("stash", "-q")
    intro[t["stash"]] = r.git("rev-parse", "refs/stash")
    return r, intro, t


@pytest.mark.parametrize("use_git", [True, False])
def test_history_finds_every_planted_credential_with_introducing_commit(planted, use_git):
    r, intro, t = planted
    report = history_scan(str(r.path), ScanOptions(jobs=2), use_git=use_git)
    got = {}
    for f in report.findings:
        got.setdefault(f.secret, f)  # stash commit messages repeat HEAD's subject: the oldest comes first
    assert set(got) == set(intro)
    msg = [f.commit for f in report.findings if f.source == "commit-message"]
    assert intro[t["message"]] in msg
    for secret, commit in intro.items():
        f = got[secret]
        if secret == t["message"]:
            continue
        if secret == t["stash"]:  # the stash commit's index parent introduces it; the stash ref contains it
            assert f.commit and any(ref.startswith(("refs/stash", "stash@")) for ref in f.refs)
            continue
        assert f.commit == commit, secret
        assert f.author == "Ada Dev <ada@example.com>" and f.date.startswith("2026-01-01")
    assert got[t["message"]].source == "commit-message"
    assert got[t["deleted"]].path == ".env" and got[t["deleted"]].at_head is False
    assert got[t["replaced"]].line == 1 and got[t["replaced"]].column == 8
    assert got[t["branch"]].refs == ("refs/heads/feature",)
    assert got[t["tag"]].refs == ("refs/tags/v1",)
    assert "refs/heads/main" in got[t["merge"]].refs and got[t["merge"]].at_head is True


@pytest.mark.parametrize("beside_fails", [False, True])
def test_attribution_reads_the_walks_started_beside_the_scan(planted, monkeypatch, beside_fails):
    """At the first blob finding, attribution's `git log --raw` and `rev-list --parents` start beside the
    scan and are not run again after it; where they failed, attribution runs them itself, same answer."""
    from scanner.sources import git as g

    r, intro, t = planted
    ran: list[list[str]] = []
    real_run_git = g.run_git
    monkeypatch.setattr(g, "run_git", lambda path, args, **kw: ran.append(list(args)) or real_run_git(path, args, **kw))
    if beside_fails:
        monkeypatch.setattr(g.Beside, "output", lambda self: self.close())
    report = history_scan(str(r.path), ScanOptions(jobs=1))
    commits = {f.secret: f.commit for f in report.findings if f.source == "blob"}
    for name in ("deleted", "replaced", "branch", "tag", "merge"):
        assert commits[t[name]] == intro[t[name]], name
    assert any(a[0] == "log" for a in ran) == beside_fails
    assert any(a[0] == "rev-list" and "--parents" in a for a in ran) == beside_fails


def test_each_blob_is_scanned_once(planted):
    r, _, _ = planted
    repo = open_repo(str(r.path))
    a = plan_history(repo, use_git=True)
    b = plan_history(repo, use_git=False)
    listed = list(a.blobs)  # the whole store's listing: a stream
    assert a.enumerator == "git object store" and b.enumerator == "pygit2"
    assert len({x.oid for x in listed}) == len(listed)
    assert {x.oid for x in listed} == {x.oid for x in b.blobs}
    assert {x.commit for x in a.messages} == {x.commit for x in b.messages}
    assert a.summary().startswith(f"{len(listed)} unique blobs and {len(a.messages)} commit messages")
    a.close()
    b.close()


def _listing(script: str, walked: list) -> tuple[StoreListing, list, list]:
    """A listing whose "git" is a shell script; returns it, its warnings and the calls of its fallback."""
    proc = subprocess.Popen(["sh", "-c", script], stdout=subprocess.PIPE)
    warnings: list = []
    calls: list = []

    def rest():
        calls.append(1)
        return walked, "git"
    return StoreListing(proc, warnings, rest), warnings, calls


def test_listing_that_fails_part_way_is_completed_by_the_tree_walk():
    """git gave up after one blob: the walk's blobs it had not listed follow, each once, and the report
    says how they were enumerated. A damaged object the walk also lists is left to the reader to name
    (with its path); one the walk does not reach is named by the listing."""
    first, second, lost, unreached = "a" * 40, "b" * 40, "c" * 40, "d" * 40
    walked = [BlobItem(first, "x.txt", 3), BlobItem(second, "y.txt", 5), BlobItem(lost, "z.txt", 7)]
    listing, warnings, calls = _listing(
        f"printf 'blob {first} 3\\n{lost} missing\\n{unreached} missing\\n'; exit 1", walked)
    got = list(listing)
    assert [(b.oid, b.path) for b in got] == [(first, ""), (second, "y.txt"), (lost, "z.txt")]
    assert listing.count == 3 and listing.enumerator == "git" and calls == [1]
    assert [(w.kind, unreached in w.message) for w in warnings] == [("corrupt-object", True)]
    listing.close()


def test_listing_killed_by_a_signal_ends_without_a_walk():
    """Ctrl-C (or SIGTERM) reaches git with the rest of the process group: no tree walk then (it would delay
    the exit by as long as the history is big), and what could not be listed is said. (SIGTERM here: a
    background job's shell ignores SIGINT.)"""
    first, damaged = "a" * 40, "c" * 40
    listing, warnings, calls = _listing(f"printf 'blob {first} 3\\n{damaged} missing\\n'; kill -TERM $$",
                                        [BlobItem("b" * 40, "y.txt", 5)])
    assert [b.oid for b in listing] == [first]
    assert calls == [] and listing.enumerator == "git object store"
    assert sorted(w.kind for w in warnings) == ["corrupt-object", "unreadable"]
    assert any("interrupted (signal 15)" in w.message for w in warnings)
    listing.close()


def test_history_progress_has_totals_for_a_stream_and_for_a_list(planted):
    """The whole store's listing is a stream: once git has listed it, progress gets its totals (a bar);
    --branch plans a list, whose totals are known from the start."""
    r, _, _ = planted
    for branch in (None, "main"):
        calls: list = []

        def progress(*args: int, calls: list = calls) -> None:
            calls.append(args)
        history_scan(str(r.path), ScanOptions(jobs=2, in_process_bytes=0, progress=progress), branch=branch)
        done, total, done_bytes, total_bytes = calls[-1]
        assert done == total > 0 and done_bytes == total_bytes > 0, (branch, calls)


def test_closing_a_plan_ends_its_git_processes(planted):
    r, _, _ = planted
    repo = open_repo(str(r.path))
    plan = plan_history(repo, use_git=True)
    assert isinstance(plan.blobs, StoreListing)
    plan.found(repo.path, [Finding("private-key", "", "critical", "x", "f" * 64, "a", 1, 1, source="blob", blob="0" * 40)])
    assert plan.adds_log is not None and plan.parents_log is not None  # attribution's walks, beside the scan
    procs = [plan.blobs.proc, plan.missing_check.walk.proc, plan.adds_log.proc, plan.parents_log.proc]
    assert all(p is not None for p in procs)
    plan.close()  # before the listing was read: the scan was interrupted
    assert all(p.poll() is not None for p in procs)


def test_branch_and_since_limit_the_scan(planted):
    r, _, t = planted
    only_feature = history_scan(str(r.path), ScanOptions(jobs=1), branch="feature")
    assert {f.secret for f in only_feature.findings} == {t["deleted"], t["replaced"], t["branch"]}
    new = history_scan(str(r.path), ScanOptions(jobs=1), since="main~1")  # main~1..HEAD: the newest commit only
    assert {f.secret for f in new.findings} == {t["message"]}
    with pytest.raises(UsageError, match="--since nope"):
        history_scan(str(r.path), ScanOptions(), since="nope")


def test_bare_clone_and_shallow_clone(planted, tmp_path):
    r, _, t = planted
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(r.path), str(bare)], check=True)
    found = {f.secret for f in history_scan(str(bare), ScanOptions(jobs=1)).findings}
    assert found >= {t["deleted"], t["branch"], t["tag"], t["merge"], t["message"]}
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{r.path}", str(shallow)], check=True)
    rep = history_scan(str(shallow), ScanOptions(jobs=1))
    assert any(w.kind == "shallow" for w in rep.warnings)
    assert {f.secret for f in rep.findings} == {t["message"], t["merge"]}  # what HEAD still holds


def test_a_range_inside_a_shallow_clone_is_whole_and_one_across_its_boundary_is_cut(tmp_path):
    """--since in a shallow clone: cut (a `shallow` warning, which --fail-on-incomplete fails on) only when a
    commit of the range is a boundary commit; a CI checkout deep enough for its range scanned it all."""
    r = Repo(tmp_path / "r")
    for i in range(6):
        r.commit(f"c{i}", **{"n.txt": f"{i}\n"})
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "3", f"file://{r.path}", str(shallow)], check=True)
    inside = history_scan(str(shallow), ScanOptions(jobs=1), since="HEAD~2")
    assert not any(w.kind == "shallow" for w in inside.warnings)
    empty_tree = subprocess.run(["git", "-C", str(shallow), "hash-object", "-t", "tree", "-w", "--stdin"],
                                input="", capture_output=True, text=True, check=True).stdout.strip()
    unrelated = subprocess.run(["git", "-C", str(shallow), "commit-tree", "-m", "elsewhere", empty_tree],
                               capture_output=True, text=True, check=True, env={**os.environ, **ENV}).stdout.strip()
    across = history_scan(str(shallow), ScanOptions(jobs=1), since=unrelated)  # every commit, the boundary too
    assert any(w.kind == "shallow" for w in across.warnings)


def test_not_a_repo_empty_repo_and_cli_exit_codes(tmp_path, planted):
    res = cli("history", str(tmp_path))
    assert res.returncode == 2 and "not a git repository" in res.stderr
    empty = Repo(tmp_path / "empty")
    res = cli("history", str(empty.path), "--format", "json")
    assert res.returncode == 0 and json.loads(res.stdout)["scan"]["warnings"][0]["kind"] == "empty"
    r, _, _ = planted
    res = cli("history", str(r.path), "--branch", "no-such-branch")
    assert res.returncode == 2 and "no-such-branch" in res.stderr and "Traceback" not in res.stderr


def test_corrupt_object_is_a_warning_and_scan_goes_on(tmp_path):
    r = Repo(tmp_path / "c")
    tok = cloudflare("cfut_", 77)
    r.commit("one", **{"a.txt": "fine\n", "b.txt": f"{tok}\n"})
    blob = r.git("rev-parse", "HEAD:a.txt")
    obj = r.path / ".git" / "objects" / blob[:2] / blob[2:]
    obj.chmod(0o644)
    obj.write_bytes(b"garbage")
    rep = history_scan(str(r.path), ScanOptions(jobs=1), use_git=False)
    assert any(w.kind == "corrupt-object" and blob in w.message for w in rep.warnings)
    assert [f.secret for f in rep.findings] == [tok]


def test_submodule_is_skipped_with_a_warning(tmp_path):
    sub = Repo(tmp_path / "sub")
    sub.commit("s", x="1\n")
    top = Repo(tmp_path / "top")
    top.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub.path), "lib")
    top.commit("add submodule")
    rep = history_scan(str(top.path), ScanOptions(jobs=1))
    assert any(w.kind == "submodule" for w in rep.warnings)


@pytest.mark.parametrize("use_git", [True, False])
def test_staged_reports_only_added_lines_with_staged_line_numbers(tmp_path, use_git):
    r = Repo(tmp_path / "s")
    old, new = cloudflare("cfut_", 1), cloudflare("cfat_", 2)
    r.commit("one", **{"a.env": f"A=1\nOLD={old}\n"})
    r.write("a.env", f"A=1\nB=2\nOLD={old}\nNEW={new}\n")
    r.write("unstaged.txt", cloudflare("cfk_", 3))
    r.git("add", "a.env")
    r.write("dir with space/x.env", f"X={cloudflare('cfut_', 4)}\n")
    r.git("add", "dir with space/x.env")
    rep = staged_scan(str(r.path), ScanOptions(), use_git=use_git)
    assert [(f.secret, f.path, f.line, f.source) for f in rep.findings] == [
        (new, "a.env", 4, "staged"), (cloudflare("cfut_", 4), "dir with space/x.env", 1, "staged")]


def _staged_token(path, name: str, seed: int) -> tuple[Repo, str]:
    """A repository with one commit and a Cloudflare token staged in `name`, not committed."""
    r = Repo(path)
    r.commit("init", README="x\n")
    tok = cloudflare("cfut_", seed)
    r.write(name, f"CF={tok}\n")
    r.git("add", name)
    return r, tok


def test_a_small_staged_change_is_matched_without_hyperscan_and_a_large_one_with_it(tmp_path, monkeypatch):
    """A commit's few kilobytes need no Hyperscan database loaded; a large staged file keeps it. The
    findings are the same either way."""
    import scanner.pipeline.run as run

    built: list[bool | None] = []
    real = run.build_engine
    monkeypatch.setattr(run, "build_engine", lambda opts: built.append(opts.accelerated) or real(opts))
    r, tok = _staged_token(tmp_path / "sized", "small.env", 91)
    small = staged_scan(str(r.path), ScanOptions())
    r.write("big.txt", "filler line\n" * (run.SMALL_INPUT // 12 + 1))
    r.git("add", "big.txt")
    large = staged_scan(str(r.path), ScanOptions())
    assert built == [False, None]
    assert [(f.secret, f.path) for f in small.findings] == [(f.secret, f.path) for f in large.findings] == [(tok, "small.env")]


def test_staged_in_repo_without_commits_and_clean_is_quiet(tmp_path):
    r = Repo(tmp_path / "n")
    tok = legacy_token(3)
    r.write("x.sh", f"export CLOUDFLARE_API_TOKEN={tok}\n")
    r.git("add", "x.sh")
    res = cli("staged", str(r.path))
    assert res.returncode == 1 and "x.sh:1" in res.stdout and tok not in res.stdout + res.stderr
    assert "stopped" in res.stderr
    r.git("rm", "-q", "--cached", "x.sh")
    res = cli("staged", str(r.path))
    assert res.returncode == 0 and res.stdout == "" and res.stderr == ""


def test_install_hook_blocks_a_commit_and_refuses_to_overwrite(tmp_path):
    r = Repo(tmp_path / "h")
    r.commit("one", a="1\n")
    res = cli("install-hook", str(r.path))
    assert res.returncode == 0, res.stderr
    r.write("leak.txt", cloudflare("cfut_", 5))
    r.git("add", "leak.txt")
    with pytest.raises(subprocess.CalledProcessError):
        r.git("commit", "-q", "-m", "leak")
    r.git("rm", "-q", "--cached", "leak.txt")
    r.write("ok.txt", "fine\n")
    r.git("add", "ok.txt")
    r.git("commit", "-q", "-m", "fine")
    hook = r.path / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho mine\n")
    res = cli("install-hook", str(r.path))
    assert res.returncode == 2 and "--force" in res.stderr and hook.read_text() == "#!/bin/sh\necho mine\n"
    assert cli("install-hook", str(r.path), "--force").returncode == 0


def test_scan_does_not_write_into_the_repository(planted):
    r, _, _ = planted
    def snapshot():
        return sorted((p.relative_to(r.path).as_posix(), p.stat().st_mtime_ns)
                      for p in r.path.rglob("*") if p.is_file() and "index" not in p.name)
    before = snapshot()
    history_scan(str(r.path), ScanOptions(jobs=2))
    assert snapshot() == before


@pytest.mark.parametrize("use_git", [True, False])
def test_unreachable_objects_are_not_reported_and_merge_resolutions_are(tmp_path, use_git):
    r = Repo(tmp_path / "m")
    r.commit("init", a="1\n")
    dropped = cloudflare("cfk_", 91)
    r.commit("oops", **{"x.env": f"K={dropped}\n"})
    r.git("reset", "-q", "--hard", "HEAD~1")  # only the reflog remembers it: no ref reaches it
    r.git("checkout", "-q", "-b", "side")
    r.commit("side", b="2\n")
    r.git("checkout", "-q", "main")
    r.commit("main", c="3\n")
    r.git("merge", "-q", "--no-commit", "side")
    evil = cloudflare("cfut_", 92)
    r.write("resolution.env", f"T={evil}\n")
    r.git("add", "resolution.env")
    r.git("commit", "-q", "-m", "merge side")
    merge = r.git("rev-parse", "HEAD")
    rep = history_scan(str(r.path), ScanOptions(jobs=1), use_git=use_git)
    assert [(f.secret, f.path, f.commit) for f in rep.findings if f.source == "blob"] == [
        (evil, "resolution.env", merge)]


@pytest.mark.parametrize("name", ["café.env", 'say "hi".env', "back\\slash.env", "tab\there.env"])
def test_attribution_reads_paths_git_quotes(tmp_path, name):
    """git prints such paths C-quoted in `log --raw`: the finding's path, commit and at_head are still right."""
    r = Repo(tmp_path / "r")
    tok = cloudflare("cfut_", 77)
    first = r.commit("add", **{"a.txt": "x\n"})
    intro = r.commit("leak", **{name: f"T={tok}\n"})
    for use_git in (True, False):
        rep = history_scan(str(r.path), ScanOptions(jobs=1), use_git=use_git)
        assert [(f.path, f.commit, f.at_head) for f in rep.findings] == [(name, intro, True)], use_git
    assert first != intro


def test_a_name_that_is_not_utf8_is_reported_in_every_format(tmp_path):
    """Attribution works on git's own bytes; every report then prints the name with \\xff escapes."""
    r = Repo(tmp_path / "r")
    tok = cloudflare("cfut_", 78)
    r.commit("add", **{"a.txt": "x\n"})
    with open(bytes(r.path) + b"/\xff\xfebad.txt", "w") as fh:
        fh.write(f"T={tok}\n")
    r.git("add", "-A")
    r.git("commit", "-qm", "leak")
    for fmt in ("json", "sarif", "text", "html"):
        res = cli("history", str(r.path), "--format", fmt)
        assert res.returncode == 1 and "internal error" not in res.stderr, res.stderr
        assert "bad.txt" in res.stdout
        res.stdout.encode("utf-8")  # the report itself is valid text
    rep = json.loads(cli("history", str(r.path), "--format", "json").stdout)
    assert [(f["path"], f["at_head"]) for f in rep["findings"]] == [("\\xff\\xfebad.txt", True)]


def test_head_file_is_read_once_for_every_place_of_its_secret(tmp_path, monkeypatch):
    """A secret kept in a file that changed in every release is one place per version; whether HEAD's file
    still holds it is read once, not once per place (a 15 MB bundle over 80 releases took 9 s)."""
    import scanner.sources.blobs as blobs

    tok = cloudflare("cfut_", 41)
    r = Repo(tmp_path / "repo")
    for i in range(12):
        r.commit(f"release {i}", **{"dist__cli.js": f"// build {i}\nconst CF_API_TOKEN = '{tok}';\n"})
    reads: list[str] = []
    real = blobs.read_object

    def counting(git_dir, oid, what, path, warnings):
        reads.append(oid)
        return real(git_dir, oid, what, path, warnings)

    monkeypatch.setattr(blobs, "read_object", counting)
    report = history_scan(str(r.path), ScanOptions(jobs=1))
    places = [f for f in report.findings if f.secret == tok]
    assert len(places) == 1 and places[0].at_head  # collapsed to the introducing commit, still at HEAD
    assert len(reads) == len(set(reads)) == 1


@pytest.mark.skipif(not __import__("scanner.engine.prefilter").engine.prefilter.HYPERSCAN_AVAILABLE, reason="hyperscan not installed")
def test_native_lookup_of_introductions_matches_parsing_the_log(tmp_path, monkeypatch):
    """raw_adds looks a few findings' blobs up in the log natively; the answer is the line-by-line parse's:
    the oldest commit first, the new side of an add or change only, quoted names unquoted."""
    import scanner.sources.git as git

    r = Repo(tmp_path / "repo")
    for i in range(6):
        r.commit(f"c{i}", **{"a.env": f"v{i % 3}\n", "café d.env": f"w{i}\n", 'say "hi".env': f"x{i % 2}\n"})
    repo = open_repo(str(r.path))
    tips = [r.git("rev-parse", "HEAD")]
    objects = set(r.git("rev-list", "--all", "--objects").split())
    for wanted in [set(sorted(objects)[:n]) for n in (1, 4, 9)] + [objects]:
        monkeypatch.setattr(git, "_LOOKUP_MAX", 0)  # every line parsed: the reference
        parsed = list(git.raw_adds(repo, tips, [], wanted) or [])
        monkeypatch.setattr(git, "_LOOKUP_MAX", 10_000)
        assert list(git.raw_adds(repo, tips, [], wanted) or []) == parsed
    assert {p for _, _, p in parsed} == {"a.env", "café d.env", 'say "hi".env'} and len(parsed) == 18  # each file changes in every commit


def test_a_staged_blob_is_read_without_git_when_loose_and_through_git_when_packed(tmp_path, monkeypatch):
    import scanner.sources.blobs as blobs

    started: list[str] = []
    real = blobs.CatFile
    monkeypatch.setattr(blobs, "CatFile", lambda path: started.append(path) or real(path))
    r, tok = _staged_token(tmp_path / "loose", "a.env", 94)
    loose = staged_scan(str(r.path), ScanOptions())
    assert started == []
    r.git("repack", "-a", "-d", "-q")  # the index's blob too
    r.git("prune-packed")
    packed = staged_scan(str(r.path), ScanOptions())
    assert len(started) == 1
    assert [(f.secret, f.path, f.line) for f in loose.findings] == [(f.secret, f.path, f.line) for f in packed.findings] \
        == [(tok, "a.env", 1)]
