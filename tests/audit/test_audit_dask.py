"""Distributed audits on a real Dask cluster (LocalCluster, worker processes, loopback only)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
from test_audit import make_org

from scanner.audit.datastore import Datastore
from scanner.audit.runner import run_audit
from scanner.audit.targets import resolve
from scanner.pipeline.run import ScanOptions


def places(result) -> set[tuple]:
    return {(r.target.key, f.fingerprint, f.path, f.line, f.commit, f.at_head) for r in result.results
            for f in r.findings}


def test_local_cluster_gives_the_same_findings_and_shares_the_datastore(tmp_path):
    distributed = pytest.importorskip("distributed")
    from scanner.audit.distributed import DaskExecutor

    org = make_org(tmp_path / "org")
    targets = resolve([str(tmp_path / "org")], [], [])
    assert len(targets) == 4
    here = run_audit(targets, ScanOptions(jobs=1), Datastore(str(tmp_path / "local.db")),
                     cache_dir=str(tmp_path / "cache"))
    store = Datastore(str(tmp_path / "dask.db"))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        executor = DaskExecutor(cluster.scheduler_address)
        remote = run_audit(targets, ScanOptions(jobs=1), store, cache_dir=str(tmp_path / "cache"), executor=executor)
        assert executor.workers == 2
        pids = {r.target.key: r for r in remote.results}
        assert not any(r.error for r in remote.results)
        workers = {r.worker for r in remote.results}
        assert f"{socket.gethostname()}:{os.getpid()}" not in workers and 1 <= len(workers) <= 2
        assert places(remote) == places(here) and len(places(here)) >= 7
        # the client merged everything; the next distributed audit reads no blob at all
        assert store.counts()["scans"] == 4
        again = run_audit(targets, ScanOptions(jobs=1), store, cache_dir=str(tmp_path / "cache"), executor=executor)
    assert sum(len(r.record.blobs_read) for r in again.results) == 0
    assert places(again) == places(here)
    assert set(pids) == {os.path.realpath(p) for p in (org["alpha"], org["clean"], org["bare"], org["fork"])}


def test_cli_dask_local(tmp_path):
    pytest.importorskip("distributed")
    org = make_org(tmp_path / "org")
    run = subprocess.run([sys.executable, "-m", "scanner", "audit", str(org["alpha"]), str(org["fork"]),
                          "--dask-local", "2", "--datastore", str(tmp_path / "ds.db"), "--format", "json"],
                         capture_output=True, text=True, check=False, timeout=300)
    assert run.returncode == 1, run.stderr
    assert '"findings": 3' in run.stdout


def test_without_distributed_the_dask_options_exit_2_naming_the_extra(tmp_path):
    """A fresh interpreter where `import distributed` fails, as on an install without the extra."""
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "distributed.py").write_text("raise ImportError('not installed')\n")
    for option in (["--dask-local", "2"], ["--dask-scheduler", "tcp://127.0.0.1:1"]):
        run = subprocess.run([sys.executable, "-m", "scanner", "audit", str(tmp_path), *option, "--datastore",
                              ":memory:"], capture_output=True, text=True, check=False,
                             env={**os.environ, "PYTHONPATH": str(blocker)})
        assert run.returncode == 2
        assert "[dask]" in run.stderr and option[0] in run.stderr


def test_an_unreachable_scheduler_exits_2_naming_it(tmp_path):
    pytest.importorskip("distributed")
    import socket as s

    with s.socket() as sock:  # a port nothing listens on: bound, never accepting
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        run = subprocess.run([sys.executable, "-m", "scanner", "audit", str(tmp_path), "--datastore", ":memory:",
                              "--dask-scheduler", f"tcp://127.0.0.1:{port}"], capture_output=True, text=True,
                             check=False, timeout=120)
    assert run.returncode == 2 and f"tcp://127.0.0.1:{port}" in run.stderr and "Traceback" not in run.stderr
