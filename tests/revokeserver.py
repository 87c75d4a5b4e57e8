"""Loopback stand-ins for the revocation endpoints: GitHub's credential revocation API (unauthenticated POST,
202 / 422, 403 for an authenticated request) and Cloudflare's token verify + delete (200, 403 without the
permission to manage tokens). They record every request, so tests can check what was (not) sent."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from vendorserver import Reply, VendorServer


def _unused(method: str, path: str, secret: str, info: dict | None) -> Reply:
    raise AssertionError("answer_request handles every request")


@dataclass
class GitHubRevoke(VendorServer):
    prefix: str = ""
    route: Callable[[str, str, str, dict | None], Reply] = _unused
    revoked: list = field(default_factory=list)
    spammed: bool = False

    def answer_request(self, method: str, path: str, headers: dict, body: bytes) -> Reply:
        if method != "POST" or path != "/credentials/revoke":
            return 404, {"message": "Not Found"}, {}
        if "authorization" in headers:
            return 403, {"message": "Forbidden"}, {}
        try:
            creds = json.loads(body)["credentials"]
        except (ValueError, KeyError, TypeError):
            return 422, {"message": "Validation Failed"}, {}
        if self.spammed or not isinstance(creds, list) or not 1 <= len(creds) <= 1000:
            return 422, {"message": "Validation failed, or the endpoint has been spammed."}, {}
        with self.lock:
            self.revoked.extend(creds)
        return 202, {}, {}


@dataclass
class CloudflareRevoke(VendorServer):
    """`known` maps a token to {"id": 32 hex, "may_delete": bool}."""
    prefix: str = "/client/v4"
    route: Callable[[str, str, str, dict | None], Reply] = _unused
    deleted: list = field(default_factory=list)

    @staticmethod
    def envelope(result: object = None, errors: tuple = (), success: bool = True) -> dict:
        return {"success": success, "errors": list(errors), "messages": [], "result": result}

    def answer_request(self, method: str, path: str, headers: dict, body: bytes) -> Reply:
        secret = self.secret_of(headers)
        info = self.known.get(secret)
        if info is None:
            return 401, self.envelope(None, ({"code": 1000, "message": "Invalid API Token"},), False), {}
        if method == "GET" and path == "/client/v4/user/tokens/verify":
            return 200, self.envelope({"id": info["id"], "status": "active"}), {}
        if method == "DELETE" and path == f"/client/v4/user/tokens/{info['id']}":
            if not info.get("may_delete"):
                return 403, self.envelope(None, ({"code": 9109, "message": "Unauthorized to access requested resource"},), False), {}
            with self.lock:
                self.deleted.append(info["id"])
            return 200, self.envelope({"id": info["id"]}), {}
        return 404, self.envelope(None, ({"code": 7003, "message": "No route for that URI"},), False), {}
