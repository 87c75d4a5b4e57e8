"""Input enumeration: each source lists items and reads them into chunks; it never knows about rules."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    """Where a chunk's bytes sit beyond their path, set on each finding when it is made (never copied on
    afterwards): the blob or the commit (a commit message) holding them, and the archive member they are."""

    commit: str | None = None
    blob: str | None = None
    member: str = ""  # `!inner/path` inside an archive (the chunk's path then ends with it)


NO_ORIGIN = Origin()


@dataclass
class Chunk:
    """Bytes to scan and where they came from; offsets and lines are relative to the whole item."""

    data: bytes
    path: str
    source: str = "file"
    offset_base: int = 0
    line_base: int = 0
    encoding: str = "plain"  # the whole item's encoding when it was decoded to read it (utf-16)
    origin: Origin = NO_ORIGIN
