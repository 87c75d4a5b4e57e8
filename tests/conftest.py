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


# Hypothesis profiles for tests/fuzz/ (registered here, where pytest reads them before
# --hypothesis-profile is applied). "default": a fixed budget per surface so the whole suite stays under
# 3 minutes on 2 cores, derandomized so CI runs the same examples every time (a failure reproduces);
# "long": deeper, random runs by hand: pytest tests/fuzz --hypothesis-profile=long
from hypothesis import HealthCheck, settings  # noqa: E402

_FUZZ = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
             print_blob=True)
settings.register_profile("default", max_examples=60, derandomize=True, database=None, **_FUZZ)
settings.register_profile("long", max_examples=2000, **_FUZZ)
settings.load_profile("default")
