import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import pytest  # noqa: E402
from cfserver import FakeCloudflare  # noqa: E402


@pytest.fixture(autouse=True)
def _loopback_never_proxied(monkeypatch):
    """Tests talk only to servers on 127.0.0.1: a proxy set in the environment must not catch them."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost,::1")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost,::1")


@pytest.fixture
def cf():
    """A loopback server answering like Cloudflare's API (tests/cfserver.py), stopped after the test."""
    server = FakeCloudflare().start()
    yield server
    server.stop()
