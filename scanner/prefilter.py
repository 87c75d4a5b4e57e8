"""Multi-literal keyword search: every rule's keywords in one pass over a chunk.

Hyperscan (when importable) matches all literals at once in C; the pure-`regex` fallback finds the same
(keyword, position) pairs, including overlapping ones, so both paths feed the engine identical hits.
Keywords are matched without regard to case.
"""

from __future__ import annotations

from typing import Iterable

import regex

try:  # optional accelerator
    import hyperscan as _hs
except ImportError:  # pragma: no cover - depends on platform wheels
    _hs = None

HYPERSCAN_AVAILABLE = _hs is not None

Hit = tuple[int, int]  # (keyword index, start offset)


class Prefilter:
    def __init__(self, keywords: Iterable[str], accelerated: bool | None = None) -> None:
        self.keywords: list[bytes] = list(dict.fromkeys(k.lower().encode("utf-8") for k in keywords))
        use_hs = HYPERSCAN_AVAILABLE if accelerated is None else accelerated
        if use_hs and not HYPERSCAN_AVAILABLE:
            raise RuntimeError("hyperscan is not installed")
        self.accelerated = bool(use_hs)
        self._db = None
        self._fallback = None
        self._compile()

    def _compile(self) -> None:
        if self.accelerated:
            db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
            exprs = [regex.escape(k, special_only=True, literal_spaces=True) for k in self.keywords]
            db.compile(expressions=[e if isinstance(e, bytes) else e.encode() for e in exprs],
                       ids=list(range(len(exprs))),
                       flags=[_hs.HS_FLAG_CASELESS] * len(exprs))
            self._db = db
        else:
            by_len = sorted(self.keywords, key=len, reverse=True)
            self._fallback = regex.compile(b"(?i)(?:" + b"|".join(regex.escape(k) for k in by_len) + b")")
            self._buckets: dict[bytes, list[int]] = {}
            for i, k in enumerate(self.keywords):
                self._buckets.setdefault(k[:2], []).append(i)

    def __getstate__(self) -> dict:  # compiled databases do not pickle; workers recompile
        return {"keywords": self.keywords, "accelerated": self.accelerated}

    def __setstate__(self, state: dict) -> None:
        self.keywords = state["keywords"]
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
        kws = self.keywords
        for m in self._fallback.finditer(data, overlapped=True):
            pos = m.start()
            for kid in self._buckets.get(data[pos:pos + 2].lower(), ()):
                k = kws[kid]
                if data[pos:pos + len(k)].lower() == k:
                    found.append((kid, pos))
        return found
