"""Damaged object stores: every unreadable object is a named warning and the scan goes on (issue 9).

Each case builds a real repository with the git binary, then damages one blob the way disks and
interrupted copies do: garbage in a loose object, a truncated or empty loose object, a truncated pack, a
pack with one flipped bit. The scan must name the object, find the credential in the rest, and never raise,
on the git-binary path and the pygit2 path, for the whole history and for --branch.
"""

from __future__ import annotations

import os
import subprocess
import zlib
from pathlib import Path

import pytest
from gitrepo import Repo
from tokens import cloudflare

from scanner.pipeline.run import ScanOptions, history_scan
from scanner.sources.blobs import CorruptObject, read_loose

KINDS = ["garbage-loose", "truncated-loose", "empty-loose", "truncated-pack", "bitflip-pack"]


def _loose_path(r: Repo, oid: str) -> Path:
    return r.path / ".git" / "objects" / oid[:2] / oid[2:]


def _pack_alone(r: Repo, oid: str) -> Path:
    """Moves one blob out of the loose store into a pack of its own; returns the .pack file."""
    out = subprocess.run(["git", "-C", str(r.path), "pack-objects", "-q", ".git/objects/pack/pack"],
                         input=f"{oid}\n", check=True, capture_output=True, text=True).stdout.strip()
    _loose_path(r, oid).unlink()
    return r.path / ".git" / "objects" / "pack" / f"pack-{out}.pack"


def damage(r: Repo, oid: str, kind: str) -> None:
    if kind.endswith("-loose"):
        p = _loose_path(r, oid)
        p.chmod(0o644)
        raw = p.read_bytes()
        p.write_bytes({"garbage-loose": b"this is not zlib", "truncated-loose": raw[:len(raw) // 2],
                       "empty-loose": b""}[kind])
        return
    pack = _pack_alone(r, oid)
    pack.chmod(0o644)
    raw = bytearray(pack.read_bytes())
    if kind == "truncated-pack":
        pack.write_bytes(bytes(raw[:len(raw) * 2 // 3]))
    else:
        raw[len(raw) // 2] ^= 0x10
        pack.write_bytes(bytes(raw))


@pytest.fixture
def damaged_repo(tmp_path, request):
    kind = request.param
    r = Repo(tmp_path / kind)
    tok = cloudflare("cfut_", 31)
    r.commit("one", **{"a.txt": "fine\n", "victim.txt": os.urandom(3000).hex() + "\n"})
    r.commit("two", **{"s.env": f"CF={tok}\n", "b.txt": "also fine\n"})
    victim = r.git("rev-parse", "HEAD:victim.txt")
    damage(r, victim, kind)
    return r, victim, tok


@pytest.mark.parametrize("damaged_repo", KINDS, indirect=True)
@pytest.mark.parametrize("use_git", [True, False])
@pytest.mark.parametrize("branch", [None, "main"])
def test_damaged_blob_is_a_named_warning_and_the_scan_goes_on(damaged_repo, use_git, branch):
    r, victim, tok = damaged_repo
    rep = history_scan(str(r.path), ScanOptions(jobs=1), branch=branch, use_git=use_git)
    named = [w for w in rep.warnings if victim in w.message]
    assert named, [(w.kind, w.message) for w in rep.warnings]
    assert {w.kind for w in named} == {"corrupt-object"}, [(w.kind, w.message) for w in named]
    assert [f.secret for f in rep.findings] == [tok]
    assert rep.findings[0].path == "s.env" and rep.findings[0].refs == (branch or "refs/heads/main",)


def test_cli_on_a_damaged_repository_exits_normally(tmp_path):
    r = Repo(tmp_path / "cli")
    tok = cloudflare("cfat_", 32)
    r.commit("one", **{"victim.txt": "x" * 100 + "\n", "s.env": f"T={tok}\n"})
    victim = r.git("rev-parse", "HEAD:victim.txt")
    damage(r, victim, "garbage-loose")
    import sys

    res = subprocess.run([sys.executable, "-m", "scanner", "history", str(r.path), "--format", "json"],
                         check=False, capture_output=True, text=True)
    assert res.returncode == 1 and "Traceback" not in res.stderr and "internal error" not in res.stderr
    assert victim in res.stdout and "corrupt-object" in res.stdout


def test_read_loose_checks_the_whole_object(tmp_path):
    """libgit2 loops forever on a truncated loose object, so loose objects are checked in Python first."""
    r = Repo(tmp_path / "l")
    r.commit("one", a="hello\n")
    oid = r.git("rev-parse", "HEAD:a")
    assert read_loose(str(r.path / ".git"), oid) == ("blob", b"hello\n")
    assert read_loose(str(r.path / ".git"), "0" * 40) is None
    p = _loose_path(r, oid)
    p.chmod(0o644)
    good = p.read_bytes()
    for bad in (good[:-3], b"", b"junk", zlib.compress(b"blob 9\0hello\n"), zlib.compress(b"blob 6\0HELLO\n")):
        p.write_bytes(bad)
        with pytest.raises(CorruptObject):
            read_loose(str(r.path / ".git"), oid)


@pytest.mark.parametrize("use_git", [True, False])
@pytest.mark.parametrize("branch", [None, "main"])
def test_deleted_object_is_a_missing_object_warning_with_its_path(tmp_path, use_git, branch):
    """A blob a tree names but the store lacks: the whole-history listing reads only the store, so a tree
    walk beside the scan finds it; it is named, with its path."""
    r = Repo(tmp_path / "gone")
    tok = cloudflare("cfk_", 33)
    r.commit("one", **{"lost.txt": "gone\n", "s.env": f"K={tok}\n"})
    lost = r.git("rev-parse", "HEAD:lost.txt")
    _loose_path(r, lost).unlink()
    rep = history_scan(str(r.path), ScanOptions(jobs=1), branch=branch, use_git=use_git)
    named = [(w.kind, w.path) for w in rep.warnings if lost in w.message]
    assert named == [("missing-object", "lost.txt")], [(w.kind, w.message) for w in rep.warnings]
    assert [f.secret for f in rep.findings] == [tok]


SCAN_IN_CHILD = """
import json, sys
from scanner.pipeline.run import ScanOptions, history_scan
rep = history_scan(sys.argv[1], ScanOptions(jobs=1), branch=sys.argv[2] or None, use_git=sys.argv[3] == "1")
print(json.dumps({"warnings": [[w.kind, w.message] for w in rep.warnings], "secrets": [f.secret for f in rep.findings]}))
"""


@pytest.mark.parametrize("what", ["commit", "tree"])
@pytest.mark.parametrize("use_git", [True, False])
@pytest.mark.parametrize("branch", ["", "main"])
def test_truncated_loose_commit_or_tree_does_not_hang(tmp_path, what, use_git, branch):
    """libgit2 1.9 never returns from inflating a truncated loose object; the scan runs in a child with a
    deadline so a regression fails instead of hanging the suite."""
    import json
    import sys

    r = Repo(tmp_path / "t")
    r.commit("one", **{"a.txt": "1\n"})
    r.commit("two", **{"b.txt": "2\n"})
    late = cloudflare("cfut_", 34)
    r.commit("three", **{"s.env": f"T={late}\n"})
    victim = r.git("rev-parse", "HEAD~1" if what == "commit" else "HEAD~1^{tree}")
    p = _loose_path(r, victim)
    p.chmod(0o644)
    p.write_bytes(p.read_bytes()[:-6])
    res = subprocess.run([sys.executable, "-c", SCAN_IN_CHILD, str(r.path), branch, "1" if use_git else "0"],
                         check=False, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert any(kind == "corrupt-object" and victim in msg for kind, msg in out["warnings"]), out["warnings"]
    assert late in out["secrets"]


def test_a_walk_beside_the_scan_that_fails_is_done_by_pygit2(tmp_path, monkeypatch):
    """The missing-object check runs rev-list beside the scan; when it fails, pygit2's walk names what it
    could not read instead, and the scan's findings stand."""
    import scanner.sources.git as gitsrc

    monkeypatch.setattr(gitsrc.Beside, "output", lambda self: self.close())
    r = Repo(tmp_path / "nowalk")
    tok = cloudflare("cfk_", 34)
    r.commit("one", **{"lost.txt": "gone\n", "s.env": f"K={tok}\n"})
    lost = r.git("rev-parse", "HEAD:lost.txt")
    _loose_path(r, lost).unlink()
    rep = history_scan(str(r.path), ScanOptions(jobs=1))
    assert [w.kind for w in rep.warnings if lost in w.message] == ["missing-object"]
    assert [(f.secret, f.path) for f in rep.findings] == [(tok, "s.env")]
