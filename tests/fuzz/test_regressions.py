"""Failures the fuzz suite found, kept as plain tests so every run checks them without the fuzzer's luck."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

from fuzzkit import PLANTED, SHOWN, run
from gitrepo import ENV, Repo


def test_verify_stdin_line_that_is_not_utf8(tmp_path):
    r = run(["verify", "-", "--no-color"], stdin=b"cfut_\xff\xfe\n")
    assert r.code == 0 and "not-utf8: (stdin line 1)" in r.output


def test_a_control_character_in_a_file_name_never_reaches_the_terminal(tmp_path):
    (tmp_path / "a\x1b[2Jb\x01.env").write_text(f"T={PLANTED}\n")
    r = run(["scan", "--jobs", "1", "--no-color", str(tmp_path)])
    assert r.code == 1 and "a\\x1b[2Jb\\x01.env:1:" in r.output and "\x1b" not in r.output
    doc = json.loads(run(["scan", "--jobs", "1", "--format", "json", str(tmp_path)]).output)
    assert doc["findings"][0]["path"].endswith("a\x1b[2Jb\x01.env")  # JSON names the real file


def test_a_damaged_shallow_list_is_a_warning_not_an_unopenable_repository(tmp_path):
    r = Repo(tmp_path / "r")
    r.commit("init", **{"app.env": f"T={PLANTED}\n"})
    (r.path / ".git" / "shallow").write_bytes(b"\x00not an id\n")
    res = run(["history", "--jobs", "1", "--no-color", str(r.path)])
    assert res.code == 1 and SHOWN in res.output
    assert "unreadable: shallow: lines that are not object ids were ignored" in res.output
    assert "tokenscan-view-" not in res.output


def test_a_datastore_row_that_is_not_utf8_is_exit_2_naming_the_file(tmp_path):
    repo = Repo(tmp_path / "repo")
    repo.commit("init", **{"app.env": f"T={PLANTED}\n"})
    ds = tmp_path / "ds.db"
    assert run(["audit", str(repo.path), "--datastore", str(ds), "--cache-dir", str(tmp_path / "c")]).code == 1
    raw = ds.read_bytes()
    at = raw.index(b"CREATE TABLE") + 3  # the schema's own text, as the fuzzer's flipped byte 419 hit it
    ds.write_bytes(raw[:at] + bytes([raw[at] ^ 0xFF]) + raw[at + 1:])
    before = ds.read_bytes()
    for args in (["findings"], ["triage", "export", "-o", str(tmp_path / "x.json")]):
        res = run([*args, "--datastore", str(ds)])
        assert res.code == 2 and str(ds) in res.output and "damaged datastore" in res.output, res.output
        assert ds.read_bytes() == before


def test_a_damaged_git_dir_is_named_never_its_parent_repository(tmp_path):
    outer = Repo(tmp_path / "outer")
    outer.commit("outer", **{"o.env": f"T={PLANTED}\n"})
    inner = tmp_path / "outer" / "inner"
    inner.mkdir()
    subprocess.run(["git", "init", "-q", str(inner)], check=True, env={**os.environ, **ENV})
    (inner / ".git" / "HEAD").write_bytes(b"garbage")
    res = run(["history", "--no-color", str(inner)])
    assert res.code == 2 and f"{inner}/.git: not a valid git directory" in res.output
    shutil.rmtree(inner)
