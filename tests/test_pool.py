"""The process pool path gives what the in-process path gives, and its failures reach the caller.

Every test input is far below scan.IN_PROCESS_BYTES, so without ScanOptions.in_process_bytes=0 the pool
would never run in the suite and a broken pool would leave it green.
"""

from __future__ import annotations

import functools
import io
import multiprocessing
import os
import zipfile

import pytest
from gitrepo import Repo
from tokens import cloudflare, github

from scanner.pipeline import workers as scan
from scanner.pipeline.run import ScanOptions, history_scan, scan_paths, staged_scan
from scanner.report import Report


def _opts(pool: bool) -> ScanOptions:
    return ScanOptions(jobs=2, list_skipped=True, in_process_bytes=0 if pool else 1 << 60)


def _seen(report: Report) -> tuple[list[tuple], list[tuple], int, int]:
    """Everything a report says about what was found and what was not scanned (not timings)."""
    findings = [(f.rule_id, f.path, f.line, f.column, f.secret, f.source, f.encoding, f.member, f.commit, f.author,
                 f.date, f.refs, f.at_head, f.blob, f.checksum) for f in report.findings]
    warnings = sorted((w.kind, w.message, w.path or "") for w in report.warnings)
    return findings, warnings, report.bytes_scanned, report.items_scanned


@pytest.fixture
def pool_pids(tmp_path, monkeypatch):
    """Records the pid of every process that scans a batch through the pool (a file per pid)."""
    marks = tmp_path / "pids"
    marks.mkdir()
    real = scan._worker_batch

    @functools.wraps(real)  # same module and name: the pool pickles it by reference
    def recording(batch):
        (marks / str(os.getpid())).touch()
        return real(batch)

    monkeypatch.setattr(scan, "_worker_batch", recording)
    return lambda: {int(p.name) for p in marks.iterdir()}


def _tree(root) -> None:
    """Many small files (several batches), tokens in some, one in a zip, a binary and a symlink (warnings)."""
    root.mkdir()
    for i in range(1200):  # > BATCH_ITEMS: more than one batch
        (root / f"f{i:04d}.txt").write_text(f"x = {i}\n" + (f"T={cloudflare('cfut_', i)}\n" if i % 97 == 0 else ""))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("inner/.env", f"GH={github('ghp_', 7)}\n")
    (root / "bundle.zip").write_bytes(buf.getvalue())
    (root / "blob.bin").write_bytes(b"\x00\x01\x02" * 100)
    (root / "link").symlink_to(root / "f0000.txt")


def test_files_pool_matches_in_process(tmp_path, pool_pids):
    _tree(tmp_path / "t")
    inproc = scan_paths([str(tmp_path / "t")], _opts(pool=False))
    assert pool_pids() == set()
    pooled = scan_paths([str(tmp_path / "t")], _opts(pool=True))
    assert pool_pids() and os.getpid() not in pool_pids()
    assert _seen(pooled) == _seen(inproc)
    assert len(inproc.findings) == 14 and {w[0] for w in _seen(inproc)[1]} >= {"binary", "symlink"}


def _history_repo(path) -> Repo:
    r = Repo(path)
    r.commit("one", **{"a.env": f"A={cloudflare('cfut_', 1)}\n", "b.txt": "plain\n"})
    r.git("checkout", "-q", "-b", "side")
    r.commit(f"side\n\nleaked {github('ghp_', 2)}", **{"c.env": f"C={cloudflare('cfat_', 3)}\n"})
    r.git("checkout", "-q", "main")
    r.commit("two", **{"a.env": "A=rotated\n", "d.bin": "\x00binary\x00"})
    return r


def test_history_pool_matches_in_process(tmp_path, pool_pids):
    r = _history_repo(tmp_path / "h")
    inproc = history_scan(str(r.path), _opts(pool=False))
    pooled = history_scan(str(r.path), _opts(pool=True))
    assert pool_pids() and os.getpid() not in pool_pids()
    assert _seen(pooled) == _seen(inproc)
    assert {f.source for f in inproc.findings} == {"blob", "commit-message"}
    assert all(f.commit and f.author for f in pooled.findings)


def test_staged_pool_matches_in_process(tmp_path, pool_pids):
    r = Repo(tmp_path / "s")
    r.commit("base", **{"a.env": "A=1\n"})
    r.write("a.env", f"A=1\nB={cloudflare('cfut_', 5)}\n")
    r.write("new.env", f"N={github('ghp_', 6)}\n")
    r.git("add", "-A")
    inproc = staged_scan(str(r.path), _opts(pool=False))
    pooled = staged_scan(str(r.path), _opts(pool=True))
    assert pool_pids() and os.getpid() not in pool_pids()
    assert _seen(pooled) == _seen(inproc)
    assert [(f.path, f.line, f.source) for f in inproc.findings] == [("a.env", 2, "staged"), ("new.env", 1, "staged")]


def test_pool_failure_reaches_the_caller(tmp_path, monkeypatch):
    """A worker that fails outside the per-item guard is an error for the caller, never a quiet partial
    scan, and no worker is left behind."""
    _tree(tmp_path / "t")

    @functools.wraps(scan._worker_batch)
    def broken(batch):
        raise RuntimeError("worker died")

    monkeypatch.setattr(scan, "_worker_batch", broken)
    with pytest.raises(RuntimeError, match="worker died"):
        scan_paths([str(tmp_path / "t")], _opts(pool=True))
    assert multiprocessing.active_children() == []
    assert len(scan_paths([str(tmp_path / "t")], _opts(pool=False)).findings) == 14  # in-process: unaffected


def test_read_error_in_a_worker_is_a_warning(tmp_path, monkeypatch):
    """An item that breaks its reader inside a worker is named, as it is in-process."""
    from scanner.sources.files import FileReader

    _tree(tmp_path / "t")
    real = FileReader.read

    def read(self, item, warnings):
        if item.path.endswith("f0097.txt"):
            raise ValueError("odd item")
        return real(self, item, warnings)

    monkeypatch.setattr(FileReader, "read", read)
    seen = [_seen(scan_paths([str(tmp_path / "t")], _opts(pool=p))) for p in (False, True)]
    assert seen[0] == seen[1]
    assert [w for w in seen[1][1] if w[0] == "read-error"] == [
        ("read-error", "internal error while scanning (ValueError): not fully scanned; please report it",
         str(tmp_path / "t" / "f0097.txt"))]
