"""Build a git history out of a package's published releases: one commit per release, oldest first.

    python tests/bench/make_release_history.py DEST --pypi cloudflare            # Cloudflare's Python SDK
    python tests/bench/make_release_history.py DEST --npm cloudflare             # its TypeScript SDK
    python tests/bench/make_release_history.py DEST --npm wrangler --last 400 --every 5

Text the project did not write, for benchmarks when a vendor's own repositories cannot be cloned: the
registries serve every release, and successive releases of an SDK change the way a repository's history
does (generated code regenerated, bundles rebuilt). Each release's archive is unpacked over the previous
tree (files it lacks are removed) and committed with its upload date. Downloads are kept in DEST.dl/.
Fetches from the package registries (pypi.org, registry.npmjs.org); a benchmark input, never a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tarfile
import urllib.request
from pathlib import Path

ENV = {**os.environ, "GIT_AUTHOR_NAME": "release", "GIT_AUTHOR_EMAIL": "release@example.invalid",
       "GIT_COMMITTER_NAME": "release", "GIT_COMMITTER_EMAIL": "release@example.invalid"}


def _get(url: str, accept: str = "application/json") -> bytes:
    req = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(req, timeout=120) as resp:  # noqa: S310 - the registries' https URLs
        return bytes(resp.read())


def pypi_releases(name: str) -> list[tuple[str, str]]:
    """(upload time, sdist URL) of every non-yanked source distribution, from PyPI's JSON simple API."""
    doc = json.loads(_get(f"https://pypi.org/simple/{name}/", "application/vnd.pypi.simple.v1+json"))
    files = [f for f in doc["files"] if f["filename"].endswith(".tar.gz") and not f.get("yanked")]
    return sorted((f["upload-time"], f["url"]) for f in files)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("."))


def npm_releases(name: str) -> list[tuple[str, str]]:
    """(publish time, tarball URL) of every release version (no pre-releases), from the npm registry, in
    version order: a mirror's publish times can be those of its own copying, not of the releases."""
    doc = json.loads(_get(f"https://registry.npmjs.org/{name}"))
    times = doc.get("time", {})
    versions = sorted((v for v in doc["versions"] if v in times and "-" not in v), key=_version_key)
    return [(times[v], doc["versions"][v]["dist"]["tarball"]) for v in versions]


def _unpack(archive: Path, tree: Path) -> None:
    for entry in tree.iterdir():
        if entry.name != ".git":
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts[1:]  # the archive's top folder (package/, name-1.2.3/) is dropped
            if not parts or ".." in parts or not (member.isfile() or member.isdir()):
                continue
            member.name = str(Path(*parts))
            tar.extract(member, tree, filter="data")


def build(dest: Path, releases: list[tuple[str, str]]) -> None:
    downloads = dest.with_name(dest.name + ".dl")
    downloads.mkdir(parents=True, exist_ok=True)
    dest.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(dest)], check=True)
    for n, (when, url) in enumerate(releases, 1):
        archive = downloads / url.rsplit("/", 1)[1]
        if not archive.exists():
            archive.write_bytes(_get(url, "*/*"))
        _unpack(archive, dest)
        subprocess.run(["git", "-C", str(dest), "add", "-A"], check=True)
        env = {**ENV, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
        subprocess.run(["git", "-C", str(dest), "commit", "-q", "--allow-empty", "-m", f"release {archive.name}"],
                       check=True, env=env)
        print(f"\r{n}/{len(releases)} {archive.name}", end="", flush=True)
    subprocess.run(["git", "-C", str(dest), "gc", "-q"], check=True)
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dest", type=Path)
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--pypi", metavar="NAME")
    where.add_argument("--npm", metavar="NAME")
    ap.add_argument("--last", type=int, default=0, help="only the last N releases")
    ap.add_argument("--every", type=int, default=1, help="every Nth of those releases")
    args = ap.parse_args()
    if args.dest.exists():
        ap.error(f"{args.dest} exists")
    releases = pypi_releases(args.pypi) if args.pypi else npm_releases(args.npm)
    releases = releases[-args.last:] if args.last else releases
    build(args.dest, releases[::args.every])


if __name__ == "__main__":
    main()
