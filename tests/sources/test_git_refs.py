"""Which refs contain a finding (one containment walk per history, issue 9) and `--since REV` = REV..HEAD."""

from __future__ import annotations

import os
import subprocess

import pytest
from gitrepo import ENV, Repo
from tokens import cloudflare

from scanner.errors import UsageError
from scanner.pipeline.run import ScanOptions, history_scan
from scanner.sources.git import containment, open_repo, read_at


def update_refs(r: Repo, refs: dict[str, str]) -> None:
    lines = "".join(f"create {name} {oid}\n" for name, oid in refs.items())
    subprocess.run(["git", "-C", str(r.path), "update-ref", "--stdin"], input=lines, check=True, text=True,
                   env={**os.environ, **ENV})


@pytest.fixture(scope="module")
def many_refs(tmp_path_factory):
    """main: c0..c5, a secret added in c2; 'side' forks at c1 with its own secret; 200 more refs spread
    over those commits. Returns (repo, secrets, expected refs per secret)."""
    r = Repo(tmp_path_factory.mktemp("refs") / "repo")
    s_main, s_side = cloudflare("cfut_", 61), cloudflare("cfat_", 62)
    c = [r.commit("c0", a="0\n"), r.commit("c1", a="1\n"),
         r.commit("c2", **{"k.env": f"T={s_main}\n"}), r.commit("c3", a="3\n")]
    r.git("checkout", "-q", "-b", "side", c[1])
    side = r.commit("side", **{"s.env": f"S={s_side}\n"})
    r.git("checkout", "-q", "main")
    c.append(r.commit("c4", a="4\n"))
    refs: dict[str, str] = {}
    for i in range(200):
        kind = "heads/b" if i % 2 else "tags/t"
        refs[f"refs/{kind}{i:03d}"] = [c[0], c[1], c[2], c[3], side][i % 5]
    update_refs(r, refs)
    has_main = {n for n, oid in refs.items() if oid in (c[2], c[3])} | {"refs/heads/main"}
    has_side = {n for n, oid in refs.items() if oid == side} | {"refs/heads/side"}
    return r, {s_main: has_main, s_side: has_side}


@pytest.mark.parametrize("use_git", [True, False])
def test_refs_are_right_with_two_hundred_refs(many_refs, use_git):
    r, expected = many_refs
    rep = history_scan(str(r.path), ScanOptions(jobs=1), use_git=use_git)
    got = {f.secret: set(f.refs) for f in rep.findings}
    assert got == expected


def test_containment_is_one_walk_over_the_history(many_refs):
    """Every commit gets its ref bitset from a single pass; ref i is bit i of plan order."""
    r, _ = many_refs
    repo = open_repo(str(r.path))
    tips = {"refs/heads/main": r.git("rev-parse", "main"), "refs/heads/side": r.git("rev-parse", "side")}
    bits = containment(repo, tips, [])
    root = r.git("rev-list", "--max-parents=0", "main")
    assert bits[root] == 0b11 and bits[tips["refs/heads/main"]] == 0b01 and bits[tips["refs/heads/side"]] == 0b10


@pytest.fixture(scope="module")
def review(tmp_path_factory):
    """main (base), pr (the change under review, checked out), other (unrelated, with a tag): one secret each."""
    r = Repo(tmp_path_factory.mktemp("since") / "repo")
    t = {"pr": cloudflare("cfut_", 71), "other": cloudflare("cfat_", 72), "tag": cloudflare("cfk_", 73),
         "base": cloudflare("cfut_", 74)}
    r.commit("base", **{"README": "x\n", ".tokenscanignore": "# base\n"})
    r.commit("base secret", **{"old.env": f"B={t['base']}\n"})
    r.git("checkout", "-q", "-b", "other")
    r.commit("other", **{"o.env": f"O={t['other']}\n"})
    r.commit("tagged", **{"t.env": f"G={t['tag']}\n"})
    r.git("tag", "-a", "v1", "-m", "v1")
    r.git("checkout", "-q", "main")
    r.git("checkout", "-q", "-b", "pr")
    r.commit("the change", **{"new.env": f"N={t['pr']}\n", ".tokenscanignore": "*:*\n"})
    return r, t


@pytest.mark.parametrize("use_git", [True, False])
def test_since_scans_only_the_change_under_review(review, use_git):
    r, t = review
    rep = history_scan(str(r.path), ScanOptions(jobs=1, no_suppress=True), since="main", use_git=use_git)
    assert {f.secret for f in rep.findings} == {t["pr"]}
    assert rep.findings[0].refs == ("refs/heads/pr",) and rep.findings[0].path == "new.env"
    other = history_scan(str(r.path), ScanOptions(jobs=1, no_suppress=True), since="main", branch="other",
                         use_git=use_git)
    assert {f.secret for f in other.findings} == {t["other"], t["tag"]}


@pytest.mark.parametrize("use_git", [True, False])
def test_since_head_is_an_empty_review_without_warnings(review, use_git):
    """Nothing new under review: no finding, and no nameless "corrupt object" made up from an empty listing."""
    r, _ = review
    rep = history_scan(str(r.path), ScanOptions(jobs=1, no_suppress=True), since="HEAD", use_git=use_git)
    assert rep.findings == [] and rep.warnings == []


def test_since_on_a_detached_head(review, tmp_path):
    r, t = review
    wt = tmp_path / "wt"
    r.git("worktree", "add", "-q", "--detach", str(wt), "pr")
    rep = history_scan(str(wt), ScanOptions(jobs=1, no_suppress=True), since="main")
    assert {f.secret for f in rep.findings} == {t["pr"]} and rep.findings[0].refs == ("HEAD",)


def test_read_at_reads_the_base_not_the_change(review):
    r, _ = review
    assert read_at(str(r.path), "main", ".tokenscanignore") == b"# base\n"
    assert read_at(str(r.path), "pr", ".tokenscanignore") == b"*:*\n"
    assert read_at(str(r.path), "main", "new.env") is None
    assert read_at(str(r.path), "main", "no/such/dir/file") is None
    with pytest.raises(UsageError, match="nope"):
        read_at(str(r.path), "nope", ".tokenscanignore")


def test_duration_covers_attribution(review, monkeypatch):
    """The summary's time is the whole run's: attribution (minutes on big histories before) included."""
    import time

    import scanner.sources.git as gitsrc

    real = gitsrc.attribute

    def slow(*args, **kwargs):
        time.sleep(0.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(gitsrc, "attribute", slow)
    r, _ = review
    rep = history_scan(str(r.path), ScanOptions(jobs=1, no_suppress=True))
    assert rep.findings and rep.duration_s >= 0.5


@pytest.mark.parametrize("use_git", [True, False])
def test_a_replace_ref_does_not_hide_a_commit(tmp_path, use_git):
    """`git replace` swaps a commit for another in every walk git makes; the scan reads the real history."""
    r = Repo(tmp_path / "r")
    first = r.commit("c1", a="hi\n")
    tok = cloudflare("cfut_", 401)
    leak = r.commit("c2", **{"s.env": f"T={tok}\n"})
    (r.path / "s.env").unlink()
    r.git("add", "-A")
    r.git("commit", "-qm", "c3")
    r.git("replace", leak, first)
    rep = history_scan(str(r.path), ScanOptions(jobs=1), use_git=use_git)
    assert [(f.secret, f.path, f.commit) for f in rep.findings] == [(tok, "s.env", leak)]
