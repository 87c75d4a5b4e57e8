"""Reading blobs and commit messages into chunks: git cat-file when it can, pygit2 otherwise.

Kept free of a top-level pygit2 import so the pre-commit path, served by git, starts without it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import deque
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from scanner.decoders import utf16_text
from scanner.findings import Warning
from scanner.sources import Chunk


@dataclass(frozen=True)
class BlobItem:
    oid: str
    path: str
    size: int


@dataclass(frozen=True)
class MessageItem:
    commit: str
    size: int


class CatFile:
    """A `git cat-file --batch` process for one worker: git's delta-base cache is several times larger than
    libgit2's, so reading blobs in pack order through it inflates about twice as fast. Requests are written
    at most IN_FLIGHT ids ahead of the answers read, so our writes never block on a full pipe while git
    waits for us to read; any protocol trouble (a corrupt object can make git exit) retires the process
    and the caller falls back to pygit2."""

    IN_FLIGHT = 256  # 256 ids x 41 bytes stays far below a pipe's 64 KiB

    def __init__(self, git_dir: str) -> None:
        git = shutil.which("git")
        if git is None:
            raise OSError("git not found")
        self.proc = subprocess.Popen([git, "--git-dir", git_dir, "cat-file", "--batch"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.queued: deque[str] = deque()  # not yet sent
        self.pending: deque[str] = deque()  # sent, answer not yet read

    def request(self, oids: list[str]) -> None:
        self.queued.extend(oids)
        self._send()

    def _send(self) -> None:
        room = self.IN_FLIGHT - len(self.pending)
        if room < self.IN_FLIGHT // 2 or not self.queued:
            return
        batch = [self.queued.popleft() for _ in range(min(room, len(self.queued)))]
        assert self.proc.stdin is not None
        self.proc.stdin.write("".join(f"{o}\n" for o in batch).encode())
        self.proc.stdin.flush()
        self.pending.extend(batch)

    def answer(self, oid: str) -> bytes | None:
        """The blob's bytes, or None if git reports it missing; raises OSError when out of step."""
        if not self.pending or self.pending[0] != oid:
            raise OSError("cat-file out of step")
        self.pending.popleft()
        self._send()
        assert self.proc.stdout is not None
        header = self.proc.stdout.readline().split()
        if len(header) == 2 and header[1] == b"missing":
            return None
        if len(header) != 3 or header[0].decode() != oid:
            raise OSError("cat-file gave an unexpected answer")
        size = int(header[2])
        data = self.proc.stdout.read(size + 1)
        if len(data) != size + 1:
            raise OSError("cat-file ended early")
        return data[:-1]

    def close(self) -> None:
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
            self.proc.kill()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass


_REPOS: dict[str, Any] = {}


def repo_at(path: str) -> Any:
    """One pygit2 Repository per process (workers open their own: libgit2 handles do not cross a fork
    safely). pygit2 is imported here, on first use, so a pre-commit run served by git never loads it."""
    key = f"{os.getpid()}:{path}"
    if key not in _REPOS:
        import pygit2

        _REPOS[key] = pygit2.Repository(path)
    return _REPOS[key]


_CATFILES: dict[str, CatFile | None] = {}


@dataclass(frozen=True)
class GitReader:
    repo_path: str
    include_binary: bool = False
    use_git: bool = True

    def _catfile(self) -> CatFile | None:
        key = f"{os.getpid()}:{self.repo_path}"
        if key not in _CATFILES:
            try:
                _CATFILES[key] = CatFile(self.repo_path) if self.use_git else None
            except OSError:
                _CATFILES[key] = None
        return _CATFILES[key]

    def _retire(self) -> None:
        cf = _CATFILES.get(f"{os.getpid()}:{self.repo_path}")
        if cf is not None:
            cf.close()
        _CATFILES[f"{os.getpid()}:{self.repo_path}"] = None

    def prepare(self, items: Sequence[object]) -> None:
        """Ask git for every blob of the batch at once; read() then takes the answers in order."""
        cf = self._catfile()
        if cf is not None:
            try:
                cf.request([i.oid for i in items if isinstance(i, BlobItem)])
            except OSError:
                self._retire()

    def _blob(self, item: BlobItem, warnings: list[Warning]) -> bytes | None:
        cf = self._catfile()
        if cf is not None:
            try:
                data = cf.answer(item.oid)
                if data is not None:
                    return data
            except OSError:
                self._retire()
        import pygit2

        try:
            return repo_at(self.repo_path).odb.read(pygit2.Oid(hex=item.oid))[1]
        except (KeyError, ValueError, pygit2.GitError) as exc:
            warnings.append(Warning("corrupt-object", f"cannot read blob {item.oid}: {exc}", item.path))
            return None

    def read(self, item: BlobItem | MessageItem, warnings: list[Warning]) -> Iterator[Chunk]:
        if isinstance(item, MessageItem):
            import pygit2

            try:
                commit = repo_at(self.repo_path)[item.commit]
            except (KeyError, ValueError, pygit2.GitError) as exc:
                warnings.append(Warning("corrupt-object", f"cannot read commit {item.commit}: {exc}"))
                return
            yield Chunk(commit.raw_message, f"(commit message {item.commit[:12]})", "commit-message",
                        meta={"commit": item.commit})
            return
        data = self._blob(item, warnings)
        if data is None:
            return
        if b"\0" in data[:8192]:
            text = utf16_text(data)
            if text is not None:
                yield Chunk(text, item.path, "blob", encoding="utf-16", meta={"blob": item.oid})
                return
            if not self.include_binary:
                return
        yield Chunk(data, item.path, "blob", meta={"blob": item.oid})
