"""Known-public secrets: keys published in open-source software and tokenscan's own rule examples are counted
as suppressed "known-public", matched by content only; a fresh key, wherever it sits, is still a leak."""

from __future__ import annotations

import base64
import json
import platform
import random
import sysconfig
from pathlib import Path

import pytest
from clirun import ROOT, tokenscan
from tokens import grafana_service_account

from scanner.engine.matcher import Engine
from scanner.findings import Finding, from_match
from scanner.findings.suppress import KNOWN_PUBLIC_KEYS, KnownPublic, Suppressor, load_known_public_keys
from scanner.rules.checksums import key_fingerprint
from scanner.rules.loader import load_rules


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_rules())


def _pem(seed: int, label: str = "PRIVATE KEY", width: int = 64, newline: str = "\n") -> str:
    """A PEM block of random bytes (not a key at all) shaped like a 2048-bit PKCS#8 RSA key."""
    raw = random.Random(seed).randbytes(1190)
    b64 = base64.b64encode(raw).decode()
    lines = [b64[i:i + width] for i in range(0, len(b64), width)]
    return newline.join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----", ""])


def _findings(engine: Engine, text: str, path: str = "tests/fixtures/server.key") -> list[Finding]:
    data = text.encode()
    return [from_match(m, data, path, "file") for m in engine.scan(data)]


def test_fingerprint_is_the_same_for_every_copy_of_a_key() -> None:
    """Re-wrapped, CRLF, JSON-escaped and relabelled copies of one key share a fingerprint; another key does not."""
    fp = key_fingerprint(_pem(1))
    assert fp is not None and len(fp) == 64
    assert key_fingerprint(_pem(1, width=76)) == fp
    assert key_fingerprint(_pem(1, newline="\r\n")) == fp
    assert key_fingerprint(json.dumps(_pem(1))[1:-1]) == fp  # "\\n" escapes, as in a service-account file
    assert key_fingerprint(_pem(1, label="RSA PRIVATE KEY")) == fp
    assert key_fingerprint(_pem(2)) != fp
    assert key_fingerprint("-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----") is None


def test_a_listed_key_is_known_public_and_a_fresh_key_beside_it_is_a_leak(engine: Engine) -> None:
    listed, fresh = _pem(11), _pem(12)
    known = KnownPublic(keys=frozenset({key_fingerprint(listed)}), examples="")
    found = _findings(engine, listed + "\n" + fresh)
    assert [f.rule_id for f in found] == ["private-key", "private-key"]
    kept, counts, _ = Suppressor(known_public=known).apply(found)
    assert counts == {"known-public": 1}
    assert [f.line for f in kept] == [found[1].line]  # the fresh key, though it sits in tests/ too


def test_a_long_key_cut_by_the_rule_still_matches_its_full_fingerprint(engine: Engine) -> None:
    """A 2048-bit key is longer than the rule reaches: the finding holds its first lines only."""
    key = _pem(21)
    (finding,) = _findings(engine, key)
    assert "-----END" not in finding.secret
    known = KnownPublic(keys=frozenset({key_fingerprint(key)}), examples="")
    assert known.matches(finding)


def test_shipped_list_is_well_formed() -> None:
    text = (ROOT / "rules" / KNOWN_PUBLIC_KEYS).read_text(encoding="utf-8")
    keys = load_known_public_keys(text)
    entries = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    assert len(keys) == len(entries) >= 15  # one key per line, no duplicates
    for line in entries:  # every key says where it is published
        fp, _, where = line.partition("  ")
        assert fp in keys and where.strip()
    assert "Provenance" in text


def test_rule_examples_are_known_public_but_a_fresh_token_is_not(tmp_path: Path) -> None:
    """tokenscan's rule files ship inside the package: scanning an install (or a copy of an example) reports none
    of their examples, while a fresh token beside them still fails the gate."""
    example = next(r for r in load_rules() if r.id == "grafana-service-account-token").examples[0]
    fresh = grafana_service_account(7)
    (tmp_path / "settings.env").write_text(f"{example}\nGRAFANA_TOKEN={fresh}\n")
    shutil_rules = tmp_path / "site-packages" / "scanner" / "rules"
    shutil_rules.mkdir(parents=True)
    for name in ("grafana.toml", "privatekey.toml", "aws.toml"):
        (shutil_rules / name).write_text((ROOT / "rules" / name).read_text())
    proc = tokenscan("scan", str(tmp_path), "--format", "json", "--show-secrets")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert [f["secret"] for f in report["findings"]] == [fresh]
    assert report["scan"]["suppressed"]["known-public"] >= 10
    shown = json.loads(tokenscan("scan", str(tmp_path), "--format", "json", "--no-suppress").stdout)
    assert len(shown["findings"]) == report["scan"]["suppressed"]["known-public"] + 1


def _cpython_test_dir() -> Path | None:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for sub in ("test/certdata", "test"):
        if (stdlib / sub / "keycert.pem").is_file():
            return stdlib / sub
    return None


@pytest.mark.skipif(_cpython_test_dir() is None or platform.python_version() != "3.11.2",
                    reason="the list holds CPython 3.11.2's test keys; this Python has another test suite or none")
def test_cpython_test_keys_are_not_reported() -> None:
    folder = _cpython_test_dir()
    proc = tokenscan("scan", str(folder), "--format", "json")
    report = json.loads(proc.stdout)
    assert [f for f in report["findings"] if "private-key" in f["rule_id"]] == []
