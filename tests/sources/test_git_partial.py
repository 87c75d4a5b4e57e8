"""Partial clones (issue 9): a blobless clone is scanned whole, its promised blobs fetched from the promisor
remote first; when the remote cannot be reached every blob not scanned is a named missing-object warning.

The "server" is a real local repository that allows filters and any-SHA1 wants, cloned over file://.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from gitrepo import ENV, Repo
from tokens import cloudflare

from scanner.pipeline.run import ScanOptions, history_scan


def clone(src: Path, dest: Path, *args: str) -> Path:
    subprocess.run(["git", "clone", "-q", *args, f"file://{src}", str(dest)], check=True, capture_output=True,
                   env={**os.environ, **ENV})
    return dest


@pytest.fixture
def server(tmp_path):
    """A served repository: secrets at HEAD, deleted in history, on a branch; returns (repo, secrets)."""
    r = Repo(tmp_path / "server")
    r.git("config", "uploadpack.allowFilter", "true")
    r.git("config", "uploadpack.allowAnySHA1InWant", "true")
    t = {"head": cloudflare("cfut_", 51), "deleted": cloudflare("cfat_", 52), "branch": cloudflare("cfk_", 53)}
    r.commit("init", README="hello\n")
    r.commit("add", **{"old.env": f"T={t['deleted']}\n"})
    r.git("rm", "-q", "old.env")
    r.commit("remove")
    r.commit("config", **{"conf__app.yaml": f"token: {t['head']}\n"})
    r.git("checkout", "-q", "-b", "feature")
    r.commit("feature", **{"f.txt": f"k {t['branch']}\n"})
    r.git("checkout", "-q", "main")
    return r, t


def blob_secrets(rep) -> set[str]:
    return {f.secret for f in rep.findings if f.source == "blob"}


@pytest.mark.parametrize("checkout", [True, False])
def test_blobless_clone_is_scanned_completely(server, tmp_path, checkout):
    r, t = server
    pc = clone(r.path, tmp_path / "pc", "--filter=blob:none", *([] if checkout else ["--no-checkout"]))
    missing_before = subprocess.run(["git", "-C", str(pc), "rev-list", "--objects", "--all", "--missing=print"],
                                    check=True, capture_output=True, text=True).stdout.count("\n?")
    assert missing_before >= 2  # the clone really lacks blobs
    rep = history_scan(str(pc), ScanOptions(jobs=1))
    assert blob_secrets(rep) == set(t.values())
    assert not [w for w in rep.warnings if w.kind in ("missing-object", "corrupt-object")]
    assert any("partial clone: fetched" in n and "origin" in n for n in rep.notes), rep.notes
    found = {f.secret: f for f in rep.findings}
    assert found[t["branch"]].refs == ("refs/remotes/origin/feature",)
    assert found[t["deleted"]].path == "old.env" and found[t["deleted"]].at_head is False


def test_blobless_clone_with_branch_and_partialclone_extension(server, tmp_path):
    """extensions.partialClone (older gits, `git fetch --filter`) must not stop libgit2 from opening it."""
    r, t = server
    pc = clone(r.path, tmp_path / "pc", "--filter=blob:none", "--no-checkout")
    subprocess.run(["git", "-C", str(pc), "config", "extensions.partialClone", "origin"], check=True)
    rep = history_scan(str(pc), ScanOptions(jobs=1), branch="origin/feature")
    assert blob_secrets(rep) == set(t.values())


@pytest.mark.parametrize("branch", [None, "origin/main"])
def test_unreachable_promisor_remote_names_every_blob_not_scanned(server, tmp_path, branch):
    r, _ = server
    pc = clone(r.path, tmp_path / "pc", "--filter=blob:none", "--no-checkout")
    shutil.rmtree(r.path)  # the remote is gone
    rep = history_scan(str(pc), ScanOptions(jobs=1), branch=branch)
    missing = [w for w in rep.warnings if w.kind == "missing-object"]
    want = subprocess.run(["git", "-C", str(pc), "rev-list", "--objects", "--missing=print",
                           branch or "--all"], check=True, capture_output=True, text=True).stdout
    oids = {ln[1:] for ln in want.splitlines() if ln.startswith("?")}
    assert oids and {w.message.split()[1] for w in missing} == oids
    assert any(w.path == "conf/app.yaml" for w in missing)
    # a local remote is served from a view of it, so a vanished one is said when the view is built
    assert any("promisor remote origin not used: its repository cannot be served" in n and "no such file" in n
               for n in rep.notes), rep.notes
    assert all("promisor remote origin not used" in w.message for w in missing)
    assert blob_secrets(rep) == set()


def test_partial_clone_without_git_binary_warns_instead_of_dropping(server, tmp_path):
    """The pygit2 path cannot fetch: it says what it could not read."""
    r, _ = server
    pc = clone(r.path, tmp_path / "pc", "--filter=blob:none", "--no-checkout")
    rep = history_scan(str(pc), ScanOptions(jobs=1), use_git=False)
    missing = [w for w in rep.warnings if w.kind == "missing-object"]
    assert len(missing) >= 3 and any(w.path == "conf/app.yaml" for w in missing)
