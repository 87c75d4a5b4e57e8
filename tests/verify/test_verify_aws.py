"""AWS key pairs: SigV4 against AWS's documented example, and GetCallerIdentity against a loopback STS that
checks every signature: which pairing proves what, and that no answer short of AWS's says live or invalid."""

from __future__ import annotations

import string
import time
from collections.abc import Iterator

import awsserver
import pytest
import vendorserver

from scanner.findings import Finding
from scanner.verify import hints, verify_findings
from scanner.verify.options import VerifyOptions
from scanner.verify.verifiers.aws import canonical_request, sign, signing_key

B32 = string.ascii_uppercase + "234567"
EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"  # AWS's documentation example, not a credential


def key_id(i: int, prefix: str = "AKIA") -> str:
    return vendorserver.token(prefix, i, 16, B32)


def secret_key(i: int) -> str:
    return vendorserver.token("", 1000 + i, 38, string.ascii_letters + string.digits + "/+") + "a1"


def test_sigv4_matches_aws_documented_example() -> None:
    """The IAM ListUsers GET example of AWS's "Create a signed AWS API request" and the signing-key example
    of "Examples of how to derive a signing key for Signature Version 4"."""
    assert signing_key(EXAMPLE_SECRET, "20120215", "us-east-1", "iam").hex() == \
        "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Host": "iam.amazonaws.com",
               "X-Amz-Date": "20150830T123600Z"}
    creq, signed = canonical_request("GET", "/", "Action=ListUsers&Version=2010-05-08", headers, b"")
    import hashlib
    assert hashlib.sha256(creq.encode()).hexdigest() == \
        "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
    assert signed == "content-type;host;x-amz-date"
    auth = sign("GET", "/", "Action=ListUsers&Version=2010-05-08", headers, b"", "AKIDEXAMPLE", EXAMPLE_SECRET,
                "20150830T123600Z", "us-east-1", "iam")
    assert auth == ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
                    "SignedHeaders=content-type;host;x-amz-date, "
                    "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")


@pytest.fixture
def sts() -> Iterator[awsserver.AwsServer]:
    server = awsserver.start()
    yield server
    server.stop()


def run(server: awsserver.AwsServer, findings: list[Finding], **kw: object) -> list[Finding]:
    opts = VerifyOptions(api_bases={"aws": server.base}, **{"timeout": 2.0, "budget": 30.0, "retries": 1, **kw})  # type: ignore[arg-type]
    return verify_findings(findings, opts)[0]


def access(kid: str, *secrets: str) -> Finding:
    return Finding("aws-access-key-id", "d", "medium", kid, f"fp-{kid}-{secrets}", "p", 1, 1, verify_kind="aws-access-key",
                   context_hints={"aws_secret_keys": list(secrets)})


def secret(sk: str, *kids: str) -> Finding:
    return Finding("aws-secret-access-key", "d", "critical", sk, f"fp-{sk[:8]}-{kids}", "p", 1, 1,
                   verify_kind="aws-secret-key", context_hints={"aws_key_ids": list(kids)})


def test_pairs_live_wrong_secret_and_unknown_key(sts: awsserver.AwsServer) -> None:
    live_id, live_sk, other_sk = key_id(1), secret_key(1), secret_key(2)
    sts.pairs[live_id] = live_sk
    sts.accounts[live_id] = ("210987654321", "arn:aws:iam::210987654321:user/deployer")
    dead_id = key_id(2)
    a = access(live_id, other_sk, live_sk)  # the nearest candidate is wrong: the next one is tried
    b = access(live_id, other_sk)
    c = access(dead_id, live_sk)
    d = secret(live_sk, dead_id, live_id)
    e = secret(other_sk, live_id)
    f = secret(other_sk, dead_id)
    a, b, c, d, e, f = run(sts, [a, b, c, d, e, f])
    assert a.verification.status == "live" and a.verification.reach["account"] == "210987654321"
    assert "deployer" in a.verification.detail
    assert b.verification.status == "unknown" and "pairing" in b.verification.detail
    assert c.verification.status == "invalid" and "InvalidClientTokenId" in c.verification.detail
    assert d.verification.status == "live"
    assert e.verification.status == "unknown" and "SignatureDoesNotMatch" in e.verification.detail
    assert f.verification.status == "unknown" and dead_id in f.verification.detail  # a secret is never invalid
    for x in (a, b, c, d, e, f):
        assert live_sk not in x.verification.detail + str(x.verification.reach)
        assert other_sk not in x.verification.detail + str(x.verification.reach)
    for r in sts.requests:  # only signed POSTs of the fixed, read-only action; the secret never on the wire
        assert r.method == "POST" and r.body == b"Action=GetCallerIdentity&Version=2011-06-15"
        assert live_sk.encode() not in r.body and all(live_sk not in v for v in r.headers.values())


def test_no_pairing_and_temporary_keys_are_not_sent(sts: awsserver.AwsServer) -> None:
    lonely, temp, lonely_sk = access(key_id(3)), access(key_id(4, "ASIA"), secret_key(4)), secret(secret_key(5))
    lonely, temp, lonely_sk = run(sts, [lonely, temp, lonely_sk])
    assert all(x.verification.status == "unknown" for x in (lonely, temp, lonely_sk))
    assert "session token" in temp.verification.detail
    assert sts.requests == []


def test_no_usable_answer_is_unknown(sts: awsserver.AwsServer) -> None:
    ids = [key_id(10 + i) for i in range(5)]
    sks = [secret_key(10 + i) for i in range(5)]
    for k, s in zip(ids, sks, strict=True):
        sts.pairs[k] = s
    throttled, down, slow, garbled, limited = ids
    sts.retry_after = "0"
    sts.throttle[throttled] = 100
    sts.failing[down] = 100
    sts.slow[slow] = 1.5
    sts.malformed[garbled] = (200, b"<GetCallerIdentityResponse><unclosed")
    sts.throttling.add(limited)
    fs = [access(k, s) for k, s in zip(ids, sks, strict=True)]
    fs = run(sts, fs, timeout=0.5)
    details = {f.secret: f.verification for f in fs}
    assert all(v.status == "unknown" and v.detail for v in details.values()), details
    assert "rate limited" in details[throttled].detail and "503" in details[down].detail
    assert "timeout" in details[slow].detail and "not XML" in details[garbled].detail
    assert "Throttling" in details[limited].detail


def test_429_with_retry_after_is_retried(sts: awsserver.AwsServer) -> None:
    k, s = key_id(20), secret_key(20)
    sts.pairs[k] = s
    sts.throttle[k] = 1
    started = time.monotonic()
    f = access(k, s)
    (f,) = run(sts, [f])
    assert f.verification.status == "live" and time.monotonic() - started >= 1.0


def test_pairing_hints_are_collected_near_the_finding() -> None:
    kid, sk = key_id(30), secret_key(30)
    data = f"[default]\naws_access_key_id = {kid}\naws_secret_access_key = {sk}\nsha = {'ab12' * 10}\n".encode()
    start = data.index(kid.encode())
    got = hints.collect("aws-access-key", data, start, start + len(kid))
    assert got == {"aws_secret_keys": [sk]}  # the hex digest is not a candidate
    start = data.index(sk.encode())
    assert hints.collect("aws-secret-key", data, start, start + len(sk)) == {"aws_key_ids": [kid]}


def test_scan_pairs_the_rules_findings(sts: awsserver.AwsServer, tmp_path) -> None:
    from scanner.pipeline.run import ScanOptions, scan_paths

    kid, sk = key_id(40), secret_key(40)
    sts.pairs[kid] = sk
    (tmp_path / "creds").write_text(f"[default]\naws_access_key_id = {kid}\naws_secret_access_key = {sk}\n")
    opts = ScanOptions(jobs=1, verify=VerifyOptions(api_bases={"aws": sts.base}, timeout=2.0))
    found = scan_paths([str(tmp_path)], opts).findings
    verified = {f.rule_id: f.verification.status for f in found if f.verification is not None}
    assert verified.get("aws-access-key-id") == "live" and verified.get("aws-secret-access-key") == "live", verified
