"""Findings are complete when made and never changed afterwards by the scan pipeline.

Provenance (commit, blob, archive member) comes from the chunk's typed Origin at construction; later
stages (path printing, git attribution, collapse, the staged filter, verification, the public API) derive
new findings with dataclasses.replace. The tests below make any re-assignment of a Finding field an error
and run every pipeline end to end, so a stage that goes back to mutating fails here.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from gitrepo import Repo
from tokens import cloudflare, github

from scanner.api import Scanner
from scanner.findings import Finding
from scanner.pipeline.run import ScanOptions, history_scan, scan_paths, staged_scan
from scanner.sources import NO_ORIGIN, Chunk, Origin
from scanner.verify import VerifyOptions


class Mutated(AssertionError):
    pass


@pytest.fixture
def write_once(monkeypatch):
    """Any assignment to a field a Finding already has raises (construction sets each field once)."""
    real = object.__setattr__

    def guarded(self, name, value):
        if name in self.__dict__:
            raise Mutated(f"Finding.{name} changed after construction")
        real(self, name, value)

    monkeypatch.setattr(Finding, "__setattr__", guarded)


def test_the_guard_catches_a_mutation(write_once):
    f = Finding("r", "d", "high", "s", "fp", "p", 1, 1)
    with pytest.raises(Mutated):
        f.at_head = True


def test_chunk_origin_is_typed_and_frozen():
    c = Chunk(b"x", "p")
    assert c.origin is NO_ORIGIN and (c.origin.commit, c.origin.blob, c.origin.member) == (None, None, "")
    with pytest.raises(AttributeError):
        Origin(blob="b").blob = "c"  # type: ignore[misc]
    assert not hasattr(c, "meta")


def _zip(name: str, text: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name, text)
    return buf.getvalue()


def test_scan_paths_and_archives_write_once(tmp_path, write_once):
    (tmp_path / "a.env").write_text(f"A={cloudflare('cfut_', 1)}\n")
    (tmp_path / "b\udcff.env").write_text(f"B={cloudflare('cfut_', 2)}\n")  # not UTF-8: a printable() path
    (tmp_path / "p.zip").write_bytes(_zip("in/.env", f"G={github('ghp_', 3)}\n"))
    rep = scan_paths([str(tmp_path)], ScanOptions(jobs=1))
    got = {(f.path.rsplit("/", 1)[-1], f.member) for f in rep.findings}
    assert got == {("a.env", ""), ("b\\xff.env", ""), (".env", "!in/.env")}


def _repo(path) -> Repo:
    r = Repo(path)
    r.commit("one", **{"a.env": f"A={cloudflare('cfut_', 1)}\n"})
    r.git("checkout", "-q", "-b", "side")
    r.write("p.zip", "")
    (path / "p.zip").write_bytes(_zip("in/.env", f"G={github('ghp_', 3)}\n"))
    r.commit(f"side\n\nleaked {github('ghp_', 2)}", **{"copy.env": f"A={cloudflare('cfut_', 1)}\n"})
    r.git("checkout", "-q", "main")
    r.commit("two", **{"b.env": f"B={cloudflare('cfut_', 4)}\n"})
    return r


def test_history_attribution_and_collapse_write_once(tmp_path, write_once):
    r = _repo(tmp_path / "h")
    side = r.git("rev-parse", "side")
    rep = history_scan(str(r.path), ScanOptions(jobs=1))
    by = {(f.path, f.source): f for f in rep.findings}
    assert by[("copy.env", "blob")].commit == side and by[("copy.env", "blob")].refs == ("refs/heads/side",)
    assert by[("a.env", "blob")].at_head is True and by[("b.env", "blob")].author == "Ada Dev <ada@example.com>"
    member = by[("p.zip!in/.env", "blob")]
    assert member.member == "!in/.env" and member.blob and member.commit == side and member.at_head is False
    msg = next(f for f in rep.findings if f.source == "commit-message")
    assert msg.commit == side and msg.blob is None and msg.date


def test_staged_filter_writes_once(tmp_path, write_once):
    r = Repo(tmp_path / "s")
    r.commit("base", **{"a.env": "A=1\n"})
    r.write("a.env", f"A=1\nB={cloudflare('cfut_', 5)}\n")
    r.git("add", "-A")
    rep = staged_scan(str(r.path), ScanOptions(jobs=1))
    assert [(f.path, f.line, f.source, f.blob) for f in rep.findings] == [("a.env", 2, "staged", None)]



def test_verification_writes_once_and_leaves_its_input_alone(tmp_path, write_once, cf):
    live, dead = cloudflare("cfut_", 6), cloudflare("cfut_", 7)
    cf.user_tokens[live] = {"status": "active"}
    (tmp_path / "a.env").write_text(f"A={live}\nB={dead}\n")
    opts = ScanOptions(jobs=1, verify=VerifyOptions(cloudflare_api_base=cf.base, timeout=5.0, budget=20.0))
    rep = scan_paths([str(tmp_path)], opts)
    assert [f.verification.status for f in rep.findings] == ["live", "invalid"]

    api = Scanner()
    res = api.scan_path(tmp_path)
    checked = api.verify(res, cloudflare_api_base=cf.base, timeout=5.0, budget=20.0)
    assert [f.verification for f in checked.findings] == ["live", "invalid"]
    assert [f.verification for f in res.findings] == ["not-checked", "not-checked"]  # the input result as it was
    assert [f.verification.status for f in res.report.findings] == ["not-checked", "not-checked"]
