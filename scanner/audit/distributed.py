"""Running an audit's repositories on a Dask cluster: one task per repository, merged here.

Workers never open the datastore (it may not be on their machine, and one writer keeps it simple): the
blobs already scanned under this rule set travel once to every worker as a broadcast snapshot, and each
task returns its TargetResult. The client merges results as they complete, so a long audit's datastore
fills in steadily and a lost worker costs only its own repositories (reported as broken targets).

`distributed` is an optional extra (`pip install '.[dask]'`); without it the options exit 2.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from scanner.audit.cache import Snapshot
from scanner.audit.datastore import Datastore
from scanner.audit.runner import AuditSpec, TargetResult, scan_target
from scanner.audit.targets import Target
from scanner.errors import UsageError

EXTRA_HINT = ("install the optional extra: pip install '.[dask]' in tokenscan's checkout, "
              "or pip install 'distributed>=2024.1'")


def require_distributed(option: str) -> Any:
    try:
        import distributed
    except ImportError:
        raise UsageError(f"{option} needs Dask's distributed package, which is not installed; {EXTRA_HINT}") from None
    return distributed


class DaskExecutor:
    """Executor for run_audit: a scheduler address, or a LocalCluster of n worker processes on loopback."""

    def __init__(self, scheduler: str | None = None, local_workers: int | None = None) -> None:
        self.scheduler, self.local_workers = scheduler, local_workers
        self.distributed = require_distributed("--dask-scheduler" if scheduler else "--dask-local")
        self.workers = 0

    def __call__(self, targets: list[Target], spec: AuditSpec, merge: Callable[[TargetResult], None],
                 store: Datastore) -> None:
        d = self.distributed
        cluster = None
        try:
            if self.scheduler:
                client = d.Client(self.scheduler, timeout="10s")
            else:
                with warnings.catch_warnings():  # "port 8787 in use, using another": loopback either way
                    warnings.simplefilter("ignore", UserWarning)
                    cluster = d.LocalCluster(n_workers=self.local_workers or 1, threads_per_worker=1,
                                             processes=True, host="127.0.0.1", dashboard_address=None,
                                             silence_logs=40)
                client = d.Client(cluster)
        except (OSError, TimeoutError, ValueError) as exc:
            if cluster is not None:
                cluster.close()
            where = self.scheduler or f"a local cluster of {self.local_workers}"
            raise UsageError(f"--dask-scheduler {where}: cannot connect: {exc}") from None
        try:
            self.workers = len(client.scheduler_info().get("workers", {}))
            # jobs=1 per task: the cluster's processes are the parallelism, and a worker's own process pool
            # would only compete with its neighbours (and daemonic workers may not fork pools)
            spec.opts.jobs = 1
            lookup = None
            if spec.incremental:
                clean, found = store.snapshot(spec.ruleset)
                snap = Snapshot(clean, found, tuple(store.covered(spec.ruleset)), store.commit_adds(spec.ruleset))
                lookup = client.scatter(snap, broadcast=True)
            futures = {client.submit(scan_target, t, spec, lookup, pure=False, key=f"tokenscan-{i}-{t.key[-40:]}"):
                       t for i, t in enumerate(targets)}
            for future in d.as_completed(futures):
                target = futures[future]
                try:
                    result = future.result()
                except Exception as exc:  # noqa: BLE001 - a worker died or the task failed: that target only
                    result = TargetResult(target, error=f"task failed on the cluster: {type(exc).__name__}: {exc}")
                merge(result)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
