"""One polite HTTP GET: shared rate limit, retries on 429 (Retry-After) and 5xx, per-request timeout,
and a deadline for the whole run. Errors are described without the request's headers, where secrets live."""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import dataclass

import httpx


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


@dataclass
class Answer:
    status: int | None  # None: no HTTP answer (network error, timeout, budget)
    body: dict | None
    problem: str = ""  # why there is no usable answer


class Http:
    def __init__(self, base: str, timeout: float, retries: int, limiter: RateLimiter, deadline: float,
                 max_retry_after: float) -> None:
        self.client = httpx.Client(base_url=base, timeout=timeout, trust_env=True, follow_redirects=False,
                                   headers={"User-Agent": "tokenscan-verifier"})
        self.retries, self.limiter, self.deadline = retries, limiter, deadline
        self.max_retry_after = max_retry_after
        self.requests = 0
        self._lock = threading.Lock()

    def close(self) -> None:
        self.client.close()

    def get(self, path: str, headers: dict[str, str], params: dict | None = None) -> Answer:
        last = Answer(None, None, "not attempted")
        for attempt in range(self.retries + 1):
            if time.monotonic() >= self.deadline or not self.limiter.acquire(self.deadline):
                return Answer(None, None, "verification budget exhausted")
            with self._lock:
                self.requests += 1
            try:
                resp = self.client.get(path, headers=headers, params=params)
            except httpx.TimeoutException:
                last = Answer(None, None, "timeout")
                delay = self._backoff(attempt)
            except httpx.HTTPError as exc:
                last = Answer(None, None, f"network error ({type(exc).__name__})")
                delay = self._backoff(attempt)
            else:
                body = _json(resp)
                if resp.status_code == 429:
                    last = Answer(429, body, "rate limited (429)")
                    delay = _retry_after(resp) or self._backoff(attempt)
                    if delay > self.max_retry_after:
                        return last
                elif resp.status_code >= 500:
                    last = Answer(resp.status_code, body, f"server error ({resp.status_code})")
                    delay = self._backoff(attempt)
                else:
                    return Answer(resp.status_code, body)
            if attempt == self.retries or time.monotonic() + delay >= self.deadline:
                break
            time.sleep(delay)
        return last

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
        return None
