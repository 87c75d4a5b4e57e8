"""Fuzz: what a user types or hands over as a small file: `verify -` stdin, `--baseline`, `triage import`,
`.tokenscan.toml` (and `--config`), gitleaks TOML configs, ignore files, fingerprints and other arguments.

Every example keeps fuzzkit's properties; where the input still leaves the planted secret scannable, it is
found. Budget: the "default" profile (tests/conftest.py)."""

from __future__ import annotations

import os
import tempfile

import pytest
from cfserver import FakeCloudflare
from fuzzkit import PLANTED, SHOWN, run, tree_state
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.verify import registry

LINE_BYTES = st.binary(max_size=120).map(lambda b: b.replace(b"\n", b" "))
TOML_ATOMS = st.sampled_from([
    b"[scan]", b"[rules]", b"[tool.tokenscan]", b"[[rules]]", b"[allowlist]", b"[extend]", b"fail_on = \"live\"",
    b"fail-on = 3", b"exclude = [\"*.min.js\"", b"exclude = [1, {a = 2}]", b"id = \"x\"", b"regex = '''(a'''",
    b"regex = \"cfut_[\"", b"keywords = [\"\xff\"]", b"path = '''\\'''", b"entropy = -1", b"verify = true",
    b"network = true", b"jobs = 0", b"decode_depth = 99999", b"title = \"\x00\"", b"\xef\xbb\xbf", b"\r",
    b"a.b.c = 1", b"[a]\n[a]", b"x = 1979-05-27T07:32:00Z", b"inf = inf", b"s = \"\\uD800\"", b"\"\"\"",
])
TOML_DOCS = st.lists(st.one_of(TOML_ATOMS, LINE_BYTES), max_size=12).map(b"\n".join)
FP = st.one_of(st.text("0123456789abcdef", min_size=0, max_size=70), st.text(max_size=40),
               st.binary(max_size=30).map(lambda b: b.decode("utf-8", "surrogateescape")))


@pytest.fixture(scope="module", autouse=True)
def _vendors_on_loopback():
    """Every vendor's API base on a loopback fake: nothing a fuzzed line looks like leaves this machine."""
    server = FakeCloudflare().start()
    saved = dict(os.environ)
    for name in registry.vendors():
        os.environ[f"TOKENSCAN_{name.upper().replace('-', '_')}_API_BASE"] = server.base
    yield
    os.environ.clear()
    os.environ.update(saved)
    server.stop()


@given(lines=st.lists(LINE_BYTES, max_size=8), plant=st.booleans())
def test_verify_stdin(lines, plant):
    data = b"\n".join([*lines, *([PLANTED.encode()] if plant else [])]) + b"\n"
    r = run(["verify", "-", "--no-color"], stdin=data)
    if plant:
        assert SHOWN in r.output  # recognised (and answered by the loopback fake), whatever surrounds it
    elif r.code == 2:
        assert r.output.startswith("tokenscan: error:"), r.output


def _planted_tree(root: str) -> None:
    with open(os.path.join(root, "app.env"), "w") as fh:
        fh.write(f"CLOUDFLARE_API_TOKEN={PLANTED}\n")


@given(doc=TOML_DOCS, where=st.sampled_from([".tokenscan.toml", "pyproject.toml", "--config"]))
def test_config_files(doc, where):
    with tempfile.TemporaryDirectory() as root:
        _planted_tree(root)
        name = os.path.join(root, "given.toml" if where == "--config" else where)
        with open(name, "wb") as fh:
            fh.write(doc)
        before = tree_state(root)
        args = ["scan", "--jobs", "1", "--no-color", root, *(["--config", name] if where == "--config" else [])]
        r = run(args)
        assert tree_state(root) == before
        if r.code == 2:  # a config it cannot use: one line naming the file
            assert os.path.basename(name) in r.output, r.output
        else:
            assert SHOWN in r.output or "suppressed" in r.output or "allowlist" in r.output, r.output


GITLEAKS = st.lists(st.sampled_from([
    b"[[rules]]", b"id = \"team-key\"", b"regex = '''team_[a-z0-9]{8}'''", b"regex = '''(?i)(['''",
    b"regex = '''(?P<x>a)(?P<x>b)'''", b"secretGroup = 7", b"entropy = 3.5", b"keywords = [\"team_\"]",
    b"[allowlist]", b"paths = ['''(''']", b"regexes = ['''.*''']", b"stopwords = [\"\xff\"]", b"[[rules.allowlists]]",
    b"condition = \"AND\"", b"regexTarget = \"line\"", b"path = '''\\.env$'''", b"[extend]", b"useDefault = true",
    b"title = \"gitleaks config\"", b"tags = [1]", b"regex = '''(a+)+$'''",
]), min_size=1, max_size=14).map(lambda parts: b"title = \"x\"\n" + b"\n".join(parts))


@given(doc=GITLEAKS)
def test_gitleaks_configs(doc):
    with tempfile.TemporaryDirectory() as root:
        _planted_tree(root)
        with open(os.path.join(root, "team_key.txt"), "w") as fh:
            fh.write("key = team_abcd1234\n")
        cfg = os.path.join(root, "gitleaks.toml")
        with open(cfg, "wb") as fh:
            fh.write(doc)
        r = run(["scan", "--jobs", "1", "--no-color", "--config", cfg, root])
        if r.code == 2:
            assert "gitleaks.toml" in r.output, r.output


IGNORE_LINES = st.lists(st.one_of(LINE_BYTES, st.sampled_from([
    b"*", b"**", b"app.env", b"app.env:cloudflare-user-api-token", b"!app.env", b"[", b"\\", b"#", b"\xff\xfe",
    b"0123456789abcdef", b"0" * 64, b"a" * 5000, b"/", b"../", b"app.env:", b":rule",
])), max_size=10).map(b"\n".join)


@given(doc=IGNORE_LINES, kind=st.sampled_from([".tokenscanignore", ".gitleaksignore", "--ignore-file"]))
def test_ignore_files(doc, kind):
    with tempfile.TemporaryDirectory() as root:
        _planted_tree(root)
        name = os.path.join(root, "given.ignore" if kind == "--ignore-file" else kind)
        with open(name, "wb") as fh:
            fh.write(doc)
        r = run(["scan", "--jobs", "1", "--no-color", root, *(["--ignore-file", name] if kind == "--ignore-file" else [])])
        if r.code == 2:
            assert os.path.basename(name) in r.output, r.output
        suppressing = any(line.strip() in (b"*", b"**", b"app.env", b"app.env:cloudflare-user-api-token")
                          for line in doc.split(b"\n"))
        if not suppressing and r.code != 2 and b"0" * 16 not in doc:
            assert SHOWN in r.output, r.output


BASELINES = st.one_of(
    st.binary(max_size=300),
    st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20), FP),
                 lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner,
                                                                                       max_size=4)),
                 max_leaves=12).map(lambda v: __import__("json").dumps(
                     {"schema": "tokenscan.baseline/1", "findings": v}).encode("utf-8", "surrogateescape")),
)


@given(doc=BASELINES)
def test_baselines_and_triage_import(doc):
    with tempfile.TemporaryDirectory() as root:
        _planted_tree(root)
        base = os.path.join(root, "base.json")
        with open(base, "wb") as fh:
            fh.write(doc)
        r = run(["scan", "--jobs", "1", "--no-color", "--baseline", base, root])
        if r.code == 2:
            assert "base.json" in r.output, r.output
        ds = os.path.join(root, "ds.db")
        r = run(["triage", "import", base, "--datastore", ds])
        if r.code == 2:
            assert "base.json" in r.output, r.output


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    """A datastore written by a real audit of a repository holding the planted secret."""
    from gitrepo import Repo

    root = tmp_path_factory.mktemp("audited")
    repo = Repo(root / "repo")
    repo.commit("init", **{"app.env": f"T={PLANTED}\n"})
    ds = str(root / "ds.db")
    assert run(["audit", str(repo.path), "--datastore", ds, "--cache-dir", str(root / "c")]).code == 1
    return ds


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fp=FP, status=st.sampled_from(["false-positive", "accepted-risk", "revoked", "open", "bogus"]),
       note=st.one_of(st.none(), st.text(max_size=30)))
def test_fingerprints_and_arguments(audited, fp, status, note):
    with tempfile.TemporaryDirectory() as root:
        ds = audited
        r = run(["triage", "set", fp, status, *(["--note", note] if note is not None else []), "--datastore", ds])
        assert r.code in (0, 2)
        run(["findings", "--datastore", ds, "--rule", fp])
        report = os.path.join(root, "r.json")
        with open(report, "w") as fh:
            fh.write('{"findings": []}')
        run(["revoke", fp, "--from", report])
        run(["history", "--since", fp, "--no-color", root])
