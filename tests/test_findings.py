import hashlib

from tokens import account_id, cloudflare

from scanner.findings import Finding, dedupe, fingerprint, locate, redact, vendor_prefix
from scanner.verify import hints


def test_redact_keeps_prefix_and_last_four_only():
    tok = cloudflare("cfut_", 1)
    assert redact(tok, "cfut_") == f"cfut_…{tok[-4:]}"
    assert tok[5:-4] not in redact(tok, "cfut_")
    # no known vendor prefix: at most four characters, and none of a short secret
    assert redact("575YX8XM5mSLFy5UBIHEYeD7p4Zdl-AK6j0Kgodk") == "…godk"
    assert redact("hunter2-password-1") == "…"
    assert redact(tok) == f"…{tok[-4:]}"
    assert redact("short", "sh") == "…"


def test_vendor_prefix_is_a_keyword_the_secret_starts_with():
    assert vendor_prefix(("cfut_", "cloudflare"), "cfut_abc") == "cfut_"
    assert vendor_prefix(("cloudflare",), "cloudflare0123") == ""


def test_fingerprint_is_sha256_of_the_secret():
    assert fingerprint("abc") == hashlib.sha256(b"abc").hexdigest()


def test_locate_counts_lines_and_characters_not_bytes():
    data = "ä = 1\r\nxé = 'secret'\n".encode()
    offset = data.index(b"secret")
    assert locate(data, offset) == (2, 7)


def test_dedupe_same_secret_same_place_once():
    f = Finding("r", "d", "high", "s", fingerprint("s"), "a", 1, 1)
    g = Finding("r", "d", "high", "s", fingerprint("s"), "a", 2, 1)
    assert dedupe([f, g, f]) == [f, g]


def test_hints_nearest_first_and_only_for_kinds_that_need_them():
    near, far = account_id(1), account_id(2)
    data = f"far: {far}\n{'x' * 100}\nnear: {near}\ntoken: TOKEN\nmail: a@example.com\n".encode()
    s = data.index(b"TOKEN")
    assert hints.collect("cloudflare-account-token", data, s, s + 5)["account_ids"] == [near, far]
    assert hints.collect("cloudflare-global-key", data, s, s + 5)["emails"] == ["a@example.com"]
    assert hints.collect("cloudflare-user-token", data, s, s + 5) == {}
