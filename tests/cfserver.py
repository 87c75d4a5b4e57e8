"""A stand-in for the Cloudflare API on 127.0.0.1, answering with Cloudflare's envelopes and statuses.

Tests register credentials and misbehaviours (429 with Retry-After, 5xx, slow answers) and read back every
request it received, to count requests and check which secret went to which route.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Seen:
    method: str
    path: str
    headers: dict


@dataclass
class FakeCloudflare:
    user_tokens: dict = field(default_factory=dict)  # token -> {"status": ..., "expires_on": ...}
    account_tokens: dict = field(default_factory=dict)  # token -> (account id, status)
    global_keys: dict = field(default_factory=dict)  # key -> email
    throttle: dict = field(default_factory=dict)  # token -> number of 429 answers before a real one
    failing: dict = field(default_factory=dict)  # token -> number of 503 answers before a real one
    slow: dict = field(default_factory=dict)  # token -> seconds to wait before answering
    malformed: dict = field(default_factory=dict)  # token -> (status, raw body bytes) answered instead
    retry_after: str | None = "1"  # None: 429 answers carry no Retry-After
    delay: float = 0.0  # every answer
    requests: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base: str = ""

    def start(self) -> FakeCloudflare:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once, as a real server sends them

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                fake.handle(self)

            def do_POST(self):
                fake.handle(self)

            do_PUT = do_PATCH = do_DELETE = do_POST

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/client/v4"
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- answers ----------------------------------------------------------------------------------------

    @staticmethod
    def envelope(result=None, errors=(), messages=(), success=True, result_info=None) -> dict:
        body = {"success": success, "errors": list(errors), "messages": list(messages), "result": result}
        if result_info:
            body["result_info"] = result_info
        return body

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        path = urlsplit(h.path).path
        with self.lock:
            self.requests.append(Seen(h.command, path, {k.lower(): v for k, v in h.headers.items()}))
        status, body, extra = self.answer(h.command, path, {k.lower(): v for k, v in h.headers.items()})
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            for k, v in extra.items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _misbehave(self, secret: str):
        with self.lock:
            if self.throttle.get(secret, 0) > 0:
                self.throttle[secret] -= 1
                extra = {"Retry-After": self.retry_after} if self.retry_after is not None else {}
                return 429, self.envelope(None, [{"code": 971, "message": "Please wait and consider throttling your request speed"}], success=False), extra
            if self.failing.get(secret, 0) > 0:
                self.failing[secret] -= 1
                return 503, {"error": "upstream unavailable"}, {}
        if secret in self.slow:
            time.sleep(self.slow[secret])
        if secret in self.malformed:
            status, raw = self.malformed[secret]
            return status, raw, {}
        return None

    def answer(self, method: str, path: str, headers: dict):
        if self.delay:
            time.sleep(self.delay)
        if method != "GET":
            return 405, self.envelope(None, [{"code": 10000, "message": "method not allowed"}], success=False), {}
        invalid = (401, self.envelope(None, [{"code": 1000, "message": "Invalid API Token"}], success=False), {})
        bearer = headers.get("authorization", "")
        token = bearer[7:] if bearer.startswith("Bearer ") else None
        key, email = headers.get("x-auth-key"), headers.get("x-auth-email")
        secret = token or key or ""
        bad = self._misbehave(secret)
        if bad:
            return bad
        if path == "/client/v4/user/tokens/verify":
            info = self.user_tokens.get(token)
            if info is None:
                return invalid
            return 200, self.envelope({"id": "a" * 32, **info}, messages=[{"code": 10000, "message": "This API Token is valid and active"}]), {}
        m = re.fullmatch(r"/client/v4/accounts/([^/]+)/tokens/verify", path)
        if m:
            owner = self.account_tokens.get(token)
            if owner is None:
                return invalid
            if owner[0] != m.group(1):
                return 404, self.envelope(None, [{"code": 7003, "message": "Could not route to /accounts/.../tokens/verify, perhaps your object identifier is invalid?"}], success=False), {}
            return 200, self.envelope({"id": "b" * 32, "status": owner[1]}), {}
        if path == "/client/v4/user":
            if not key or not email:
                return 400, self.envelope(None, [{"code": 6003, "message": "Invalid request headers", "error_chain": [{"code": 6103, "message": "Invalid format for X-Auth-Key header"}]}], success=False), {}
            if self.global_keys.get(key) != email:
                return 403, self.envelope(None, [{"code": 9103, "message": "Unknown X-Auth-Key or X-Auth-Email"}], success=False), {}
            return 200, self.envelope({"id": "c" * 32, "email": email}), {}
        if path in ("/client/v4/zones", "/client/v4/accounts", "/client/v4/memberships"):
            allowed = (token in self.user_tokens and self.user_tokens[token]["status"] == "active") or \
                (token in self.account_tokens) or (key in self.global_keys and self.global_keys[key] == email)
            if not allowed:
                return invalid
            kind = path.rsplit("/", 1)[1]
            if kind == "memberships":
                items = [{"id": "m1", "account": {"name": "Acme Corp"}, "status": "accepted"}]
            else:
                items = [{"id": f"{kind}{i}", "name": f"{kind[:-1]}-{i}.example"} for i in range(3)]
            return 200, self.envelope(items, result_info={"page": 1, "per_page": 50, "count": len(items), "total_count": len(items) + 4}), {}
        return 404, self.envelope(None, [{"code": 7003, "message": "No route for that URI"}], success=False), {}

    def routes_of(self, secret: str) -> set[str]:
        """Every path a request carrying this secret (in any header) went to."""
        return {r.path for r in self.requests if any(secret in v for v in r.headers.values())}
