"""Input enumeration: each source lists items and reads them into chunks; it never knows about rules."""

from __future__ import annotations

from dataclasses import dataclass

from scanner.findings import NO_ORIGIN, Origin  # where a chunk's bytes sit: part of each finding

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
