"""Files on disk: walk directories honouring .gitignore files and --exclude, and read files safely.

Walking happens in the parent process (cheap: one scandir per directory); reading and scanning happen in
workers, so a file's bytes never cross a process boundary.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import BinaryIO, Iterator

import pathspec

from scanner.engine.decoders import kind_of as archive_kind
from scanner.engine.decoders import utf16_codec, utf16_text
from scanner.errors import UsageError
from scanner.findings import Warning
from scanner.sources import BINARY_SNIFF, Chunk, is_binary
from scanner.sources.archives import Limits, archive_chunks

ARCHIVE_MAX = Limits().max_total  # an archive is read whole; a larger one is named, not opened


UNKNOWN_SIZE = -1
STAT_FIRST = 256  # files of a walked tree whose size is known before reading (the rest: UNKNOWN_SIZE)


@dataclass(frozen=True)
class FileItem:
    path: str  # as shown in reports (relative to the scan root when under it)
    abspath: str
    # UNKNOWN_SIZE from a walk past its first STAT_FIRST files: the parent does not stat 50,000 files (a
    # third of its work on a standard library) when the reader learns a small file's size from its first
    # read and a large one's from the open file
    size: int = UNKNOWN_SIZE


def gitignore_spec(lines: list[str], where: str, warnings: list[Warning]) -> pathspec.PathSpec:
    """Compile gitignore-syntax lines; a line pathspec rejects but git accepts (`bin\\Debug\\`) is a
    warning naming file and line, and the other lines still apply."""
    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except (ValueError, TypeError):  # GitIgnorePatternError is a ValueError
        good = []
        for n, line in enumerate(lines, 1):
            try:
                pathspec.GitIgnoreSpec.from_lines([line])
            except (ValueError, TypeError):
                warnings.append(Warning("bad-ignore-line", f"line {n}: pattern not understood, skipped", where))
                continue
            good.append(line)
        return pathspec.GitIgnoreSpec.from_lines(good)


def _load_ignore(dirpath: str, shown: str, warnings: list[Warning]) -> pathspec.PathSpec | None:
    p = os.path.join(dirpath, ".gitignore")
    try:
        with open(p, encoding="utf-8", errors="replace") as fh:
            return gitignore_spec(fh.read().splitlines(), shown + ".gitignore", warnings)
    except OSError:
        return None


def _ignored(specs: list[tuple[str, pathspec.PathSpec]], rel: str, is_dir: bool) -> bool:
    """Deepest .gitignore with a decisive pattern wins, as in git. rel is relative to the walk root."""
    for base, spec in reversed(specs):
        sub = rel[len(base):] if base else rel
        verdict = spec.check_file(sub + "/" if is_dir else sub).include
        if verdict is not None:
            return verdict
    return False


def _exclude_spec(excludes: tuple[str, ...]) -> pathspec.PathSpec | None:
    """--exclude is the user's own input: a pattern pathspec cannot read is a usage error naming it."""
    for glob in excludes:
        try:
            pathspec.GitIgnoreSpec.from_lines([glob])
        except (ValueError, TypeError):
            raise UsageError(f"--exclude {glob!r}: not a gitignore-style pattern") from None
    return pathspec.GitIgnoreSpec.from_lines(excludes) if excludes else None


def walk(roots: list[str], excludes: tuple[str, ...] = (), gitignore: bool = True
         ) -> tuple[list[FileItem], list[Warning]]:
    """Every regular file under roots; symlinks are never followed (so nothing outside the tree is read)."""
    warnings: list[Warning] = []
    return list(walk_iter(roots, excludes, gitignore, warnings)), warnings


def walk_iter(roots: list[str], excludes: tuple[str, ...], gitignore: bool, warnings: list[Warning]
              ) -> Iterator[FileItem]:
    """walk() as a stream, so workers scan the first files while the walk goes on. The roots are checked
    now (bad input is a usage error before any work); the tree is walked as items are taken."""
    exclude = _exclude_spec(excludes)
    checked: list[tuple[str, os.stat_result]] = []
    for root in roots:
        if not os.path.lexists(root):
            raise UsageError(f"{root}: no such file or directory")
        try:  # a root the user names is followed even when it is a symlink; links inside it are not
            st = os.stat(root)
        except OSError as exc:
            raise UsageError(f"{root}: cannot read: {exc.strerror}") from None
        if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
            raise UsageError(f"{root}: not a regular file or directory ({_kind(st.st_mode)})")
        if stat.S_ISDIR(st.st_mode) and not os.access(root, os.R_OK | os.X_OK):
            raise UsageError(f"{root}: directory cannot be read (permission denied)")
        checked.append((root, st))
    return _walk_roots(checked, exclude, gitignore, warnings)


def _walk_roots(roots: list[tuple[str, os.stat_result]], exclude: pathspec.PathSpec | None, gitignore: bool,
                warnings: list[Warning]) -> Iterator[FileItem]:
    for root, st in roots:
        if stat.S_ISREG(st.st_mode):
            yield FileItem(os.path.normpath(root), root, st.st_size)
        else:
            yield from _walk_dir(root, exclude, gitignore, warnings)


def _walk_dir(root: str, exclude: pathspec.PathSpec | None, gitignore: bool, warnings: list[Warning]
              ) -> Iterator[FileItem]:
    """Depth-first, names sorted; paths built by concatenation (os.path.relpath costs more than the walk)."""
    shown_root = "" if os.path.normpath(root) == "." else os.path.normpath(root) + os.sep
    stat_first = STAT_FIRST
    stack: list[tuple[str, str, list[tuple[str, pathspec.PathSpec]]]] = [(root, "", [])]
    while stack:
        dirpath, reldir, specs = stack.pop()
        if gitignore:
            spec = _load_ignore(dirpath, shown_root + reldir, warnings)
            if spec is not None:
                specs = specs + [(reldir, spec)]
        try:
            with os.scandir(dirpath) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            warnings.append(Warning("unreadable", f"cannot list directory: {exc.strerror}", shown_root + reldir))
            continue
        subdirs = []
        for entry in entries:
            rel = reldir + entry.name
            try:
                if entry.is_symlink():
                    warnings.append(Warning("symlink", "symbolic link not followed", shown_root + rel))
                    continue
                is_dir = entry.is_dir(follow_symlinks=False)
                if is_dir and entry.name == ".git":
                    continue
                if exclude is not None and exclude.match_file(rel + "/" if is_dir else rel):
                    continue
                if specs and _ignored(specs, rel, is_dir):
                    continue
                if is_dir:
                    subdirs.append((entry.path, rel + "/"))
                elif entry.is_file(follow_symlinks=False):
                    if stat_first > 0:  # a small tree's sizes decide whether a process pool pays off
                        stat_first -= 1
                        yield FileItem(shown_root + rel, entry.path, entry.stat(follow_symlinks=False).st_size)
                    else:
                        yield FileItem(shown_root + rel, entry.path)
                else:  # reading a FIFO would block the scan; a device or socket holds no source
                    kind = _kind(entry.stat(follow_symlinks=False).st_mode)
                    warnings.append(Warning("special-file", f"{kind} skipped: not a regular file", shown_root + rel))
            except OSError as exc:
                warnings.append(Warning("unreadable", f"cannot stat: {exc.strerror}", shown_root + rel))
        for sub, subrel in reversed(subdirs):
            stack.append((sub, subrel, specs))


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a regular file"


HEAD_BYTES = 64 << 10  # one read covers most source files; larger ones are sniffed before reading on
WINDOW_OVERLAP = 16 << 10  # longer than any rule's reach around a keyword (engine.WINDOW_BEFORE/AFTER)


def _windows(fh: BinaryIO, head: bytes, max_size: int) -> Iterator[tuple[int, bytes]]:
    """(offset, bytes) of a large file in overlapping windows, so memory stays bounded."""
    data = head + fh.read(max_size + WINDOW_OVERLAP - len(head))
    offset = 0
    while data:
        yield offset, data
        if len(data) < max_size + WINDOW_OVERLAP:
            return
        offset += max_size
        data = data[max_size:] + fh.read(max_size)


@dataclass(frozen=True)
class FileReader:
    """Reads a FileItem into chunks; every problem becomes a warning and the scan goes on."""

    max_file_size: int = 10 << 20
    include_binary: bool = False
    archive_depth: int = 2  # archives inside archives opened (zip/jar/whl/docx, tar(.gz/.bz2/.xz), .gz); 0: none

    def read(self, item: FileItem, warnings: list[Warning]) -> Iterator[Chunk]:
        try:
            with open(item.abspath, "rb") as fh:
                # the first 8 KiB tell binary, UTF-16 and archives apart: a binary file (a third of a Python
                # tree's files: .pyc, .so) is skipped without reading the rest of a 64 KiB head
                head = fh.read(BINARY_SNIFF)
                binary = is_binary(head)
                codec = utf16_codec(head) if binary else None
                kind = archive_kind(head) if self.archive_depth else None
                if binary and codec is None and kind is None and not self.include_binary:
                    warnings.append(Warning("binary", "binary file skipped (--include-binary scans it)", item.path))
                    return
                if len(head) == BINARY_SNIFF:
                    head += fh.read(HEAD_BYTES - BINARY_SNIFF)
                size = item.size
                if size == UNKNOWN_SIZE:
                    size = len(head) if len(head) < HEAD_BYTES else os.fstat(fh.fileno()).st_size
                if kind is not None:
                    if size <= ARCHIVE_MAX:
                        yield from archive_chunks(head + fh.read(), item.path, warnings, self.include_binary,
                                                  depth=self.archive_depth)
                        return
                    warnings.append(Warning("archive-limit", f"archive of {size} bytes: not opened", item.path))
                if codec is not None and size <= self.max_file_size:
                    text = utf16_text(head + fh.read(), codec)
                    if text is not None:  # Windows scripts: line and column count in the decoded text
                        yield Chunk(text, item.path, "file", encoding="utf-16")
                        return
                if not self.include_binary and binary:
                    warnings.append(Warning("binary", "binary file skipped (--include-binary scans it)", item.path))
                    return
                if not head.isascii():
                    try:
                        head.decode("utf-8")
                    except UnicodeDecodeError as exc:  # a character cut at the end of the head is fine
                        if len(head) < HEAD_BYTES or exc.start < len(head) - 3:
                            warnings.append(Warning("not-utf8", "not UTF-8: scanned as bytes", item.path))
                if len(head) < HEAD_BYTES:
                    yield Chunk(head, item.path, "file")
                    return
                if size <= self.max_file_size:
                    yield Chunk(head + fh.read(), item.path, "file")
                    return
                warnings.append(Warning("large", f"{size} bytes: scanned in windows", item.path))
                line_base = 0
                for offset, data in _windows(fh, head, self.max_file_size):
                    yield Chunk(data, item.path, "file", offset, line_base)
                    line_base += data.count(b"\n", 0, self.max_file_size)
        except OSError as exc:
            warnings.append(Warning("unreadable", f"cannot read: {exc.strerror or exc}", item.path))
