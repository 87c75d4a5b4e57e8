"""`tokenscan audit github:ORG` / `gitlab:GROUP`: repositories listed through a loopback forge's REST API (pages,
rate limits, 5xx, slow answers, private repositories, a wrong token) and cloned over git's smart HTTP from real
bare repositories (`git http-backend`)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from clirun import tokenscan
from forgeserver import ForgeServer
from gitrepo import Repo
from tokens import cloudflare, github

from scanner.audit.forges import ForgeOptions, list_forge
from scanner.audit.forges.api import next_link

TOKEN = github("ghp_", 9001)  # the forge's API token: a synthetic one of GitHub's shape, never a real one
# any request that is not to 127.0.0.1 would go to this dead proxy and fail, never leave the machine
NO_NETWORK = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "",
              "GITHUB_TOKEN": "", "GITLAB_TOKEN": ""}


def _source(root: Path, name: str, secret: str | None, tick: int) -> Path:
    r = Repo(root / "src" / name)
    r.tick = tick
    r.commit("init", README=f"{name}\n")
    if secret:
        r.commit("config", **{"conf__app.env": f"TOKEN={secret}\n"})
    return r.path


@pytest.fixture()
def forge(tmp_path):
    """acme: 7 repositories over 3 pages (3 a page): one private, one fork, one archived, one empty; and the
    user ada with a public and a private repository."""
    server = ForgeServer(tmp_path / "forge", token=TOKEN, users={"ada"}, login="ada", per_page_cap=3)
    secrets = {}
    for i, (name, kw) in enumerate([("api", {}), ("web", {}), ("secret-infra", {"private": True}),
                                    ("forked-lib", {"fork": True}), ("old", {"archived": True}),
                                    ("docs", {}), ("blank", {"empty": True})]):
        secrets[name] = cloudflare("cfut_", 300 + i)
        src = None if kw.get("empty") else _source(tmp_path, name, secrets[name], 10 * i)
        kw = {k: v for k, v in kw.items() if k != "empty"}
        server.add("acme", name, src, **kw)
    for i, (name, private) in enumerate([("dotfiles", False), ("notes", True)]):
        secrets[name] = cloudflare("cfat_", 400 + i)
        server.add("ada", name, _source(tmp_path, name, secrets[name], 200 + 10 * i), private=private)
    server.secrets = secrets  # type: ignore[attr-defined]
    yield server
    server.close()


def audit(server: ForgeServer, tmp_path: Path, *targets: str, token: str = "", extra: tuple = ()):
    env = {**NO_NETWORK, "GITHUB_TOKEN": token, "GITLAB_TOKEN": token}
    proc = tokenscan("audit", *targets, "--datastore", str(tmp_path / "ds.db"), "--cache-dir", str(tmp_path / "cache"),
                     "--github-api-url", server.github_api, "--gitlab-url", server.base, "--format", "json",
                     *extra, env=env)
    doc = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else None
    return proc, doc


def places(doc: dict) -> list[tuple[str, str]]:
    return sorted((p["repository"], p["path"]) for f in doc["findings"] for p in f["places"])


def url(server: ForgeServer, owner: str, name: str) -> str:
    return f"{server.base}/git/{owner}/{name}.git"


def test_an_organisation_is_listed_page_by_page_and_every_repository_audited(forge, tmp_path):
    proc, doc = audit(forge, tmp_path, "github:acme")
    assert proc.returncode == 1, proc.stderr
    # forks left out by default, archived and empty ones in, the private one not visible without a token
    want = ["api", "web", "old", "docs"]
    assert places(doc) == sorted((url(forge, "acme", n), "conf/app.env") for n in want)
    assert sorted(r["target"] for r in doc["repositories"]) == sorted(url(forge, "acme", n) for n in [*want, "blank"])
    assert all(r["status"] == "ok" and r["listed_by"] == "github:acme" for r in doc["repositories"])
    assert any("github:acme: 5 repositories listed, left out: 1 fork" in n for n in doc["notes"])
    pages = [s.path for s in forge.api_requests("/api/v3/orgs/acme/repos")]
    assert len(pages) == 2 and "page=2" in pages[1]  # 3 a page: 6 visible repositories in 2 pages
    assert not any("authorization" in s.headers for s in forge.seen)


def test_a_token_reaches_private_repositories_and_is_never_printed_or_stored(forge, tmp_path):
    proc, doc = audit(forge, tmp_path, "github:acme", token=TOKEN, extra=("--forks",))
    assert proc.returncode == 1, proc.stderr
    names = [n for n in forge.secrets if n not in ("dotfiles", "notes", "blank")]  # type: ignore[attr-defined]
    assert places(doc) == sorted((url(forge, "acme", n), "conf/app.env") for n in names)
    assert any("(1 private)" in n for n in doc["notes"])
    api = forge.api_requests("/api/v3/")
    assert api and all(s.headers.get("authorization") == f"Bearer {TOKEN}" for s in api)
    # git sent the token to the private repository only, as Basic auth
    git_private = [s for s in forge.seen if s.path.startswith("/git/acme/secret-infra.git")]
    assert git_private and all("authorization" in s.headers for s in git_private)
    assert not any("authorization" in s.headers for s in forge.seen if s.path.startswith("/git/acme/api.git"))
    # nowhere on disk or in any output
    for blob in (proc.stdout, proc.stderr):
        assert TOKEN not in blob
    for p in tmp_path.rglob("*"):
        if p.is_file() and "forge" not in p.parts and "src" not in p.parts:
            assert TOKEN.encode() not in p.read_bytes(), p


def test_a_second_audit_reads_only_what_changed(forge, tmp_path):
    audit(forge, tmp_path, "github:acme")
    work = tmp_path / "work"
    import subprocess

    subprocess.run(["git", "clone", "-q", str(forge.repos[0].path), str(work)], check=True, capture_output=True)
    w = Repo.__new__(Repo)
    w.path, w.tick = work, 900
    new = github("ghp_", 9100)
    w.commit("more", **{"deploy.sh": f"GH={new}\n"})
    w.git("push", "-q", "origin", "main")
    proc, doc = audit(forge, tmp_path, "github:acme")
    assert proc.returncode == 1
    by = {r["target"]: r for r in doc["repositories"]}
    api = by[url(forge, "acme", "api")]
    assert api["action"] == "fetched" and api["blobs_read"] == 1
    assert all(r["blobs_read"] == 0 for t, r in by.items() if t != api["target"])
    assert (url(forge, "acme", "api"), "deploy.sh") in places(doc)


def test_a_users_repositories_with_the_users_own_token_include_private_ones(forge, tmp_path):
    proc, doc = audit(forge, tmp_path, "github:ada")
    assert places(doc) == [(url(forge, "ada", "dotfiles"), "conf/app.env")]
    proc, doc = audit(forge, tmp_path, "github:ada", token=TOKEN)
    assert places(doc) == sorted((url(forge, "ada", n), "conf/app.env") for n in ("dotfiles", "notes"))
    assert any(s.path.startswith("/api/v3/user/repos") for s in forge.seen)


def test_a_wrong_token_fails_the_listing_naming_the_variable_not_the_token(forge, tmp_path):
    wrong = github("ghp_", 9999)
    proc, doc = audit(forge, tmp_path, "github:acme", token=wrong)
    assert proc.returncode == 2
    assert "GITHUB_TOKEN was refused" in proc.stderr and "Bad credentials" in proc.stderr
    assert wrong not in proc.stdout + proc.stderr
    assert doc["repositories"] == []


def test_an_unknown_organisation_is_a_failed_target(forge, tmp_path):
    proc, doc = audit(forge, tmp_path, "github:nobody")
    assert proc.returncode == 2 and "github:nobody: listing failed: no GitHub organisation or user" in proc.stderr
    proc, _ = audit(forge, tmp_path, "github:bad/name")
    assert proc.returncode == 2 and "github:bad/name" in proc.stderr and "Traceback" not in proc.stderr


def test_rate_limits_are_waited_out_and_server_errors_retried(forge, tmp_path):
    reset = str(int(time.time()) + 1)
    forge.faults["/api/v3/orgs/acme/repos"] = [
        ("status", 502, {}, {"message": "Server Error"}),
        ("status", 429, {"Retry-After": "1"}, {"message": "secondary rate limit"}),
        ("status", 403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
         {"message": "API rate limit exceeded"}),
    ]
    started = time.monotonic()
    listing = list_forge("github:acme", ForgeOptions(github_api=forge.github_api, retries=2))
    assert listing.error is None and len(listing.repos) == 5
    assert time.monotonic() - started >= 1.0  # the Retry-After was honoured, not skipped
    assert len(forge.api_requests("/api/v3/orgs/acme/repos")) == 5


def test_an_exhausted_limit_beyond_the_wait_is_an_incomplete_listing(forge, tmp_path):
    limited = ("status", 403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 3600)},
               {"message": "API rate limit exceeded"})
    forge.faults["/api/v3/orgs/acme/repos?type=all&per_page=100&page=2"] = [limited]
    proc, doc = audit(forge, tmp_path, "github:acme", extra=("--fail-on", "none"))
    assert proc.returncode == 0, proc.stderr  # what was listed is audited; the gap is said
    assert len(doc["repositories"]) == 2  # page 1: api, web and a fork (left out)
    assert doc["incomplete"] and "listing incomplete after 2 repositories" in doc["incomplete"][0]
    assert "rate limited" in doc["incomplete"][0]
    forge.faults["/api/v3/orgs/acme/repos?type=all&per_page=100&page=2"] = [limited]
    proc, _ = audit(forge, tmp_path, "github:acme", extra=("--fail-on", "none", "--fail-on-incomplete"))
    assert proc.returncode == 1


def test_slow_answers_are_bounded_in_time(forge):
    forge.faults["/api/v3/orgs/acme/repos"] = [("trickle", 3.0), ("sleep", 3.0)]
    started = time.monotonic()
    listing = list_forge("github:acme", ForgeOptions(github_api=forge.github_api, timeout=0.5, retries=1))
    assert time.monotonic() - started < 2.9
    assert listing.error and "no answer within 0.5 s" in listing.error and not listing.repos


def test_a_next_link_to_another_host_is_not_followed(forge):
    forge.next_host = "http://203.0.113.9:8080"
    listing = list_forge("github:acme", ForgeOptions(github_api=forge.github_api, tokens={"GITHUB_TOKEN": TOKEN}))
    assert listing.error and "another host" in listing.error and len(listing.repos) == 3
    assert all(s.path.startswith("/") for s in forge.seen)


def test_next_link_parsing():
    header = '<https://api.github.com/x?page=1>; rel="prev", <https://api.github.com/x?page=3>; rel="next"'
    assert next_link(header) == "https://api.github.com/x?page=3"
    assert next_link('<https://h/x?page=2>; rel="first"') is None and next_link(None) is None


# --- GitLab ------------------------------------------------------------------------------------------------------

@pytest.fixture()
def gitlab(tmp_path):
    server = ForgeServer(tmp_path / "forge", token=TOKEN, users={"ada"}, per_page_cap=2)
    secrets = {}
    layout = [("acme", "api", {}), ("acme", "web", {"private": True}), ("acme/platform", "deploy", {}),
              ("acme/platform/k8s", "charts", {"archived": True}), ("acme/platform", "fork", {"fork": True}),
              ("other", "elsewhere", {}), ("ada", "dotfiles", {})]
    for i, (owner, name, kw) in enumerate(layout):
        secrets[(owner, name)] = cloudflare("cfk_", 500 + i)[:4] + cloudflare("cfk_", 500 + i)[4:]
        server.add(owner, name, _source(tmp_path, f"{owner.replace('/', '_')}_{name}", secrets[(owner, name)], 10 * i),
                   **kw)
    yield server
    server.close()


def test_a_gitlab_group_with_its_subgroups_by_keyset_pages(gitlab, tmp_path):
    proc, doc = audit(gitlab, tmp_path, "gitlab:acme", extra=("--no-archived",))
    assert proc.returncode == 1, proc.stderr
    assert places(doc) == sorted((url(gitlab, o, n), "conf/app.env") for o, n in
                                 [("acme", "api"), ("acme/platform", "deploy")])
    calls = gitlab.api_requests("/api/v4/groups/acme/projects")
    assert all("pagination=keyset" in c.path for c in calls) and any("id_after=" in c.path for c in calls)
    assert any("1 fork" in n and "1 archived" in n for n in doc["notes"])


def test_gitlab_private_projects_with_a_token_and_offset_pages_where_keyset_is_refused(gitlab, tmp_path):
    gitlab.keyset = False
    proc, doc = audit(gitlab, tmp_path, "gitlab:acme", token=TOKEN)
    assert proc.returncode == 1, proc.stderr
    got = {r for r, _ in places(doc)}
    assert url(gitlab, "acme", "web") in got and url(gitlab, "acme/platform/k8s", "charts") in got
    assert url(gitlab, "other", "elsewhere") not in got
    assert all(s.headers.get("private-token") == TOKEN for s in gitlab.api_requests("/api/v4/"))
    assert any("page=2" in s.path for s in gitlab.api_requests("/api/v4/"))
    assert TOKEN not in proc.stdout + proc.stderr


def test_a_gitlab_user_and_gitlabs_own_429(gitlab, tmp_path):
    gitlab.faults["/api/v4/users/ada/projects"] = [
        ("status", 429, {"Retry-After": "1", "RateLimit-Remaining": "0"}, {"message": "Retry later"})]
    proc, doc = audit(gitlab, tmp_path, "gitlab:ada")
    assert places(doc) == [(url(gitlab, "ada", "dotfiles"), "conf/app.env")]
    proc, doc = audit(gitlab, tmp_path, "gitlab:ada", token=github("ghp_", 4242))
    assert proc.returncode == 2 and "GITLAB_TOKEN was refused" in proc.stderr
