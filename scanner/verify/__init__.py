"""Verification: ask the vendor whether a credential is live, and what a live one reaches.

Opt-in only (nothing leaves the machine unless asked). The public entry point is verify_findings(); the
scheduler owns politeness (dedupe, concurrency, rate limit, retries, budget) and vendor modules own what
to ask and how to read the answer (scanner/verify/verifiers/, one module per vendor, see registry.py).
"""

from __future__ import annotations

from scanner.verify.options import VerifyOptions
from scanner.verify.registry import check_verify_kind, known_kinds
from scanner.verify.scheduler import VerifyStats, verify_findings

__all__ = ["VerifyOptions", "VerifyStats", "check_verify_kind", "known_kinds", "verify_findings"]
