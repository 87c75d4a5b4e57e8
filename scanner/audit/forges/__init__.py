"""Forges an audit can list repositories from: `github:NAME`, `gitlab:PATH`. One module per forge (its API
paths, its token's environment variable, how git takes that token), registered by one line in FORGES.

Each listed repository becomes an ordinary URL target (scanner.audit.targets): cloned blobless into the cache,
fetched next time, audited incrementally. The token comes from the user's environment only. It reaches
git as an `http.<origin>/.extraHeader` in the git process's environment (GIT_CONFIG_COUNT), scoped to the
forge's own host. It is never in a URL, a cached clone's config, the datastore or any output.
"""

from __future__ import annotations

import base64
import importlib
import os
from dataclasses import dataclass, field
from types import ModuleType
from urllib.parse import urlsplit

from scanner.audit.forges.api import ForgeOptions, ListingError, Pager, Repo

FORGES = {
    "github": "scanner.audit.forges.github",
    "gitlab": "scanner.audit.forges.gitlab",
}


@dataclass(frozen=True)
class Listing:
    """What one forge target named: the repositories to audit, what was left out and why, and a gap."""

    target: str
    repos: tuple[Repo, ...] = ()
    git_config: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict, repr=False)  # per clone URL
    notes: tuple[str, ...] = ()
    error: str | None = None  # the listing stopped early (nothing listed: the target is not scanned at all)


def forge_of(text: str) -> tuple[ModuleType, str] | None:
    """(forge module, NAME) for `github:NAME` / `gitlab:PATH`; None for anything else (a path that exists
    wins: a folder may be called `github:x`)."""
    scheme, sep, name = text.partition(":")
    if not sep or scheme not in FORGES or name.startswith("//") or os.path.exists(text):
        return None
    return importlib.import_module(FORGES[scheme]), name.strip("/")


def list_forge(text: str, opts: ForgeOptions) -> Listing:
    """Lists one forge target. Never raises for the forge's answers: a refusal, a limit or a dead server is
    the listing's error (with whatever pages arrived before it)."""
    found = forge_of(text)
    if found is None:
        raise ValueError(text)
    forge, name = found
    token = opts.tokens.get(forge.TOKEN_ENV) or None
    listed: list[Repo] = []
    error = None
    pager = Pager(forge.api_base(opts), forge.headers(token), opts)
    try:
        forge.list_repos(pager, name, token, listed)
    except ListingError as exc:
        error = str(exc)
        if exc.status == 401:
            error = f"{forge.TOKEN_ENV} was refused ({exc})" if token else f"{exc} (the API wants {forge.TOKEN_ENV})"
    finally:
        pager.close()
    return _choose(text, forge, opts, token, listed, error, pager.waited)


def _choose(text: str, forge: ModuleType, opts: ForgeOptions, token: str | None, listed: list[Repo],
            error: str | None, waited: float) -> Listing:
    allowed = {"https"} | ({"http"} if urlsplit(forge.api_base(opts)).scheme == "http" else set())
    keep: dict[str, Repo] = {}
    forks = archived = 0
    notes = []
    for repo in listed:
        if not opts.forks and repo.fork:
            forks += 1
        elif not opts.archived and repo.archived:
            archived += 1
        elif urlsplit(repo.clone_url).scheme not in allowed:
            notes.append(f"{text}: a clone URL that is not {'/'.join(sorted(allowed))} was left out")
        else:
            keep.setdefault(repo.clone_url, repo)  # offset pages can repeat a repository
    left = [f"{forks} fork{'s' if forks != 1 else ''} (--forks audits them)"] if forks else []
    left += [f"{archived} archived"] if archived else []
    private = sum(1 for r in keep.values() if r.private)
    summary = (f"{text}: {len(keep)} repositor{'ies' if len(keep) != 1 else 'y'} listed"
               f"{f' ({private} private)' if private else ''}" + (f", left out: {', '.join(left)}" if left else "")
               + (f"; waited {waited:.0f} s for rate limits" if waited >= 1 else ""))
    auth = {url: git_auth(forge, opts, token, url) for url, repo in keep.items() if repo.private}
    return Listing(text, tuple(keep.values()), {u: a for u, a in auth.items() if a}, (summary, *notes), error)


def git_auth(forge: ModuleType, opts: ForgeOptions, token: str | None, clone_url: str) -> tuple[tuple[str, str], ...]:
    """git config (key, value) pairs that let git clone clone_url with the token: an Authorization header
    for the forge's own host only (a clone URL elsewhere gets nothing), and no redirects (which would
    carry the header on)."""
    scheme, netloc = urlsplit(clone_url)[:2]
    if not token or netloc != forge.web_host(opts):
        return ()
    basic = base64.b64encode(f"{forge.GIT_USER}:{token}".encode()).decode()
    return ((f"http.{scheme}://{netloc}/.extraHeader", f"Authorization: Basic {basic}"),
            ("http.followRedirects", "false"))


def forge_tokens() -> dict[str, str]:
    """The tokens forges may use, from the user's environment (never from scanned content)."""
    names = {importlib.import_module(m).TOKEN_ENV for m in FORGES.values()}
    return {n: os.environ[n] for n in sorted(names) if os.environ.get(n)}


__all__ = ["FORGES", "ForgeOptions", "Listing", "forge_of", "forge_tokens", "git_auth", "list_forge"]
