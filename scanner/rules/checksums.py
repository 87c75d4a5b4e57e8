"""Checksum validators and false-positive filters, looked up by the names rule files use.

Checksums are what make a scannable format certain: a candidate whose checksum fails is a hand-written
example, a placeholder or a truncated copy. Each validator documents the construction it checks and where
that construction is known from; a rule may only name a validator whose construction is documented or
confirmed on a public sample.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _crc32(text: str) -> int:
    return zlib.crc32(text.encode("ascii", "replace"))


def crc32_hex8(secret: str) -> bool:
    """Last 8 chars = lowercase zero-padded hex CRC32 (zlib/IEEE) of the 40 chars before them.

    Cloudflare cfk_/cfut_/cfat_: confirmed on a publicly leaked cfut_ token; inferred for cfk_ and cfat_.
    """
    if len(secret) < 48:
        return False
    body, check = secret[-48:-8], secret[-8:]
    return check == format(_crc32(body), "08x")


def base62(n: int, width: int) -> str:
    digits = []
    while n:
        n, r = divmod(n, 62)
        digits.append(BASE62[r])
    return "".join(reversed(digits)).rjust(width, "0")


def crc32_base62_6(secret: str) -> bool:
    """Last 6 chars = CRC32 of the 30 chars before them in base62 (0-9A-Za-z), left-padded with '0'.

    GitHub ghp_/gho_/ghu_/ghs_/ghr_ and npm npm_ tokens (documented by GitHub's token-format post and
    used by public detectors).
    """
    if len(secret) < 36:
        return False
    body, check = secret[-36:-6], secret[-6:]
    return check == base62(_crc32(body), 6)


BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _bech32_polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def bech32_checksum(hrp: str, data: list[int]) -> list[int]:
    """The 6 checksum values BIP 173 appends to `data` under human-readable part `hrp`."""
    values = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + data
    mod = _bech32_polymod([*values, 0, 0, 0, 0, 0, 0]) ^ 1
    return [(mod >> 5 * (5 - i)) & 31 for i in range(6)]


def bech32_valid(secret: str) -> bool:
    """A Bech32 string (BIP 173): human-readable part, separator '1', data, 6-character BCH checksum.

    age secret keys (AGE-SECRET-KEY-1...) are Bech32 with HRP "age-secret-key-", written in upper case
    (age specification, C2SP age.md, "X25519 recipient type")."""
    text = secret.lower()
    sep = text.rfind("1")
    if sep < 1 or len(text) - sep - 1 < 6:
        return False
    hrp, rest = text[:sep], text[sep + 1:]
    if any(c not in BECH32 for c in rest):
        return False
    data = [BECH32.index(c) for c in rest]
    return bech32_checksum(hrp, data[:-6]) == data[-6:]


_M32 = 0xFFFFFFFF


def _rotl32(v: int, n: int) -> int:
    return ((v << n) | (v >> (32 - n))) & _M32


def marvin64(data: bytes, seed: int) -> int:
    """Marvin32 (SymCrypt marvin32.c; .NET System.Marvin) as its 64-bit state `p1 << 32 | p0`.

    Checked against the SymCrypt / dotnet runtime test vectors (MarvinTests.cs) in tests/rules/test_validators.py."""
    p0, p1 = seed & _M32, (seed >> 32) & _M32

    def block(p0: int, p1: int) -> tuple[int, int]:
        p1 ^= p0
        p0 = _rotl32(p0, 20)
        p0 = (p0 + p1) & _M32
        p1 = _rotl32(p1, 9)
        p1 ^= p0
        p0 = _rotl32(p0, 27)
        p0 = (p0 + p1) & _M32
        p1 = _rotl32(p1, 19)
        return p0, p1

    whole = len(data) - len(data) % 4
    for i in range(0, whole, 4):
        p0 = (p0 + int.from_bytes(data[i:i + 4], "little")) & _M32
        p0, p1 = block(p0, p1)
    rest = data[whole:]
    p0 = (p0 + ((0x80 << (8 * len(rest))) | int.from_bytes(rest, "little"))) & _M32
    p0, p1 = block(p0, p1)
    p0, p1 = block(p0, p1)
    return (p1 << 32) | p0


def marvin32(data: bytes, seed: int) -> int:
    """Marvin's 64-bit state folded to 32 bits (hi ^ lo), as Microsoft's identifiable keys store it."""
    h = marvin64(data, seed)
    return (h >> 32) ^ (h & _M32)


# Microsoft "identifiable secrets" (microsoft/security-utilities, IdentifiableSecrets.cs and
# IdentifiableMetadata.cs): a base64 key whose decoded bytes end in a 3-byte service signature and a 4-byte
# checksum, Marvin32 of every byte before the checksum with a per-key-kind seed, stored little-endian. The
# signature is placed so it reads as 4 fixed characters just before the last 6 (+ padding) of the text.
# Seeds are 8 ASCII characters read as a big-endian integer ("Default0" for Storage).
_MESSAGING_SEEDS = (0x53656E6430303030, 0x4C697374656E3030, 0x4D616E6167653030, 0x53797374656D3030,
                    0x556E6B6E6F776E30)  # Send00, Listen00, Manage00, System00, Unknown0
AZURE_IDENTIFIABLE_SEEDS: dict[str, tuple[int, ...]] = {
    "+ASt": (0x44656661756C7430,),  # Storage account
    "ACDb": (0x537973416C6C3030, 0x5265736F75723030, 0x4D617374524F3030, 0x53797374524F3030, 0x456E637279703030,
             0x4D61737452573030, 0x5379737452573030),  # Cosmos DB
    "+ASb": _MESSAGING_SEEDS,  # Service Bus
    "+AEh": _MESSAGING_SEEDS,  # Event Hubs
    "+ARm": _MESSAGING_SEEDS,  # Relay
    "+ABa": (0x4162416363743030,),  # Batch
    "AzFu": (0x46756E6374693030, 0x4D61737465723030, 0x53797374656D3030),  # Functions (URL-safe base64)
    "AzCa": (0x4163636573733030,),  # Cache for Redis
    "AzSe": (0x5175657279303030, 0x5041646D696E3030),  # AI Search query / admin
    "+AMC": (0x436C617373696330,),  # Machine Learning (classic) web service
    "+ACR": (0x41435244666C7430,),  # Container Registry
    "AIoT": (0x496F544875623030, 0x4470734B65793030, 0x4465766963653030),  # IoT Hub, DPS, device
    "APIM": (0x54656E616E743030, 0x496F544875623030, 0x4761746577793030, 0x4769744B65793030),  # API Management
}


def azure_identifiable(secret: str) -> bool:
    """An Azure identifiable key: known signature 4 characters before the 6-character checksum, and the last 4
    decoded bytes = Marvin32 (little-endian) of the bytes before them under one of that signature's seeds."""
    text = secret.strip().replace("-", "+").replace("_", "/")
    trimmed = text.rstrip("=")
    if len(trimmed) < 40:
        return False
    seeds = AZURE_IDENTIFIABLE_SEEDS.get(secret.rstrip("=")[-10:-6])
    if seeds is None:
        return False
    try:
        raw = base64.b64decode(trimmed + "=" * (-len(trimmed) % 4), validate=True)
    except (ValueError, binascii.Error):
        return False
    check = int.from_bytes(raw[-4:], "little")
    return any(marvin32(raw[:-4], seed) == check for seed in seeds)


def grafana_crc32(secret: str) -> bool:
    """Grafana service-account token glsa_<32 alnum>_<8 hex>: the hex is CRC32 (IEEE) of `glsa_<32 alnum>`
    written as its 4 bytes least significant first (grafana pkg/components/satokengen/tokengen.go,
    PrefixedKey.CalculateChecksum)."""
    head, sep, check = secret.rpartition("_")
    if not sep or len(check) != 8:
        return False
    return check == _crc32(head).to_bytes(4, "little").hex()


@dataclass(frozen=True)
class Checksum:
    """A checksum construction: whether a secret passes it, and which part of the secret is the random body."""

    valid: Callable[[str], bool]
    body_slice: slice


CHECKSUMS: dict[str, Checksum] = {
    "crc32-hex8": Checksum(crc32_hex8, slice(-48, -8)),
    "crc32-base62-6": Checksum(crc32_base62_6, slice(-36, -6)),
    "bech32": Checksum(bech32_valid, slice(16, -6)),
    "azure-identifiable": Checksum(azure_identifiable, slice(0, -12)),
    "grafana-crc32": Checksum(grafana_crc32, slice(5, -9)),
}


# --- filters: reject look-alikes that a shape-only rule would otherwise report -------------------------

# searched in the lowered value (three times faster than a caseless pattern, on every candidate)
_PLACEHOLDER_WORDS = re.compile(
    r"(x{4,}|\*{3,}|your|example|sample|placeholder|changeme|redacted|dummy|insert|replace|"
    r"token_?here|key_?here|secret_?here|<|>|\$\{|\{\{|%s|\.\.\.)"
)


SEQUENCE_RUN = 8  # abcdefgh, 12345678, zyxwvuts: in a random base62 body about once in 10^12


_ALNUM = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
# each byte as itself, its successor, its predecessor; a non-alphanumeric byte as values that never meet
_SELF = bytes(c if c in _ALNUM else 1 for c in range(256))
_UP = bytes(c + 1 if c in _ALNUM else 0 for c in range(256))
_DOWN = bytes(c - 1 if c in _ALNUM else 0 for c in range(256))


def _counts(raw: bytes, step: bytes, stride: int, steps: int) -> bool:
    """Whether `steps` characters in a row are each followed, `stride` places on, by their neighbour in
    `step` (both alphanumeric). Compared whole in C (two translations and one XOR), not character by
    character: every candidate of every rule passes through here."""
    n = len(raw) - stride
    if n < steps:
        return False
    later = int.from_bytes(raw[stride:].translate(_SELF), "big")
    earlier = int.from_bytes(raw[:n].translate(step), "big")
    return (later ^ earlier).to_bytes(n, "big").find(bytes(steps)) >= 0


# Eight of one character in a row (88888888, ffffffff): a filler, about once in 10^9 in a random hex body.
# Not A or /: base64 of zero bytes and of 0xff bytes, which structured tokens hold (Twitter's bearer tokens open
# with 21 As; AWS session tokens hold a varint written //////////).
# Or a unit of two to nine characters said over and over, twelve characters or more (abababababab,
# XYZabc123XYZabc123XYZabc123): one filler typed the way people type it; in a random hex body about once in
# 10^10. Its first two characters differ, so a run of one character stays the first branch's to judge. One
# pattern, so every candidate pays one search.
_REPEAT_RUN = re.compile(r"([^A/])\1{7}|(?=(.)(?!\2))(?:(..)\3{5}|(...)\4{3}|(.{4,9})\5{2})")


# Twelve letters counting up once the digits are taken out: about once in 10^15 in a random body's letters.
LETTER_RUN = 12
_DIGITS = b"0123456789"


def not_placeholder(secret: str) -> bool:
    """Rejects the words and shapes people write instead of a credential (your_token_here, xxxx, ${VAR}, a
    body typed as abcdefgh..., 12345678..., a1b2c3d4..., ABC123DEF456GHI789JKL..., 88888888... or ababab...): README's
    placeholder policy, the same in every rule."""
    if _PLACEHOLDER_WORDS.search(secret.lower()) is not None or _REPEAT_RUN.search(secret) is not None:
        return False
    raw = secret.encode("latin-1", "replace")
    letters = raw.translate(None, _DIGITS)  # ABC123DEF456GHI789: the alphabet typed with digits between
    return not (_counts(raw, _UP, 1, SEQUENCE_RUN - 1) or _counts(raw, _DOWN, 1, SEQUENCE_RUN - 1)
                or _counts(raw, _UP, 2, 6) or _counts(letters, _UP, 1, LETTER_RUN - 1))


def not_hex(secret: str) -> bool:
    """Rejects all-hex strings: a 40-hex value is a git SHA far more often than a base64url token.

    A random 40-char base64url token is all hex with probability (22/64)^40 < 1e-18.
    """
    return re.fullmatch(r"[0-9a-fA-F]+", secret) is None


def mixed_case(secret: str) -> bool:
    """Requires upper- and lowercase letters: identifiers and constants rarely have both plus digits."""
    return any(c.isupper() for c in secret) and any(c.islower() for c in secret)


def has_digit(secret: str) -> bool:
    return any(c.isdigit() for c in secret)


# A word as identifiers spell it: lower, UPPER, Capitalised or camelCase (getUserToken, XMLParser's "Parser").
_WORD_LIKE = re.compile(r"[A-Z]*[a-z]*(?:[A-Z][a-z]+)*")


def not_identifier(secret: str) -> bool:
    """Rejects snake/kebab/camel identifiers: a run of 3+ dictionary-like letter groups split by _ or -.

    A group counts as word-like only when its case reads as words (lower, UPPER, Capitalised, camelCase): a
    random base64url body with no digit, such as GitLab's glsoat-FNAYQGGzfRCrmpueh_BI (about 3% of real 20-character
    bodies), has groups like "FNAYQGGzfRCrmpueh" whose case flips at random and is no identifier."""
    parts = [p for p in re.split(r"[_-]", secret) if p]
    return not (len(parts) >= 3 and all(p.isalpha() and _WORD_LIKE.fullmatch(p) for p in parts))


def not_counting(secret: str) -> bool:
    """Rejects a hand-typed body: its longest letter-and-digit run mostly counts (51H8abcdEFGHijkl...0123456789).

    A random base62 body steps by exactly one between neighbours about 3% of the time; 60% is never chance."""
    runs = re.findall(r"[A-Za-z0-9]+", secret)
    body = max(runs, key=len) if runs else ""
    if len(body) < 8:
        return True
    steps = [ord(b) - ord(a) for a, b in pairwise(body)]
    return sum(1 for st in steps if st in (1, -1)) < 0.6 * len(steps)


# Private-key blocks: the secret is the armoured block (PEM, OpenSSH, PGP, or PuTTY's Private-Lines), possibly
# JSON-escaped (a service-account file's "\\n") or quoted line by line in code. What is left once the armour
# lines, "Name: value" header lines (Proc-Type, DEK-Info, Version, Private-Lines, Private-MAC) and the quoting
# are removed must be base64 of a plausible key: documentation writes "...", "<key>", "EXAMPLE" or a sentence
# there instead, and test fixtures a few characters.
_ARMOUR = re.compile(r"-----(?:BEGIN|END) [A-Z0-9 ]+-----")
_KEY_HEADER = re.compile(r"(?m)^[ \t\"']*[A-Za-z][A-Za-z0-9-]*: [^\n]*$")
_KEY_QUOTING = re.compile(r"\\[nrt]|[\s\"'+,;]")
_KEY_PLACEHOLDER = re.compile(r"EXAMPLE|[Ee]xample|\.\.\.|\u2026")
PRIVATE_KEY_MIN_BODY = 60  # an Ed25519 PKCS#8 key, the shortest real one, is 64 base64 characters
PUTTY_MIN_BODY = 44  # PuTTY's Private-Lines of an Ed25519 key: a 36-byte blob, 48 base64 characters


def key_body(secret: str) -> str:
    """The base64 body of a private-key block with its armour, header lines and quoting removed."""
    text = _ARMOUR.sub("\n", secret).replace("\\r", "\n").replace("\\n", "\n")
    text = _KEY_HEADER.sub("", text)
    return _KEY_QUOTING.sub("", text)


def private_key_block(secret: str) -> bool:
    """Accepts a block whose body is base64 of a plausible key: long enough, random-looking, no placeholder."""
    if _KEY_PLACEHOLDER.search(secret):
        return False
    body = key_body(secret)
    shortest = PUTTY_MIN_BODY if secret.startswith("Private-Lines:") else PRIVATE_KEY_MIN_BODY
    if len(body) < shortest or re.fullmatch(r"[A-Za-z0-9+/=]+", body) is None:
        return False
    return shannon_entropy(body) >= 4.5 and not low_information(body)


KEY_FINGERPRINT_BYTES = 120  # 160 base64 characters: two and a half 64-column lines, always within the rule's reach


def key_fingerprint(secret: str) -> str | None:
    """sha256 (hex) of the first 120 bytes of a private-key block's decoded body (all of it when shorter).

    Why this normalisation: the same published key turns up re-wrapped (64 or 76 columns, CRLF), JSON-escaped
    or quoted line by line, and a long key's finding holds only its first lines; the decoded prefix is the same
    in all of these. 120 bytes of a real key already hold its random part (an RSA modulus starts at byte ~10;
    an EC, Ed25519 or OpenSSH key is shorter or carries its public key there), so two keys never share it.
    None when the block has no decodable base64 body (then it can never be on a known-public list)."""
    body = re.sub(r"=[A-Za-z0-9+/]{4}$", "", key_body(secret)).rstrip("=")  # an OpenPGP armour CRC line
    if re.fullmatch(r"[A-Za-z0-9+/]+", body) is None:
        return None
    chars = KEY_FINGERPRINT_BYTES * 4 // 3
    head = body[:chars] if len(body) >= chars else body[: len(body) - len(body) % 4]
    try:
        raw = base64.b64decode(head, validate=True)
    except (ValueError, binascii.Error):
        return None
    return hashlib.sha256(raw).hexdigest() if raw else None


def _jwt_payload(token: str) -> dict | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        raw = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        payload = json.loads(raw)
    except (ValueError, binascii.Error):
        return None
    return payload if isinstance(payload, dict) else None


def supabase_service_role(secret: str) -> bool:
    """A Supabase API key is a JWT; only role service_role is secret (the anon key is meant for browsers)."""
    payload = _jwt_payload(secret)
    return payload is not None and payload.get("iss") == "supabase" and payload.get("role") == "service_role"


_GRAFANA_LEGACY = re.compile(rb'\{"k":\s*"[^"]{16,}",\s*"n":\s*"')


def grafana_legacy_key(secret: str) -> bool:
    """A legacy Grafana API key is base64 of {"k": <key>, "n": <name>, "id": <org id>}; requiring its key and
    name keeps other base64 that happens to start with {"k":" (a JWK's "k", a cache entry) out. Read as
    bytes, not parsed as JSON: a key copied with a character changed is still that key."""
    try:
        decoded = base64.b64decode(secret + "=" * (-len(secret) % 4), validate=True)
    except (ValueError, binascii.Error):
        return False
    return _GRAFANA_LEGACY.match(decoded) is not None


_PLACEHOLDER_PASSWORDS = frozenset({
    "password", "passwd", "pass", "secret", "changeme", "changeit", "letmein", "example", "test", "testing",
    "admin", "root", "guest", "demo", "pwd", "mypassword", "yourpassword", "password123", "12345678", "123456",
})


# Published examples copied into countless docs: RFC 6749 section 2.3.1's client, RFC 7617 / RFC 2617's Aladdin.
_DOCUMENTED_BASIC_CREDENTIALS = frozenset({"s6BhdRkqt3:gX1fBat3bV", "Aladdin:open sesame"})


def basic_auth_b64(secret: str) -> bool:
    """base64 of `user:password` (HTTP Basic, .npmrc _auth, a Docker config's "auth") with a real-looking password:
    printable, 6+ characters, not a documentation placeholder (user:password, username:password, ${VAR})."""
    try:
        text = base64.b64decode(secret + "=" * (-len(secret) % 4), validate=True).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    if text in _DOCUMENTED_BASIC_CREDENTIALS:
        return False
    user, sep, password = text.partition(":")
    if not sep or not user or len(password) < 6 or not text.isprintable():
        return False
    return password.lower() not in _PLACEHOLDER_PASSWORDS and not_placeholder(password) and not_placeholder(user)


_PASSWORD_WORDS = re.compile(r"(?i)pa?s+w(?:or)?d|p(?:[@#$]|%2[34]|%40)ss|^pass|mypass|secret|changeme|example|^test|^demo")


def not_password_word(secret: str) -> bool:
    """Rejects a password that is the word itself (password, p@ssw0rd, mypassword, p%23ssword!, secret123):
    documentation writes these in connection strings; a leaked real password is random."""
    return _PASSWORD_WORDS.search(secret) is None


FILTERS: dict[str, Callable[[str], bool]] = {
    "not-placeholder": not_placeholder,
    "not-hex": not_hex,
    "mixed-case": mixed_case,
    "has-digit": has_digit,
    "not-identifier": not_identifier,
    "not-counting": not_counting,
    "private-key-block": private_key_block,
    "supabase-service-role": supabase_service_role,
    "grafana-legacy-key": grafana_legacy_key,
    "basic-auth-b64": basic_auth_b64,
    "not-password-word": not_password_word,
}


def shannon_entropy(secret: str) -> float:
    """Bits per character of the string's own character distribution."""
    if not secret:
        return 0.0
    counts = Counter(secret)
    n = len(secret)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def low_information(body: str) -> bool:
    """A body that is obviously synthetic: one repeated character or a counting run (abcd..., 0123...)."""
    if len(set(body)) <= 2:
        return True
    steps = [ord(b) - ord(a) for a, b in pairwise(body)]
    counting = sum(1 for st in steps if st in (1, -1))  # abcd…, 4321…, with jumps between a-z, A-Z, 0-9
    return counting >= 0.9 * len(steps)
