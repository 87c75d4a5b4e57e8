"""Hostile repositories (issue 21): a scanned repository's config, refs and object store never make
tokenscan run a program of its choosing, reach a host it names, or hang.

Each case is a real blobless clone of a real served repository, given one hostile setting whose command
would write a marker file. Every command that reads a repository (`history`, `audit` of a folder and of a
URL, `remediate`, `revoke --from` on the resulting report) runs on it; the marker must not appear, and
where the promised objects are still reachable over an allowed transport the scan is complete.
"""

from __future__ import annotations

import ast
import http.server
import json
import os
import socketserver
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from gitrepo import ENV, Repo
from tokens import cloudflare

import scanner
from scanner.cli.group import cli

SECRET = cloudflare("cfut_", 2101)  # at HEAD: its blob is local in a blobless clone with a checkout
OLD = cloudflare("cfat_", 2102)  # deleted in history: its blob is only promised
HOOKS = ("pre-commit", "post-checkout", "post-merge", "reference-transaction", "pre-auto-gc", "post-rewrite",
         "fsmonitor-watchman", "push-to-checkout", "post-index-change")


class _Trap(http.server.BaseHTTPRequestHandler):
    """Answers every request 401 (so git asks for credentials) and counts it (a proxy must never see one)."""

    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.hits.append(self.path)
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="x"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_CONNECT = do_POST = do_GET  # noqa: N815

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def trap() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []
    handler = type("Trap", (_Trap,), {"hits": hits})
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{srv.server_address[1]}", hits
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Path:
    r = Repo(tmp_path_factory.mktemp("served") / "server")
    r.git("config", "uploadpack.allowFilter", "true")
    r.git("config", "uploadpack.allowAnySHA1InWant", "true")
    r.commit("init", README="hello\n")
    r.commit("old", **{"old.env": f"CLOUDFLARE_API_TOKEN={OLD}\n"})
    r.git("rm", "-q", "old.env")
    r.commit("remove")
    r.commit("config", **{"conf__app.env": f"CLOUDFLARE_API_TOKEN={SECRET}\n"})
    return r.path


def _git(path: Path, *args: str, **kw) -> str:
    return subprocess.run(["git", "-C", str(path), *args], check=True, capture_output=True, text=True,
                          env={**os.environ, **ENV}, **kw).stdout


def _signed_commit(repo: Path) -> None:
    """A commit carrying a gpgsig header, on its own ref: `log.showSignature` would hand it to gpg.program."""
    head = _git(repo, "rev-parse", "HEAD").strip()
    tree = _git(repo, "rev-parse", "HEAD^{tree}").strip()
    raw = (f"tree {tree}\nparent {head}\nauthor A <a@example.com> 1767225600 +0000\n"
           f"committer A <a@example.com> 1767225600 +0000\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n"
           " iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----\n\nsigned\n")
    oid = _git(repo, "hash-object", "-t", "commit", "-w", "--stdin", input=raw).strip()
    _git(repo, "update-ref", "refs/heads/signed", oid)


# name -> (config entries, how the promisor remote is reached: None keeps the served file:// URL)
CASES: dict[str, tuple[list[tuple[str, str]], str | None]] = {
    "ext-url": ([("protocol.ext.allow", "always"), ("protocol.allow", "always")], "ext::{evil}"),
    "ssh-command": ([("core.sshCommand", "{evil}")], "ssh://127.0.0.1:1/x.git"),
    "ssh-scp-command": ([("core.sshCommand", "{evil}")], "127.0.0.1:x.git"),
    "git-proxy": ([("core.gitProxy", "{evil}")], "git://127.0.0.1:1/x.git"),
    "uploadpack": ([("remote.origin.uploadpack", "{evil}")], None),
    "fsmonitor": ([("core.fsmonitor", "{evil}")], None),
    "hooks-path": ([("core.hooksPath", "{hooks}")], None),
    "diff-external": ([("diff.external", "{evil}")], None),
    "textconv": ([("diff.x.textconv", "{evil}"), ("diff.x.command", "{evil}")], None),
    "filters": ([("filter.x.clean", "{evil}"), ("filter.x.smudge", "{evil}"), ("filter.x.process", "{evil}"),
                 ("filter.x.required", "true")], None),
    "credential-helper": ([("credential.helper", "!{evil}")], "http://{trap}/x.git"),
    "askpass": ([("core.askPass", "{evil}")], "http://{trap}/x.git"),
    "show-signature": ([("log.showSignature", "true"), ("gpg.program", "{evil}")], None),
    "ssh-signature": ([("log.showSignature", "true"), ("gpg.format", "ssh"), ("gpg.ssh.program", "{evil}")], None),
    "http-proxy": ([("http.proxy", "http://{trap}"), ("remote.origin.proxy", "http://{trap}")],
                   "http://127.0.0.1:9/x.git"),
    "insteadof": ([("url.ext::{evil}.insteadOf", "file://"), ("protocol.ext.allow", "always")], None),
    "alternate-refs": ([("core.alternateRefsCommand", "{evil}")], None),
    "pager": ([("core.pager", "{evil}"), ("pager.log", "{evil}"), ("pager.cat-file", "{evil}")], None),
    "pack-objects-hook": ([("uploadpack.packObjectsHook", "{evil}")], None),
    "include": ([("include.path", "{evilconfig}")], None),
    "include-if": ([("includeIf.gitdir:/.path", "{evilconfig}")], None),
    "include-fifo": ([("include.path", "{fifo}")], None),
    "worktree-config": ([("core.repositoryformatversion", "1"), ("extensions.worktreeConfig", "true")], None),
    "remote-vcs": ([("remote.origin.vcs", "evil")], None),
}


def hostile(tmp_path: Path, served: Path, case: str, trap: str) -> tuple[Path, Path]:
    """(the hostile clone, the marker its command would write)."""
    marker = tmp_path / "MARK"
    evil = tmp_path / "evil.sh"
    evil.write_text(f"#!/bin/sh\ntouch '{marker}'\ncat >/dev/null 2>&1\nexit 1\n")
    evil.chmod(0o755)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "git-remote-evil").symlink_to(evil)  # remote.*.vcs names helper git-remote-<vcs>
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for name in HOOKS:
        (hooks / name).symlink_to(evil)
    evilconfig = tmp_path / "evil.gitconfig"
    evilconfig.write_text(f"[core]\n\tfsmonitor = {evil}\n\tsshCommand = {evil}\n[diff]\n\texternal = {evil}\n")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    repo = tmp_path / "org" / "hostile"
    subprocess.run(["git", "clone", "-q", "--filter=blob:none", f"file://{served}", str(repo)], check=True,
                   capture_output=True, env={**os.environ, **ENV})
    _signed_commit(repo)
    (repo / ".git" / "info" / "attributes").write_text("* diff=x filter=x\n")
    (repo / ".gitattributes").write_text("* diff=x filter=x\n")
    entries, url = CASES[case]
    subs = {"evil": str(evil), "hooks": str(hooks), "trap": trap, "evilconfig": str(evilconfig), "fifo": str(fifo)}
    cfg = str(repo / ".git" / "config")
    for key, value in entries:
        _git(repo, "config", "--file", cfg, key.format(**subs), value.format(**subs))
    if url is not None:
        _git(repo, "config", "--file", cfg, "remote.origin.url", url.format(**subs))
    if case == "worktree-config":
        (repo / ".git" / "config.worktree").write_text(f"[core]\n\tfsmonitor = {evil}\n")
    return repo, marker


def run(*args: str, tmp_path: Path) -> tuple[int, str]:
    env = {"PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}", **ENV}
    res = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return res.exit_code, res.output


def every_command(repo: Path, tmp_path: Path) -> dict[str, tuple[int, str]]:
    report = tmp_path / "report.json"
    out = {
        "history": run("history", "--format", "json", "--show-secrets", "-o", str(report), "--no-color",
                       str(repo), tmp_path=tmp_path),
        "audit-folder": run("audit", "--datastore", str(tmp_path / "ds1.db"), "--cache-dir", str(tmp_path / "c1"),
                            "--no-color", str(repo.parent), tmp_path=tmp_path),
        "audit-url": run("audit", "--datastore", str(tmp_path / "ds2.db"), "--cache-dir", str(tmp_path / "c2"),
                         "--no-color", f"file://{repo}", tmp_path=tmp_path),
        "remediate": run("remediate", str(repo), "-o", str(tmp_path / "replacements.txt"), tmp_path=tmp_path),
    }
    data = json.loads(report.read_text())
    fps = [f["fingerprint"] for f in data["findings"]][:1] or ["0" * 16]
    out["revoke"] = run("revoke", *fps, "--from", str(report), tmp_path=tmp_path)
    out["report"] = (0, report.read_text())
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_no_command_of_the_repository_runs(case, served, tmp_path, trap):
    address, hits = trap
    repo, marker = hostile(tmp_path, served, case, address)
    results = every_command(repo, tmp_path)
    assert not marker.exists(), f"{case}: the repository's command ran"
    for name, (code, output) in results.items():
        assert "Traceback" not in output and "internal error" not in output, (name, output)
        if name != "report":
            assert code in (0, 1), (name, code, output)
    report = json.loads(results["report"][1])
    found = {f["secret"] for f in report["findings"]}
    missing = [w for w in report["scan"]["warnings"] if w["kind"] == "missing-object"]
    assert SECRET in found  # local objects are always scanned
    if CASES[case][1] is None:  # the promised objects are reachable over file://: the scan is complete
        assert OLD in found and not missing, (case, report["scan"]["warnings"])
    else:  # a remote it names is refused or unreachable: said, per object, never a silent half-scan
        assert OLD not in found
        assert [w["path"] for w in missing] == ["old.env"], missing
    if case == "http-proxy":
        assert hits == [], "the repository's proxy was used"


def test_refused_remote_is_named_and_fails_the_incomplete_gate(served, tmp_path, trap):
    repo, marker = hostile(tmp_path, served, "ext-url", trap[0])
    code, out = run("history", "--fail-on-incomplete", "--no-color", str(repo), tmp_path=tmp_path)
    assert code == 1 and not marker.exists()
    assert "promisor remote origin not used: the ext:: transport runs a program" in out


def test_fifos_planted_in_the_repository_never_hang(served, tmp_path, trap):
    """A FIFO among the refs is skipped and named; one where git reads the object store refuses the
    repository with a clear error; one as the work tree's ignore file is an error naming it."""
    repo, _ = hostile(tmp_path, served, "fsmonitor", trap[0])
    os.mkfifo(repo / ".git" / "refs" / "heads" / "fifo")
    code, out = run("history", "--no-color", "--format", "json", "--show-secrets", str(repo), tmp_path=tmp_path)
    data = json.loads(out)
    assert code == 1 and SECRET in {f["secret"] for f in data["findings"]}
    assert any(w["path"] == "refs/heads/fifo" and w["kind"] == "unreadable" for w in data["scan"]["warnings"])
    os.mkfifo(repo / ".git" / "objects" / "pack" / "pack-0000.idx")
    code, out = run("history", "--no-color", str(repo), tmp_path=tmp_path)
    assert code == 2 and "pack-0000.idx: not a regular file" in out
    os.unlink(repo / ".git" / "objects" / "pack" / "pack-0000.idx")
    os.mkfifo(repo / ".tokenscanignore")
    code, out = run("history", "--no-color", str(repo), tmp_path=tmp_path)
    assert code == 2 and ".tokenscanignore: cannot read: not a regular file" in out


def test_git_never_sees_the_repository_config(served, tmp_path, trap, monkeypatch):
    """Every git process a history scan starts is given the view, hardened, with no transport allowed
    except for the promised-object fetch."""
    from scanner.sources import gitbin

    repo, _ = hostile(tmp_path, served, "fsmonitor", trap[0])
    seen: list[tuple[list[str], dict[str, str]]] = []
    real = gitbin.git_argv

    def spy(git_dir: str, args):
        argv = real(git_dir, args)
        seen.append((argv, {}))
        return argv

    monkeypatch.setattr(gitbin, "git_argv", spy)
    from scanner.pipeline.run import ScanOptions, history_scan

    rep = history_scan(str(repo), ScanOptions(jobs=1))
    assert SECRET in {f.secret for f in rep.findings}
    assert seen
    for argv, _ in seen:
        git_dir = os.path.normpath(argv[argv.index("--git-dir") + 1])
        assert os.path.basename(git_dir).startswith("tokenscan-view-"), argv
        assert "core.fsmonitor=false" in argv and "core.hooksPath=/dev/null" in argv
    assert gitbin.git_env()["GIT_ALLOW_PROTOCOL"] == ""
    assert gitbin.git_env(network=True)["GIT_ALLOW_PROTOCOL"] == "https:http:ssh:git:file"
    assert not [p for p in os.listdir(os.path.dirname(git_dir)) if p == os.path.basename(git_dir)]  # removed


def test_the_view_is_private_and_leaves_the_repository_untouched(served, tmp_path, trap):
    from scanner.sources.repoview import open_view

    repo, _ = hostile(tmp_path, served, "ext-url", trap[0])
    before = {p: p.stat().st_mtime_ns for p in (repo / ".git").rglob("*") if p.is_file()}
    view = open_view(str(repo))
    try:
        assert stat.S_IMODE(os.stat(view.path).st_mode) == 0o700
        config = Path(view.path, "config").read_text()
        assert "ext::" not in config and "protocol" not in config and "fsmonitor" not in config
        assert view.refused_remotes == {"origin": "the ext:: transport runs a program"}
    finally:
        view.close()
    assert not os.path.exists(view.path)
    after = {p: p.stat().st_mtime_ns for p in (repo / ".git").rglob("*") if p.is_file()}
    assert after == before


def test_only_gitbin_starts_processes():
    """One module builds every git command line: a subprocess call anywhere else fails this test (but in
    the package build's hook, which runs the C compiler at install and is left out of the wheel)."""
    root = Path(scanner.__file__).parent
    calls = {"run", "Popen", "call", "check_call", "check_output", "getoutput", "getstatusoutput"}
    offenders = []
    for path in root.rglob("*.py"):
        if path.name == "gitbin.py" or path.relative_to(root).as_posix() == "engine/build_hook.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            func = node.func if isinstance(node, ast.Call) else None
            if isinstance(func, ast.Attribute) and func.attr in calls and isinstance(func.value, ast.Name) \
                    and func.value.id == "subprocess":
                offenders.append(f"{path.relative_to(root)}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and node.module == "subprocess" \
                    and any(a.name in calls for a in node.names):
                offenders.append(f"{path.relative_to(root)}:{node.lineno}")
            if isinstance(func, ast.Attribute) and func.attr in ("system", "popen", "execv", "execvp", "spawnv") \
                    and isinstance(func.value, ast.Name) and func.value.id == "os":
                offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert offenders == []


@pytest.mark.parametrize("url,why", [
    ("ext::sh -c id", "ext:: transport"), ("fd::3", "fd:: transport"), ("foo::bar", "foo:: transport"),
    ("rsync://h/x", "not one of"), ("ssh://-oProxyCommand=x/y", "'-'"), ("-u evil:x", "'-'"), ("", "empty"),
])
def test_transport_refusals(url, why):
    from scanner.sources.repoview import transport_refusal

    assert why in (transport_refusal(url) or "")


@pytest.mark.parametrize("url", ["https://h/x.git", "http://h/x", "ssh://git@h/x", "git@h:x.git", "git://h/x",
                                 "file:///srv/x.git", "/srv/x.git", "../x.git", "git+ssh://h/x"])
def test_transports_allowed(url):
    from scanner.sources.repoview import transport_refusal

    assert transport_refusal(url) is None
