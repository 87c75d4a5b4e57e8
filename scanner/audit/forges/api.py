"""Reading a forge's REST API for an audit's repository list: JSON pages followed by their `Link: rel="next"`
header, rate limits waited out, every request bounded in time and size.

The token (GITHUB_TOKEN / GITLAB_TOKEN, from the user's environment only) goes to the API base the user
chose and nowhere else: a next-page link on another origin is not followed, redirects are not followed,
and no error message carries a request's headers.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from scanner.verify.http import _NO_PROXY_MOUNTS, _ratelimit_reset, _retry_after
from scanner.verify.options import is_loopback_url

MAX_PAGE = 32 << 20  # bytes of one JSON page: a page of 100 repositories is well under 1 MiB
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([^";]+)"?')


@dataclass(frozen=True)
class ForgeOptions:
    """How `github:` / `gitlab:` targets are listed (audit's command line; never the scanned content)."""

    github_api: str = "https://api.github.com"
    gitlab_url: str = "https://gitlab.com"
    forks: bool = False  # forks mostly repeat their upstream's history; --forks audits them too
    archived: bool = True  # an archived repository still holds whatever it held
    timeout: float = 30.0  # one request, start to last byte
    max_wait: float = 900.0  # the longest rate-limit wait; beyond it the listing is incomplete
    retries: int = 4  # 5xx and network errors, with backoff
    tokens: Mapping[str, str] = field(default_factory=dict, repr=False)  # env name -> token (never printed)


@dataclass(frozen=True)
class Repo:
    """One repository as a forge lists it."""

    clone_url: str
    private: bool = False
    fork: bool = False
    archived: bool = False
    empty: bool = False


class ListingError(Exception):
    """A request that got no usable answer: status (None without an HTTP answer) and a one-line reason."""

    def __init__(self, status: int | None, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def next_link(header: str | None) -> str | None:
    for url, rel in _LINK.findall(header or ""):
        if "next" in rel.split():
            return url
    return None


def _reason(status: int, body: Any) -> str:
    """The forge's own message (`{"message": ...}`), printable and short."""
    msg = body.get("message") if isinstance(body, dict) else None
    if isinstance(msg, dict | list):
        msg = json.dumps(msg)[:200]
    text = "".join(c for c in str(msg or "") if c.isprintable())[:200]
    return f"HTTP {status}" + (f" {text}" if text else "")


class Pager:
    """GETs JSON from one API base, page by page. `throttled` tells a rate-limit answer from a refusal
    (GitHub's secondary limits are 403s with Retry-After; an exhausted primary limit is a 403 with
    X-RateLimit-Remaining: 0)."""

    def __init__(self, base: str, headers: dict[str, str], opts: ForgeOptions) -> None:
        import httpx

        self.base, self.opts = base.rstrip("/"), opts
        self.origin = _origin(self.base)
        self.requests = 0
        self.waited = 0.0
        self.client = httpx.Client(timeout=opts.timeout, follow_redirects=False, trust_env=True,
                                   headers={"User-Agent": "tokenscan-audit", **headers},
                                   mounts=_NO_PROXY_MOUNTS if is_loopback_url(self.base) else None)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Pager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        body, _ = self._get(self.base + path, params)
        return body

    def pages(self, path: str, params: Mapping[str, Any]) -> Iterator[list]:
        """Every page of a list endpoint, first to last. ListingError for the first page that fails."""
        url: str | None = self.base + path
        query: Mapping[str, Any] | None = params
        seen: set[str] = set()
        while url is not None:
            body, headers = self._get(url, query)
            if not isinstance(body, list):
                raise ListingError(200, "the answer is not a JSON list")
            yield body
            url, query = next_link(headers.get("link")), None
            if url is None:
                return
            if _origin(url) != self.origin:
                raise ListingError(None, f"next page on another host ({_origin(url)[1]}): not followed")
            if url in seen:
                raise ListingError(None, "the next page is one already read: stopped")
            seen.add(url)

    def _get(self, url: str, params: Mapping[str, Any] | None) -> tuple[Any, dict[str, str]]:
        import httpx

        problem, status = "not attempted", None
        attempt = limited = 0
        while attempt <= self.opts.retries:
            self.requests += 1
            try:
                code, headers, raw = self._fetch(url, params)
            except httpx.TimeoutException:
                problem, status = f"no answer within {self.opts.timeout:g} s", None
            except httpx.HTTPError as exc:
                problem, status = f"network error ({type(exc).__name__})", None
            except ListingError as exc:
                problem, status = str(exc), exc.status
            else:
                body = _parse(raw)
                if _throttled(code, headers) and limited < 20:
                    wait = _wait(headers)
                    if wait is None:
                        wait = self._backoff(limited + 2)
                    if wait > self.opts.max_wait:
                        raise ListingError(code, f"rate limited: the limit resets in {wait:.0f} s, beyond "
                                                 f"--max-wait {self.opts.max_wait:g} s")
                    limited += 1
                    self.waited += wait
                    time.sleep(wait)
                    continue  # a rate limit is waited out, not counted as a failure
                if code >= 500:
                    problem, status = _reason(code, body), code
                else:
                    if code != 200:
                        raise ListingError(code, _reason(code, body))
                    if body is None:
                        raise ListingError(code, "the answer is not JSON")
                    self._pace(headers)
                    return body, headers
            attempt += 1
            if attempt <= self.opts.retries:
                time.sleep(self._backoff(attempt))
        raise ListingError(status, problem)

    def _fetch(self, url: str, params: Mapping[str, Any] | None) -> tuple[int, dict[str, str], bytes]:
        """One GET, bounded in time from start to last byte (a server that trickles bytes cannot hold the
        audit) and in size."""
        start = time.monotonic()
        with self.client.stream("GET", url, params=params) as resp:
            data = bytearray()
            for chunk in resp.iter_bytes():
                data += chunk
                if len(data) > MAX_PAGE:
                    raise ListingError(resp.status_code, f"a page of more than {MAX_PAGE >> 20} MiB")
                if time.monotonic() - start > self.opts.timeout:
                    import httpx

                    raise httpx.ReadTimeout("slow answer")
            return resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, bytes(data)

    def _pace(self, headers: dict[str, str]) -> None:
        """An exhausted limit (remaining 0) is waited out before the next request, not hit."""
        if headers.get("x-ratelimit-remaining") == "0" or headers.get("ratelimit-remaining") == "0":
            wait = _reset_in(headers)
            if wait is not None and 0 < wait <= self.opts.max_wait:
                self.waited += wait
                time.sleep(wait)

    @staticmethod
    def _backoff(attempt: int) -> float:
        return min(8.0, 0.2 * 2 ** attempt) * (0.5 + random.random() / 2)


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _throttled(code: int, headers: dict[str, str]) -> bool:
    if code == 429:
        return True
    return code == 403 and ("retry-after" in headers or headers.get("x-ratelimit-remaining") == "0")


class _Headers:
    """httpx-like view over lower-cased headers, for the verifier's Retry-After / reset readers."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = _Caseless(headers)


class _Caseless(dict):
    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)


def _wait(headers: dict[str, str]) -> float | None:
    view: Any = _Headers(headers)
    wait = _retry_after(view)
    return wait if wait is not None else _reset_in(headers)


def _reset_in(headers: dict[str, str]) -> float | None:
    """GitHub's X-RateLimit-Reset (epoch seconds) or GitLab's RateLimit-Reset (epoch seconds too)."""
    view: Any = _Headers(headers)
    wait = _ratelimit_reset(view)
    if wait is None and headers.get("ratelimit-remaining") == "0":
        try:
            wait = max(0.0, float(headers.get("ratelimit-reset", "")) - time.time())
        except ValueError:
            return None
    return wait
