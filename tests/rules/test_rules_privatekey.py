"""Private-key rules on keys made by the real tools at test time (never stored), in every armour they write."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from scanner.engine.matcher import Engine
from scanner.rules.checksums import key_body, private_key_block
from scanner.rules.loader import load_rules


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_rules())


def _found(engine: Engine, data: bytes) -> list[tuple[str, str]]:
    return [(m.rule.id, m.secret) for m in engine.scan(data)]


def _run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


OPENSSL_KEYS = {
    "rsa-pkcs8": ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    "ec-pkcs8": ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    "ed25519-pkcs8": ["genpkey", "-algorithm", "ED25519"],
}


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
@pytest.mark.parametrize("kind", sorted(OPENSSL_KEYS))
def test_openssl_keys_found_and_their_public_halves_not(engine: Engine, tmp_path: Path, kind: str) -> None:
    key = tmp_path / "k.pem"
    _run("openssl", *OPENSSL_KEYS[kind], "-out", str(key))
    text = key.read_bytes()
    hits = _found(engine, text)
    assert [r for r, _ in hits] == ["private-key"]
    secret = hits[0][1]
    assert secret.startswith("-----BEGIN PRIVATE KEY-----")
    if text.count(b"\n") <= 11:  # short keys are reported whole, END line included
        assert secret == text.decode().strip()
    pub = tmp_path / "k.pub"
    _run("openssl", "pkey", "-in", str(key), "-pubout", "-out", str(pub))
    assert _found(engine, pub.read_bytes()) == []
    # a Google service-account style JSON: the key JSON-escaped on one line is reported whole
    doc = json.dumps({"type": "service_account", "private_key": text.decode(), "client_email": "a@b.iam.gserviceaccount.com"})
    hits = _found(engine, doc.encode())
    assert [r for r, _ in hits] == ["private-key"] and hits[0][1].endswith("-----END PRIVATE KEY-----")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_openssl_traditional_and_encrypted_forms(engine: Engine, tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    _run("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", str(key))
    enc = tmp_path / "enc.pem"
    _run("openssl", "pkcs8", "-topk8", "-in", str(key), "-out", str(enc), "-passout", "pass:pw-for-test")
    hits = _found(engine, enc.read_bytes())
    assert [r for r, _ in hits] == ["private-key"] and hits[0][1].startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    trad = tmp_path / "trad.pem"
    _run("openssl", "pkey", "-in", str(key), "-traditional", "-out", str(trad))
    hits = _found(engine, trad.read_bytes())
    assert [r for r, _ in hits] == ["private-key"] and hits[0][1].startswith("-----BEGIN RSA PRIVATE KEY-----")


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen not installed")
@pytest.mark.parametrize("kind,passphrase", [("ed25519", ""), ("ecdsa", ""), ("rsa", "pw-for-test")])
def test_openssh_keys(engine: Engine, tmp_path: Path, kind: str, passphrase: str) -> None:
    key = tmp_path / "id"
    _run("ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-C", "test@example", "-f", str(key))
    text = key.read_bytes()
    hits = _found(engine, text)
    assert [r for r, _ in hits] == ["private-key"]
    assert hits[0][1].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    if kind == "ed25519":
        assert hits[0][1] == text.decode().strip()
    assert _found(engine, (tmp_path / "id.pub").read_bytes()) == []


@pytest.mark.parametrize("text", [
    "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----",
    "-----BEGIN RSA PRIVATE KEY-----\nkey omitted for security reasons\n-----END RSA PRIVATE KEY-----",
    ("-----BEGIN RSA PRIVATE KEY-----EXAMPLETCCAfICCQD6m7oRw0uXOjANBgkqhkiG9w0BAQUFADCBiDELMAkGA1UEBhMCVVMxCzAJBg"
     "NVBAgTAldBMRAwDgYDVQQHEwdTZWF0dGxl-----END RSA PRIVATE KEY-----"),
    ("-----BEGIN PRIVATE KEY-----\nABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/ABCDEFGHIJKLMNOP\n"
     "-----END PRIVATE KEY-----"),
])
def test_private_key_block_rejects_placeholders_and_stubs(text: str) -> None:
    assert not private_key_block(text)


def test_key_body_strips_armour_headers_and_quoting() -> None:
    block = ('"-----BEGIN RSA PRIVATE KEY-----\\nProc-Type: 4,ENCRYPTED\\nDEK-Info: AES-128-CBC,00FF\\n\\n'
             'QUJD\\nREVG\\n-----END RSA PRIVATE KEY-----\\n"')
    assert key_body(block) == "QUJDREVG"


@pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg not installed")
def test_pgp_private_key_block(engine: Engine, tmp_path: Path) -> None:
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    gpg = ["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
    try:
        _run(*gpg, "--quick-gen-key", "test@example.invalid", "ed25519", "default", "never")
        secret = subprocess.run([*gpg, "--armor", "--export-secret-keys"], check=True, capture_output=True).stdout
        public = subprocess.run([*gpg, "--armor", "--export"], check=True, capture_output=True).stdout
    finally:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False, capture_output=True)
    hits = _found(engine, secret)
    assert [r for r, _ in hits] == ["pgp-private-key-block"]
    assert hits[0][1] == secret.decode().strip()
    assert _found(engine, public) == []
