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

BINARY_SNIFF = 8192  # a NUL byte in the first 8 KiB makes a file, blob or archive member binary


def is_binary(data: bytes) -> bool:
    """The one binary test of every reader (find, not a slice: the head is not copied)."""
    return data.find(b"\0", 0, BINARY_SNIFF) >= 0


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
