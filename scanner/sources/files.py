"""Files on disk: walk directories honouring .gitignore files and --exclude, and read files safely.

Walking happens in the parent process (cheap: one scandir per directory); reading and scanning happen in
workers, so a file's bytes never cross a process boundary.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Iterator

import pathspec

from scanner.errors import UsageError
from scanner.findings import Warning
from scanner.sources import Chunk

BINARY_SNIFF = 8192


@dataclass(frozen=True)
class FileItem:
    path: str  # as shown in reports (relative to the scan root when under it)
    abspath: str
    size: int


def _load_ignore(dirpath: str) -> pathspec.PathSpec | None:
    p = os.path.join(dirpath, ".gitignore")
    try:
        with open(p, encoding="utf-8", errors="replace") as fh:
            return pathspec.GitIgnoreSpec.from_lines(fh.read().splitlines())
    except OSError:
        return None


def _ignored(specs: list[tuple[str, pathspec.PathSpec]], path: str, is_dir: bool) -> bool:
    """Deepest .gitignore with a decisive pattern wins, as in git."""
    for base, spec in reversed(specs):
        rel = os.path.relpath(path, base).replace(os.sep, "/") + ("/" if is_dir else "")
        verdict = spec.check_file(rel).include
        if verdict is not None:
            return verdict
    return False


def walk(roots: list[str], excludes: tuple[str, ...] = (), gitignore: bool = True
         ) -> tuple[list[FileItem], list[Warning]]:
    """Every regular file under roots; symlinks are never followed (so nothing outside the tree is read)."""
    items: list[FileItem] = []
    warnings: list[Warning] = []
    exclude = pathspec.GitIgnoreSpec.from_lines(excludes) if excludes else None
    for root in roots:
        if not os.path.lexists(root):
            raise UsageError(f"{root}: no such file or directory")
        st = os.lstat(root)
        if stat.S_ISREG(st.st_mode):
            items.append(FileItem(root, os.path.abspath(root), st.st_size))
            continue
        if not stat.S_ISDIR(st.st_mode):
            raise UsageError(f"{root}: not a regular file or directory")
        if not os.access(root, os.R_OK | os.X_OK):
            raise UsageError(f"{root}: directory cannot be read (permission denied)")
        items.extend(_walk_dir(root, exclude, gitignore, warnings))
    return items, warnings


def _walk_dir(root: str, exclude: pathspec.PathSpec | None, gitignore: bool,
              warnings: list[Warning]) -> Iterator[FileItem]:
    stack: list[tuple[str, list[tuple[str, pathspec.PathSpec]]]] = [(root, [])]
    while stack:
        dirpath, specs = stack.pop()
        if gitignore:
            spec = _load_ignore(dirpath)
            if spec is not None:
                specs = specs + [(dirpath, spec)]
        try:
            entries = sorted(os.scandir(dirpath), key=lambda e: e.name)
        except OSError as exc:
            warnings.append(Warning("unreadable", f"cannot list directory: {exc.strerror}", dirpath))
            continue
        subdirs = []
        for entry in entries:
            rel = os.path.relpath(entry.path, root).replace(os.sep, "/")
            try:
                if entry.is_symlink():
                    warnings.append(Warning("symlink", "symbolic link not followed", rel))
                    continue
                is_dir = entry.is_dir(follow_symlinks=False)
                if is_dir and entry.name == ".git":
                    continue
                if exclude is not None and exclude.match_file(rel + ("/" if is_dir else "")):
                    continue
                if specs and _ignored(specs, entry.path, is_dir):
                    continue
                if is_dir:
                    subdirs.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    size = entry.stat(follow_symlinks=False).st_size
                    yield FileItem(os.path.normpath(entry.path), entry.path, size)
            except OSError as exc:
                warnings.append(Warning("unreadable", f"cannot stat: {exc.strerror}", rel))
        for sub in reversed(subdirs):
            stack.append((sub, specs))


def is_binary(head: bytes) -> bool:
    return b"\0" in head[:BINARY_SNIFF]


def read_windows(abspath: str, size: int, max_size: int, overlap: int) -> Iterator[tuple[int, bytes]]:
    """(offset, bytes) of a file: whole when small, else overlapping windows so memory stays bounded."""
    with open(abspath, "rb") as fh:
        if size <= max_size:
            yield 0, fh.read()
            return
        step = max_size
        offset = 0
        while True:
            fh.seek(offset)
            data = fh.read(step + overlap)
            if not data:
                return
            yield offset, data
            if len(data) < step + overlap:
                return
            offset += step



WINDOW_OVERLAP = 16 << 10  # longer than any rule's reach around a keyword (engine.WINDOW_BEFORE/AFTER)


@dataclass(frozen=True)
class FileReader:
    """Reads a FileItem into chunks; every problem becomes a warning and the scan goes on."""

    max_file_size: int = 10 << 20
    include_binary: bool = False

    def read(self, item: FileItem, warnings: list[Warning]) -> Iterator[Chunk]:
        line_base = 0
        try:
            for offset, data in read_windows(item.abspath, item.size, self.max_file_size, WINDOW_OVERLAP):
                if offset == 0:
                    if not self.include_binary and is_binary(data):
                        warnings.append(Warning("binary", "binary file skipped (--include-binary scans it)",
                                                item.path))
                        return
                    if item.size > self.max_file_size:
                        warnings.append(Warning("large", f"{item.size} bytes: scanned in windows", item.path))
                    if not data.isascii():
                        try:
                            data.decode("utf-8")
                        except UnicodeDecodeError:
                            warnings.append(Warning("not-utf8", "not UTF-8: scanned as bytes", item.path))
                yield Chunk(data, item.path, "file", offset, line_base)
                line_base += data.count(b"\n", 0, self.max_file_size)
        except OSError as exc:
            warnings.append(Warning("unreadable", f"cannot read: {exc.strerror or exc}", item.path))
