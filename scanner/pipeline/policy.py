"""Where the files that steer a scan (config, ignore file, baseline) are read from.

Normally the work tree. For a review (`history --since REV`) every such file inside the repository is read
as it is at REV, the base: a pull request that adds an ignore entry, a baseline line or `fail-on = "none"`
must not be able to pass its own gate.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from scanner.errors import UsageError
from scanner.safeio import read_file


@dataclass(frozen=True)
class PolicyFiles:
    root: str  # the repository's work tree (or the scanned directory)
    rev: str | None = None  # read files inside root as of this revision

    def _inside(self, path: str) -> str | None:
        """path relative to root when it lies inside it, else None."""
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(self.root))
        return None if rel == os.pardir or rel.startswith(os.pardir + os.sep) else rel

    def describe(self, path: str) -> str:
        rel = self._inside(path) if self.rev else None
        return f"{self.rev}:{rel}" if rel is not None else path

    def read(self, path: str) -> bytes | None:
        """The file's bytes, or None when it does not exist (there, or at REV)."""
        rel = self._inside(path) if self.rev else None
        if rel is None:
            try:
                return read_file(path)
            except FileNotFoundError:
                return None
            except OSError as exc:  # a FIFO or device planted as a config file must not hang the scan
                raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
        from scanner.sources.git import read_at  # only a review needs git (and pygit2)

        return read_at(self.root, self.rev or "HEAD", rel.replace(os.sep, "/"))
