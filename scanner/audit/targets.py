"""What an audit covers: repositories found on disk, listed in a file, cloned from git URLs into a cache, or
listed by a forge (scanner.audit.forges); and container images (scanner.sources.images).

A URL is cloned bare with `--filter=blob:none` (a blobless partial clone; git falls back to a full clone,
with a warning of its own, where the server does not allow filters) into the cache directory, and the
next audit fetches into that clone instead of cloning again. The cache key hides any credentials in the
URL: neither the directory name nor the datastore ever holds them.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from scanner.audit.forges.api import ForgeOptions
from scanner.errors import UsageError
from scanner.sources.gitbin import git_binary, run_remote
from scanner.sources.repoview import local_path, open_view

_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:)", re.IGNORECASE)  # scheme:// or scp-like git@host:
_SKIP_DIRS = {"node_modules", ".venv", "venv", "__pycache__"}


@dataclass(frozen=True)
class Target:
    key: str  # what the datastore calls it: a real path, or the URL without credentials
    kind: str  # path | url | image
    location: str  # what to open (a path) or clone (the URL as given, credentials and all; never stored)
    # git settings for its clone and fetches, in git's environment only: a forge token's header (forges)
    git_config: tuple[tuple[str, str], ...] = field(default=(), repr=False, compare=False)
    listed_by: str = ""  # the forge target (github:acme) that listed it


def is_url(text: str) -> bool:
    return bool(_URL.match(text)) and not os.path.exists(text)


def public_url(url: str) -> str:
    """The URL as it may be shown and stored: user and password removed."""
    if "://" not in url:
        return url  # scp-like user@host:path names a login, not a secret
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, ""))


def default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tokenscan", "repos")


def is_repository(path: str) -> bool:
    """A work tree (has .git, a folder or a gitfile) or a bare repository (HEAD, objects/, refs/)."""
    if os.path.exists(os.path.join(path, ".git")):
        return True
    return (os.path.isfile(os.path.join(path, "HEAD")) and os.path.isdir(os.path.join(path, "objects"))
            and os.path.isdir(os.path.join(path, "refs")))


def find_repositories(root: str) -> Iterator[str]:
    """Every repository under root, bare ones too; never descends into a repository (its submodules and
    vendored copies are its own business) nor follows symbolic links (a link can point anywhere)."""
    if is_repository(root):
        yield root
        return
    for folder, dirs, _ in os.walk(root, followlinks=False, onerror=None):
        keep = []
        for d in sorted(dirs):
            full = os.path.join(folder, d)
            if os.path.islink(full) or d in _SKIP_DIRS:
                continue
            if is_repository(full):
                yield full
            else:
                keep.append(d)
        dirs[:] = keep


def read_targets_file(name: str) -> list[str]:
    """One path or URL per line; blank lines and # comments ignored. `-` reads standard input."""
    try:
        if name == "-":
            text = sys.stdin.read()
        else:
            with open(name, encoding="utf-8") as fh:
                text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"--targets-file {name}: cannot read: {why}") from None
    return [s for line in text.splitlines() if (s := line.strip()) and not s.startswith("#")]


def resolve(args: Iterable[str], listed: Iterable[str], warnings: list[str], *, forges: ForgeOptions | None = None,
            notes: list[str] | None = None, gaps: list[str] | None = None) -> list[Target]:
    """Command-line TARGETs must exist (a typo is exit 2); lines from a targets file that are not there are
    warnings, and the audit goes on with the rest. Duplicates (the same repository twice) are audited once.
    `github:ORG` / `gitlab:GROUP` are listed through the forge's API (scanner.audit.forges): a listing that
    failed is a warning (nothing of it is scanned); one cut short is a gap (what was listed is scanned, and
    --fail-on-incomplete fails the gate)."""
    out: dict[str, Target] = {}

    def add_forge(text: str, strict: bool) -> bool:
        from scanner.audit.forges import forge_of, list_forge

        found = forge_of(text)
        if found is None:
            return False
        problem = found[0].check_name(found[1])
        if problem is not None:
            if strict:
                raise UsageError(f"{text}: {problem}")
            warnings.append(f"{text}: {problem}; skipped")
            return True
        listing = list_forge(text, forges or ForgeOptions())
        if notes is not None:
            notes.extend(listing.notes)
        if listing.error and not listing.repos:
            warnings.append(f"{text}: listing failed: {listing.error}")
        elif listing.error:
            (gaps if gaps is not None else warnings).append(
                f"{text}: listing incomplete after {len(listing.repos)} repositories: {listing.error}")
        for repo in listing.repos:
            key = public_url(repo.clone_url)
            out.setdefault(key, Target(key, "url", repo.clone_url, listing.git_config.get(repo.clone_url, ()), text))
        return True

    def add_image(text: str, strict: bool) -> bool:
        from scanner.sources.images import OCI_ARCHIVE, image_kind
        from scanner.sources.registry import check_reference, is_reference

        if is_reference(text):
            check_reference(text)
            out.setdefault(text, Target(text, "image", text))
            return True
        if image_kind(text) is None:
            return False
        archive = text.startswith(OCI_ARCHIVE) and not os.path.exists(text)
        path = text[len(OCI_ARCHIVE):] if archive else text
        if not os.path.exists(path):
            if strict:
                raise UsageError(f"{text}: no such file or directory")
            warnings.append(f"{text}: no such file or directory; skipped")
            return True
        key = (OCI_ARCHIVE if archive else "") + os.path.realpath(path)
        out.setdefault(key, Target(key, "image", key))
        return True

    def add(text: str, strict: bool) -> None:
        if add_forge(text, strict) or add_image(text, strict):
            return
        if is_url(text):
            out.setdefault(public_url(text), Target(public_url(text), "url", text))
            return
        if not os.path.exists(text):
            if strict:
                raise UsageError(f"{text}: no such file or directory (and not a git URL)")
            warnings.append(f"{text}: no such file or directory (and not a git URL); skipped")
            return
        if not os.path.isdir(text):
            if strict:
                raise UsageError(f"{text}: not a directory (a list of targets goes in --targets-file)")
            warnings.append(f"{text}: not a directory; skipped")
            return
        found = list(find_repositories(text))
        if not found:
            warnings.append(f"{text}: no git repositories found")
        for repo in found:
            real = os.path.realpath(repo)
            out.setdefault(real, Target(real, "path", real))

    for a in args:
        add(a, True)
    for line in listed:
        add(line, False)
    return list(out.values())


def cache_path(cache_dir: str, key: str) -> str:
    """A readable, collision-free folder name: the URL's last part plus a hash of the whole public URL."""
    tail = re.sub(r"[^A-Za-z0-9._-]+", "_", key.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1])[:60] or "repo"
    tail = tail.removesuffix(".git")
    return os.path.join(cache_dir, f"{tail}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.git")


def _git(args: list[str], config: tuple[tuple[str, str], ...] = ()) -> subprocess.CompletedProcess[str]:
    """git clone / fetch into the cache: the URL is the user's; the transports, prompts and programs any
    config could add are closed as for every scanned repository (scanner.sources.gitbin.run_remote)."""
    if git_binary() is None:
        raise OSError("git is not on PATH: URL targets need it")
    return run_remote(args, config=config)


_CREDENTIALS = re.compile(r"(?<=://)[^/@\s'\"]+@")


def git_reason(stderr: str, code: int) -> str:
    """git's own reason, one line: its `fatal:` line (git prints hints and "please make sure you have the
    correct access rights / and the repository exists." after it), user:password@ in any URL removed."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]
    why = (fatal[0] if fatal else lines[-1] if lines else f"git exit {code}")
    why = why.removeprefix("fatal: ").removeprefix("error: ")
    return _CREDENTIALS.sub("", why)[:500]


def _clone_or_fetch(dest: str, source: str, location: str, config: tuple[tuple[str, str], ...] = ()
                    ) -> tuple[subprocess.CompletedProcess[str], str]:
    """The blobless clone at dest brought up to date from source; origin's URL stays location (a view's
    path is only served while this runs)."""
    if os.path.isdir(dest) and os.path.isfile(os.path.join(dest, "HEAD")):
        if source != location:
            _git(["--git-dir", dest, "config", "remote.origin.url", source])
        res = _git(["--git-dir", dest, "fetch", "--prune", "--prune-tags", "--force", "--quiet", "origin",
                    "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"], config)
        if source != location:
            _git(["--git-dir", dest, "config", "remote.origin.url", location])
        return res, "fetched"
    if os.path.exists(dest):
        shutil.rmtree(dest)  # a clone that died half-way: start over
    tmp = dest + ".partial"
    if os.path.exists(tmp):
        shutil.rmtree(tmp)
    # blobless, but whole where git needs credentials: the scan's own fetch of promised blobs runs without them
    blobless = [] if config else ["--filter=blob:none"]
    res = _git(["clone", "--bare", "--quiet", *blobless, "--", source, tmp], config)
    if res.returncode == 0 and source != location:
        _git(["--git-dir", tmp, "config", "remote.origin.url", location])
    if res.returncode == 0:
        os.replace(tmp, dest)  # only a complete clone ever sits at dest
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return res, "cloned"


def prepare(target: Target, cache_dir: str) -> tuple[str, str]:
    """The local repository to scan, and what was done ("" | cloned | fetched). OSError on failure (a
    broken target: the caller warns and goes on). A lock per clone keeps two audits off the same folder."""
    if target.kind in ("path", "image"):
        return target.location, ""
    os.makedirs(cache_dir, exist_ok=True)
    dest = cache_path(cache_dir, target.key)
    view = None
    if target.location.startswith("file://"):  # a repository on this disk: served from a view of it (its
        try:                                     # config would steer the upload-pack git runs in it)
            view = open_view(local_path(target.location) or "")
        except UsageError as exc:
            raise OSError(f"clone failed: {exc}") from None
    source = f"file://{view.path}" if view is not None else target.location
    try:
        with open(dest + ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            res, action = _clone_or_fetch(dest, source, target.location, target.git_config)
    finally:
        if view is not None:
            view.close()
    if res.returncode != 0:
        verb = "clone" if action == "cloned" else "fetch"
        why = git_reason(res.stderr, res.returncode).replace(source, target.key).replace(target.location, target.key)
        raise OSError(f"{verb} failed: {why}")
    return dest, action
