"""Fuzz: datastores. A real audit's datastore truncated, bytes flipped, another program's SQLite database,
a newer schema, random bytes, and two writers at once. A command that cannot use the file exits 2 naming
it and leaves its bytes exactly as they were; one that can, works."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from fuzzkit import PLANTED, run
from gitrepo import Repo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.audit.datastore import SCHEMA_VERSION


@pytest.fixture(scope="module")
def audited(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("dsfuzz")
    repo = Repo(root / "repo")
    repo.commit("init", **{"app.env": f"T={PLANTED}\n"})
    ds = root / "ds.db"
    assert run(["audit", str(repo.path), "--datastore", str(ds), "--cache-dir", str(root / "c")]).code == 1
    return repo.path, ds


def _digest(p: Path) -> str | None:
    return hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else None


def _other_program(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE findings (x)")
    db.execute("CREATE TABLE notes (body TEXT)")
    db.execute("PRAGMA user_version = 7")
    db.commit()
    db.close()


def _newer(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()


MANGLE = st.one_of(
    st.tuples(st.just("truncate"), st.integers(0, 200_000)),
    st.tuples(st.just("flip"), st.integers(0, 200_000)),
    st.tuples(st.just("random"), st.binary(max_size=400)),
    st.tuples(st.just("other-program"), st.none()),
    st.tuples(st.just("newer-schema"), st.none()),
    st.tuples(st.just("intact"), st.none()),
)
COMMANDS = st.sampled_from(["findings", "triage-set", "audit", "export"])


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture],
          max_examples=settings.default.max_examples * 2 // 3)
@given(mangle=MANGLE, command=COMMANDS)
def test_damaged_datastores(audited, mangle, command):
    repo, good = audited
    how, arg = mangle
    with tempfile.TemporaryDirectory() as tmp:
        ds = Path(tmp) / "ds.db"
        if how == "random":
            ds.write_bytes(arg)
        elif how == "other-program":
            _other_program(ds)
        else:
            shutil.copy(good, ds)
            raw = ds.read_bytes()
            if how == "truncate":
                ds.write_bytes(raw[:arg % (len(raw) + 1)])
            elif how == "flip" and raw:
                i = arg % len(raw)
                ds.write_bytes(raw[:i] + bytes([raw[i] ^ 0xFF]) + raw[i + 1:])
            elif how == "newer-schema":
                _newer(ds)
        before = _digest(ds)
        args = {"findings": ["findings", "--datastore", str(ds)],
                "triage-set": ["triage", "set", "0123456789abcdef", "revoked", "--datastore", str(ds)],
                "audit": ["audit", str(repo), "--datastore", str(ds), "--cache-dir", os.path.join(tmp, "c")],
                "export": ["triage", "export", "--datastore", str(ds), "-o", os.path.join(tmp, "out.json")]}[command]
        r = run(args)
        if r.code == 2:
            assert _digest(ds) == before, "a failed command changed the datastore"
            assert str(ds) in r.output or "ds.db" in r.output or "fingerprint" in r.output, r.output
        if how == "intact" and command in ("findings", "audit"):
            assert r.code in (0, 1) and PLANTED[-4:] in r.output


def test_two_writers_at_once(audited, tmp_path):
    """Two audits and a triage writing one datastore together: all succeed, the file stays sound."""
    repo, good = audited
    ds = tmp_path / "ds.db"
    shutil.copy(good, ds)
    cmds = [[sys.executable, "-m", "scanner", "audit", str(repo), "--datastore", str(ds), "--full",
             "--cache-dir", str(tmp_path / "c")]] * 2
    cmds.append([sys.executable, "-m", "scanner", "triage", "set", "0123456789abcdef", "revoked",
                 "--datastore", str(ds)])
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in cmds]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs][:2] == [1, 1], outs
    assert "Traceback" not in "".join(o + e for o, e in outs)
    db = sqlite3.connect(ds)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
