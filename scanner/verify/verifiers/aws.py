"""AWS: sts:GetCallerIdentity, signed with Signature Version 4, on https://sts.amazonaws.com/
(https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).

Why this call: it needs no IAM permission (an explicit deny does not stop it either), changes nothing, and
names the account and principal the key pair belongs to. A key pair is two findings: the access key id
(`aws-access-key`: paired with 40-character secrets written near it) and the secret access key
(`aws-secret-key`: paired with key ids written near it). Each candidate pairing costs one request.

Reading the answer (STS answers in XML; https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html):
200 is live (account, ARN). `InvalidClientTokenId` says AWS does not know the key id (deleted or deactivated,
or a key of another partition: China and GovCloud keys are checked only at their own STS, set
TOKENSCAN_AWS_API_BASE): the key id is invalid, but a secret is never judged by it. `SignatureDoesNotMatch`
says the key id exists but this secret is not its secret: the next candidate is tried, and none matching
is `unknown` (pairing). Throttling, clock skew and anything else prove nothing. Temporary keys (ASIA) need
their session token and are not sent.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from scanner.findings import Verification
from scanner.verify import hints as hint_collectors
from scanner.verify.answers import no_answer, text
from scanner.verify.options import VerifyOptions
from scanner.verify.registry import vendor, verifier

if TYPE_CHECKING:  # the HTTP machinery is loaded only when verifying, not when rules are
    from scanner.verify.http import Answer, Http

AWS = vendor("aws", "https://sts.amazonaws.com", ("sts.amazonaws.com",), rate_requests=100, rate_window=60.0,
             docs="https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html")
REGION, SERVICE = "us-east-1", "sts"  # the global endpoint signs for us-east-1
BODY = b"Action=GetCallerIdentity&Version=2011-06-15"
CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
KEY_ID = re.compile(r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}")
SECRET = re.compile(r"[A-Za-z0-9/+]{40}")
MAX_PAIRS = 3  # candidates tried per finding: each costs one request

# Pairing hints: key ids near a secret (precise), and 40-character base64 words near a key id that hold upper
# and lower case letters and a digit (a hex digest or a word of one case is not a secret access key).
hint_collectors.register("aws_key_ids", rb"(?<![A-Za-z0-9])(?:AKIA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Za-z0-9])", MAX_PAIRS)
hint_collectors.register(
    "aws_secret_keys",
    rb"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]{0,39}[A-Z])(?=[A-Za-z0-9/+]{0,39}[a-z])(?=[A-Za-z0-9/+]{0,39}[0-9])"
    rb"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])", MAX_PAIRS)


# --- Signature Version 4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html)

def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """kSigning = HMAC chain over date, region, service and "aws4_request", keyed by "AWS4" + secret."""
    k = _hmac(("AWS4" + secret).encode(), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    return _hmac(k, "aws4_request")


def canonical_request(method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> tuple[str, str]:
    """The canonical request and its signed-headers list. `query` must already be in canonical form (sorted,
    URI-encoded): the only queries signed here are AWS's fixed ones."""
    names = sorted(k.lower() for k in headers)
    lowered = {k.lower(): " ".join(v.strip().split()) for k, v in headers.items()}
    canon_headers = "".join(f"{n}:{lowered[n]}\n" for n in names)
    signed = ";".join(names)
    return "\n".join([method, path or "/", query, canon_headers, signed, hashlib.sha256(body).hexdigest()]), signed


def sign(method: str, path: str, query: str, headers: dict[str, str], body: bytes, key_id: str, secret: str,
         amz_date: str, region: str = REGION, service: str = SERVICE) -> str:
    """The Authorization header value for a request whose `headers` (host and x-amz-date included) are all signed."""
    creq, signed = canonical_request(method, path, query, headers, body)
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    signature = hmac.new(signing_key(secret, amz_date[:8], region, service), to_sign.encode(),
                         hashlib.sha256).hexdigest()
    return f"AWS4-HMAC-SHA256 Credential={key_id}/{scope}, SignedHeaders={signed}, Signature={signature}"


# --- the call ----------------------------------------------------------------------------------------------

def _xml_fields(a: Answer) -> dict[str, str] | None:
    """Leaf elements of an STS answer by local name (namespace dropped); None when it is not XML."""
    try:
        root = ET.fromstring(a.raw)
    except ET.ParseError:
        return None
    return {el.tag.rsplit("}", 1)[-1]: (el.text or "").strip() for el in root.iter() if len(el) == 0}


def _caller_identity(http: Http, key_id: str, secret: str) -> tuple[str, Answer, dict[str, str] | None]:
    """One signed GetCallerIdentity: ("live" | "unknown-key" | "wrong-secret" | "other", answer, fields)."""
    amz_date = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    headers = {"Content-Type": CONTENT_TYPE, "Host": http.netloc, "X-Amz-Date": amz_date}
    path = (http.path_prefix or "") + "/"
    headers["Authorization"] = sign("POST", path, "", headers, BODY, key_id, secret, amz_date)
    a = http.request("POST", "/", headers, content=BODY)
    fields = _xml_fields(a) if a.status is not None else None
    if a.status == 200 and fields and fields.get("Arn"):
        return "live", a, fields
    code = (fields or {}).get("Code", "")
    if a.status == 403 and code == "InvalidClientTokenId":
        return "unknown-key", a, fields
    if a.status == 403 and code == "SignatureDoesNotMatch":
        return "wrong-secret", a, fields
    return "other", a, fields


def _other(a: Answer, fields: dict[str, str] | None) -> Verification:
    if v := no_answer(a):
        return v
    if fields is None:
        return Verification("unknown", f"malformed answer (HTTP {a.status}, not XML)")
    code = fields.get("Code", "")
    shown = code if re.fullmatch(r"[A-Za-z.]{1,60}", code) else "unrecognised"
    return Verification("unknown", f"answer proves nothing (HTTP {a.status}, error {shown or 'none'})")


def _live(fields: dict[str, str], key_id: str) -> Verification:
    reach = {"account": text(fields.get("Account", "")), "arn": text(fields.get("Arn", ""), 200),
             "key_id": key_id}
    return Verification("live", f"account {reach['account']}, {reach['arn']}", reach=reach)


def _not_checkable(key_id: str) -> Verification | None:
    if key_id.startswith("ASIA"):
        return Verification("unknown", "temporary key (ASIA): STS judges it only with its session token (not sent)")
    return None


@verifier("aws-access-key", AWS, hints=("aws_secret_keys",))
def verify_access_key(http: Http, secret: str, hints: dict, opts: VerifyOptions) -> Verification:
    key_id = secret
    if v := _not_checkable(key_id):
        return v
    candidates = [s for s in hints.get("aws_secret_keys", []) if SECRET.fullmatch(s)][:MAX_PAIRS]
    if not candidates:
        return Verification("unknown", "pairing: no secret access key found near the key id")
    for candidate in candidates:
        outcome, a, fields = _caller_identity(http, key_id, candidate)
        if outcome == "live" and fields:
            return _live(fields, key_id)
        if outcome == "unknown-key":
            return Verification("invalid", "InvalidClientTokenId (403): AWS does not know this key id "
                                           "(deleted or deactivated, or of another partition)")
        if outcome == "other":
            return _other(a, fields)
    return Verification("unknown", f"pairing: AWS knows the key id, but none of the {len(candidates)} nearby "
                                   "secret(s) is its secret (SignatureDoesNotMatch)")


@verifier("aws-secret-key", AWS, hints=("aws_key_ids",))
def verify_secret_key(http: Http, secret: str, hints: dict, opts: VerifyOptions) -> Verification:
    key_ids = [k for k in hints.get("aws_key_ids", []) if KEY_ID.fullmatch(k)][:MAX_PAIRS]
    if not key_ids:
        return Verification("unknown", "pairing: no access key id found near the secret")
    unknown_ids: list[str] = []
    for key_id in key_ids:
        outcome, a, fields = _caller_identity(http, key_id, secret)
        if outcome == "live" and fields:
            return _live(fields, key_id)
        if outcome == "unknown-key":
            unknown_ids.append(key_id)
        elif outcome == "other":
            return _other(a, fields)
    if unknown_ids and len(unknown_ids) == len(key_ids):
        return Verification("unknown", f"pairing: AWS does not know the key id(s) near it ({', '.join(unknown_ids)}), "
                                       "so the secret cannot be judged")
    return Verification("unknown", "pairing: no nearby key id accepted this secret (SignatureDoesNotMatch)")
