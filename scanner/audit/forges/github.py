"""`github:NAME`: every repository of a GitHub organisation, or of a user when no organisation has that name.

GET /orgs/{org}/repos?type=all (a user: /users/{user}/repos, or /user/repos when GITHUB_TOKEN is that user's,
which is the only listing that includes a user's private repositories), 100 a page. GitHub Enterprise
Server: --github-api-url https://HOST/api/v3.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from scanner.audit.forges.api import ForgeOptions, ListingError, Pager, Repo

TOKEN_ENV = "GITHUB_TOKEN"
GIT_USER = "x-access-token"  # what GitHub takes as the user name beside a token in git's Basic auth
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,99})")


def check_name(name: str) -> str | None:
    return None if _NAME.fullmatch(name) else "a GitHub organisation or user name is letters, digits and -"


def api_base(opts: ForgeOptions) -> str:
    return opts.github_api


def web_host(opts: ForgeOptions) -> str:
    """The host clone URLs are on: github.com for api.github.com, the API's own host for Enterprise."""
    netloc = urlsplit(opts.github_api).netloc
    return "github.com" if netloc == "api.github.com" else netloc


def headers(token: str | None) -> dict[str, str]:
    out = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    if token:
        out["Authorization"] = f"Bearer {token}"
    return out


def list_repos(pager: Pager, name: str, token: str | None, out: list[Repo]) -> None:
    """Appends each listed repository to out as its page arrives, so a listing cut short keeps what it got."""
    try:
        _repos(pager.pages(f"/orgs/{name}/repos", {"type": "all", "per_page": 100}), out)
        return
    except ListingError as exc:
        if exc.status != 404 or out:
            raise
    path, params = f"/users/{name}/repos", {"type": "owner", "per_page": 100}
    if token:
        me = pager.get("/user")
        if isinstance(me, dict) and str(me.get("login", "")).lower() == name.lower():
            path, params = "/user/repos", {"affiliation": "owner", "visibility": "all", "per_page": 100}
    try:
        _repos(pager.pages(path, params), out)
    except ListingError as exc:
        if exc.status == 404:
            raise ListingError(404, "no GitHub organisation or user of that name"
                                    + ("" if token else f" visible without {TOKEN_ENV}")) from None
        raise


def _repos(pages: Iterator[list], out: list[Repo]) -> None:
    for page in pages:
        for r in page:
            if isinstance(r, dict) and isinstance(r.get("clone_url"), str):
                out.append(Repo(r["clone_url"], bool(r.get("private")), bool(r.get("fork")), bool(r.get("archived")),
                                r.get("size") == 0 and not r.get("pushed_at")))
