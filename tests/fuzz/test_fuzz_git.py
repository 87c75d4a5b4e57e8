"""Fuzz: git repositories. Corrupt loose objects and packs (bytes flipped, truncated, emptied), refs
pointing nowhere or named with odd bytes, packed-refs garbage, shallow lists of nonsense, grafts, and odd
bytes in paths and commit messages. The planted secret lives on its own branch whose objects are never
touched, so it must be found whatever else is damaged; the scan never writes into the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from fuzzkit import PLANTED, SHOWN, run, tree_state
from gitrepo import ENV, Repo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def _git(repo: Path, *args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(["git", "-C", str(repo), *args], input=data, capture_output=True, check=True,
                          env={**os.environ, **ENV}).stdout


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> tuple[Path, set[str]]:
    """A repository with a history of loose objects on main and the secret alone on `secret`; returns
    (path, the object ids of the secret's branch: never damaged)."""
    r = Repo(tmp_path_factory.mktemp("gitfuzz") / "repo")
    for i in range(6):
        r.commit(f"c{i}", **{f"f{i}.txt": f"line {i}\n" * (i + 1)})
    r.git("checkout", "-q", "--orphan", "secret")
    r.git("rm", "-rfq", ".")
    r.commit("the secret", **{"app.env": f"CLOUDFLARE_API_TOKEN={PLANTED}\n"})
    r.git("checkout", "-q", "main")
    keep = set(_git(r.path, "rev-list", "--objects", "secret").decode().split()) - {"app.env"}
    r.git("repack", "-q")  # some objects packed, the same ones also loose: both readers are exercised
    for i in range(6, 9):
        r.commit(f"c{i}", **{f"f{i}.txt": f"after pack {i}\n"})
    return r.path, keep


DAMAGE = st.lists(st.tuples(st.sampled_from(["flip", "truncate", "empty", "garbage"]), st.integers(0, 10**6),
                            st.binary(min_size=1, max_size=8)), max_size=4)
REFS = st.lists(st.tuples(st.binary(min_size=1, max_size=12).map(lambda b: b.replace(b"/", b"_").replace(b"\0", b"_")),
                          st.one_of(st.text("0123456789abcdef", min_size=40, max_size=40).map(str.encode),
                                    st.binary(max_size=60), st.just(b"ref: refs/heads/loop"))), max_size=3)


def _objects(repo: Path, keep: set[str]) -> list[Path]:
    out = []
    objects = repo / ".git" / "objects"
    for d in sorted(objects.iterdir()):
        if len(d.name) == 2:
            out += [p for p in sorted(d.iterdir()) if d.name + p.name not in keep]
    return out + sorted((objects / "pack").glob("*.pack")) + sorted((objects / "pack").glob("*.idx"))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
          max_examples=settings.default.max_examples * 2 // 3)  # a repository per example: two thirds
@given(damage=DAMAGE, refs=REFS, shallow=st.one_of(st.none(), st.binary(max_size=100)),
       grafts=st.one_of(st.none(), st.binary(max_size=100)), odd=st.booleans())
def test_damaged_histories(base, damage, refs, shallow, grafts, odd):
    src, keep = base
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        shutil.copytree(src, repo, symlinks=True)
        if odd:  # a path and a message that are not UTF-8, and control characters in both
            blob = _git(repo, "hash-object", "-w", "--stdin", data=b"hello\n").strip()
            tree = _git(repo, "mktree", data=b"100644 blob " + blob + b"\tbad\xff\x1b[2Jname.txt\n").strip()
            commit = _git(repo, "commit-tree", tree.decode(), "-m", "msg \udcff".encode("utf-8", "surrogateescape")
                          .decode("latin-1")).strip()
            _git(repo, "update-ref", "refs/heads/odd", commit.decode())
        targets = _objects(repo, keep)
        for how, where, data in damage:
            if not targets:
                break
            path = targets[where % len(targets)]
            path.chmod(0o644)
            raw = path.read_bytes()
            if how == "flip" and raw:
                i = where % len(raw)
                raw = raw[:i] + bytes([raw[i] ^ (data[0] or 1)]) + raw[i + 1:]
            elif how == "truncate":
                raw = raw[:where % (len(raw) + 1)]
            elif how == "empty":
                raw = b""
            else:
                raw = data + raw[len(data):]
            path.write_bytes(raw)
        heads = repo / ".git" / "refs" / "heads"
        for name, value in refs:
            if name in (b".", b"..", b"secret", b"main"):
                continue
            (Path(os.fsdecode(os.fsencode(heads) + b"/" + name))).write_bytes(value + b"\n")
        if shallow is not None:
            (repo / ".git" / "shallow").write_bytes(shallow)
        if grafts is not None:
            (repo / ".git" / "info").mkdir(exist_ok=True)
            (repo / ".git" / "info" / "grafts").write_bytes(grafts)
        before = tree_state(repo)
        r = run(["history", "--jobs", "1", "--no-color", str(repo)])
        assert tree_state(repo) == before  # nothing written into the scanned repository
        if r.code != 2:
            assert SHOWN in r.output, r.output[-800:]  # the untouched branch is always scanned
        else:
            assert r.output.startswith("tokenscan: error:") and r.output.count("\n") == 1, r.output
