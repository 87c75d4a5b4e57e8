"""A datastore built by a real audit (three repositories, one secret copied into two of them, one verified
live against the loopback Cloudflare stand-in), and `tokenscan serve` started on it as a real process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from cfserver import FakeCloudflare
from clirun import tokenscan
from gitrepo import Repo
from tokens import cloudflare, github


@dataclass
class Audited:
    datastore: Path
    secrets: dict  # name -> secret
    repos: dict  # name -> path
    cf: FakeCloudflare


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    secrets = {"live": cloudflare("cfut_", 1201), "shared": cloudflare("cfat_", 1202), "gh": github("ghp_", 1203),
               "old": cloudflare("cfk_", 1204)}
    repos = {}
    for name, files in [("payments", {"deploy.env": f"CF_TOKEN={secrets['live']}\n",
                                      "ci.sh": f"export CF={secrets['shared']}\n"}),
                        ("website", {"config.yml": f"cloudflare_token: {secrets['shared']}\n",
                                     "tools.sh": f"GH={secrets['gh']}\n"}),
                        ("legacy", {"old.txt": f"key {secrets['old']}\n"})]:
        r = Repo(root / "org" / name)
        r.commit("init", README=f"{name}\n")
        r.commit("config", **files)
        repos[name] = r.path
    cf = FakeCloudflare().start()
    cf.user_tokens[secrets["live"]] = {"status": "active"}
    ds = root / "ds.db"
    proc = tokenscan("audit", str(root / "org"), "--datastore", str(ds), "--verify", "--cloudflare-api-base", cf.base,
                     "--show-secrets", env={"TOKENSCAN_GITHUB_API_BASE": cf.base})
    assert proc.returncode == 1, proc.stderr
    yield Audited(ds, secrets, repos, cf)
    cf.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # noqa: ARG001 - pytest's hook signature
    """Each phase's report on the test item, so the browser fixture knows whether to save a screenshot."""
    outcome = yield
    setattr(item, "rep_" + outcome.get_result().when, outcome.get_result())


class Server:
    def __init__(self, args: list[str], env: dict | None = None) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "scanner", "serve", "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, "TOKENSCAN_USER": "alice", **(env or {})})
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        m = re.search(r"(http://\S+:\d+)/", line)
        if m is None:
            self.proc.kill()
            raise AssertionError(f"serve did not start: {line!r} {self.proc.stderr.read() if self.proc.stderr else ''}")
        self.base = m.group(1)
        self.log = ""

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        self.log = err
        return err


@pytest.fixture()
def serve(audited):
    started: list[Server] = []

    def start(*args: str, env: dict | None = None) -> Server:
        s = Server(["--datastore", str(audited.datastore), *args], env)
        started.append(s)
        time.sleep(0.05)
        return s

    yield start
    for s in started:
        s.stop()
