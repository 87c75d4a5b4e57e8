"""Synthetic credentials with valid (or deliberately broken) checksums. Never a real credential."""

from __future__ import annotations

import random
import string
import zlib

from scanner.rules.checksums import base62

ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "_-"


def _body(rng: random.Random, n: int, alphabet: str = ALNUM) -> str:
    while True:
        s = "".join(rng.choice(alphabet) for _ in range(n))
        if any(c.isupper() for c in s) and any(c.islower() for c in s) and any(c.isdigit() for c in s):
            return s


def cloudflare(prefix: str, seed: int, valid: bool = True) -> str:
    body = _body(random.Random(f"{prefix}{seed}"), 40)
    crc = zlib.crc32(body.encode())
    return f"{prefix}{body}{(crc if valid else crc ^ 1):08x}"


def legacy_token(seed: int) -> str:
    return _body(random.Random(f"legacy{seed}"), 40, URLSAFE)


def legacy_key(seed: int) -> str:
    rng = random.Random(f"key{seed}")
    return "".join(rng.choice("0123456789abcdef") for _ in range(37))


def account_id(seed: int) -> str:
    rng = random.Random(f"acct{seed}")
    return "".join(rng.choice("0123456789abcdef") for _ in range(32))


def github(prefix: str, seed: int, valid: bool = True) -> str:
    body = _body(random.Random(f"{prefix}{seed}"), 30)
    crc = zlib.crc32(body.encode())
    return f"{prefix}{body}{base62(crc if valid else crc ^ 1, 6)}"


def age_secret_key(seed: int, valid: bool = True) -> str:
    """AGE-SECRET-KEY-1 + 52 Bech32 data characters (32 random bytes) + 6 checksum characters."""
    from scanner.rules.checksums import BECH32, bech32_checksum

    rng = random.Random(f"age{seed}")
    data = [rng.randrange(32) for _ in range(52)]
    check = bech32_checksum("age-secret-key-", data)
    if not valid:
        check[-1] ^= 1
    return ("age-secret-key-1" + "".join(BECH32[d] for d in data + check)).upper()


def grafana_service_account(seed: int, valid: bool = True) -> str:
    """glsa_ + 32 alphanumerics + _ + CRC32 of `glsa_<body>` as 4 little-endian bytes in hex (Grafana satokengen)."""
    head = "glsa_" + _body(random.Random(f"glsa{seed}"), 32)
    crc = zlib.crc32(head.encode())
    return f"{head}_{(crc if valid else crc ^ 1).to_bytes(4, 'little').hex()}"


# Azure identifiable keys: decoded length by signature (IdentifiableSecrets.GenerateBase64KeyHelper callers).
AZURE_KEY_BYTES = {"+ASt": 64, "ACDb": 64, "APIM": 64, "+AMC": 64, "+ABa": 64, "+ASb": 32, "+AEh": 32, "+ARm": 32,
                   "AzCa": 32, "AIoT": 32, "AzSe": 39, "+ACR": 39, "AzFu": 40}


def azure_identifiable(signature: str, seed: int, valid: bool = True, nbytes: int | None = None) -> str:
    """A Microsoft identifiable key built as GenerateKeyWithAppendedSignatureAndChecksum builds it: random bytes,
    the 3 signature bytes shifted onto a 6-bit boundary before the last 4, then Marvin32 of all before them
    (little-endian) under the signature's first seed; AzFu keys are URL-safe base64."""
    import base64

    from scanner.rules.checksums import AZURE_IDENTIFIABLE_SEEDS, marvin32

    n = nbytes or AZURE_KEY_BYTES[signature]
    rng = random.Random(f"azure{signature}{seed}")
    while True:
        raw = bytearray(rng.randbytes(n))
        padding = ((n - 7) * 8) % 6
        mask = {2: 0xFCFFFFFF, 4: 0xF0FFFFFF}.get(padding, 0xFFFFFFFF)
        sig = base64.b64decode(signature.replace("-", "+").replace("_", "/"))
        word = ((raw[n - 8] << 24) & mask) | (sig[0] << (16 + padding)) | (sig[1] << (8 + padding)) | (sig[2] << padding)
        raw[n - 8:n - 4] = word.to_bytes(4, "big")
        check = marvin32(bytes(raw[:-4]), AZURE_IDENTIFIABLE_SEEDS[signature][0]) ^ (0 if valid else 1)
        raw[-4:] = check.to_bytes(4, "little")
        text = base64.b64encode(bytes(raw)).decode()
        if signature == "AzFu":
            return text.replace("+", "-").replace("/", "_")
        if text.rstrip("=")[-10:-6] == signature:
            return text
        raise AssertionError(f"{signature}: the signature did not land at its place")  # a construction error
