"""Benchmark: `tokenscan history` against the floor (`git cat-file --batch-all-objects --batch`) and peers.

    python tests/bench/bench_history.py [REPO]     # a work tree or a bare repository; default: builds the
                                                   # synthetic history (make_history.py)
    python tests/bench/bench_history.py --cloudflare [--mb 200]  # a synthetic Cloudflare-heavy history
    python tests/bench/bench_history.py --staged   # `tokenscan staged` on ~1,000 files with a one-line change

Peers (kingfisher, gitleaks) are measured in the same run when on PATH. Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

from common import row, timed, tokenscan_cmd

HERE = os.path.dirname(os.path.abspath(__file__))


def git_dir(repo: str) -> str:
    """The repository's git directory, whether REPO is a work tree, its .git, or a bare repository."""
    proc = subprocess.run(["git", "-C", repo, "rev-parse", "--absolute-git-dir"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{repo}: not a git repository ({proc.stderr.strip()})")
    return proc.stdout.strip()


def repo_size(repo: str) -> float:
    out = subprocess.run(["git", "--git-dir", repo, "cat-file", "--batch-all-objects",
                          "--batch-check=%(objecttype) %(objectsize)"], capture_output=True, text=True).stdout
    return sum(int(s) for t, s in (line.split() for line in out.splitlines()) if t == "blob") / 1e6


def bench_history(repo: str) -> None:
    repo = git_dir(repo)
    mb = repo_size(repo)
    # the floor reads every object once in pack order, as tokenscan's readers do
    floor, _ = timed(f"git --git-dir '{repo}' cat-file --batch-all-objects --unordered --batch > /dev/null",
                     repeat=2)
    ours, rss = timed(tokenscan_cmd() + ["history", repo, "-q"], repeat=2)
    print(f"repository {repo}: {mb:.0f} MB of blobs")
    print(row("cat-file floor", floor, mb, floor, None))
    peer = None
    if shutil.which("kingfisher"):
        peer, _ = timed(["kingfisher", "scan", repo, "--no-validate", "--format", "json"], repeat=2,
                        ok=(0, 200, 205))
        print(row("kingfisher", peer, mb, floor, peer))
    if shutil.which("gitleaks"):
        gl, _ = timed(["gitleaks", "git", repo, "--no-banner", "--log-level", "error"], repeat=2, ok=(0, 1))
        print(row("gitleaks", gl, mb, floor, peer))
    print(row("tokenscan", ours, mb, floor, peer, rss))


def bench_staged() -> None:
    with tempfile.TemporaryDirectory() as d:
        env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com",
               "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.com"}
        subprocess.run(["git", "init", "-q", d], check=True)
        for i in range(1000):
            os.makedirs(f"{d}/src{i % 20}", exist_ok=True)
            with open(f"{d}/src{i % 20}/f{i}.py", "w") as fh:
                fh.write("x = 1\n" * 200)
        subprocess.run(["git", "-C", d, "add", "-A"], check=True)
        subprocess.run(["git", "-C", d, "commit", "-qm", "init"], check=True, env=env)
        with open(f"{d}/src3/f3.py", "a") as fh:
            fh.write("y = 2\n")
        subprocess.run(["git", "-C", d, "add", "-A"], check=True)
        floor, _ = timed(["git", "-C", d, "diff", "--cached", "--quiet"], repeat=5, ok=(0, 1))
        ours, _ = timed(tokenscan_cmd() + ["staged", d], repeat=5)
        print(f"staged, 1,000 files, one-line change: tokenscan {ours:.3f} s; "
              f"`git diff --cached` {floor:.3f} s (goal 0.22 s; gitleaks 0.44 s)")
        if shutil.which("gitleaks"):
            gl, _ = timed(["gitleaks", "git", "--staged", d, "--no-banner"], repeat=5, ok=(0, 1))
            print(f"gitleaks --staged {gl:.3f} s")


def main() -> None:
    if "--staged" in sys.argv:
        bench_staged()
        return
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if args and "--cloudflare" not in sys.argv:
        bench_history(args[0])
        return
    extra = []
    if "--cloudflare" in sys.argv:
        mb = sys.argv[sys.argv.index("--mb") + 1] if "--mb" in sys.argv else "200"
        extra = ["--cloudflare", "--mb", mb, "--commits", "5000", "--blobs", "15000"]
    with tempfile.TemporaryDirectory() as d:
        repo = os.path.join(d, "history.git")
        subprocess.run([sys.executable, os.path.join(HERE, "make_history.py"), repo, *extra], check=True)
        bench_history(repo)


if __name__ == "__main__":
    main()
