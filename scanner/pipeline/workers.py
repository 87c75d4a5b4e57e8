"""Runs the engine over a source's items on every core and gathers findings, warnings and counts.

Items are grouped into batches of roughly equal bytes so per-item overhead stays small; workers are forked
(where the platform allows) so the compiled engine is inherited rather than rebuilt per process.
"""

from __future__ import annotations

import itertools
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Protocol, Sequence, TypeVar

from scanner.engine.matcher import Engine
from scanner.findings import Finding, Warning, from_match
from scanner.findings.suppress import INLINE_MARKERS
from scanner.sources import Chunk

BATCH_BYTES = 4 << 20
BATCH_ITEMS = 512
IN_PROCESS_BYTES = 8 << 20  # below this a pool costs more than it saves (pre-commit runs)


ItemT = TypeVar("ItemT")
ItemT_contra = TypeVar("ItemT_contra", contravariant=True)


class Reader(Protocol[ItemT_contra]):
    """Reads one kind of item (FileItem, BlobItem, ...) into chunks; problems go to warnings."""

    def read(self, item: ItemT_contra, warnings: list[Warning]) -> Iterator[Chunk]: ...


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


def scan_chunk(engine: Engine, chunk: Chunk, warnings: list[Warning] | None = None, binary: bool = False
               ) -> list[Finding]:
    """warnings (optional) receives the engine's warnings for this chunk (a rule over its time budget).
    binary: the reader was asked for binary content (--include-binary), which the engine then decodes too."""
    out = []
    raised: list[tuple[str, str]] = []
    matches = engine.scan(chunk.data, path=chunk.path, warnings=raised, binary=binary)
    if raised and warnings is not None:
        warnings.extend(Warning(kind, message, chunk.path) for kind, message in dict.fromkeys(raised))
    if matches:
        from scanner.verify import hints  # here: a clean chunk (most of them) needs no verifier's code
    for m in matches:
        lo = chunk.data.rfind(b"\n", 0, m.start) + 1
        hi = chunk.data.find(b"\n", m.end)
        line = chunk.data[lo:hi if hi >= 0 else len(chunk.data)]
        out.append(from_match(m, chunk.data, chunk.path, chunk.source, chunk.line_base, chunk.offset_base,
                              chunk.origin, chunk.encoding, hints.collect(m.rule.verify, chunk.data, m.start, m.end),
                              any(marker in line for marker in INLINE_MARKERS)))
    return out


def _scan_batch(engine: Engine, reader: Reader[ItemT], batch: Sequence[ItemT]) -> BatchResult:
    res = BatchResult()
    prepare = getattr(reader, "prepare", None)
    binary = bool(getattr(reader, "include_binary", False))
    if prepare is not None:  # readers that fetch a batch at once (git cat-file)
        prepare(batch)
    for item in batch:
        read_any = False
        try:
            for chunk in reader.read(item, res.warnings):
                read_any = True
                res.bytes_scanned += len(chunk.data)
                res.findings.extend(scan_chunk(engine, chunk, res.warnings, binary))
        except Exception as exc:  # a bug on one odd item must not cost the whole run, nor pass silently
            if os.environ.get("TOKENSCAN_DEBUG"):
                raise
            # the exception's text is not shown: it could quote the content being read
            res.warnings.append(Warning("read-error", f"internal error while scanning ({type(exc).__name__}): "
                                        "not fully scanned; please report it", getattr(item, "path", None)))
        res.items_scanned += read_any
    return res


_WORKER: dict = {}


def _worker_init(engine: Engine | None, reader: Reader[Any] | None) -> None:
    """Ctrl-C reaches the whole process group: the parent alone decides, and ends workers with SIGTERM,
    which in a worker simply ends it (its git helpers then see their pipes close and end too)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if engine is not None:  # spawn: state arrives pickled; fork: inherited in _WORKER already
        _WORKER["engine"], _WORKER["reader"] = engine, reader


def _worker_batch(batch: Sequence[object]) -> BatchResult:
    return _scan_batch(_WORKER["engine"], _WORKER["reader"], batch)


def batches(items: Iterable[ItemT], size_of: Callable[[ItemT], int],
            sizes: list[tuple[int, int]] | None = None, listed: list[bool] | None = None) -> Iterator[list[ItemT]]:
    """Groups of about BATCH_BYTES; `sizes` receives (items, bytes) of each group as it is formed, for
    progress when the groups are consumed in another thread (the pool's task feeder); `listed` receives
    True once `items` is exhausted."""
    batch: list[ItemT] = []
    total = 0
    for item in items:
        batch.append(item)
        total += size_of(item)
        if total >= BATCH_BYTES or len(batch) >= BATCH_ITEMS:
            if sizes is not None:
                sizes.append((len(batch), total))
            yield batch
            batch, total = [], 0
    if batch:
        if sizes is not None:
            sizes.append((len(batch), total))
        if listed is not None:
            listed.append(True)
        yield batch
    elif listed is not None:
        listed.append(True)


def run(engine: Engine, reader: Reader[ItemT], items: Iterable[ItemT], size_of: Callable[[ItemT], int],
        jobs: int, progress: Callable[[int, int, int, int], None] | None = None,
        in_process_bytes: int = IN_PROCESS_BYTES, sized: bool = True,
        found: Callable[[list[Finding]], None] | None = None) -> ScanResult:
    """Scan every item; progress(items done, items, bytes done, bytes) is called as batches finish, and
    found(findings) with each batch's findings (what the source starts beside the rest of the scan).

    items may be a stream (a directory walk, a git object listing): the first batches are scanned while it
    is still being listed, so no core waits for a serial listing phase. The item and byte totals given to
    progress are then 0 until the stream is exhausted, and stay 0 unless `sized` (size_of gives real sizes,
    as a git listing does; a walk's are nominal until a file is read, so its progress counts bytes read).
    in_process_bytes: below this many bytes no pool is started. Tests pass 0 to force the pool (every test
    input is far below the default), so the pool path is exercised, not only the in-process one."""
    started = time.perf_counter()
    total = BatchResult()
    stream = iter(items)
    head: list[ItemT] = []
    head_bytes = 0
    for item in stream:  # enough to know whether a pool pays off
        head.append(item)
        head_bytes += size_of(item)
        if head_bytes >= in_process_bytes:
            break
    known = items if isinstance(items, Sequence) else None
    total_items = len(known) if known is not None else 0
    total_bytes = sum(size_of(i) for i in known) if known is not None else 0
    sizes: list[tuple[int, int]] = []
    listed: list[bool] = []
    groups = batches(itertools.chain(head, stream), size_of, sizes, listed)
    results: Iterable[BatchResult]
    pool = None
    if jobs <= 1 or head_bytes < in_process_bytes:
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
        done_items = done_bytes = 0
        for n, r in enumerate(results):
            total.findings.extend(r.findings)
            if found is not None and r.findings:
                found(r.findings)
            total.warnings.extend(r.warnings)
            total.bytes_scanned += r.bytes_scanned
            total.items_scanned += r.items_scanned
            if progress is not None:
                if sized and listed and not total_items:  # the stream is listed: totals, and a bar, from now on
                    total_items, total_bytes = sum(k for k, _ in sizes), sum(b for _, b in sizes)
                done_items += sizes[n][0]
                done_bytes += sizes[n][1] if sized else r.bytes_scanned
                progress(done_items, total_items, done_bytes, total_bytes)
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
