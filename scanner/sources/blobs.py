"""Reading blobs and commit messages into chunks: git cat-file when it can, pygit2 otherwise.

Kept free of a top-level pygit2 import so the pre-commit path, served by git, starts without it.

A damaged object store must never stop a scan: every object that cannot be read becomes a warning naming
it (`corrupt-object` when the store holds it but its bytes are bad, `missing-object` when the store does
not hold it at all, e.g. a partial clone whose promisor remote could not be reached) and reading goes on.
Loose objects are read and checked in Python before libgit2 ever sees them, because libgit2 1.9 loops
forever on a truncated loose object.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import subprocess
import sys
import zlib
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from scanner.engine.decoders import kind_of as archive_kind
from scanner.engine.decoders import utf16_text
from scanner.findings import Warning
from scanner.sources import Chunk, Origin, is_binary
from scanner.sources.gitbin import git_binary, popen_git


@dataclass(frozen=True)
class BlobItem:
    oid: str
    path: str
    size: int


@dataclass(frozen=True)
class MessageItem:
    commit: str
    size: int


READ_BUFFER = 256 << 10  # answers: many small blobs per read() (io's default 8 KiB costs a syscall or two per blob)


class CatFile:
    """A `git cat-file --batch` process for one worker: git's delta-base cache is several times larger than
    libgit2's, so reading blobs in pack order through it inflates about twice as fast. Requests are written
    at most IN_FLIGHT ids ahead of the answers read, so our writes never block on a full pipe while git
    waits for us to read. A corrupt object makes git exit mid-answer: answer() then raises OSError and
    unanswered() says which requests were lost, so the caller can start a fresh process for them.

    close() is idempotent and always reaps the process (EOF first, so git exits on its own; kill only if it
    does not), so no `git cat-file` outlives the reader that started it."""

    IN_FLIGHT = 256  # 256 ids x 41 bytes stays far below a pipe's 64 KiB

    def __init__(self, git_dir: str) -> None:
        if git_binary() is None:
            raise OSError("git not found")
        self.proc: subprocess.Popen[bytes] | None = popen_git(  # promised objects: fetched up front
            git_dir, ["cat-file", "--batch"], stdin=subprocess.PIPE, bufsize=READ_BUFFER)
        self.queued: deque[str] = deque()  # not yet sent
        self.pending: deque[str] = deque()  # sent, answer not yet read

    def request(self, oids: list[str]) -> None:
        self.queued.extend(oids)
        self._send()

    def _send(self) -> None:
        room = self.IN_FLIGHT - len(self.pending)
        if room < self.IN_FLIGHT // 2 or not self.queued:
            return
        if self.proc is None or self.proc.stdin is None:
            raise OSError("cat-file is closed")
        batch = [self.queued.popleft() for _ in range(min(room, len(self.queued)))]
        self.pending.extend(batch)
        try:
            self.proc.stdin.write("".join(f"{o}\n" for o in batch).encode())
            self.proc.stdin.flush()
        except ValueError as exc:  # write to a closed file
            raise OSError(str(exc)) from None

    def unanswered(self) -> list[str]:
        """Ids requested and not yet answered, in request order."""
        return [*self.pending, *self.queued]

    def answer(self, oid: str) -> bytes | None:
        """The blob's bytes, or None if git reports it missing; raises OSError when out of step or when git
        died (a corrupt object)."""
        if not self.pending and not self.queued:
            self.request([oid])  # read() without prepare(): ask for this one alone
        if not self.pending or self.pending[0] != oid:
            raise OSError("cat-file out of step")
        self.pending.popleft()
        if self.proc is None or self.proc.stdout is None:
            raise OSError("cat-file is closed")
        header = self.proc.stdout.readline().split()
        if len(header) == 2 and header[1] == b"missing":
            self._send()
            return None
        if len(header) != 3 or header[0].decode(errors="replace") != oid or not header[2].isdigit():
            raise OSError("cat-file gave an unexpected answer")
        size = int(header[2])
        data = self.proc.stdout.read(size)  # and its newline apart: data[:-1] copied every blob once more
        if len(data) != size or self.proc.stdout.read(1) != b"\n":
            raise OSError("cat-file ended early")
        if len(self.pending) <= self.IN_FLIGHT // 2:  # else _send would find no room worth a write
            self._send()
        return data

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            proc.wait(timeout=2)  # EOF on stdin: git exits by itself
        except subprocess.TimeoutExpired:
            proc.kill()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pragma: no cover - a process that ignores SIGKILL
                pass


_REPOS: dict[str, Any] = {}


def allow_partial_clone_extension() -> None:
    """libgit2 refuses to open a repository whose config sets `extensions.partialClone` (what older gits and
    `git fetch --filter` write); it reads such a repository fine, missing objects are simply not found."""
    import pygit2

    opt = pygit2.enums.Option
    try:
        if "partialclone" not in pygit2.option(opt.GET_EXTENSIONS):
            pygit2.option(opt.SET_EXTENSIONS, ["partialclone"], 1)
    except (AttributeError, ValueError, pygit2.GitError):  # pragma: no cover - older pygit2
        pass


def repo_at(path: str) -> Any:
    """One pygit2 Repository per process (workers open their own: libgit2 handles do not cross a fork
    safely). pygit2 is imported here, on first use, so a pre-commit run served by git never loads it."""
    key = f"{os.getpid()}:{path}"
    if key not in _REPOS:
        import pygit2

        allow_partial_clone_extension()
        _REPOS[key] = checked_loose_objects(pygit2.Repository(path))
    return _REPOS[key]


def forget(path: str) -> None:
    """Drops this process's handle on the repository at path (a view being removed)."""
    _REPOS.pop(f"{os.getpid()}:{path}", None)


def checked_loose_objects(repo: Any) -> Any:
    """Gives libgit2 loose objects only through read_loose (checked in Python), packs through its own
    backend: libgit2 1.9 loops forever inflating a truncated loose object, commit and tree included, so a
    walk over a damaged history would never end. Read-only: history never writes objects. Returns repo."""
    import pygit2

    types = {"commit": pygit2.enums.ObjectType.COMMIT, "tree": pygit2.enums.ObjectType.TREE,
             "blob": pygit2.enums.ObjectType.BLOB, "tag": pygit2.enums.ObjectType.TAG}
    git_dir = repo.path

    class CheckedLoose(pygit2.OdbBackend):  # type: ignore[misc]
        def _get(self, oid: Any) -> tuple[Any, bytes]:
            got = read_loose(git_dir, str(oid))
            if got is None or got[0] not in types:
                raise KeyError(str(oid))
            return types[got[0]], got[1]

        def read_cb(self, oid: Any) -> tuple[Any, bytes]:
            return self._get(oid)

        def read_prefix_cb(self, oid: Any) -> tuple[Any, Any, bytes]:
            kind, data = self._get(oid)
            return oid, kind, data

        def read_header_cb(self, oid: Any) -> tuple[Any, int]:
            kind, data = self._get(oid)
            return kind, len(data)

        def exists_cb(self, oid: Any) -> bool:
            return any(os.path.exists(os.path.join(d, str(oid)[:2], str(oid)[2:])) for d in _object_dirs(git_dir))

        def refresh_cb(self) -> None:
            pass

    try:
        odb = pygit2.Odb()
        for objects in _object_dirs(git_dir):
            if os.path.isdir(os.path.join(objects, "pack")):
                odb.add_backend(pygit2.OdbBackendPack(objects), 2)
        odb.add_backend(CheckedLoose(), 1)
        repo.set_odb(odb)
    except (AttributeError, TypeError, ValueError, pygit2.GitError):  # pragma: no cover - older pygit2
        pass
    return repo


# --- the object store, read directly: loose objects and pack indexes ------------------------------------

ALTERNATES_DEPTH = 5  # as git and libgit2 follow them


def _object_dirs(git_dir: str) -> list[str]:
    """The repository's object directory (a linked worktree's is in its common dir) and its alternates,
    followed as git follows them (an alternate's own alternates too, ALTERNATES_DEPTH deep): a view's only
    store is the scanned repository's, named in its alternates."""
    common = git_dir
    try:
        with open(os.path.join(git_dir, "commondir"), encoding="utf-8", errors="replace") as fh:
            named = fh.read().strip()
        common = named if os.path.isabs(named) else os.path.normpath(os.path.join(git_dir, named))
    except OSError:
        pass
    dirs = [os.path.join(common, "objects")]
    level = dirs[:]
    for _ in range(ALTERNATES_DEPTH):
        nxt = []
        for main in level:
            try:
                with open(os.path.join(main, "info", "alternates"), encoding="utf-8", errors="replace") as fh:
                    lines = fh.read(1 << 16).splitlines()
            except OSError:
                continue
            for line in lines:
                line = line.strip()
                if line and not line.startswith("#"):
                    alt = line if os.path.isabs(line) else os.path.normpath(os.path.join(main, line))
                    if alt not in dirs:
                        dirs.append(alt)
                        nxt.append(alt)
        level = nxt
    return dirs


class CorruptObject(ValueError):
    """The store holds the object, but its bytes are not a valid object with that id."""


def read_loose(git_dir: str, oid: str) -> tuple[str, bytes] | None:
    """(type, content) of a loose object, checked in full (zlib stream complete, size and id match); None
    when there is no loose file for it; CorruptObject when there is one and it is damaged."""
    for objects in _object_dirs(git_dir):
        path = os.path.join(objects, oid[:2], oid[2:])
        try:
            with open(path, "rb") as fh:
                raw = fh.read()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise CorruptObject(f"cannot read loose object file: {exc.strerror or exc}") from None
        if not raw:
            raise CorruptObject("loose object file is empty")
        d = zlib.decompressobj()
        try:
            body = d.decompress(raw)
        except zlib.error as exc:
            raise CorruptObject(f"loose object does not inflate: {exc}") from None
        if not d.eof:
            raise CorruptObject("loose object is truncated")
        head, sep, content = body.partition(b"\0")
        kind, _, size = head.partition(b" ")
        if not sep or not size.isdigit() or int(size) != len(content):
            raise CorruptObject("loose object header does not match its content")
        if hashlib.sha1(body).hexdigest() != oid:  # git's object id, not a security use
            raise CorruptObject("loose object content does not match its id")
        return kind.decode("ascii", "replace"), content
    return None


def in_pack_index(git_dir: str, oid: str) -> bool:
    """Whether any pack index lists the object: binary search over each .idx (version 2), no pack read.
    Tells an object the store holds but cannot read (a truncated or damaged pack) from one it never had."""
    want = bytes.fromhex(oid)
    for objects in _object_dirs(git_dir):
        packdir = os.path.join(objects, "pack")
        try:
            names = [n for n in os.listdir(packdir) if n.endswith(".idx")]
        except OSError:
            continue
        for name in names:
            try:
                with open(os.path.join(packdir, name), "rb") as fh, \
                        mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as m:
                    if m[:8] != b"\377tOc\0\0\0\2" or len(m) < 8 + 1024:
                        continue
                    first = want[0]
                    lo = int.from_bytes(m[8 + 4 * (first - 1):8 + 4 * first], "big") if first else 0
                    hi = int.from_bytes(m[8 + 4 * first:12 + 4 * first], "big")
                    base = 8 + 1024
                    while lo < hi:
                        mid = (lo + hi) // 2
                        got = m[base + 20 * mid:base + 20 * mid + 20]
                        if got == want:
                            return True
                        if got < want:
                            lo = mid + 1
                        else:
                            hi = mid
            except (OSError, ValueError):
                continue
    return False


def unreadable(git_dir: str, oid: str, what: str, path: str | None, detail: str = "") -> Warning:
    """The warning for an object no reader could read: corrupt when the store lists it, missing otherwise."""
    held = in_pack_index(git_dir, oid) or any(
        os.path.exists(os.path.join(d, oid[:2], oid[2:])) for d in _object_dirs(git_dir))
    if held:
        return Warning("corrupt-object", f"cannot read {what} {oid}: it is damaged{': ' + detail if detail else ''}",
                       path or None)
    return Warning("missing-object", f"{what} {oid} is not in the repository's object store"
                   f"{': ' + detail if detail else ''}", path or None)


def read_object(git_dir: str, oid: str, what: str, path: str | None, warnings: list[Warning]) -> bytes | None:
    """An object's content without git: the loose file checked in Python, else libgit2 (packs); None, with a
    warning, when it cannot be read."""
    try:
        loose = read_loose(git_dir, oid)
    except CorruptObject as exc:
        warnings.append(Warning("corrupt-object", f"cannot read {what} {oid}: {exc}", path or None))
        return None
    if loose is not None:
        return loose[1]
    import pygit2

    try:
        return repo_at(git_dir).odb.read(pygit2.Oid(hex=oid))[1]
    except KeyError:  # NotFoundError: not in any pack libgit2 can use
        warnings.append(unreadable(git_dir, oid, what, path))
    except (ValueError, pygit2.GitError) as exc:
        warnings.append(Warning("corrupt-object", f"cannot read {what} {oid}: {exc}", path or None))
    return None


# --- one cat-file per process and repository ----------------------------------------------------------

@dataclass
class _Git:
    catfile: CatFile | None
    restarts: int = 0


_CATFILES: dict[str, _Git] = {}
# This process's id, kept: keys of the per-process git state are made for every object read, and getpid()
# is a system call each time. A forked worker learns its own at the fork.
_PID = [os.getpid()]
os.register_at_fork(after_in_child=lambda: _PID.__setitem__(0, os.getpid()))

_FINALIZER: list[object] = []
MAX_RESTARTS = 64  # a store this damaged is read through pygit2 from then on


def close_all() -> None:
    """Closes and reaps every cat-file this process started (worker exit, end of a scan, an exception)."""
    pid = f"{os.getpid()}:"
    for key in [k for k in _CATFILES if k.startswith(pid)]:
        state = _CATFILES.pop(key)
        if state.catfile is not None:
            state.catfile.close()


def _register_worker_cleanup() -> None:
    """In a pool worker, close the cat-file when the worker exits: multiprocessing runs its finalizers on a
    worker's normal exit, where atexit handlers do not run."""
    if _FINALIZER and _FINALIZER[0] == os.getpid():
        return
    if "multiprocessing" not in sys.modules:  # no pool was ever started: not a worker (and no import to pay)
        _FINALIZER[:] = [os.getpid()]
        return
    import multiprocessing
    import multiprocessing.util

    if multiprocessing.parent_process() is not None:
        multiprocessing.util.Finalize(None, close_all, exitpriority=100)
    _FINALIZER[:] = [os.getpid()]


@dataclass(frozen=True)
class GitReader:
    repo_path: str
    include_binary: bool = False
    use_git: bool = True
    archive_depth: int = 2  # archive blobs (jar, whl, zip, docx, tar.gz, ...) opened this deep; 0: none
    # read loose objects in Python first: a staged blob is one, fresh from `git add`, and a pre-commit run
    # then starts no cat-file at all (a packed or damaged one is still git's to read)
    loose_first: bool = False

    def _key(self) -> str:
        return f"{_PID[0]}:{self.repo_path}"

    def _state(self) -> _Git:
        key = self._key()
        if key not in _CATFILES:
            cf = None
            if self.use_git:
                _register_worker_cleanup()
                try:
                    cf = CatFile(self.repo_path)
                except OSError:
                    cf = None
            _CATFILES[key] = _Git(cf)
        return _CATFILES[key]

    def _restart(self, state: _Git, rest: list[str]) -> None:
        """git died on a damaged object: a fresh process takes the requests the old one never answered."""
        if state.catfile is not None:
            state.catfile.close()
        state.catfile = None
        state.restarts += 1
        if state.restarts > MAX_RESTARTS:
            return
        try:
            state.catfile = CatFile(self.repo_path)
            state.catfile.request(rest)
        except OSError:
            if state.catfile is not None:
                state.catfile.close()
            state.catfile = None

    def close(self) -> None:
        """Ends this process's cat-file for the repository (and waits for it); safe to call more than once."""
        state = _CATFILES.pop(self._key(), None)
        if state is not None and state.catfile is not None:
            state.catfile.close()

    def prepare(self, items: Sequence[object]) -> None:
        """Ask git for every object of the batch at once (blobs, and the commits whose messages are read: one
        stream, no lookup per commit); read() then takes the answers in order."""
        oids = [i.oid if isinstance(i, BlobItem) else i.commit for i in items if isinstance(i, (BlobItem, MessageItem))]
        if self.loose_first:
            oids = [oid for oid in oids if not self._loose_file(oid)]
            if not oids:
                return
        state = self._state()
        if state.catfile is not None:
            try:
                state.catfile.request(oids)
            except OSError:
                self._restart(state, oids)

    def _loose_file(self, oid: str) -> bool:
        return len(oid) == 40 and any(os.path.isfile(os.path.join(d, oid[:2], oid[2:])) for d in _object_dirs(self.repo_path))

    def _object(self, oid: str, kind: str, path: str | None, warnings: list[Warning]) -> bytes | None:
        if self.loose_first and len(oid) == 40:
            try:
                got = read_loose(self.repo_path, oid)
            except CorruptObject:
                got = None  # git reads it, and says what is wrong
            if got is not None and got[0] == kind:
                return got[1]
        state = self._state()
        cf = state.catfile
        if cf is not None:
            try:
                data = cf.answer(oid)
                if data is not None:
                    return data
            except OSError:
                rest = cf.unanswered()
                if oid in rest:  # out of step: this one is still to come
                    rest.remove(oid)
                self._restart(state, rest)
        return read_object(self.repo_path, oid, kind, path, warnings)

    def read(self, item: BlobItem | MessageItem, warnings: list[Warning]) -> Iterator[Chunk]:
        if isinstance(item, MessageItem):
            raw = self._object(item.commit, "commit", None, warnings)
            if raw is None:
                return
            _, _, message = raw.partition(b"\n\n")
            yield Chunk(message, f"(commit message {item.commit[:12]})", "commit-message",
                        origin=Origin(commit=item.commit))
            return
        data = self._object(item.oid, "blob", item.path, warnings)
        if data is None:
            return
        if self.archive_depth and archive_kind(data) is not None:  # a jar, a wheel, a docx committed
            from scanner.sources.archives import archive_chunks  # here: most histories commit no archive

            yield from archive_chunks(data, item.path, warnings, self.include_binary, "blob", Origin(blob=item.oid),
                                      self.archive_depth)
            return
        if is_binary(data):
            text = utf16_text(data)
            if text is not None:
                yield Chunk(text, item.path, "blob", encoding="utf-16", origin=Origin(blob=item.oid))
                return
            if not self.include_binary:  # counted in the summary like binary files, named with --list-skipped
                warnings.append(Warning("binary", f"binary blob {item.oid[:12]} skipped (--include-binary scans it)",
                                        item.path or None))
                return
        yield Chunk(data, item.path, "blob", origin=Origin(blob=item.oid))
