"""Loopback stand-ins for the vendors' verification endpoints, answering with each vendor's documented
statuses, bodies and headers (GitHub, GitLab, Slack, Stripe, npm, Hugging Face, OpenAI, Anthropic, SendGrid,
DigitalOcean, Notion, Netlify, Postman; AWS STS is in awsserver.py).

A test registers credentials (token -> what the vendor knows about it) and misbehaviours keyed by the
credential (429 with or without Retry-After, 5xx, slow, malformed answers), and reads back every request,
to check which secret went where and in which header. Tokens are synthetic (see `token`).
"""

from __future__ import annotations

import base64
import json
import random
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

Reply = tuple[int, object, dict]  # status, JSON-able body (or raw bytes), extra headers


def token(prefix: str, seed: int, n: int = 36, alphabet: str = string.ascii_letters + string.digits) -> str:
    """A synthetic credential of a vendor's shape: never a real one."""
    rng = random.Random(f"{prefix}{seed}")
    return prefix + "".join(rng.choice(alphabet) for _ in range(n))


def macaroon(seed: int, caveats: tuple = ([3, "user-id"],), location: str = "pypi.org") -> str:
    """A synthetic PyPI token: a macaroon V2 (location, identifier, JSON caveats, a random 32-byte signature)
    base64url-encoded after `pypi-`, as PyPI issues them. Never a real token: the signature is random."""
    rng = random.Random(f"macaroon{seed}")

    def field_(kind: int, data: bytes) -> bytes:
        assert len(data) < 128
        return bytes([kind, len(data)]) + data

    ident = json.dumps({"version": 1, "nonce": f"{rng.getrandbits(128):032x}"}).encode()[:120]
    out = b"\x02" + field_(1, location.encode()) + field_(2, ident) + b"\x00"
    for c in caveats:
        out += field_(2, json.dumps(c).encode()) + b"\x00"
    out += b"\x00" + field_(6, bytes(rng.getrandbits(8) for _ in range(32)))
    return "pypi-" + base64.urlsafe_b64encode(out).decode().rstrip("=")


@dataclass
class Seen:
    method: str
    path: str
    headers: dict
    body: bytes


def secret_in(headers: dict) -> str:
    """The credential a request carries, however the vendor wants it sent."""
    auth = headers.get("authorization", "")
    if auth.startswith("Bearer "):
        return auth[7:]
    if auth.startswith("Basic "):
        user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        return password if user == "__token__" else user  # PyPI: user __token__, the token as password
    return headers.get("private-token") or headers.get("x-api-key") or ""


@dataclass
class VendorServer:
    """One stand-in: `prefix` is the API base path (e.g. /api/v4), `route` answers (method, path, secret)."""
    prefix: str
    route: Callable[[str, str, str, dict | None], Reply]
    known: dict = field(default_factory=dict)  # secret -> what the vendor knows about it
    throttle: dict = field(default_factory=dict)  # secret -> number of 429 answers first
    failing: dict = field(default_factory=dict)  # secret -> number of 503 answers first
    slow: dict = field(default_factory=dict)  # secret -> seconds before answering
    malformed: dict = field(default_factory=dict)  # secret -> (status, raw bytes)
    retry_after: str | None = "1"
    requests: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base: str = ""

    def start(self) -> VendorServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                fake.handle(self)

            do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}{self.prefix}"
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in h.headers.items()}
        path = urlsplit(h.path).path
        with self.lock:
            self.requests.append(Seen(h.command, path, headers, body))
        status, payload, extra = self.answer_request(h.command, path, headers, body)
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        extra = dict(extra)
        reason = extra.pop(":reason", None)  # a vendor that puts its message in the status line (PyPI)
        try:
            h.send_response(status, reason)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            for k, v in extra.items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def answer_request(self, method: str, path: str, headers: dict, body: bytes) -> Reply:
        """Stand-ins that read the request body (AWS checks what was signed) override this."""
        return self.answer(method, path, headers)

    def secret_of(self, headers: dict) -> str:
        return secret_in(headers)

    def answer(self, method: str, path: str, headers: dict) -> Reply:
        secret = self.secret_of(headers)
        with self.lock:
            if self.throttle.get(secret, 0) > 0:
                self.throttle[secret] -= 1
                return 429, {"error": "rate limited"}, ({"Retry-After": self.retry_after} if self.retry_after else {})
            if self.failing.get(secret, 0) > 0:
                self.failing[secret] -= 1
                return 503, b"<html>upstream unavailable</html>", {}
        if secret in self.slow:
            time.sleep(self.slow[secret])
        if secret in self.malformed:
            status, raw = self.malformed[secret]
            return status, raw, {}
        if not path.startswith(self.prefix):
            return 404, {"message": "Not Found"}, {}
        return self.route(method, path[len(self.prefix):], secret, self.known.get(secret))

    def routes_of(self, secret: str) -> set[str]:
        return {r.path for r in self.requests if secret and secret == self.secret_of(r.headers)}


# --- each vendor's answers (documented shapes) ---------------------------------------------------------------

def github(method: str, path: str, secret: str, info: dict | None) -> Reply:
    if method != "GET" or path != "/user":
        return 404, {"message": "Not Found"}, {}
    if info is None:
        return 401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}, {}
    if info.get("installation"):
        return 403, {"message": "Resource not accessible by integration"}, {}
    if info.get("exhausted"):  # primary limit: resets in an hour
        return 403, {"message": "API rate limit exceeded"}, {"X-RateLimit-Remaining": "0",
                                                             "X-RateLimit-Reset": str(int(time.time()) + 3600)}
    if info.get("secondary", 0) > 0:  # secondary limit: 403 with Retry-After, then the real answer
        info["secondary"] -= 1
        return 403, {"message": "You have exceeded a secondary rate limit."}, {"Retry-After": "1"}
    extra = {"X-RateLimit-Remaining": "4999"}
    if "scopes" in info:
        extra["X-OAuth-Scopes"] = info["scopes"]
    if "expires" in info:
        extra["GitHub-Authentication-Token-Expiration"] = info["expires"]
    return 200, {"login": info["login"], "id": 1}, extra


def gitlab(method: str, path: str, secret: str, info: dict | None) -> Reply:
    if method != "GET" or path != "/personal_access_tokens/self":
        return 404, {"message": "404 Not Found"}, {}
    if info is None:
        return 401, {"message": "401 Unauthorized"}, {}
    if info.get("state") == "revoked401":
        return 401, {"error": "invalid_token", "error_description": "Token was revoked. You have to re-authorize from the user."}, {}
    if info.get("state") == "expired401":
        return 401, {"error": "invalid_token", "error_description": "Token has expired."}, {}
    if info.get("state") == "noscope":
        return 403, {"error": "insufficient_scope", "error_description": "The request requires higher privileges."}, {}
    return 200, {"id": 4, "name": info.get("name", "ci"), "revoked": info.get("revoked", False),
                 "created_at": "2026-01-01T00:00:00Z", "scopes": info.get("scopes", ["api"]), "user_id": 24,
                 "last_used_at": None, "active": info.get("active", True), "expires_at": info.get("expires_at")}, {}


def slack(method: str, path: str, secret: str, info: dict | None) -> Reply:
    if method != "POST" or path != "/auth.test":
        return 200, {"ok": False, "error": "unknown_method"}, {}
    if not secret:
        return 200, {"ok": False, "error": "not_authed"}, {}
    if info is None:
        return 200, {"ok": False, "error": "invalid_auth"}, {}
    if "error" in info:
        return 200, {"ok": False, "error": info["error"]}, {}
    return 200, {"ok": True, "url": "https://acme.slack.com/", "team": "Acme", "user": info.get("user", "bot"),
                 "team_id": "T1", "user_id": "U1"}, {"X-OAuth-Scopes": "chat:write,channels:read"}


def stripe(method: str, path: str, secret: str, info: dict | None) -> Reply:
    if method != "GET" or path != "/v1/account":
        return 404, {"error": {"type": "invalid_request_error", "message": "Unrecognized request URL"}}, {}
    if info is None:
        return 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided: sk_live_****"}}, {}
    if info.get("expired"):
        return 401, {"error": {"type": "invalid_request_error", "code": "api_key_expired", "message": "Expired API Key provided"}}, {}
    if info.get("restricted"):
        return 403, {"error": {"type": "invalid_request_error", "message": "The provided key does not have the required permissions"}}, {}
    return 200, {"id": "acct_1Test", "object": "account", "livemode": True}, {}


def npm(method: str, path: str, secret: str, info: dict | None) -> Reply:
    if method != "GET" or path != "/-/whoami":
        return 404, {"error": "Not found"}, {}
    if info is None:
        return 401, {"error": "Unauthorized"}, {}
    return 200, {"username": info["username"]}, {}


def huggingface(method: str, path: str, secret: str, info: dict | None) -> Reply:
    if method != "GET" or path != "/api/whoami-v2":
        return 404, {"error": "Not found"}, {}
    if info is None:
        return 401, {"error": "Invalid credentials in Authorization header"}, {}
    return 200, {"type": "user", "id": "1", "name": info["name"], "orgs": [{"name": "acme"}],
                 "auth": {"type": "access_token", "accessToken": {"displayName": "ci", "role": info.get("role", "read")}}}, {}


def openai(method: str, path: str, secret: str, info: dict | None) -> Reply:
    if method != "GET" or path != "/models":
        return 404, {"error": {"message": "Invalid URL", "type": "invalid_request_error"}}, {}
    if info is None:
        return 401, {"error": {"message": f"Incorrect API key provided: {secret[:8]}****{secret[-4:]}.", "type": "invalid_request_error", "code": "invalid_api_key"}}, {}
    if info.get("restricted"):
        return 401, {"error": {"message": "You have insufficient permissions for this operation. Missing scopes: api.model.read.", "type": "invalid_request_error", "code": None}}, {}
    if info.get("ip"):
        return 401, {"error": {"message": "IP not authorized", "type": "invalid_request_error", "code": "ip_not_authorized"}}, {}
    return 200, {"object": "list", "data": [{"id": "gpt-x", "object": "model"}]}, {}


def anthropic(method: str, path: str, secret: str, info: dict | None) -> Reply:
    if method != "GET" or path != "/models":
        return 404, {"type": "error", "error": {"type": "not_found_error", "message": "Not found"}}, {}
    if info is None:
        return 401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}, {}
    if info.get("forbidden"):
        return 403, {"type": "error", "error": {"type": "permission_error", "message": "Your API key does not have permission to use the specified resource."}}, {}
    if info.get("overloaded"):
        return 529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, {}
    return 200, {"data": [{"id": "claude-x", "type": "model"}], "has_more": False}, {}


def sendgrid(method: str, path: str, secret: str, info: dict | None) -> Reply:
    if method != "GET" or path != "/scopes":
        return 404, {"errors": [{"field": None, "message": "not found"}]}, {}
    if info is None:
        return 401, {"errors": [{"field": None, "message": "authorization required"}]}, {}
    return 200, {"scopes": info.get("scopes", ["mail.send", "scopes.read"])}, {}


def digitalocean(method: str, path: str, secret: str, info: dict | None) -> Reply:
    if method != "GET" or path != "/account":
        return 404, {"id": "not_found", "message": "The resource you were accessing could not be found."}, {}
    if info is None:
        return 401, {"id": "unauthorized", "message": "Unable to authenticate you"}, {}
    if info.get("forbidden"):
        return 403, {"id": "forbidden", "message": "You do not have access for the attempted action."}, {}
    return 200, {"account": {"droplet_limit": 25, "email": info.get("email", "sammy@example.com"), "uuid": "b6fr",
                             "email_verified": True, "status": info.get("status", "active"), "status_message": "",
                             "team": {"uuid": "5df3", "name": "My Team"}}}, {}


def notion(method: str, path: str, secret: str, info: dict | None) -> Reply:
    if method != "GET" or path != "/users/me":
        return 400, {"object": "error", "status": 400, "code": "invalid_request_url", "message": "Invalid request URL."}, {}
    if info is None:
        return 401, {"object": "error", "status": 401, "code": "unauthorized", "message": "API token is invalid."}, {}
    return 200, {"object": "user", "id": "16d84278", "name": info.get("name", "ci-bot"), "avatar_url": None,
                 "type": "bot", "bot": {"owner": {"type": "workspace", "workspace": True},
                                        "workspace_name": "Acme"}}, {}


def netlify(method: str, path: str, secret: str, info: dict | None) -> Reply:
    if method != "GET" or path != "/user":
        return 404, {"code": 404, "message": "Not Found"}, {}
    if info is None:
        return 401, {"code": 401, "message": "Access Denied: Invalid token"}, {}
    return 200, {"id": "5f0c", "uid": None, "full_name": "Ada", "slug": info.get("slug", "ada"),
                 "email": "ada@example.com"}, {}


def postman(method: str, path: str, secret: str, info: dict | None) -> Reply:
    if method != "GET" or path != "/me":
        return 404, {"error": {"name": "notFound", "message": "Requested resource not found"}}, {}
    if info is None:
        return 401, {"error": {"name": "AuthenticationError", "message": "Invalid API Key. Every request requires a valid API Key to be sent."}}, {}
    return 200, {"user": {"id": 12345678, "username": info.get("username", "taylor"), "email": "t@example.com",
                          "fullName": "Taylor", "teamName": "Acme", "isPublic": False}}, {}


def pypi(method: str, path: str, secret: str, info: dict | None) -> Reply:
    """Warehouse's upload view: authentication first (403 with the message in the status line), then the form."""
    if method != "POST" or path != "/legacy/":
        return 404, b"Not Found", {}
    if info is None:
        return 403, b"", {":reason": "Invalid or non-existent authentication information. See https://pypi.org/help/#invalid-auth for more information."}
    return 400, b"", {":reason": "Invalid value for name. Error: This field is required."}


# vendor name -> (base path of the stand-in, answers, verify kind, a synthetic credential of that vendor's shape)
VENDORS: dict[str, tuple[str, Callable[[str, str, str, dict | None], Reply], str, Callable[[int], str]]] = {
    "github": ("", github, "github-token", lambda i: token("ghp_", i)),
    "gitlab": ("/api/v4", gitlab, "gitlab-pat", lambda i: token("glpat-", i, 20)),
    "slack": ("/api", slack, "slack-token", lambda i: f"xoxb-{1000000000 + i}-{2000000000 + i}-" + token("", i, 24)),
    "stripe": ("", stripe, "stripe-key", lambda i: token("sk_live_", i, 24)),
    "npm": ("", npm, "npm-token", lambda i: token("npm_", i)),
    "huggingface": ("", huggingface, "huggingface-token", lambda i: token("hf_", i, 34, string.ascii_letters)),
    "openai": ("/v1", openai, "openai-key", lambda i: token("sk-proj-", i, 20) + "T3BlbkFJ" + token("", i + 1, 20)),
    "anthropic": ("/v1", anthropic, "anthropic-key", lambda i: token("sk-ant-api03-", i, 93) + "AA"),
    "sendgrid": ("/v3", sendgrid, "sendgrid-key", lambda i: "SG." + token("", i, 22) + "." + token("", i + 1, 43)),
    "digitalocean": ("/v2", digitalocean, "digitalocean-token", lambda i: token("dop_v1_", i, 64, "0123456789abcdef")),
    "notion": ("/v1", notion, "notion-token", lambda i: token("ntn_", i, 46)),
    "netlify": ("/api/v1", netlify, "netlify-token", lambda i: token("nfp_", i, 36)),
    "pypi": ("", pypi, "pypi-token", lambda i: macaroon(i)),
    "postman": ("", postman, "postman-key", lambda i: "PMAK-" + token("", i, 24, "0123456789abcdef") + "-"
                + token("", i + 1, 34, "0123456789abcdef")),
}

# what each vendor's stand-in needs to know to call a credential live
LIVE_INFO: dict[str, dict] = {
    "github": {"login": "octocat", "scopes": "repo, read:org"}, "gitlab": {"name": "ci"}, "slack": {"user": "bot"},
    "stripe": {}, "npm": {"username": "npmuser"}, "huggingface": {"name": "hfuser"}, "openai": {},
    "anthropic": {}, "sendgrid": {}, "digitalocean": {}, "notion": {"name": "ci-bot"}, "netlify": {"slug": "ada"},
    "postman": {"username": "taylor"}, "pypi": {},
}


def start(vendor: str) -> VendorServer:
    prefix, route, _, _ = VENDORS[vendor]
    return VendorServer(prefix, route).start()


# --- Shopify: one host per shop; the stand-in reads the shop from the Host header ---------------------------

def _shopify_unused(method: str, path: str, secret: str, info: dict | None) -> Reply:
    raise AssertionError("ShopifyServer.answer_request handles every request")


@dataclass
class ShopifyServer(VendorServer):
    """`known` maps a token to its shop host; `shops` lists the shops that exist; `frozen` answers 402."""
    prefix: str = "/admin/api"
    route: Callable[[str, str, str, dict | None], Reply] = _shopify_unused
    shops: set = field(default_factory=set)
    frozen: set = field(default_factory=set)

    def secret_of(self, headers: dict) -> str:
        return headers.get("x-shopify-access-token", "")

    def answer_request(self, method: str, path: str, headers: dict, body: bytes) -> Reply:
        return self.answer(method, path, headers)

    def answer(self, method: str, path: str, headers: dict) -> Reply:
        secret, shop = self.secret_of(headers), headers.get("host", "")
        with self.lock:
            if self.throttle.get(secret, 0) > 0:
                self.throttle[secret] -= 1
                return 429, {"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}, ({"Retry-After": self.retry_after} if self.retry_after else {})
            if self.failing.get(secret, 0) > 0:
                self.failing[secret] -= 1
                return 503, b"<html>unavailable</html>", {}
        if secret in self.slow:
            time.sleep(self.slow[secret])
        if secret in self.malformed:
            status, raw = self.malformed[secret]
            return status, raw, {}
        if shop not in self.shops:
            return 404, {"errors": "Not Found"}, {}
        if shop in self.frozen:
            return 402, {"errors": "Unavailable Shop"}, {}
        if method != "GET" or not path.startswith(self.prefix + "/") or not path.endswith("/shop.json"):
            return 404, {"errors": "Not Found"}, {}
        if self.known.get(secret) != shop:
            return 401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}, {}
        return 200, {"shop": {"id": 548380009, "name": "Acme Store", "domain": "shop.acme.example",
                              "myshopify_domain": shop, "plan_name": "basic"}}, {}
