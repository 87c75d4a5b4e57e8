"""Input enumeration: each source lists items and reads them into chunks; it never knows about rules."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Chunk:
    """Bytes to scan and where they came from; offsets and lines are relative to the whole item."""

    data: bytes
    path: str
    source: str = "file"
    offset_base: int = 0
    line_base: int = 0
    encoding: str = "plain"  # the whole item's encoding when it was decoded to read it (utf-16)
    meta: dict = field(default_factory=dict)  # source facts copied onto findings (commit, blob, ...)
