"""Runs the engine over a source's items on every core and gathers findings, warnings and counts.

Items are grouped into batches of roughly equal bytes so per-item overhead stays small; workers are forked
(where the platform allows) so the compiled engine is inherited rather than rebuilt per process.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Protocol, Sequence

from scanner import hints
from scanner.engine import Engine
from scanner.findings import Finding, Warning, from_match
from scanner.sources import Chunk
from scanner.suppress import INLINE_MARKERS

BATCH_BYTES = 4 << 20
BATCH_ITEMS = 512
IN_PROCESS_BYTES = 8 << 20  # below this a pool costs more than it saves (pre-commit runs)


class Reader(Protocol):
    def read(self, item: object, warnings: list[Warning]) -> Iterator[Chunk]: ...


@dataclass
class BatchResult:
    findings: list[Finding] = field(default_factory=list)
    warnings: list[Warning] = field(default_factory=list)
    bytes_scanned: int = 0
    items_scanned: int = 0


@dataclass
class ScanResult:
    findings: list[Finding]
    warnings: list[Warning]
    bytes_scanned: int
    items_scanned: int
    duration_s: float


def scan_chunk(engine: Engine, chunk: Chunk, warnings: list[Warning] | None = None) -> list[Finding]:
    """warnings (optional) receives the engine's warnings for this chunk (a rule over its time budget)."""
    out = []
    raised: list[tuple[str, str]] = []
    matches = engine.scan(chunk.data, path=chunk.path, warnings=raised)
    if warnings is not None:
        warnings.extend(Warning(kind, message, chunk.path) for kind, message in dict.fromkeys(raised))
    for m in matches:
        f = from_match(m, chunk.data, chunk.path, chunk.source, chunk.line_base, chunk.offset_base)
        if chunk.encoding != "plain":
            f.encoding = chunk.encoding if f.encoding == "plain" else f"{chunk.encoding}+{f.encoding}"
        f.context_hints = hints.collect(f.verify_kind, chunk.data, m.start, m.end)
        lo = chunk.data.rfind(b"\n", 0, m.start) + 1
        hi = chunk.data.find(b"\n", m.end)
        line = chunk.data[lo:hi if hi >= 0 else len(chunk.data)]
        f.inline_allowed = any(marker in line for marker in INLINE_MARKERS)
        for k, v in chunk.meta.items():
            setattr(f, k, v)
        out.append(f)
    return out


def _scan_batch(engine: Engine, reader: Reader, batch: Sequence[object]) -> BatchResult:
    res = BatchResult()
    prepare = getattr(reader, "prepare", None)
    if prepare is not None:  # readers that fetch a batch at once (git cat-file)
        prepare(batch)
    for item in batch:
        read_any = False
        try:
            for chunk in reader.read(item, res.warnings):
                read_any = True
                res.bytes_scanned += len(chunk.data)
                res.findings.extend(scan_chunk(engine, chunk, res.warnings))
        except Exception as exc:  # a bug on one odd item must not cost the whole run, nor pass silently
            if os.environ.get("TOKENSCAN_DEBUG"):
                raise
            # the exception's text is not shown: it could quote the content being read
            res.warnings.append(Warning("read-error", f"internal error while scanning ({type(exc).__name__}): "
                                        "not fully scanned; please report it", getattr(item, "path", None)))
        res.items_scanned += read_any
    return res


_WORKER: dict = {}


def _worker_init(engine: Engine | None, reader: Reader | None) -> None:
    """Ctrl-C reaches the whole process group: the parent alone decides, and ends workers with SIGTERM,
    which in a worker simply ends it (its git helpers then see their pipes close and end too)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if engine is not None:  # spawn: state arrives pickled; fork: inherited in _WORKER already
        _WORKER["engine"], _WORKER["reader"] = engine, reader


def _worker_batch(batch: Sequence[object]) -> BatchResult:
    return _scan_batch(_WORKER["engine"], _WORKER["reader"], batch)


def batches(items: Sequence[object], size_of: Callable[[object], int]) -> Iterator[list[object]]:
    batch: list[object] = []
    total = 0
    for item in items:
        batch.append(item)
        total += size_of(item)
        if total >= BATCH_BYTES or len(batch) >= BATCH_ITEMS:
            yield batch
            batch, total = [], 0
    if batch:
        yield batch


def run(engine: Engine, reader: Reader, items: Sequence[object], size_of: Callable[[object], int],
        jobs: int, progress: Callable[[int, int, int, int], None] | None = None) -> ScanResult:
    """Scan every item; progress(items done, items, bytes done, bytes) is called as batches finish."""
    started = time.perf_counter()
    total = BatchResult()
    total_bytes = sum(size_of(i) for i in items)
    done_items = done_bytes = 0
    groups = list(batches(items, size_of))
    results: Iterable[BatchResult]
    pool = None
    if jobs <= 1 or total_bytes < IN_PROCESS_BYTES or len(groups) < 2:
        results = (_scan_batch(engine, reader, g) for g in groups)
    else:  # imported here: pre-commit runs never pay for multiprocessing
        import multiprocessing

        methods = multiprocessing.get_all_start_methods()
        if "fork" in methods:
            _WORKER["engine"], _WORKER["reader"] = engine, reader
            pool = multiprocessing.get_context("fork").Pool(jobs, _worker_init, (None, None))
        else:  # pragma: no cover - non-POSIX
            pool = multiprocessing.Pool(jobs, _worker_init, (engine, reader))
        results = pool.imap(_worker_batch, groups, chunksize=1)
    try:
        for group, r in zip(groups, results):
            total.findings.extend(r.findings)
            total.warnings.extend(r.warnings)
            total.bytes_scanned += r.bytes_scanned
            total.items_scanned += r.items_scanned
            if progress is not None:
                done_items += len(group)
                done_bytes += sum(size_of(i) for i in group)
                progress(done_items, len(items), done_bytes, total_bytes)
        if pool is not None:
            pool.close()  # every batch is in: workers exit on their own, closing their git helpers
    finally:
        if pool is not None:
            if sys.exc_info()[0] is not None:
                pool.terminate()  # an interrupt or an error: SIGTERM to every worker
            pool.join()
            _WORKER.clear()
        close = getattr(reader, "close", None)
        if close is not None:  # the parent's own helpers (in-process scans)
            close()
    return ScanResult(total.findings, total.warnings, total.bytes_scanned, total.items_scanned,
                      time.perf_counter() - started)


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
