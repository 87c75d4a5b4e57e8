"""No orphan git helpers (issue 9): after `tokenscan history` or `staged` exits, nothing it started runs on.

The repository is large enough (> scan.IN_PROCESS_BYTES of blobs) for the worker pool, so each worker's
`git cat-file --batch` is exercised; processes are found by scanning /proc for a command line naming the
temporary repository (no psutil).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clirun import tokenscan as cli
from gitrepo import Repo
from tokens import cloudflare

from scanner.pipeline import workers as scan
from scanner.sources.blobs import CatFile, GitReader

pytestmark = pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")


def processes_naming(text: str) -> list[tuple[int, str]]:
    """(pid, command line) of every live process whose command line contains text."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            raw = Path(f"/proc/{entry}/cmdline").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        cmd = raw.replace(b"\0", b" ").decode("utf-8", "replace")
        if text in cmd and state != "Z":
            out.append((int(entry), cmd))
    return out


@pytest.fixture(scope="module")
def big_repo(tmp_path_factory):
    r = Repo(tmp_path_factory.mktemp("procs") / "bigrepo")
    per_file = 1 << 20
    files = {f"data__f{i:02d}.txt": os.urandom(per_file // 2).hex() + "\n" for i in range(scan.IN_PROCESS_BYTES // per_file + 5)}
    files["s.env"] = f"T={cloudflare('cfut_', 81)}\n"
    r.commit("big", **files)
    return r


@pytest.mark.parametrize("extra", [[], ["--branch", "main"]])
def test_history_leaves_no_process_behind(big_repo, extra):
    res = cli("history", str(big_repo.path), "-j", "2", *extra)
    assert res.returncode == 1, res.stderr
    assert processes_naming(str(big_repo.path)) == []


def test_staged_leaves_no_process_behind(big_repo):
    big_repo.write("new.env", f"N={cloudflare('cfat_', 82)}\n")
    big_repo.git("add", "new.env")
    try:
        res = cli("staged", str(big_repo.path))
        assert res.returncode == 1, res.stderr
        assert processes_naming(str(big_repo.path)) == []
    finally:
        big_repo.git("rm", "-q", "--cached", "new.env")


@pytest.mark.parametrize("jobs", [1, 2])
def test_history_scan_returns_with_no_git_process_running(big_repo, jobs):
    """In-process: the caller's own cat-file (jobs=1) and every worker's (jobs=2) are ended and reaped."""
    from scanner.pipeline.run import ScanOptions, history_scan, staged_scan

    rep = history_scan(str(big_repo.path), ScanOptions(jobs=jobs))
    assert [f.secret for f in rep.findings] == [cloudflare("cfut_", 81)]
    assert processes_naming(str(big_repo.path)) == []
    staged_scan(str(big_repo.path), ScanOptions())
    assert processes_naming(str(big_repo.path)) == []


def test_catfile_close_reaps_and_is_idempotent(big_repo):
    cf = CatFile(str(big_repo.path / ".git"))
    pid = cf.proc.pid
    cf.request([big_repo.git("rev-parse", "HEAD:s.env")])
    cf.close()
    cf.close()
    assert not Path(f"/proc/{pid}").exists() or "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
    assert processes_naming(str(big_repo.path)) == []


def test_reader_close_after_an_exception_mid_batch(big_repo):
    """A reader that stops half-way (an exception in the caller) still ends its cat-file on close()."""
    from scanner.sources.blobs import BlobItem

    reader = GitReader(str(big_repo.path / ".git"))
    oid = big_repo.git("rev-parse", "HEAD:s.env")
    items = [BlobItem(oid, "s.env", 10)] * 5
    reader.prepare(items)
    chunks = list(reader.read(items[0], []))
    assert chunks and b"cfut_" in chunks[0].data
    assert processes_naming(str(big_repo.path))  # running, with four answers unread
    reader.close()
    reader.close()
    assert processes_naming(str(big_repo.path)) == []
