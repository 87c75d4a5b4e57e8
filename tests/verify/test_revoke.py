"""`tokenscan revoke`: nothing is sent without --yes; GitHub tokens go unauthenticated to the revocation API,
Cloudflare user tokens delete themselves when they may; everything else gets the manual step; secrets come
only from a --show-secrets report or stdin and must hash to the fingerprint; output never holds a secret."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from revokeserver import CloudflareRevoke, GitHubRevoke
from tokens import cloudflare, github

from scanner.cli.group import cli

GH, GH2, GHS = github("ghp_", 1), github("github_pat_", 2), github("ghs_", 3)
CF, CF_NOPERM = cloudflare("cfut_", 1), cloudflare("cfut_", 2)
OTHER = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc" + "x" * 8  # synthetic Stripe-shaped key: no revocation API


def fp(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def finding(rule_id: str, secret: str, shown: bool) -> dict:
    return {"rule_id": rule_id, "secret": secret if shown else secret[:4] + "…" + secret[-4:],
            "fingerprint": fp(secret), "path": "a.env", "line": 1}


def write_report(tmp_path: Path, shown: bool = True) -> str:
    findings = [finding("github-token", GH, shown), finding("github-fine-grained-pat", GH2, shown),
                finding("github-token", GHS, shown)]
    findings += [finding("cloudflare-user-api-token", s, shown) for s in (CF, CF_NOPERM)]
    findings.append(finding("stripe-live-key", OTHER, shown))
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"schema": "tokenscan.report/1", "findings": findings}))
    return str(path)


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[GitHubRevoke, CloudflareRevoke]]:
    gh, cf = GitHubRevoke(), CloudflareRevoke()
    gh.start()
    cf.start()
    cf.known[CF] = {"id": "a" * 32, "may_delete": True}
    cf.known[CF_NOPERM] = {"id": "b" * 32, "may_delete": False}
    monkeypatch.setenv("TOKENSCAN_GITHUB_API_BASE", gh.base)
    monkeypatch.setenv("TOKENSCAN_CLOUDFLARE_API_BASE", cf.base)
    yield gh, cf
    gh.stop()
    cf.stop()


def invoke(*args: str, stdin: str | None = None) -> tuple[int, str]:
    res = CliRunner().invoke(cli, ["revoke", *args], input=stdin)
    return res.exit_code, res.output


def assert_no_secret(out: str) -> None:
    for s in (GH, GH2, GHS, CF, CF_NOPERM, OTHER):
        assert s not in out


def test_without_yes_nothing_is_sent(servers, tmp_path: Path) -> None:
    gh, cf = servers
    code, out = invoke(fp(GH), fp(CF), "--from", write_report(tmp_path))
    assert code == 0, out
    assert "dry run" in out and "would POST" in out and "would GET" in out
    assert gh.requests == [] and cf.requests == []
    assert_no_secret(out)


def test_github_tokens_are_revoked_unauthenticated(servers, tmp_path: Path) -> None:
    gh, cf = servers
    code, out = invoke(fp(GH), fp(GH2)[:16], "--from", write_report(tmp_path), "--yes")
    assert code == 0, out
    assert gh.revoked == [GH, GH2]
    assert all("authorization" not in r.headers for r in gh.requests)
    assert out.count("POST ") == 2 and "202" in out and "submitted" in out
    assert "ghp_…" in out and "github_pat_…" in out
    assert cf.requests == []
    assert_no_secret(out)


def test_github_refusal_is_reported(servers, tmp_path: Path) -> None:
    gh, _ = servers
    gh.spammed = True
    code, out = invoke(fp(GH), "--from", write_report(tmp_path), "--yes")
    assert code == 1 and "not revoked" in out and "422" in out


def test_cloudflare_token_deletes_itself_or_says_it_may_not(servers, tmp_path: Path) -> None:
    _, cf = servers
    code, out = invoke(fp(CF), fp(CF_NOPERM), "--from", write_report(tmp_path), "--yes")
    assert code == 1, out  # one could not be revoked
    assert cf.deleted == ["a" * 32]
    assert "revoked: Cloudflare deleted the token" in out
    assert "lacks the permission" in out and "developers.cloudflare.com" in out
    methods = [(r.method, r.path) for r in cf.requests]
    assert methods == [("GET", "/client/v4/user/tokens/verify"), ("DELETE", f"/client/v4/user/tokens/{'a' * 32}"),
                       ("GET", "/client/v4/user/tokens/verify"), ("DELETE", f"/client/v4/user/tokens/{'b' * 32}")]
    assert out.count("-> HTTP") == 4  # every call logged
    assert_no_secret(out)


def test_credentials_without_a_revocation_api_get_the_manual_step(servers, tmp_path: Path) -> None:
    gh, cf = servers
    code, out = invoke(fp(OTHER), fp(GHS), "--from", write_report(tmp_path), "--yes")
    assert code == 1
    assert out.count("cannot be revoked by tokenscan") == 2 and "stripe.com" in out
    assert gh.requests == [] and cf.requests == []


def test_redacted_report_takes_secrets_from_stdin_matching_the_fingerprint(servers, tmp_path: Path) -> None:
    gh, _ = servers
    report = write_report(tmp_path, shown=False)
    code, out = invoke(fp(GH), "--from", report, "--yes")
    assert code == 1 and "secret not available" in out and gh.requests == []
    code, out = invoke(fp(GH), "--from", report, "--yes", stdin=f"{GH2}\nnot-a-secret\n")
    assert code == 1 and gh.requests == []  # a line that is not this fingerprint's secret is never used
    code, out = invoke(fp(GH), "--from", report, "--yes", stdin=f"{GH2}\n{GH}\n")
    assert code == 0, out
    assert gh.revoked == [GH]
    assert_no_secret(out)


def test_bad_fingerprints_and_reports_are_usage_errors(servers, tmp_path: Path) -> None:
    report = write_report(tmp_path)
    assert invoke("zz", "--from", report)[0] == 2
    assert invoke("0" * 64, "--from", report)[0] == 2
    (tmp_path / "bad.json").write_text("not json")
    assert invoke(fp(GH), "--from", str(tmp_path / "bad.json"))[0] == 2
    assert invoke(fp(GH), "--from", str(tmp_path / "missing.json"))[0] == 2
