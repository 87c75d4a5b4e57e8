"""A loopback stand-in for AWS STS GetCallerIdentity: checks the SigV4 signature of each request against the
key pairs it knows and answers as STS does (XML; 403 InvalidClientTokenId for an unknown key id, 403
SignatureDoesNotMatch for a wrong secret, 400 Throttling). Misbehaviours are keyed by access key id."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vendorserver import Reply, VendorServer

from scanner.verify.verifiers.aws import sign

NS = "https://sts.amazonaws.com/doc/2011-06-15/"
AUTH = re.compile(r"AWS4-HMAC-SHA256 Credential=([A-Z0-9]+)/(\d{8})/([a-z0-9-]+)/([a-z0-9]+)/aws4_request, "
                  r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})")


def error(status: int, code: str, message: str) -> Reply:
    body = (f'<ErrorResponse xmlns="{NS}"><Error><Type>Sender</Type><Code>{code}</Code>'
            f"<Message>{message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>")
    return status, body.encode(), {"Content-Type": "text/xml"}


def _unused(method: str, path: str, secret: str, info: dict | None) -> Reply:
    raise AssertionError("answer_request handles every request")


@dataclass
class AwsServer(VendorServer):
    prefix: str = ""
    route: object = _unused
    pairs: dict = field(default_factory=dict)  # key id -> secret access key
    accounts: dict = field(default_factory=dict)  # key id -> (account, arn)
    throttling: set = field(default_factory=set)  # key ids answered 400 Throttling

    def secret_of(self, headers: dict) -> str:
        m = AUTH.match(headers.get("authorization", ""))
        return m.group(1) if m else ""

    def answer_request(self, method: str, path: str, headers: dict, body: bytes) -> Reply:
        bad = self.misbehave(headers)
        if bad:
            return bad
        m = AUTH.match(headers.get("authorization", ""))
        if m is None:
            return error(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
        key_id, date, region, service, signed, signature = m.groups()
        if method != "POST" or path != "/" or body != b"Action=GetCallerIdentity&Version=2011-06-15":
            return error(400, "InvalidAction", "Could not find operation")
        if key_id not in self.pairs:
            return error(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
        if key_id in self.throttling:
            return error(400, "Throttling", "Rate exceeded")
        names = signed.split(";")
        if "host" not in names or "x-amz-date" not in names or headers.get("x-amz-date", "")[:8] != date:
            return error(403, "IncompleteSignature", "Signature incomplete")
        expected = sign(method, path, "", {n: headers.get(n, "") for n in names}, body, key_id,
                        self.pairs[key_id], headers["x-amz-date"], region, service)
        if region != "us-east-1" or service != "sts" or not expected.endswith(f"Signature={signature}"):
            return error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match.")
        account, arn = self.accounts.get(key_id, ("123456789012", "arn:aws:iam::123456789012:user/ci"))
        xml = (f'<GetCallerIdentityResponse xmlns="{NS}"><GetCallerIdentityResult><Arn>{arn}</Arn>'
               f"<UserId>AIDAEXAMPLE</UserId><Account>{account}</Account></GetCallerIdentityResult>"
               "<ResponseMetadata><RequestId>r-2</RequestId></ResponseMetadata></GetCallerIdentityResponse>")
        return 200, xml.encode(), {"Content-Type": "text/xml"}

    def misbehave(self, headers: dict) -> Reply | None:
        """The shared misbehaviours (429, 5xx, slow, malformed), keyed by access key id."""
        import time

        key = self.secret_of(headers)
        with self.lock:
            if self.throttle.get(key, 0) > 0:
                self.throttle[key] -= 1
                return 429, b"", ({"Retry-After": self.retry_after} if self.retry_after else {})
            if self.failing.get(key, 0) > 0:
                self.failing[key] -= 1
                return 503, b"<html>unavailable</html>", {}
        if key in self.slow:
            time.sleep(self.slow[key])
        if key in self.malformed:
            status, raw = self.malformed[key]
            return status, raw, {}
        return None


def start() -> AwsServer:
    server = AwsServer()
    server.start()
    return server
