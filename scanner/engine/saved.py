"""The shipped rules' engine kept whole in the user's cache folder. Building it (the catalog's tables, the
~20,000 encoded keyword signatures, the prefilter's literal table) costs every run ~40 ms, which is most of
what a pre-commit hook pays before it reads a byte; loading it is one pickle read.

Keyed by everything the engine is made of: the shipped rule files and the modules that build it
(scanner/engine, scanner/rules) by name, size and modification time, the version, the interpreter, whether
the C run finder and Hyperscan are there, and the options it was built with. Any change means building
again; a missing, stale or unreadable entry only means building. The folder is the user's own (created 0700) and never a
scanned repository: nothing a scan reads can put an entry there."""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import sys

from scanner import __version__
from scanner.cache import cache_dir, cache_used, store
from scanner.engine import prefilter, runs
from scanner.engine.matcher import Engine
from scanner.rules.loader import Rule, load_rules, shipped_dir


def _folders() -> list[str]:
    import scanner.rules

    return [os.path.dirname(os.path.abspath(__file__)), os.path.dirname(os.path.abspath(scanner.rules.__file__)),
            shipped_dir()]


def _key(accelerated: bool | None, decode_depth: int) -> str | None:
    """Names, sizes and modification times of the engine's sources and the shipped rule files (as Python
    keys its bytecode cache: a stat each, not a read), and what else the engine depends on; None when a
    folder cannot be listed (then no cache)."""
    h = hashlib.sha256(repr((__version__, sys.version, runs.NATIVE, prefilter.HYPERSCAN_AVAILABLE, accelerated,
                             decode_depth)).encode())
    try:
        for folder in _folders():
            for entry in sorted(os.scandir(folder), key=lambda e: e.name):
                if entry.name.endswith((".py", ".c", ".json", ".toml")):
                    st = entry.stat()
                    h.update(f"{folder}/{entry.name}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    except OSError:
        return None
    return h.hexdigest()[:32]


def shipped_engine(accelerated: bool | None, decode_depth: int) -> tuple[list[Rule], Engine]:
    """The shipped rules and an Engine over them, as Engine(load_rules(), accelerated, decode_depth)."""
    key = _key(accelerated, decode_depth)
    path = os.path.join(cache_dir(), f"engine-{key}.pickle") if key else None
    if path:
        try:
            with open(path, "rb") as fh:
                data = fh.read()
            gc.disable()  # tens of thousands of small objects: the collector would walk them all, for nothing
            try:
                rules, engine = pickle.loads(data)  # noqa: S301 - the user's own cache folder, written by us
            finally:
                gc.enable()
            if isinstance(engine, Engine) and engine.rules is rules:
                cache_used(path)
                return rules, engine
        except Exception:  # noqa: BLE001, S110 - build instead
            pass
    rules = load_rules()
    engine = Engine(rules, accelerated, decode_depth)
    if path:
        try:
            blob = pickle.dumps((rules, engine), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - an engine that does not pickle is used, not kept
            return rules, engine
        store(path, blob, prune="engine")
    return rules, engine
