import zlib

import pytest
from tokens import cloudflare, github

from scanner import validators as v


def test_documented_cloudflare_example_checksum():
    # TOKEN_FORMATS.md: body U9fd...53UF -> ad7fbeca
    assert v.crc32_hex8("cfut_U9fdeBzWaVKBK83pfPZAtmufVQnJqtCTKLQj53UFad7fbeca")
    assert not v.crc32_hex8("cfut_U9fdeBzWaVKBK83pfPZAtmufVQnJqtCTKLQj53UFad7fbecb")


@pytest.mark.parametrize("prefix", ["cfk_", "cfut_", "cfat_"])
def test_crc32_hex8_accepts_generated_and_rejects_flipped(prefix):
    for seed in range(20):
        assert v.crc32_hex8(cloudflare(prefix, seed))
        assert not v.crc32_hex8(cloudflare(prefix, seed, valid=False))


def test_crc32_hex8_is_lowercase_zero_padded():
    body = "A" * 39 + "0"
    check = format(zlib.crc32(body.encode()), "08x")
    assert v.crc32_hex8("cfk_" + body + check)
    assert not v.crc32_hex8("cfk_" + body + check.upper()) or check == check.upper()


def test_base62_padding_and_github_checksum():
    assert v.base62(0, 6) == "000000"
    assert v.base62(61, 2) == "0z"
    assert v.base62(62, 2) == "10"
    for seed in range(10):
        assert v.crc32_base62_6(github("ghp_", seed))
        assert not v.crc32_base62_6(github("ghp_", seed, valid=False))


@pytest.mark.parametrize("secret,ok", [
    ("your_cloudflare_token_here_000000000000", False),
    ("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", False),
    ("${CF_TOKEN}", False),
    ("575YX8XM5mSLFy5UBIHEYeD7p4Zdl-AK6j0Kgodk", True),
])
def test_not_placeholder(secret, ok):
    assert v.not_placeholder(secret) is ok


def test_filters_and_low_information():
    assert not v.not_hex("3f2a9c1d8b7e6f5a4c3b2a1d0e9f8a7b6c5d4e3f")
    assert v.not_hex("575YX8XM5mSLFy5UBIHEYeD7p4Zdl-AK6j0Kgodk")
    assert not v.not_identifier("cloudflare_api_token_for_the_main_site")
    assert v.low_information("a" * 40)
    assert v.low_information("abcdefghijklmnopqrstuvwxyz")
    assert not v.low_information("575YX8XM5mSLFy5UBIHEYeD7p4Zdl")
    assert v.shannon_entropy("aaaa") == 0
    assert v.shannon_entropy("abcd") == 2


def test_bech32_bip173_vectors_and_age_keys():
    from tokens import age_secret_key

    assert v.bech32_valid("A12UEL5L")
    assert v.bech32_valid("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw")
    assert not v.bech32_valid("A12UEL5M")
    assert not v.bech32_valid("no-separator")
    for seed in range(10):
        key = age_secret_key(seed)
        assert key.startswith("AGE-SECRET-KEY-1") and len(key) == 74
        assert v.bech32_valid(key)
        assert not v.bech32_valid(age_secret_key(seed, valid=False))


def test_supabase_service_role_reads_the_jwt_payload():
    import base64
    import json

    def jwt(payload: dict) -> str:
        enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")
        return f"{enc({'alg': 'HS256'})}.{enc(payload)}.c2lnbmF0dXJl"

    assert v.supabase_service_role(jwt({"iss": "supabase", "role": "service_role"}))
    assert not v.supabase_service_role(jwt({"iss": "supabase", "role": "anon"}))
    assert not v.supabase_service_role(jwt({"iss": "other", "role": "service_role"}))
    assert not v.supabase_service_role("not.a.jwt")


@pytest.mark.parametrize("plain,ok", [
    ("ci-bot:6lnEVEjS2CbVk7AjzQkg", True),
    ("username:password", False),
    ("admin:admin", False),
    ("user:${PASSWORD}", False),
    ("no-colon-here", False),
    (":emptyuser123", False),
])
def test_basic_auth_b64(plain, ok):
    import base64

    assert v.basic_auth_b64(base64.b64encode(plain.encode()).decode()) is ok
    assert not v.basic_auth_b64("not base64!")


@pytest.mark.parametrize("secret,ok", [
    ("mypassword", False), ("p%23ssword!", False), ("P@ssw0rd2024", False), ("secret123", False),
    ("Tr4x9LqZ2mWv8KpB", True),
])
def test_not_password_word(secret, ok):
    assert v.not_password_word(secret) is ok
