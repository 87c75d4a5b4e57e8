"""The user's cache folder for derived data (parsed shipped rules, decoder signatures, Hyperscan databases,
pattern classes): never inside a scanned repository, and any problem with it only means computing again.

Entries are written whole (a temporary file, then a rename), so a reader never sees half an entry, and
pruned least recently used first, so rule edits and test rule sets do not pile up."""

from __future__ import annotations

import os

CACHE_KEEP = 16  # entries kept per kind of cached data


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tokenscan")


def cache_used(path: str) -> None:
    """Marks a cache entry as recently used (entries are pruned least recently used first)."""
    try:
        os.utime(path)
    except OSError:
        pass


def prune_cache(prefix: str, keep: int = CACHE_KEEP) -> None:
    """After writing a new entry: removes all but the `keep` most recently used entries named prefix-*."""
    try:
        names = [n for n in os.listdir(cache_dir()) if n.startswith(prefix + "-") and not n.endswith(".tmp")]
        paths = sorted((os.path.join(cache_dir(), n) for n in names), key=os.path.getmtime, reverse=True)
        for old in paths[keep:]:
            os.remove(old)
    except OSError:
        pass


def write_whole(path: str, data: bytes) -> None:
    """Replaces path by data in one rename (raises OSError)."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def store(path: str, data: bytes, prune: str | None = None) -> None:
    """Writes a cache entry (the folder created owner-only), then prunes entries named prune-*; a cache that
    cannot be written is no error."""
    try:
        os.makedirs(cache_dir(), mode=0o700, exist_ok=True)
        write_whole(path, data)
    except OSError:
        return
    if prune:
        prune_cache(prune)
