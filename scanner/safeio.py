"""Reading a file a scanned repository may have planted: only regular files, never blocking.

A FIFO opened for reading blocks until a writer appears, a device never ends: either would hang the scan.
A scanned work tree's `.tokenscan.toml`, ignore files and a repository's own refs are opened without
blocking (O_NONBLOCK), checked to be regular files on the open descriptor (no check-then-open race), and
read up to a bound.
"""

from __future__ import annotations

import os
import stat

MAX_READ = 1 << 30


class NotRegular(OSError):
    """The path is a FIFO, socket, device or directory: not read."""


def read_file(path: str, limit: int = MAX_READ) -> bytes:
    """The bytes of a regular file. FileNotFoundError when it is absent, NotRegular when it is not a
    regular file, OSError("too large") beyond limit, other OSErrors as the system gives them."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegular("not a regular file")
        if st.st_size > limit:
            raise OSError(f"larger than {limit} bytes")
        chunks, total = [], 0
        while chunk := os.read(fd, min(1 << 20, limit + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise OSError(f"larger than {limit} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)
