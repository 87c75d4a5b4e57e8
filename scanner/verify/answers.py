"""Reading vendors' answers the same way everywhere: what proves nothing is `unknown`, with its reason.

Details never quote a vendor's error message (some echo part of the credential): only statuses, error
codes the vendor documents, and fields the verifier picked out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanner.findings import Verification

if TYPE_CHECKING:  # the HTTP machinery is loaded only when verifying, not when rules are
    from scanner.verify.http import Answer


def no_answer(a: Answer) -> Verification | None:
    """`unknown` when there is no usable answer: network error, timeout, budget, 429 after retries, 5xx."""
    if a.status is None or a.status == 429 or a.status >= 500:
        return Verification("unknown", a.problem or f"HTTP {a.status}")
    return None


def malformed(a: Answer, what: str = "not a JSON object") -> Verification:
    return Verification("unknown", f"malformed answer (HTTP {a.status}, {what})")


def undecided(a: Answer, note: str = "") -> Verification:
    """An HTTP answer that neither proves the credential live nor proves it dead."""
    extra = f", {note}" if note else ""
    return Verification("unknown", f"answer proves nothing (HTTP {a.status}{extra})")


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def text(value: object, limit: int = 80) -> str:
    """A short printable field from an answer (names, logins), never a whole body."""
    s = "".join(c for c in str(value) if c.isprintable())
    return s[:limit]


def models_listed(a: Answer) -> Verification:
    """A 200 from a model-listing endpoint (OpenAI, Anthropic): live, with how many models it reaches."""
    data = a.body.get("data") if a.body is not None else None
    if not isinstance(data, list):
        return malformed(a, "no model list")
    return Verification("live", f"{len(data)} models readable", reach={"models": len(data)})
