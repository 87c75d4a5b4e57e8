"""The advice registry: every shipped rule has advice a person can follow, and it is well formed.

A new rule without advice (exact, or by its vendor: the rule id's first word) fails here on purpose.
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from scanner.findings.advice import EXACT, VENDORS, Advice, advice, advice_line, vendor_of
from scanner.rules.loader import load_rules


def test_every_loaded_rule_has_advice() -> None:
    missing = sorted(r.id for r in load_rules(()) if advice(r.id) is None)
    assert not missing, f"rules without remediation advice (add them to scanner/findings/advice.py): {missing}"


@pytest.mark.parametrize("entry", [*EXACT.values(), *VENDORS.values()], ids=lambda a: a.vendor)
def test_advice_is_one_followable_line_with_an_https_page_or_none(entry: Advice) -> None:
    assert entry.vendor and entry.what.strip()
    assert "\n" not in entry.what and len(entry.what) < 400
    for url in (entry.url, *entry.also):
        if url is not None:
            assert re.fullmatch(r"https://[^\s<>\"']+", url), url


def test_exact_rule_id_wins_over_its_vendor() -> None:
    token, key, origin = (advice("cloudflare-user-api-token"), advice("cloudflare-global-api-key"),
                          advice("cloudflare-origin-ca-key"))
    assert token and "Roll" in token.what
    assert token.url == "https://developers.cloudflare.com/fundamentals/api/how-to/roll-token/"
    assert key and "Global API Key" in key.what and "Change" in key.what and key.url != token.url
    assert origin and "2026-09-30" in origin.what and "API token" in origin.what
    assert origin.url and "service-key-authentication-deprecated" in origin.url


def test_vendor_fallback_and_unknown_rules() -> None:
    assert vendor_of("github-fine-grained-pat") == "github"
    assert advice("github-some-future-token") == VENDORS["github"]
    assert advice("acme-widget-key") is None  # a user's own rule: no advice invented
    assert "no advice" in advice_line("acme-widget-key")
    line = advice_line("github-token")
    assert VENDORS["github"].what in line and str(VENDORS["github"].url) in line


def test_advice_is_frozen() -> None:
    a = advice("github-token")
    assert a is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.url = "https://example.invalid/"  # type: ignore[misc]
