"""Multi-literal keyword search: every rule's keywords in one pass over a chunk.

Hyperscan (when importable) matches all literals at once in C; the pure-`regex` fallback finds the same
(keyword, position) pairs, including overlapping ones, so both paths feed the engine identical hits.
Each literal says whether case matters (rule keywords: no; base64 signatures: yes).
"""

from __future__ import annotations

import hashlib
import os
from typing import Iterable

import regex

try:  # optional accelerator
    import hyperscan as _hs
except ImportError:  # pragma: no cover - depends on platform wheels
    _hs = None

HYPERSCAN_AVAILABLE = _hs is not None

Hit = tuple[int, int]  # (keyword index, start offset)


def _cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tokenscan")


def _compile_database(literals: list[tuple[bytes, bool]]) -> object:
    db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
    exprs = [regex.escape(k, special_only=True, literal_spaces=True) for k, _ in literals]
    db.compile(expressions=exprs, ids=list(range(len(exprs))),
               flags=[_hs.HS_FLAG_CASELESS if ci else 0 for _, ci in literals])
    return db


def _cached_database(literals: list[tuple[bytes, bool]]) -> object:
    """Compiling ~1,000 literals takes ~50 ms, a third of a pre-commit run; a serialized database loads in
    microseconds. Cached per literal set in the user's cache folder (never in the scanned repository);
    any cache problem just means compiling."""
    key = hashlib.sha256(repr((getattr(_hs, "__version__", ""), literals)).encode()).hexdigest()[:32]
    path = os.path.join(_cache_dir(), f"prefilter-{key}.hsdb")
    try:
        with open(path, "rb") as fh:
            db = _hs.loadb(fh.read(), mode=_hs.HS_MODE_BLOCK)
        db.scratch = _hs.Scratch(db)
        return db
    except Exception:  # missing, stale or unreadable cache
        pass
    db = _compile_database(literals)
    try:
        os.makedirs(_cache_dir(), mode=0o700, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as fh:
            fh.write(_hs.dumpb(db))
        os.replace(tmp, path)
    except OSError:
        pass
    return db


Literal = tuple[bytes, bool]  # (bytes, caseless); caseless literals are given in lowercase


class Prefilter:
    def __init__(self, literals: Iterable[Literal], accelerated: bool | None = None) -> None:
        self.literals: list[Literal] = list(dict.fromkeys((k.lower() if ci else k, ci) for k, ci in literals))
        self.keywords: list[bytes] = [k for k, _ in self.literals]
        use_hs = HYPERSCAN_AVAILABLE if accelerated is None else accelerated
        if use_hs and not HYPERSCAN_AVAILABLE:
            raise RuntimeError("hyperscan is not installed")
        self.accelerated = bool(use_hs)
        self._db = None
        self._fallback = None
        self._compile()

    def _compile(self) -> None:
        if self.accelerated:
            self._db = _cached_database(self.literals)
        else:
            by_len = sorted(self.literals, key=lambda lit: len(lit[0]), reverse=True)
            alts = [b"(?i:" + regex.escape(k) + b")" if ci else regex.escape(k) for k, ci in by_len]
            self._fallback = regex.compile(b"(?:" + b"|".join(alts) + b")")
            self._buckets: dict[bytes, list[int]] = {}
            for i, (k, _) in enumerate(self.literals):
                self._buckets.setdefault(k[:2].lower(), []).append(i)

    def __getstate__(self) -> dict:  # compiled databases do not pickle; workers recompile
        return {"literals": self.literals, "accelerated": self.accelerated}

    def __setstate__(self, state: dict) -> None:
        self.literals = state["literals"]
        self.keywords = [k for k, _ in self.literals]
        self.accelerated = state["accelerated"]
        self._db = self._fallback = None
        self._compile()

    def hits(self, data: bytes) -> list[Hit]:
        if not data:
            return []
        if self.accelerated:
            out: list[Hit] = []
            kws = self.keywords

            def on_match(kid: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
                out.append((kid, to - len(kws[kid])))

            self._db.scan(data, match_event_handler=on_match)
            return out
        found: list[Hit] = []
        lits = self.literals
        for m in self._fallback.finditer(data, overlapped=True):
            pos = m.start()
            for kid in self._buckets.get(data[pos:pos + 2].lower(), ()):
                k, ci = lits[kid]
                piece = data[pos:pos + len(k)]
                if (piece.lower() if ci else piece) == k:
                    found.append((kid, pos))
        return found
