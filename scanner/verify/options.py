"""Verification settings and the one check that decides where secrets may be sent.

Vendor-neutral: per-vendor API bases (`api_bases`) and pairing values (`params`, e.g. the Cloudflare e-mail
for global keys) are maps keyed by vendor name, so adding a vendor adds no field here. The three
`cloudflare_*` constructor arguments the CLI already passes are still accepted and folded into those maps.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import urlsplit

from scanner.errors import UsageError

DEFAULT_CLOUDFLARE_API = "https://api.cloudflare.com/client/v4"
ENV_API_BASE = "TOKENSCAN_CLOUDFLARE_API_BASE"


def env_var_for(vendor: str) -> str:
    """TOKENSCAN_<VENDOR>_API_BASE: the only environment route to a non-default (e.g. loopback) base."""
    return f"TOKENSCAN_{vendor.upper().replace('-', '_')}_API_BASE"


@dataclass(frozen=True)
class VerifyOptions:
    cloudflare_api_base: str = DEFAULT_CLOUDFLARE_API  # compatibility: same as api_bases["cloudflare"]
    cloudflare_email: str | None = None  # compatibility: same as params["cloudflare.email"]
    cloudflare_account_id: str | None = None  # compatibility: same as params["cloudflare.account_id"]
    concurrency: int = 4
    timeout: float = 10.0  # per request
    budget: float = 120.0  # whole verification, seconds
    retries: int = 3
    rate_requests: int = 1000  # a ceiling for every vendor's own client-side limit (Cloudflare: 1,200 / 5 min)
    rate_window: float = 300.0
    max_retry_after: float = 60.0
    api_bases: Mapping[str, str] = field(default_factory=dict)  # vendor -> base, from an option (checked)
    params: Mapping[str, str] = field(default_factory=dict)  # "vendor.name" -> value, e.g. cloudflare.email

    def __post_init__(self) -> None:
        bases = dict(self.api_bases)
        if self.cloudflare_api_base and self.cloudflare_api_base != DEFAULT_CLOUDFLARE_API:
            bases.setdefault("cloudflare", self.cloudflare_api_base)
        params = dict(self.params)
        for name, value in (("email", self.cloudflare_email), ("account_id", self.cloudflare_account_id)):
            if value:
                params.setdefault(f"cloudflare.{name}", value)
        for vendor, base in bases.items():
            bases[vendor] = check_api_base(base, f"API base for {vendor}")
        object.__setattr__(self, "api_bases", MappingProxyType(bases))
        object.__setattr__(self, "params", MappingProxyType(params))

    def param(self, vendor: str, name: str) -> str | None:
        """A pairing value the operator gave for a vendor (never one taken from scanned content)."""
        return self.params.get(f"{vendor}.{name}") or None


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    """Whether a base URL points at this machine (test stand-ins): such traffic must never go via a proxy."""
    return _loopback(urlsplit(url).hostname or "")


def check_api_base(url: str, option: str = "--cloudflare-api-base") -> str:
    """HTTPS anywhere, or plain HTTP only to a loopback address (test servers); anything else is refused."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return url.rstrip("/")
    if parts.scheme == "http" and _loopback(host):
        return url.rstrip("/")
    raise UsageError(f"{option} {url}: must be https://, or http:// on a loopback address")


def api_base_for(vendor: str, default: str, option_value: str | None = None) -> str:
    """The base a vendor's credentials go to: an explicit option, else TOKENSCAN_<VENDOR>_API_BASE, else the
    vendor's documented default. Never a host from scanned content."""
    if option_value:
        return check_api_base(option_value, f"API base for {vendor}")
    env_name = env_var_for(vendor)
    env = os.environ.get(env_name)
    if env:
        return check_api_base(env, env_name)
    return default


def api_base_from(option_value: str | None) -> str:
    """Cloudflare's base (kept for the CLI's --cloudflare-api-base)."""
    if option_value:
        return check_api_base(option_value)
    return api_base_for("cloudflare", DEFAULT_CLOUDFLARE_API)
