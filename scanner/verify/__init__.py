"""Verification: ask the vendor whether a credential is live, and what a live one reaches.

Opt-in only (nothing leaves the machine unless asked). The public entry point is verify_findings(); the
scheduler owns politeness (dedupe, concurrency, rate limit, retries, budget) and vendor modules own what
to ask and how to read the answer (scanner/verify/verifiers/, one module per vendor, see registry.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scanner.verify.options import VerifyOptions
from scanner.verify.registry import check_verify_kind, known_kinds

if TYPE_CHECKING:
    from scanner.verify.scheduler import VerifyStats, verify_findings

__all__ = ["VerifyOptions", "VerifyStats", "check_verify_kind", "known_kinds", "verify_findings"]


def __getattr__(name: str) -> Any:
    """The scheduler (thread pool, HTTP) loads on first use: rule loading imports this package for
    known_kinds() and must stay cheap."""
    if name in ("verify_findings", "VerifyStats"):
        from scanner.verify import scheduler

        return getattr(scheduler, name)
    raise AttributeError(name)
