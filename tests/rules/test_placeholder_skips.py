"""Values dropped as placeholders or published sample keys are counted in every report and named one by one
with --list-skipped (rule, line, column, why), never shown: a sample key is still shaped like a key."""

from __future__ import annotations

import json

from clirun import tokenscan
from tokens import cloudflare

SAMPLE_ID, SAMPLE_SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # AWS's own docs


def test_placeholders_are_counted_and_named_with_list_skipped(tmp_path):
    real = cloudflare("cfut_", 4711)
    (tmp_path / "docs.md").write_text(f"aws_access_key_id = {SAMPLE_ID}\naws_secret_access_key = {SAMPLE_SECRET}\n")
    (tmp_path / "prod.env").write_text(f"CF_API_TOKEN={real}\n")
    proc = tokenscan("scan", str(tmp_path), "--format", "json")
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1 and len(doc["findings"]) == 1
    assert doc["scan"]["skipped"]["placeholder"] >= 2
    assert not any(w["kind"] == "placeholder" for w in doc["scan"]["warnings"])
    listed = json.loads(tokenscan("scan", str(tmp_path), "--format", "json", "--list-skipped").stdout)
    named = [w for w in listed["scan"]["warnings"] if w["kind"] == "placeholder"]
    assert {w["path"] for w in named} == {str(tmp_path / "docs.md")}
    messages = " ".join(w["message"] for w in named)
    assert "line 1 column 21: aws-access-key-id not reported" in messages and "denylist" in messages
    assert "line 2 column 25" in messages
    text = tokenscan("scan", str(tmp_path), "--list-skipped").stdout
    for shown in (messages, text):
        assert SAMPLE_ID not in shown and SAMPLE_SECRET not in shown
    assert "skipped by design: placeholder" in tokenscan("scan", str(tmp_path)).stdout


def test_a_placeholder_filter_rejection_is_named_too(tmp_path):
    (tmp_path / "README.md").write_text("export ANTHROPIC_API_KEY=sk-ant-api03-" + "x" * 93 + "AA\n")
    listed = json.loads(tokenscan("scan", str(tmp_path), "--format", "json", "--list-skipped").stdout)
    named = [w["message"] for w in listed["scan"]["warnings"] if w["kind"] == "placeholder"]
    assert named and all("placeholder policy" in m for m in named), listed["scan"]
