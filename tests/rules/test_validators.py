import zlib

import pytest
from tokens import AZURE_KEY_BYTES, azure_identifiable, cloudflare, github, grafana_service_account

from scanner.rules import checksums as v


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
    ("rpa_ABC123DEF456GHI789JKL012MNO345PQR678STUVX9y2z7", False),  # the alphabet with digits between
    ("rpa_ABC123DEF456GHI789JKX012MNO345PQR678STUVX9y2z7", True),   # eleven in a row, then a break
    ("0abcdef1a2b3cdef4567a89abcdef0123", True),                    # hex letters never count past f
    ("ghp_abababababababababababababababababab", False),             # a unit said over and over
    ("ak_live_XYZabc123XYZabc123XYZabc123XYZ", False),
    ("ghp_Xk9ababababab2Lq7Rt4Zc8Nv1Hk6Jd3Fp0Gs5T", True),           # five times: not twelve characters
    ("IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJH", True),       # a run of one character is not a unit
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


# Marvin32 64-bit state, SymCrypt / dotnet runtime MarvinTests.cs vectors (seed, data hex, hi << 32 | lo)
MARVIN_VECTORS = [
    (0x004FB61A001BDBCC, "", 0x30ED35C100CD3C7D),
    (0x004FB61A001BDBCC, "af", 0x48E73FC77D75DDC1),
    (0x004FB61A001BDBCC, "e70f", 0xB5F6E1FC485DBFF8),
    (0x004FB61A001BDBCC, "37f495", 0xF0B07C789B8CF7E8),
    (0x004FB61A001BDBCC, "8642dc59", 0x7008F2E87E9CF556),
    (0x004FB61A001BDBCC, "153fb79826", 0xE6C08C6DA2AFA997),
    (0x004FB61A001BDBCC, "0932e6246c47", 0x6F04BF1A5EA24060),
    (0x004FB61A001BDBCC, "ab427ea8d10fc7", 0xE11847E4F0678C41),
    (0x804FB61A001BDBCC, "", 0x10A9D5D3996FD65D),
    (0x804FB61A001BDBCC, "af", 0x68201F91960EBF91),
    (0x804FB61A001BDBCC, "e70f", 0x64B581631F6AB378),
]


@pytest.mark.parametrize(("seed", "data", "expected"), MARVIN_VECTORS)
def test_marvin_matches_published_vectors(seed, data, expected):
    assert v.marvin64(bytes.fromhex(data), seed) == expected
    assert v.marvin32(bytes.fromhex(data), seed) == (expected >> 32) ^ (expected & 0xFFFFFFFF)


@pytest.mark.parametrize("signature", sorted(AZURE_KEY_BYTES))
def test_azure_identifiable_accepts_generated_and_rejects_flipped(signature):
    for seed in range(5):
        key = azure_identifiable(signature, seed)
        assert len(key) == {32: 44, 39: 52, 40: 56, 64: 88}[AZURE_KEY_BYTES[signature]]
        assert key.rstrip("=")[-10:-6] == signature
        assert v.azure_identifiable(key)
        assert not v.azure_identifiable(azure_identifiable(signature, seed, valid=False))
        for i in (0, 7, len(key.rstrip("=")) - 11, len(key.rstrip("=")) - 3):  # one character flipped
            c = key[i]
            flipped = key[:i] + ("B" if c != "B" else "C") + key[i + 1:]
            assert not v.azure_identifiable(flipped), (signature, i)


def test_azure_identifiable_needs_a_known_signature_and_its_own_seed():
    key = azure_identifiable("+ASt", 1)
    assert not v.azure_identifiable(key.replace("+ASt", "+ASx"))
    storage_shape = azure_identifiable("+ASt", 1, nbytes=64)
    assert v.azure_identifiable(storage_shape)
    # the same construction under another service's seed: the signature says Storage, the checksum says not
    from scanner.rules.checksums import AZURE_IDENTIFIABLE_SEEDS
    saved = AZURE_IDENTIFIABLE_SEEDS["+ASt"]
    try:
        AZURE_IDENTIFIABLE_SEEDS["+ASt"] = AZURE_IDENTIFIABLE_SEEDS["AzCa"]
        assert not v.azure_identifiable(storage_shape)
    finally:
        AZURE_IDENTIFIABLE_SEEDS["+ASt"] = saved
    assert not v.azure_identifiable("not base64 at all +ASt------")


def test_grafana_crc32_little_endian_hex():
    token = grafana_service_account(3)
    head, _, check = token.rpartition("_")
    assert check == zlib.crc32(head.encode()).to_bytes(4, "little").hex()
    assert v.grafana_crc32(token)
    assert not v.grafana_crc32(grafana_service_account(3, valid=False))
    big_endian = f"{head}_{zlib.crc32(head.encode()):08x}"
    assert big_endian == token or not v.grafana_crc32(big_endian)
    flipped = head[:-1] + ("a" if head[-1] != "a" else "b") + "_" + check
    assert not v.grafana_crc32(flipped)


def test_not_identifier_keeps_random_case_bodies():
    """Issue 12 held-out corpus: a GitLab glsoat- token whose 20-character body has no digit and one _ split into
    three all-letter groups and was taken for an identifier; random case is not a word, camelCase still is."""
    assert v.not_identifier("glsoat-FNAYQGGzfRCrmpueh_BI")
    assert not v.not_identifier("glsoat-scim_token_for_gitlab_sync")
    assert not v.not_identifier("vck_for_vercel_api_keys_and_other_credentials")
    assert not v.not_identifier("get_UserToken_value")
    assert not v.not_identifier("XML_HttpRequest_object")
    assert not v.not_identifier("SOME_CONSTANT_NAME")


def test_grafana_legacy_key_requires_grafanas_json():
    import base64
    import json

    def b64(d: dict) -> str:
        return base64.b64encode(json.dumps(d).encode()).decode()

    assert v.grafana_legacy_key(b64({"k": "Zt6Wq2Lx9Kd4Rv7Bn1Mc8Hs3Fp5Gj0Ya", "n": "ci", "id": 1}))
    assert not v.grafana_legacy_key(b64({"k": "Zt6Wq2Lx9Kd4Rv7Bn1Mc8Hs3Fp5Gj0Ya", "v": 1}))  # no name, no org id
    assert not v.grafana_legacy_key(b64({"k": "short", "n": "ci", "id": 1}))
    assert not v.grafana_legacy_key("eyJrIjoi!!!")
    # a key with a character changed after its name (`"id";1`) is still one: its key and name are read
    assert v.grafana_legacy_key(base64.b64encode(b'{"k":"Zt6Wq2Lx9Kd4Rv7Bn1Mc8Hs3Fp5Gj0Ya","n":"ci","id";1}').decode())
