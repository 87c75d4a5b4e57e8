"""The pre-commit framework uses this checkout's .pre-commit-hooks.yaml in a real repository."""

import os
import shutil
import subprocess
import sys

import pytest
from clirun import ROOT
from gitrepo import Repo
from tokens import cloudflare

ROOT = ROOT


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs a git checkout")
def test_pre_commit_try_repo_blocks_a_staged_credential(tmp_path):
    pytest.importorskip("pre_commit")
    r = Repo(tmp_path / "user-repo")
    r.commit("init", a="1\n")
    tok = cloudflare("cfut_", 90)
    r.write("b.env", f"T={tok}\n")
    r.git("add", "b.env")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "tokenscan"]
    res = subprocess.run(cmd, cwd=r.path, capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "cloudflare-user-api-token" in res.stdout and tok not in res.stdout
    r.git("rm", "-q", "--cached", "b.env")
    r.write("c.txt", "clean\n")
    r.git("add", "c.txt")
    res = subprocess.run(cmd, cwd=r.path, capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr


# --- the hook's lean path (scanner/cli/precommit.py): the command lines a hook runs, read without click ---

from scanner.cli import precommit  # noqa: E402


@pytest.mark.parametrize(("argv", "params"), [
    (["staged"], {}),
    (["staged", "--no-color", "/r"], {"no_color": True, "repo": "/r"}),
    (["staged", "-q", "."], {"quiet": True, "repo": "."}),
    (["staged", "--quiet"], {"quiet": True}),
])
def test_the_hooks_command_lines_take_the_lean_path(argv, params):
    assert precommit.parse(argv) == params


@pytest.mark.parametrize("argv", [
    [], ["scan"], ["staged", "--format", "json"], ["staged", "--help"], ["staged", "a", "b"], ["staged", "-"],
    ["staged", ""], ["staged", "--no-color=1"], ["history", "staged"],
])
def test_any_other_command_line_is_clicks(argv):
    assert precommit.parse(argv) is None


def _both_paths(repo: Repo, *args: str, env: dict[str, str] | None = None) -> list[tuple[int, str, str]]:
    """The lean path (`staged ARGS`) and click's (the same with `--format text`, which the lean path does
    not take): returncode, stdout, stderr of each."""
    out = []
    for extra in ((), ("--format", "text")):
        res = subprocess.run([sys.executable, "-m", "scanner", "staged", *args, *extra], cwd=repo.path,
                             capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=300)
        out.append((res.returncode, res.stdout.replace(" --format text", ""), res.stderr))
    return out


def _timing_free(run: tuple[int, str, str]) -> tuple[int, str, str]:
    import re

    code, out, err = run
    return code, re.sub(r"\d+\.\d\d s", "T s", out), err


def test_the_lean_path_and_clicks_say_the_same(tmp_path):
    r = Repo(tmp_path / "same")
    r.commit("init", a="1\n")
    tok = cloudflare("cfut_", 93)
    r.write("b.env", f"T={tok}\nU=1\n")
    r.git("add", "b.env")
    lean, full = _both_paths(r, "--no-color")
    assert lean[0] == 1 and "b.env:1" in lean[1] and tok not in lean[1] + lean[2] and "stopped" in lean[2]
    assert _timing_free(lean) == _timing_free(full)
    # the project's config applies on both paths alike
    (r.path / ".tokenscan.toml").write_text('fail-on = "bogus"\n')
    lean, full = _both_paths(r)
    assert lean[0] == 2 and ".tokenscan.toml" in lean[2] and lean == full
    (r.path / ".tokenscan.toml").unlink()
    r.git("rm", "-q", "--cached", "b.env")
    lean, full = _both_paths(r, "-q")
    assert lean == full == (0, "", "")
    # bad input: one line and exit 2, the same words
    lean, full = _both_paths(r, str(tmp_path / "nowhere"))
    assert lean[0] == full[0] == 2 and lean[2] == full[2] and "Traceback" not in lean[2]


def test_the_lean_path_loads_neither_click_nor_hyperscan(tmp_path):
    r = Repo(tmp_path / "lean")
    r.commit("init", a="1\n")
    r.write("a", "1\n2\n")
    r.git("add", "a")
    probe = ("import atexit, sys\n"
             "atexit.register(lambda: print(sorted(m for m in ('click', 'hyperscan', 'multiprocessing', 'tomllib')"
             " if m in sys.modules), file=sys.stderr))\n"
             "sys.argv = ['tokenscan', 'staged', '.']\n"
             "from scanner.cli.main import main\n"
             "main()\n")
    res = subprocess.run([sys.executable, "-c", probe], cwd=r.path, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stderr.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(("sig", "code"), [(15, 143), (2, 130)])
def test_a_signal_ends_the_lean_path_and_its_children(tmp_path, sig, code):
    """A large staged change, stopped mid-scan: the signal's exit code, one line, and no child left (the
    lean path ends without the interpreter's teardown, never without its at-exit handlers)."""
    import random
    import time

    from test_faults import _alive, _descendants, stop_with

    def cpu_seconds(pid: int) -> float:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    r = Repo(tmp_path / "big")
    r.commit("init", a="1\n")
    rng = random.Random(5)
    text = bytes((b"abcdefghij klmnop\n" * 15)[:256])  # a byte to one of these, evenly
    for i in range(12):
        (r.path / f"f{i}.txt").write_bytes(rng.randbytes(3_000_000).translate(text))
    r.git("add", "-A")
    proc = subprocess.Popen([sys.executable, "-m", "scanner", "staged"], cwd=r.path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 30
    while proc.poll() is None and cpu_seconds(proc.pid) < 0.4 and time.time() < deadline:
        time.sleep(0.02)  # past start-up (~0.1 s): well into the ~2 s scan
    assert proc.poll() is None, "the scan ended before the signal"
    kids = _descendants(proc.pid)
    err = stop_with(proc, sig)
    assert proc.returncode == code, err
    assert "Traceback" not in err and err.strip().splitlines()[-1] in ("tokenscan: terminated", "tokenscan: interrupted")
    time.sleep(0.2)
    assert not [k for k in kids if _alive(k)]
