"""A one-line progress display on stderr for long scans; only on a terminal, never with a secret in it."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, label: str, stream=None, interval: float = 0.2) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.interval = interval
        self.started = time.monotonic()
        self._last = 0.0
        self._shown = False

    def __call__(self, done: int, total: int, done_bytes: int, total_bytes: int) -> None:
        now = time.monotonic()
        if now - self._last < self.interval and (done < total or not total):  # a stream's too
            return
        self._last = now
        elapsed = max(now - self.started, 1e-6)
        rate = f"{done_bytes / 1e6 / elapsed:,.1f} MB/s"
        if not total_bytes:  # a stream still being listed: no total yet, so no bar that would lie
            line = f"\r{self.label}  {done} items  {done_bytes / 1e6:,.1f} MB  {rate}"
        else:
            pct = 100.0 * done_bytes / total_bytes
            width = 24
            filled = int(width * pct / 100)
            line = (f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {pct:5.1f}%  {done}/{total}  "
                    f"{done_bytes / 1e6:,.1f}/{total_bytes / 1e6:,.1f} MB  {rate}")
        self.stream.write(line)
        self.stream.flush()
        self._shown = True

    def phase(self, text: str) -> None:
        """A later phase (attribution, verification) replaces the bar, so it never sits frozen at 100%."""
        self.stream.write(f"\r\033[K{self.label}: {text}…")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


def progress_for(label: str) -> Progress | None:
    return Progress(label) if sys.stderr.isatty() else None
