"""Which verifier checks which `verify = "..."` kind, and where each vendor's credentials may be sent.

Adding a vendor is one module in scanner/verify/verifiers/ (it calls `vendor(...)` once and decorates each
verify function with `@verifier("kind", that_vendor)`) plus its name in verifiers.MODULES. The vendor declares
its documented HTTPS base; the scheduler builds one client per vendor on that base (or on the operator's
override, see options.api_base_for), and verify functions only pass paths. So a credential can go only to
its own vendor's host, never to a host taken from scanned content.

Importing a verifier module is cheap (no HTTP client is built, httpx is imported only when a request is
made), so rule loading may call known_kinds().
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scanner.errors import UsageError

if TYPE_CHECKING:
    from scanner.findings import Verification
    from scanner.rules.loader import Rule
    from scanner.verify.http import Http
    from scanner.verify.options import VerifyOptions

VerifyFn = Callable[["Http", str, dict, "VerifyOptions"], "Verification"]


@dataclass(frozen=True)
class Vendor:
    name: str  # lower-case, also the option/env key: TOKENSCAN_<NAME>_API_BASE
    default_base: str  # documented HTTPS API base
    hosts: tuple[str, ...]  # documented hosts its credentials are sent to
    rate_requests: int = 1000  # client-side ceiling, below the vendor's documented limit
    rate_window: float = 300.0
    docs: str = ""  # where the request and its answers are documented
    host_pattern: str = ""  # one host per customer (Shopify shops): the base is https://{host}/..., hosts must match


@dataclass(frozen=True)
class Verifier:
    kind: str
    vendor: Vendor
    fn: VerifyFn
    hints: tuple[str, ...] = ()  # pairing hints collected near the secret (see scanner/verify/hints.py)


_VENDORS: dict[str, Vendor] = {}
_VERIFIERS: dict[str, Verifier] = {}
_loaded = False


def vendor(name: str, default_base: str, hosts: tuple[str, ...] = (), **kw: object) -> Vendor:
    """Declare a vendor once. Its default base must be HTTPS to one of its documented hosts."""
    parts = urlsplit(default_base)
    hosts = hosts or (parts.hostname or "",)
    if kw.get("host_pattern"):
        if not default_base.startswith("https://{host}/"):
            raise ValueError(f"vendor {name}: a per-customer base must be https://{{host}}/...")
    elif parts.scheme != "https" or parts.hostname not in hosts:
        raise ValueError(f"vendor {name}: default base must be https:// on a documented host")
    v = Vendor(name, default_base.rstrip("/"), hosts, **kw)  # type: ignore[arg-type]
    if name in _VENDORS and _VENDORS[name] != v:
        raise ValueError(f"vendor {name} declared twice")
    _VENDORS[name] = v
    return v


def verifier(kind: str, of: Vendor, hints: tuple[str, ...] = ()) -> Callable[[VerifyFn], VerifyFn]:
    """Register `fn` as the verifier for rules with `verify = kind`."""
    def register(fn: VerifyFn) -> VerifyFn:
        if kind in _VERIFIERS and _VERIFIERS[kind].fn is not fn:
            raise ValueError(f"verify kind {kind} registered twice")
        _VERIFIERS[kind] = Verifier(kind, of, fn, hints)
        return fn
    return register


def _load() -> None:
    global _loaded
    if not _loaded:
        from scanner.verify import verifiers

        verifiers.load()
        _loaded = True


def known_kinds() -> frozenset[str]:
    """Every `verify = "..."` value a rule may name."""
    _load()
    return frozenset(_VERIFIERS)


def check_verify_kind(kind: str | None, where: str = "") -> None:
    """Refuse a rule whose `verify` names no registered verifier (a typo would silently verify nothing)."""
    if kind is None or kind in known_kinds():
        return
    prefix = f"{where}: " if where else ""
    raise UsageError(f"{prefix}unknown verify kind {kind!r} (known: {', '.join(sorted(known_kinds()))})")


def checked(rules: list[Rule]) -> list[Rule]:
    """rules, once every user rule's `verify` names a registered verifier (UsageError naming the file and
    rule otherwise). Shipped rules are checked by the test suite, not on every run. Here, not in the rules
    loader: which names a verifier answers to is this layer's to say."""
    for r in rules:
        if r.verify is not None and not r.shipped and r.verify not in known_kinds():
            raise UsageError(f"{r.source}: rule '{r.id}' 'verify' names no verifier: {r.verify!r} "
                             f"(known: {', '.join(sorted(known_kinds()))})")
    return rules


def get(kind: str | None) -> Verifier | None:
    _load()
    return _VERIFIERS.get(kind) if kind else None


def vendors() -> dict[str, Vendor]:
    """Every registered vendor by name (for listing env variables and options)."""
    _load()
    return dict(_VENDORS)


def hints_for(kind: str | None) -> tuple[str, ...]:
    v = get(kind)
    return v.hints if v else ()


def parse_api_bases(values: list[str] | tuple[str, ...]) -> dict[str, str]:
    """`VENDOR=URL` pairs (e.g. from a repeatable --verify-api-base option) checked into VerifyOptions.api_bases:
    the vendor must be registered, the URL https or loopback http. Explicit, like the environment variables:
    a base is never taken from scanned content."""
    from scanner.verify.options import check_api_base

    out: dict[str, str] = {}
    known = vendors()
    for value in values:
        name, sep, url = value.partition("=")
        name = name.strip().lower()
        if not sep or not url:
            raise UsageError(f"--verify-api-base {value}: expected VENDOR=URL")
        if name not in known:
            raise UsageError(f"--verify-api-base {value}: unknown vendor {name!r} (known: {', '.join(sorted(known))})")
        out[name] = check_api_base(url.strip(), f"--verify-api-base {name}=")
    return out
