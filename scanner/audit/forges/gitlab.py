"""`gitlab:GROUP` (a path, subgroups included: `gitlab:acme/platform`): every project of a GitLab group and
its subgroups, or of a user when no group has that path.

GET /api/v4/groups/{path}/projects?include_subgroups=true&with_shared=false, 100 a page, keyset pagination
(ordered by id, so a project created during the listing cannot shift a page); a server that refuses keyset
for this endpoint is asked again with offset pages. Self-managed GitLab: --gitlab-url https://HOST.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

from scanner.audit.forges.api import ForgeOptions, ListingError, Pager, Repo

TOKEN_ENV = "GITLAB_TOKEN"
GIT_USER = "oauth2"  # GitLab takes any user name with a token; oauth2 is the documented one
_PATH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.-]*)*")


def check_name(name: str) -> str | None:
    return None if _PATH.fullmatch(name) else "a GitLab group path is names of letters, digits, _ . - joined by /"


def api_base(opts: ForgeOptions) -> str:
    return opts.gitlab_url.rstrip("/") + "/api/v4"


def web_host(opts: ForgeOptions) -> str:
    return urlsplit(opts.gitlab_url).netloc


def headers(token: str | None) -> dict[str, str]:
    return {"PRIVATE-TOKEN": token} if token else {}


_KEYSET = {"pagination": "keyset", "order_by": "id", "sort": "asc"}


def list_repos(pager: Pager, name: str, token: str | None, out: list[Repo]) -> None:
    """Appends each listed repository to out as its page arrives, so a listing cut short keeps what it got."""
    group = {"include_subgroups": "true", "with_shared": "false", "per_page": 100}
    try:
        _listed(pager, f"/groups/{quote(name, safe='')}/projects", group, out)
        return
    except ListingError as exc:
        if exc.status != 404 or "/" in name or out:
            raise
    try:
        _listed(pager, f"/users/{quote(name, safe='')}/projects", {"per_page": 100}, out)
    except ListingError as exc:
        if exc.status == 404:
            raise ListingError(404, "no GitLab group or user of that path"
                                    + ("" if token else f" visible without {TOKEN_ENV}")) from None
        raise


def _listed(pager: Pager, path: str, params: dict, out: list[Repo]) -> None:
    try:
        _repos(pager.pages(path, {**params, **_KEYSET}), out)
        return
    except ListingError as exc:
        if exc.status not in (400, 405) or out:  # "keyset pagination is not supported" for this endpoint
            raise
    _repos(pager.pages(path, {**params, "order_by": "id", "sort": "asc"}), out)


def _repos(pages: Iterator[list], out: list[Repo]) -> None:
    for page in pages:
        for p in page:
            if isinstance(p, dict) and isinstance(p.get("http_url_to_repo"), str):
                out.append(Repo(p["http_url_to_repo"], p.get("visibility", "private") != "public",
                                "forked_from_project" in p, bool(p.get("archived")), bool(p.get("empty_repo"))))
