"""Synthetic credentials with valid (or deliberately broken) checksums. Never a real credential."""

from __future__ import annotations

import random
import string
import zlib

from scanner.validators import base62

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
    from scanner.validators import BECH32, bech32_checksum

    rng = random.Random(f"age{seed}")
    data = [rng.randrange(32) for _ in range(52)]
    check = bech32_checksum("age-secret-key-", data)
    if not valid:
        check[-1] ^= 1
    return ("age-secret-key-1" + "".join(BECH32[d] for d in data + check)).upper()
