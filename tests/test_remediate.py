"""`tokenscan remediate`: the replacements file and the printed steps, on real repositories.

The secrets planted are synthetic (tests/tokens.py; a "private key" of random bytes). What must hold: the file
is 0600 and holds each secret once, nothing printed holds a secret, the file is never written inside the
repository, and -- where git-filter-repo is installed -- running the printed commands leaves no secret anywhere
in the rewritten history.
"""

from __future__ import annotations

import base64
import os
import random
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from gitrepo import ENV, Repo
from tokens import cloudflare, github

from scanner.cli.group import cli
from scanner.remediate.plan import Leak, public_url, replacement_lines


def _pem(seed: int, lines: int = 14) -> str:
    """An RSA-armoured block of random bytes: longer than the 10 lines the private-key rule reports, so the
    file must reach the END line by itself."""
    body = base64.b64encode(random.Random(seed).randbytes(48 * lines)).decode()
    rows = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(rows) + "\n-----END RSA PRIVATE KEY-----"


@pytest.fixture()
def leaky(tmp_path: Path) -> dict:
    """A repository with one secret still at HEAD (also in a commit message), one only in history, and a
    multi-line private key only in history; origin points at itself, so the printed clone command works."""
    repo = Repo(tmp_path / "src")
    at_head, old = cloudflare("cfut_", 71), github("ghp_", 72)
    pem = _pem(73)
    repo.commit("add config", **{"config__old.env": f"GITHUB_TOKEN={old}\n", "deploy__id_rsa": pem + "\n"})
    repo.commit("drop the token", **{"config__old.env": "GITHUB_TOKEN=\n"})
    repo.git("rm", "-q", "deploy/id_rsa")
    repo.commit("drop the key")
    repo.commit(f"wire cloudflare with {at_head}", **{"app.env": f"CF_API_TOKEN={at_head}\n"})
    repo.git("remote", "add", "origin", (tmp_path / "src").as_uri())
    return {"repo": repo, "path": tmp_path / "src", "at_head": at_head, "old": old, "pem": pem,
            "out": tmp_path / "replacements.txt", "tmp": tmp_path}


def _pem_pieces(pem: str) -> list[str]:
    """Every body line of the key: none may survive anywhere, not only the lines the rule reported."""
    return [line for line in pem.splitlines() if not line.startswith("-----")]


def _remediate(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["remediate", *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_file_is_0600_holds_each_secret_once_and_nothing_printed_holds_one(leaky: dict) -> None:
    code, printed = _remediate(str(leaky["path"]), "-o", str(leaky["out"]))
    assert code == 0, printed
    assert stat.S_IMODE(os.stat(leaky["out"]).st_mode) == 0o600
    text = leaky["out"].read_text()
    for secret in (leaky["at_head"], leaky["old"]):
        assert text.count(secret) == 1
        assert secret not in printed
    key_lines = [ln for ln in text.splitlines() if ln.startswith("regex:")]
    assert len(key_lines) == 1 and "REMOVED-private-key" in key_lines[0]
    assert len(text.splitlines()) == 3  # one line per distinct secret, nothing else
    for piece in _pem_pieces(leaky["pem"]):
        assert piece not in printed
    # the ordered steps, rotation first, each credential redacted with its rule, advice and HEAD state
    order = [printed.index(s) for s in ("ROTATE FIRST", "git clone --mirror", "git filter-repo --replace-text",
                                        "git push --force --mirror", "clone again", "GitHub Support", "shred -u")]
    assert order == sorted(order)
    head_line = next(ln for ln in printed.splitlines() if "cloudflare-user-api-token" in ln)
    assert "cfut_…" + leaky["at_head"][-4:] in head_line and "STILL AT HEAD" in head_line
    old_line = next(ln for ln in printed.splitlines() if "github-token" in ln)
    assert "history only" in old_line
    assert "https://developers.cloudflare.com/fundamentals/api/how-to/roll-token/" in printed


def test_printed_commands_remove_every_secret_from_all_history(leaky: dict) -> None:
    path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])  # a venv's bin too
    if shutil.which("git-filter-repo", path=path) is None:
        pytest.skip("git-filter-repo is not installed (pip install git-filter-repo)")
    code, printed = _remediate(str(leaky["path"]), "-o", str(leaky["out"]))
    assert code == 0, printed
    commands = [ln.strip() for ln in printed.splitlines() if ln.strip().startswith(("git clone", "git filter-repo"))]
    assert [c.split()[1] for c in commands] == ["clone", "filter-repo"]
    work = leaky["tmp"] / "work"
    work.mkdir()
    env = {**os.environ, **ENV, "PATH": path}
    subprocess.run(shlex.split(commands[0]), cwd=work, env=env, check=True, capture_output=True)
    mirror = work / "repo.git"
    subprocess.run(shlex.split(commands[1]), cwd=mirror, env=env, check=True, capture_output=True)
    history = subprocess.run(["git", "log", "-p", "--all"], cwd=mirror, env=env, check=True, capture_output=True,
                             text=True).stdout
    assert "REMOVED-cloudflare-user-api-token" in history  # the rewrite happened
    for secret in (leaky["at_head"], leaky["old"], *_pem_pieces(leaky["pem"])):
        assert secret not in history
    assert "PRIVATE KEY-----" not in history


def test_output_inside_the_repository_is_refused(leaky: dict) -> None:
    inside = leaky["path"] / "replacements.txt"
    code, printed = _remediate(str(leaky["path"]), "-o", str(inside))
    assert code == 2 and "inside the repository" in printed
    assert not inside.exists()
    git_dir = leaky["path"] / ".git" / "replacements.txt"
    code, _ = _remediate(str(leaky["path"]), "-o", str(git_dir))
    assert code == 2 and not git_dir.exists()


def test_existing_file_needs_force_and_is_recreated_0600(leaky: dict) -> None:
    leaky["out"].write_text("old\n")
    os.chmod(leaky["out"], 0o644)
    code, printed = _remediate(str(leaky["path"]), "-o", str(leaky["out"]))
    assert code == 2 and "--force" in printed
    assert leaky["out"].read_text() == "old\n"
    code, _ = _remediate(str(leaky["path"]), "-o", str(leaky["out"]), "--force")
    assert code == 0
    assert stat.S_IMODE(os.stat(leaky["out"]).st_mode) == 0o600
    assert leaky["at_head"] in leaky["out"].read_text()


def test_clean_history_writes_nothing(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "clean")
    repo.commit("readme", **{"README.md": "nothing to see\n"})
    out = tmp_path / "r.txt"
    code, printed = _remediate(str(tmp_path / "clean"), "-o", str(out))
    assert code == 0 and "nothing to do" in printed
    assert not out.exists()


def test_credentials_in_the_remote_url_are_not_printed(leaky: dict) -> None:
    token = github("ghp_", 74)
    leaky["repo"].git("remote", "set-url", "origin", f"https://x-access-token:{token}@github.example/o/r.git")
    code, printed = _remediate(str(leaky["path"]), "-o", str(leaky["out"]))
    assert code == 0
    assert token not in printed
    assert "git clone --mirror https://github.example/o/r.git repo.git" in printed
    assert public_url("git@github.com:o/r.git") == "git@github.com:o/r.git"


def test_replacement_lines_follow_git_filter_repo_format() -> None:
    """Secrets holding `==>`, a filter-repo prefix, or newlines; parsed by filter-repo's own reader when it is
    installed, by the documented rules (split at the last `==>`, `regex:`/`literal:` prefixes) otherwise."""
    import re

    leaks = [Leak("abc==>def-secret-value", "acme-token"), Leak("regex:looks-like-a-prefix", "acme-token"),
             Leak("short", "acme-token"), Leak("xx-short-xx", "acme-token"),
             Leak("-----BEGIN EC PRIVATE KEY-----\nAAAA+/==\nBBBB\n-----END EC PRIVATE KEY-----", "private-key")]
    lines = replacement_lines(leaks)
    assert all("\n" not in ln and "\r" not in ln for ln in lines)
    assert lines.index("xx-short-xx==>***REMOVED-acme-token***") < lines.index("short==>***REMOVED-acme-token***")
    try:
        import git_filter_repo  # type: ignore[import-not-found]
    except ImportError:
        git_filter_repo = None
    parsed: list[tuple[bytes, bytes, bool]] = []
    if git_filter_repo is not None:
        import tempfile

        with tempfile.NamedTemporaryFile("w", delete=False) as fh:
            fh.write("\n".join(lines) + "\n")
        try:
            spec = git_filter_repo.FilteringOptions.get_replace_text(fh.name)
        finally:
            os.unlink(fh.name)
        parsed += [(lit, rep, False) for lit, rep in spec["literals"]]
        parsed += [(rx.pattern, rep, True) for rx, rep in spec["regexes"]]
    else:
        for ln in lines:
            expr, rep = ln.encode().rsplit(b"==>", 1)
            is_regex = expr.startswith(b"regex:")
            parsed.append((expr[6:] if is_regex else expr.removeprefix(b"literal:"), rep, is_regex))
    literals = {lit: rep for lit, rep, is_regex in parsed if not is_regex}
    assert literals[b"abc==>def-secret-value"] == b"***REMOVED-acme-token***"
    assert literals[b"regex:looks-like-a-prefix"] == b"***REMOVED-acme-token***"
    (pattern, rep), = [(p, r) for p, r, is_regex in parsed if is_regex]
    assert rep == b"***REMOVED-private-key***"
    blob = b"key = '-----BEGIN EC PRIVATE KEY-----\r\nAAAA+/==\r\nBBBB\r\n-----END EC PRIVATE KEY-----'\n"
    assert re.sub(pattern, rep, blob) == b"key = '***REMOVED-private-key***'\n"


def test_a_token_inside_a_key_block_does_not_break_the_block_regex() -> None:
    """filter-repo replaces literals before regexes: the block's regex must expect the token's placeholder."""
    import re

    token = "tok_" + "Ab1" * 10
    block = f"-----BEGIN PRIVATE KEY-----\nAAAA{token}BBBB\nCCCC\n-----END PRIVATE KEY-----"
    lines = replacement_lines([Leak(token, "acme-token"), Leak(block, "private-key")])
    assert lines[0] == f"{token}==>***REMOVED-acme-token***" and lines[1].startswith("regex:")
    blob = f"x = '{block}'\n".encode()
    blob = blob.replace(token.encode(), b"***REMOVED-acme-token***")  # what filter-repo does first
    pattern, _, rep = lines[1].removeprefix("regex:").rpartition("==>")
    assert re.sub(pattern.encode(), rep.encode(), blob) == b"x = '***REMOVED-private-key***'\n"


def test_short_values_and_archive_members_are_pointed_out_without_the_secret() -> None:
    from scanner.remediate.plan import plan_text

    short = Leak("pw-9x2Lq", "database-url-password", places=[("app.env", 1, "a" * 40)], encodings={"plain"})
    zipped = Leak("ghp_" + "Zz9" * 12, "github-token", places=[("dist/release.zip!conf/.env", 2, "b" * 40)],
                  encodings={"plain"})
    encoded = Leak("sk_live_" + "Qq7" * 9, "stripe-live-key", places=[("k8s/secret.yaml", 3, "c" * 40)],
                   encodings={"base64"})
    text = plan_text([short, zipped, encoded], "/tmp/out.txt", "repo", None, 0, {})
    assert "short value (8 characters)" in text
    assert "inside an archive (dist/release.zip!conf/.env)" in text
    assert "found only base64-encoded" in text
    assert "git clone --mirror <URL> repo.git" in text
    for leak in (short, zipped, encoded):
        assert leak.secret not in text


def test_an_incomplete_scan_is_said() -> None:
    from scanner.remediate.plan import plan_text

    leak = Leak("ghp_" + "Yy8" * 12, "github-token", places=[("a.env", 1, "d" * 40)], encodings={"plain"})
    assert "could not be scanned" in plan_text([leak], "/tmp/o.txt", "repo", None, 0, {}, incomplete=1)
    assert "could not be scanned" not in plan_text([leak], "/tmp/o.txt", "repo", None, 0, {})
