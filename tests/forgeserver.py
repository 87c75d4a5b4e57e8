"""A loopback forge: GitHub's and GitLab's REST APIs for listing repositories, and the repositories themselves
over git's smart HTTP (`git http-backend` run as a CGI program under this server), from real bare
repositories on disk.

What it answers like:
- GitHub: GET /api/v3/orgs/{org}/repos, /users/{user}/repos, /user/repos, /user; `Link` pagination; 401
  {"message": "Bad credentials"} for a wrong token; 404 for an unknown org; private repositories only with
  the token; primary limits (403, X-RateLimit-Remaining: 0, X-RateLimit-Reset) and secondary limits (403 or
  429 with Retry-After).
- GitLab: GET /api/v4/groups/{path}/projects with include_subgroups and keyset pagination (Link rel=next),
  /users/{user}/projects; PRIVATE-TOKEN; 401 {"message": "401 Unauthorized"}; 429 with Retry-After and
  RateLimit-* headers.
- git: /git/{path}.git over smart HTTP; a private repository answers 401 with WWW-Authenticate unless the
  request carries Basic auth with the token (any user name, as both forges take it).

A test plans misbehaviour per request path (`faults`), and reads back every request (`seen`) to check what
was sent where: which token, to which path.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

from cfserver import Seen  # one request as a loopback stand-in received it


@dataclass
class ForgeRepo:
    owner: str  # org or user (GitHub) / group path (GitLab: `acme/platform`)
    name: str
    path: Path  # the bare repository on disk
    private: bool = False
    fork: bool = False
    archived: bool = False
    empty: bool = False
    id: int = 0


@dataclass
class ForgeServer:
    root: Path  # bare repositories live under root/<owner>/<name>.git
    token: str = ""  # the one valid token (GitHub and GitLab alike)
    users: set = field(default_factory=set)  # owners that are users, not orgs/groups
    login: str = ""  # the token's user (GitHub /user)
    per_page_cap: int = 100
    keyset: bool = True  # GitLab: keyset pagination supported on group projects
    repos: list = field(default_factory=list)
    seen: list = field(default_factory=list)
    # path prefix -> list of faults, consumed one per matching request: ("status", code, headers, body) or
    # ("sleep", seconds) (a slow answer) or ("trickle", seconds) (bytes dribbled out)
    faults: dict = field(default_factory=dict)
    next_host: str = ""  # set: Link headers point at this host instead (a hostile next link)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server._handle(self)

            def do_POST(self) -> None:
                server._handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- set-up -----------------------------------------------------------------------------------------

    def add(self, owner: str, name: str, source: Path | None = None, **kw: object) -> ForgeRepo:
        """A bare repository served at /git/<owner>/<name>.git: a bare clone of source, or empty."""
        dest = self.root / owner / f"{name}.git"
        dest.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}
        if source is None:
            subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(dest)], check=True, env=env)
        else:
            subprocess.run(["git", "clone", "-q", "--bare", str(source), str(dest)], check=True, env=env,
                           capture_output=True)
        # as GitHub and GitLab do: partial clones allowed
        subprocess.run(["git", "--git-dir", str(dest), "config", "uploadpack.allowFilter", "true"], check=True, env=env)
        subprocess.run(["git", "--git-dir", str(dest), "config", "uploadpack.allowAnySHA1InWant", "true"], check=True,
                       env=env)
        repo = ForgeRepo(owner, name, dest, empty=source is None, id=len(self.repos) + 1, **kw)  # type: ignore[arg-type]
        self.repos.append(repo)
        return repo

    @property
    def github_api(self) -> str:
        return self.base + "/api/v3"

    def clone_url(self, repo: ForgeRepo) -> str:
        return f"{self.base}/git/{repo.owner}/{repo.name}.git"

    def api_requests(self, prefix: str = "/api/") -> list[Seen]:
        return [s for s in self.seen if s.path.startswith(prefix)]

    # --- answering ----------------------------------------------------------------------------------------

    def _authorized(self, h: BaseHTTPRequestHandler) -> bool | None:
        """True: the valid token; False: a token that is wrong; None: no token."""
        sent = h.headers.get("PRIVATE-TOKEN")
        auth = h.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            sent = auth[7:]
        elif auth.startswith("Basic "):
            try:
                sent = base64.b64decode(auth[6:]).decode().split(":", 1)[1]
            except (ValueError, IndexError):
                return False
        if sent is None:
            return None
        return bool(self.token) and sent == self.token

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        with self.lock:
            self.seen.append(Seen(h.command, h.path, {k.lower(): v for k, v in h.headers.items()}))
            fault = None
            for prefix, planned in self.faults.items():
                if h.path.startswith(prefix) and planned:
                    fault = planned.pop(0)
                    break
        if fault is not None:
            if fault[0] == "sleep":
                time.sleep(fault[1])
            elif fault[0] == "trickle":
                h.send_response(200)
                h.send_header("Content-Type", "application/json")
                h.send_header("Content-Length", "100000")
                h.end_headers()
                end = time.monotonic() + fault[1]
                try:
                    while time.monotonic() < end:
                        h.wfile.write(b" ")
                        h.wfile.flush()
                        time.sleep(0.05)
                except OSError:
                    pass
                h.close_connection = True
                return
            else:
                _, code, headers, body = fault
                return self._send(h, code, body, headers)
        path = urlsplit(h.path).path
        if path.startswith("/git/"):
            return self._git(h)
        if path.startswith("/api/v3/"):
            return self._github(h)
        if path.startswith("/api/v4/"):
            return self._gitlab(h)
        self._send(h, 404, {"message": "Not Found"})

    def _send(self, h: BaseHTTPRequestHandler, code: int, body: object, headers: dict | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        h.send_response(code)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def _page(self, h: BaseHTTPRequestHandler, items: list, query: dict, key: str = "page") -> tuple[list, dict]:
        """One page of items and its Link header: `page` numbers (GitHub, GitLab offset) or `id_after`
        (GitLab keyset)."""
        per_page = min(int(query.get("per_page", ["30"])[0]), self.per_page_cap)
        split = urlsplit(h.path)
        base = (self.next_host or self.base) + split.path
        if key == "id_after":
            after = int(query.get("id_after", ["0"])[0])
            rest = [i for i in items if i["id"] > after]
            page, more = rest[:per_page], len(rest) > per_page
            nxt = {**{k: v[0] for k, v in query.items()}, "id_after": str(page[-1]["id"]) if page else "0"}
        else:
            n = int(query.get("page", ["1"])[0])
            page, more = items[(n - 1) * per_page:n * per_page], len(items) > n * per_page
            nxt = {**{k: v[0] for k, v in query.items()}, "page": str(n + 1)}
        headers = {}
        if more:
            headers["Link"] = f'<{base}?{"&".join(f"{k}={quote(str(v))}" for k, v in nxt.items())}>; rel="next"'
        return page, headers

    def _visible(self, owner: str, authorized: bool | None) -> list[ForgeRepo]:
        return [r for r in self.repos if r.owner == owner and (authorized or not r.private)]

    def _github(self, h: BaseHTTPRequestHandler) -> None:
        split = urlsplit(h.path)
        query = parse_qs(split.query)
        parts = split.path[len("/api/v3/"):].strip("/").split("/")
        auth = self._authorized(h)
        if auth is False:
            return self._send(h, 401, {"message": "Bad credentials",
                                       "documentation_url": "https://docs.github.com/rest"})
        limit = {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4999",
                 "X-RateLimit-Reset": str(int(time.time()) + 3600)}
        if parts == ["user"]:
            if not auth:
                return self._send(h, 401, {"message": "Requires authentication"})
            return self._send(h, 200, {"login": self.login, "id": 1}, limit)
        if len(parts) == 3 and parts[0] in ("orgs", "users") and parts[2] == "repos":
            owner = parts[1]
            is_user = owner in self.users
            known = any(r.owner == owner for r in self.repos)
            if (parts[0] == "orgs") == is_user or not known:
                return self._send(h, 404, {"message": "Not Found"})
            repos = [r for r in self._visible(owner, auth) if parts[0] == "orgs" or not r.private]
        elif parts == ["user", "repos"]:
            if not auth:
                return self._send(h, 401, {"message": "Requires authentication"})
            repos = [r for r in self.repos if r.owner == self.login]
        else:
            return self._send(h, 404, {"message": "Not Found"})
        items = [self._github_repo(r) for r in repos]
        page, headers = self._page(h, items, query)
        return self._send(h, 200, page, {**limit, **headers})

    def _github_repo(self, r: ForgeRepo) -> dict:
        return {"id": r.id, "name": r.name, "full_name": f"{r.owner}/{r.name}", "private": r.private,
                "fork": r.fork, "archived": r.archived, "disabled": False, "size": 0 if r.empty else 12,
                "pushed_at": None if r.empty else "2026-01-01T00:00:00Z",
                "html_url": f"{self.base}/{r.owner}/{r.name}", "clone_url": self.clone_url(r),
                "ssh_url": f"git@127.0.0.1:{r.owner}/{r.name}.git", "default_branch": "main",
                "visibility": "private" if r.private else "public"}

    def _gitlab(self, h: BaseHTTPRequestHandler) -> None:
        split = urlsplit(h.path)
        query = parse_qs(split.query)
        rest = split.path[len("/api/v4/"):]
        auth = self._authorized(h)
        if auth is False:
            return self._send(h, 401, {"message": "401 Unauthorized"})
        limit = {"RateLimit-Limit": "2000", "RateLimit-Remaining": "1999",
                 "RateLimit-Reset": str(int(time.time()) + 60)}
        kind, _, tail = rest.partition("/")
        ident, _, what = tail.rpartition("/")
        ident = unquote(ident)
        if what != "projects" or kind not in ("groups", "users"):
            return self._send(h, 404, {"message": "404 Not Found"})
        if kind == "groups":
            if ident in self.users or not any(r.owner == ident or r.owner.startswith(ident + "/") for r in self.repos):
                return self._send(h, 404, {"message": "404 Group Not Found"})
            subgroups = query.get("include_subgroups", ["false"])[0] == "true"
            repos = [r for r in self.repos if (r.owner == ident or (subgroups and r.owner.startswith(ident + "/")))
                     and (auth or not r.private)]
        else:
            if ident not in self.users:
                return self._send(h, 404, {"message": "404 User Not Found"})
            repos = self._visible(ident, auth)
        keyset = query.get("pagination", [""])[0] == "keyset"
        if keyset and not self.keyset:
            return self._send(h, 405, {"message": "Keyset pagination is not supported for this endpoint"})
        items = sorted((self._gitlab_project(r) for r in repos), key=lambda p: p["id"])
        page, headers = self._page(h, items, query, "id_after" if keyset else "page")
        if not keyset:
            headers["X-Total"] = str(len(items))
        return self._send(h, 200, page, {**limit, **headers})

    def _gitlab_project(self, r: ForgeRepo) -> dict:
        p = {"id": r.id, "name": r.name, "path": r.name, "path_with_namespace": f"{r.owner}/{r.name}",
             "visibility": "private" if r.private else "public", "archived": r.archived, "empty_repo": r.empty,
             "http_url_to_repo": self.clone_url(r), "ssh_url_to_repo": f"git@127.0.0.1:{r.owner}/{r.name}.git",
             "web_url": f"{self.base}/{r.owner}/{r.name}", "default_branch": "main"}
        if r.fork:
            p["forked_from_project"] = {"id": 999, "path_with_namespace": "upstream/x"}
        return p

    def _git(self, h: BaseHTTPRequestHandler) -> None:
        split = urlsplit(h.path)
        rel = unquote(split.path[len("/git"):])
        repo = next((r for r in self.repos if rel.startswith(f"/{r.owner}/{r.name}.git/")), None)
        if repo is None:
            return self._send(h, 404, b"Repository not found")
        if repo.private and not self._authorized(h):
            return self._send(h, 401, b"Authentication required", {"WWW-Authenticate": 'Basic realm="forge"'})
        body = b""
        if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(h.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    h.rfile.readline()
                    break
                body += h.rfile.read(size)
                h.rfile.readline()
        elif h.headers.get("Content-Length"):
            body = h.rfile.read(int(h.headers["Content-Length"]))
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_PROJECT_ROOT": str(self.root),
               "GIT_HTTP_EXPORT_ALL": "1", "PATH_INFO": rel, "QUERY_STRING": split.query,
               "REQUEST_METHOD": h.command, "CONTENT_TYPE": h.headers.get("Content-Type", ""),
               "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "127.0.0.1", "GIT_CONFIG_GLOBAL": os.devnull,
               "GIT_CONFIG_SYSTEM": os.devnull, "HOME": str(self.root)}
        if h.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = h.headers["Git-Protocol"]
        if h.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = h.headers["Content-Encoding"]
        proc = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, check=False)
        head, _, payload = proc.stdout.partition(b"\r\n\r\n")
        status, headers = 200, {}
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers[name.strip()] = value.strip()
        h.send_response(status)
        for k, v in headers.items():
            if k.lower() != "content-length":
                h.send_header(k, v)
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        h.wfile.write(payload)
