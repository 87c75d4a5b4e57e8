"""Builds a tree with planted synthetic credentials and look-alikes, and says what must be found."""

from __future__ import annotations

import json
from pathlib import Path

from tokens import account_id, cloudflare, legacy_key, legacy_token


def plant_tree(root: Path) -> set[tuple[str, str]]:
    """Writes the tree; returns the (relative path, secret) pairs a correct scanner reports."""
    cfk, cfut, cfat = cloudflare("cfk_", 1), cloudflare("cfut_", 2), cloudflare("cfat_", 3)
    cfut2, cfat2 = cloudflare("cfut_", 4), cloudflare("cfat_", 5)
    tok, tok2, key = legacy_token(1), legacy_token(2), legacy_key(1)
    expected = set()

    def put(rel: str, text: str, *secrets: str, newline: str = "\n") -> None:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(text.replace("\n", newline).encode())
        expected.update((rel, s) for s in secrets)

    put(".env", f"CLOUDFLARE_API_KEY={cfk}\nCLOUDFLARE_EMAIL=ops@example.com\nCF_API_TOKEN={tok}\n", cfk, tok)
    put("deploy/config.yaml", f"cloudflare:\n  api_token: {cfut}\n  account_id: {account_id(1)}\n"
        f"  account_token: \"{cfat}\"\n", cfut, cfat)
    put("app/settings.json", json.dumps({"cloudflareApiToken": tok2, "X-Auth-Key": key}, indent=2), tok2, key)
    put("scripts/deploy.sh", f"#!/bin/sh\ncurl -H \"Authorization: Bearer {cfut2}\" https://example\n", cfut2)
    put("scripts/deploy.ps1", f"$env:CF_ACCOUNT_TOKEN = \"{cfat2}\"\r\nWrite-Host done\n", cfat2, newline="\r\n")
    minified = "var a=1;" * 7000 + f"var t=\"{cfk}\";" + "b();" * 1000
    put("web/app.min.js", minified, cfk)
    nb = {"cells": [{"cell_type": "code", "source": ["import os\n", f"os.environ['CLOUDFLARE_API_TOKEN'] = '{tok}'\n"],
                     "outputs": []}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    put("notebooks/setup.ipynb", json.dumps(nb, indent=1), tok)

    tok3, key2 = legacy_token(3), legacy_key(2)
    put("infra/main.tf", f'provider "cloudflare" {{\n  email   = "ops@example.com"\n  api_key = "{key2}"\n}}\n', key2)
    put("deploy/values.yaml", f"cloudflare:\n  zoneId: {account_id(2)}\n  apiToken: {tok3}\n", tok3)
    put("scripts/check.sh", "curl https://api.cloudflare.com/client/v4/user/tokens/verify \\\n"
        f'     -H "Authorization: Bearer {tok}"\n', tok)

    # Look-alikes: none of these may fail the gate, and only the first (its checksum fails) is listed.
    bad = cloudflare("cfut_", 9, valid=False)
    put("docs/README.md", "\n".join([
        f"Example: CF_API_TOKEN={bad}",
        "Set CLOUDFLARE_API_TOKEN=your_cloudflare_api_token_goes_here_12345",
        "CLOUDFLARE_API_TOKEN=YQSn-xWAQiiEh9qM58wZNnyQS7FUdoqGIUAbrh7T",
        "token: Sn3lZJTBX6kkg7OdcBUAxOO963GEIyGQqnFTOFYY  # cloudflare docs",
        "cfat_<your-token>",
        "cfut_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "export CLOUDFLARE_API_TOKEN=${CF_TOKEN}",
        f"short: CF_API_TOKEN={tok[:39]}",
        f"long: CF_API_TOKEN={tok}abc",
        f"truncated {cfut[:-1]}",
    ]))
    put("src/main.py", "cfk_Site = 1\ncfut_counter = 0\nclass cfat_Handler: pass\n")
    put("ci/github.yaml", f"github:\n  token: {legacy_token(4)}\n")  # a 40-character token, but not Cloudflare's
    put("docs/api.md", "curl https://api.cloudflare.com/client/v4/user/tokens/verify \\\n"
        '     -H "Authorization: Bearer YQSn-xWAQiiEh9qM58wZNnyQS7FUdoqGIUAbrh7T"\n')
    put("go.sum", "github.com/cloudflare/cloudflare-go v0.86.0 h1:abc=\n"
        "github.com/cloudflare/cloudflare-go@3f2a9c1d8b7e6f5a4c3b2a1d0e9f8a7b6c5d4e3f\n"
        "cloudflare_commit = \"3f2a9c1d8b7e6f5a4c3b2a1d0e9f8a7b6c5d4e3f\"\n")
    return expected
