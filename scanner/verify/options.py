"""Verification settings and the one check that decides where secrets may be sent."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from scanner.errors import UsageError

DEFAULT_CLOUDFLARE_API = "https://api.cloudflare.com/client/v4"
ENV_API_BASE = "TOKENSCAN_CLOUDFLARE_API_BASE"


@dataclass(frozen=True)
class VerifyOptions:
    cloudflare_api_base: str = DEFAULT_CLOUDFLARE_API
    cloudflare_email: str | None = None
    cloudflare_account_id: str | None = None
    concurrency: int = 4
    timeout: float = 10.0  # per request
    budget: float = 120.0  # whole verification, seconds
    retries: int = 3
    rate_requests: int = 1000  # below Cloudflare's 1,200 per 5 minutes
    rate_window: float = 300.0
    max_retry_after: float = 60.0


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


def api_base_from(option_value: str | None) -> str:
    if option_value:
        return check_api_base(option_value)
    env = os.environ.get(ENV_API_BASE)
    if env:
        return check_api_base(env, ENV_API_BASE)
    return DEFAULT_CLOUDFLARE_API
