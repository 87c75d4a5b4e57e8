"""One polite HTTP GET: shared rate limit, retries on 429 (Retry-After) and 5xx, per-request timeout,
and a deadline for the whole run. Errors are described without the request's headers, where secrets live."""

from __future__ import annotations

import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scanner.verify.options import is_loopback_url

if TYPE_CHECKING:  # httpx is imported only when a request is made: rule loading imports the verifiers
    import httpx

# A client for a loopback base mounts "no proxy" over every scheme: the environment's HTTP(S)_PROXY/ALL_PROXY
# would otherwise carry the (plain-HTTP, secret-bearing) loopback requests to the proxy in clear text.
# Vendor hosts keep trust_env and so honour the environment's proxy and NO_PROXY.
_NO_PROXY_MOUNTS: dict[str, None] = {"all://": None, "http://": None, "https://": None}


def make_client(base: str, timeout: float) -> httpx.Client:
    """The one place verification clients are built: no redirects (a 3xx must not carry a credential to
    another host), TLS verification on, and no proxy for loopback bases."""
    import httpx

    return httpx.Client(base_url=base, timeout=timeout, trust_env=True, follow_redirects=False,
                        headers={"User-Agent": "tokenscan-verifier"},
                        mounts=_NO_PROXY_MOUNTS if is_loopback_url(base) else None)


class RateLimiter:
    """At most `limit` request starts in any sliding `window` seconds, across threads."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self, deadline: float) -> bool:
        while True:
            with self._lock:
                now = time.monotonic()
                while self._starts and now - self._starts[0] >= self.window:
                    self._starts.popleft()
                if len(self._starts) < self.limit:
                    self._starts.append(now)
                    return True
                wait = self.window - (now - self._starts[0])
            if now + wait > deadline:
                return False
            time.sleep(min(wait, 1.0))


ThrottleTest = Callable[[int, dict[str, str]], bool]  # (status, lower-case headers) -> is a rate limit


@dataclass
class Answer:
    status: int | None  # None: no HTTP answer (network error, timeout, budget)
    body: dict | None  # None also when the body is not a JSON object (a malformed answer)
    problem: str = ""  # why there is no usable answer
    headers: dict[str, str] = field(default_factory=dict)  # the answer's headers, lower-case names
    raw: str = ""  # the body as text (first RAW_LIMIT characters), for vendors that answer in XML (AWS STS)
    reason: str = ""  # the status line's reason phrase (PyPI puts its error message there)


RAW_LIMIT = 65536


class Http:
    def __init__(self, base: str, timeout: float, retries: int, limiter: RateLimiter, deadline: float,
                 max_retry_after: float) -> None:
        self.client = make_client("" if "{host}" in base else base, timeout)
        self.base = base
        self.host = urlsplit(base).hostname or ""  # for details: which host answered
        self.netloc = urlsplit(base).netloc  # what a signed request (AWS SigV4) names as its Host
        self.path_prefix = urlsplit(base).path.rstrip("/")
        self.host_pattern: re.Pattern[str] | None = None  # vendors with one host per customer (Shopify shops)
        self.retries, self.limiter, self.deadline = retries, limiter, deadline
        self.max_retry_after = max_retry_after
        self.requests = 0
        self._lock = threading.Lock()

    def close(self) -> None:
        self.client.close()

    def get(self, path: str, headers: dict[str, str], params: dict | None = None,
            throttled: ThrottleTest | None = None, host: str | None = None) -> Answer:
        return self.request("GET", path, headers, params=params, throttled=throttled, host=host)

    def request(self, method: str, path: str, headers: dict[str, str], params: dict | None = None,
                data: dict | None = None, throttled: ThrottleTest | None = None, content: bytes | None = None,
                host: str | None = None) -> Answer:
        """One request to this client's base, retried on 429 and 5xx. `path` must be a path: a verifier can
        never aim a credential at a host of its choosing (let alone one taken from scanned content).
        `throttled` lets a vendor that signals rate limits another way (GitHub: 403 with Retry-After or an
        exhausted X-RateLimit-Remaining) have them treated as a 429: waited for, retried, never a verdict."""
        if not path.startswith("/") or path.startswith("//"):
            raise ValueError("verification request path must start with a single /")
        url, headers = self._target(path, headers, host)
        import httpx
        last = Answer(None, None, "not attempted")
        for attempt in range(self.retries + 1):
            if time.monotonic() >= self.deadline or not self.limiter.acquire(self.deadline):
                return Answer(None, None, "verification budget exhausted")
            with self._lock:
                self.requests += 1
            try:
                resp = self.client.request(method, url, headers=headers, params=params, data=data, content=content)
            except httpx.TimeoutException:
                last = Answer(None, None, "timeout")
                delay = self._backoff(attempt)
            except httpx.HTTPError as exc:
                last = Answer(None, None, f"network error ({type(exc).__name__})")
                delay = self._backoff(attempt)
            else:
                body = _json(resp)
                raw, reason = resp.text[:RAW_LIMIT], "".join(c for c in resp.reason_phrase if c.isprintable())[:200]
                limited = resp.status_code == 429 or (
                    throttled is not None and throttled(resp.status_code, _safe_headers(resp)))
                if limited:
                    wait = _retry_after(resp)
                    if wait is None:
                        wait = _ratelimit_reset(resp)
                    last = Answer(429, body, f"rate limited ({resp.status_code})"
                                  + (f", Retry-After {wait:g} s" if wait else ""),
                                  headers=_safe_headers(resp))
                    delay = self._backoff(attempt) if wait is None else wait
                    if delay > self.max_retry_after:
                        return last
                elif resp.status_code >= 500:
                    last = Answer(resp.status_code, body, f"server error ({resp.status_code})")
                    delay = self._backoff(attempt)
                else:
                    return Answer(resp.status_code, body, headers=_safe_headers(resp), raw=raw, reason=reason)
            if attempt == self.retries or time.monotonic() + delay >= self.deadline:
                break
            time.sleep(delay)
        return last

    def _target(self, path: str, headers: dict[str, str], host: str | None) -> tuple[str, dict[str, str]]:
        """The URL to request. A vendor with one host per customer (a Shopify shop) declares the pattern its
        hosts must match (set by the scheduler from the registry): `host` is checked against it, put into the
        vendor's base (`https://{host}/...`), or, for a loopback override, sent as the Host header only."""
        if host is None:
            if "{host}" in self.base:
                raise ValueError("this vendor's requests need a host")
            return path, headers
        if self.host_pattern is None or not self.host_pattern.fullmatch(host):
            raise ValueError("host not allowed for this vendor")
        if "{host}" in self.base:
            return self.base.replace("{host}", host) + path, headers
        return path, {**headers, "Host": host}

    @staticmethod
    def _backoff(attempt: int) -> float:
        return min(8.0, 0.25 * 2 ** attempt) * (0.5 + random.random() / 2)


def _json(resp: httpx.Response) -> dict | None:
    try:
        body = resp.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:  # the other form RFC 9110 allows: an HTTP-date
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _safe_headers(resp: httpx.Response) -> dict[str, str]:
    """Response headers for verifiers to read (scopes, expiry); a response never echoes the credential."""
    return {k.lower(): v for k, v in resp.headers.items()}


def _ratelimit_reset(resp: httpx.Response) -> float | None:
    """Seconds until X-RateLimit-Reset (epoch seconds, GitHub's form) when no Retry-After is given."""
    value = resp.headers.get("X-RateLimit-Reset")
    if value is None or resp.headers.get("X-RateLimit-Remaining") != "0":
        return None
    try:
        return max(0.0, float(value) - time.time())
    except ValueError:
        return None
