"""Archives opened in memory: zip (jar, whl, apk, docx/xlsx/pptx, …), tar (plain, gz, bz2, xz) and gzip.

Secrets ship inside build artefacts and office files as often as in source. Each member becomes chunks
named `archive!member` (nested: `a.zip!inner.jar!conf.properties`), so a finding says exactly where to
look. Limits keep a hostile archive (a zip bomb, a million tiny members, endless nesting) from exhausting
memory or time: what a limit cuts off is a warning, never silence.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace

from scanner.engine.decoders import kind_of, utf16_text
from scanner.findings import Warning
from scanner.sources import NO_ORIGIN, Chunk, Origin, is_binary

SEP = "!"  # between an archive's path and a member's, as in jar: URLs


@dataclass(frozen=True)
class Limits:
    max_depth: int = 2  # levels of archives opened: 2 = an archive and the archives inside it
    max_member: int = 64 << 20  # bytes of one uncompressed member
    max_total: int = 512 << 20  # uncompressed bytes of one outer archive, all members and levels
    max_members: int = 100_000
    max_ratio: int = 200  # uncompressed/compressed size of a zip member beyond which it is a bomb


class _Budget:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.total = 0
        self.members = 0

    def take(self, size: int) -> bool:
        self.total += size
        self.members += 1
        return self.total <= self.limits.max_total and self.members <= self.limits.max_members


def members(data: bytes, path: str, warnings: list[Warning], limits: Limits = Limits(),
            depth: int = 1, budget: _Budget | None = None) -> Iterator[tuple[str, bytes]]:
    """(member path, bytes) of every regular member, archives inside expanded in turn. Members that are
    archives themselves are not yielded, their contents are."""
    budget = budget or _Budget(limits)
    kind = kind_of(data[:512])
    try:
        if kind == "zip":
            entries = _zip(data, path, warnings, limits, budget)
        elif kind in ("gzip", "bzip2", "xz"):
            entries = _compressed(data, kind, path, warnings, limits, budget)
        elif kind == "tar":
            entries = _tar(data, path, warnings, limits, budget)
        else:
            return
        for name, content in entries:
            if kind_of(content[:512]) is not None:
                if depth >= limits.max_depth:
                    warnings.append(Warning("archive-limit", f"nested deeper than {limits.max_depth} archives: "
                                            "not opened", name))
                    continue
                yield from members(content, name, warnings, limits, depth + 1, budget)
            else:
                yield name, content
    except _Stop as stop:
        warnings.append(Warning("archive-limit", str(stop), path))
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError, ValueError,
            NotImplementedError) as exc:
        warnings.append(Warning("corrupt-archive", f"cannot read {kind} archive: {exc}", path))


class _Stop(Exception):
    """A limit of the whole outer archive was reached: stop opening it."""


def _check(budget: _Budget, size: int) -> None:
    if not budget.take(size):
        raise _Stop(f"more than {budget.limits.max_total >> 20} MiB or {budget.limits.max_members} members "
                    f"uncompressed: the rest is not scanned")


def _zip(data: bytes, path: str, warnings: list[Warning], limits: Limits, budget: _Budget
         ) -> Iterator[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            name = f"{path}{SEP}{info.filename}"
            if info.flag_bits & 0x1:
                warnings.append(Warning("encrypted", "encrypted archive member: not scanned", name))
                continue
            if info.file_size > limits.max_member or (
                    info.compress_size and info.file_size / info.compress_size > limits.max_ratio
                    and info.file_size > 1 << 20):
                warnings.append(Warning("archive-limit", f"member of {info.file_size} bytes uncompressed "
                                        f"(compressed {info.compress_size}): not opened", name))
                continue
            _check(budget, info.file_size)
            try:
                with zf.open(info) as fh:  # read at most the declared size: headers can lie
                    content = fh.read(limits.max_member + 1)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
                warnings.append(Warning("corrupt-archive", f"cannot read member: {exc}", name))
                continue
            yield name, content


def _bounded(stream: io.BufferedIOBase, limit: int) -> bytes | None:
    out = stream.read(limit + 1)
    return None if len(out) > limit else out


def _compressed(data: bytes, kind: str, path: str, warnings: list[Warning], limits: Limits, budget: _Budget
                ) -> Iterator[tuple[str, bytes]]:
    """A compressed single file: a .tar.gz is a tar inside, anything else is one member."""
    raw = io.BytesIO(data)
    opened = {"gzip": lambda: gzip.GzipFile(fileobj=raw), "bzip2": lambda: bz2.BZ2File(raw),
              "xz": lambda: lzma.LZMAFile(raw)}[kind]()
    with opened as fh:
        content = _bounded(fh, limits.max_member)
    if content is None:
        warnings.append(Warning("archive-limit", f"more than {limits.max_member >> 20} MiB uncompressed: "
                                "not opened", path))
        return
    _check(budget, len(content))
    inner = path[: path.rfind(".")] if "." in path.rsplit("/", 1)[-1] else path
    if kind_of(content[:512]) == "tar":
        yield from _tar(content, path, warnings, limits, budget)
    else:
        yield f"{path}{SEP}{inner.rsplit('/', 1)[-1]}", content


def _tar(data: bytes, path: str, warnings: list[Warning], limits: Limits, budget: _Budget
         ) -> Iterator[tuple[str, bytes]]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tf:
        for member in tf:
            if not member.isfile():  # links, devices, folders: nothing to read, nothing to follow
                continue
            name = f"{path}{SEP}{member.name}"
            if member.size > limits.max_member:
                warnings.append(Warning("archive-limit", f"member of {member.size} bytes: not opened", name))
                continue
            _check(budget, member.size)
            fh = tf.extractfile(member)
            if fh is not None:
                yield name, fh.read()


def archive_chunks(data: bytes, path: str, warnings: list[Warning], include_binary: bool,
                   source: str = "file", origin: Origin = NO_ORIGIN, depth: int = 2) -> Iterator[Chunk]:
    """Chunks of an archive's members, archives inside opened up to `depth` levels in all; binary members
    are skipped (and counted) as binary files are."""
    for name, content in members(data, path, warnings, Limits(max_depth=depth)):
        where = replace(origin, member=name[len(path):])
        if is_binary(content):
            text = utf16_text(content)
            if text is not None:
                yield Chunk(text, name, source, encoding="utf-16", origin=where)
                continue
            if not include_binary:
                warnings.append(Warning("binary", "binary archive member skipped", name))
                continue
        yield Chunk(content, name, source, origin=where)
