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
