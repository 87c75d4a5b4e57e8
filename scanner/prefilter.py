"""Multi-literal keyword search: every rule's keywords in one pass over a chunk.

Hyperscan (when importable) matches all literals at once in C; the pure-`regex` fallback finds the same
(keyword, position) pairs, including overlapping ones, so both paths feed the engine identical hits.
Each literal says whether case matters (rule keywords: no; base64 signatures: yes).
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
            db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
            exprs = [regex.escape(k, special_only=True, literal_spaces=True) for k in self.keywords]
            db.compile(expressions=[e if isinstance(e, bytes) else e.encode() for e in exprs],
                       ids=list(range(len(exprs))),
                       flags=[_hs.HS_FLAG_CASELESS if ci else 0 for _, ci in self.literals])
            self._db = db
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
