"""PyPI API tokens: an upload request that cannot publish, to https://upload.pypi.org/legacy/
(https://docs.pypi.org/api/upload/, https://pypi.org/help/#apitoken: user `__token__`, the token as password).

Why this request: PyPI has no read-only "who am I" endpoint for API tokens; the upload endpoint is the only
one that authenticates them. The form sent holds nothing but `:action=file_upload` and `protocol_version=1`:
no project name, no version, no file, so there is nothing PyPI could create. PyPI authenticates before it
reads the form: a token it does not know is refused with 403 "Invalid or non-existent authentication
information" (invalid), and a token it knows gets on to the form check and is refused with 400 (live).

Why the token is read first: a PyPI token is a macaroon, and PyPI checks its caveats (project scope,
expiry) only when publishing, after the form check. So a 400 alone would call an expired token live. The
caveats are therefore read locally: a token past its own expiry caveat is inactive without any request, a
token for another index (TestPyPI) is not sent to PyPI, and a token whose caveats cannot be read is sent,
but its 400 stays `unknown`. Any other answer (a 403 without that message, 5xx, 429) proves nothing.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from scanner.findings import Verification
from scanner.verify.answers import malformed, no_answer, undecided
from scanner.verify.options import VerifyOptions
from scanner.verify.registry import vendor, verifier

if TYPE_CHECKING:  # the HTTP machinery is loaded only when verifying, not when rules are
    from scanner.verify.http import Http

PYPI = vendor("pypi", "https://upload.pypi.org", ("upload.pypi.org",), rate_requests=20, rate_window=60.0,
              docs="https://docs.pypi.org/api/upload/")
FORM = {":action": "file_upload", "protocol_version": "1"}  # nothing to publish: no name, version or file
INVALID_AUTH = "invalid or non-existent authentication information"
EXPIRATION, PROJECT_NAME, PROJECT_ID, REQUEST_USER, OIDC_PUBLISHER = 0, 1, 2, 3, 4  # PyPI's caveat tags


class NotAMacaroon(ValueError):
    pass


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if i >= len(data) or shift > 35:
            raise NotAMacaroon("truncated varint")
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def _section(data: bytes, i: int) -> tuple[dict[int, bytes], int]:
    """One macaroon V2 section: fields (type, length, bytes) up to the end-of-section byte 0."""
    fields: dict[int, bytes] = {}
    while True:
        if i >= len(data):
            raise NotAMacaroon("truncated section")
        kind, i = _varint(data, i)
        if kind == 0:
            return fields, i
        length, i = _varint(data, i)
        if i + length > len(data):
            raise NotAMacaroon("truncated field")
        fields[kind] = data[i:i + length]
        i += length


def read_macaroon(token: str) -> tuple[str, list[object]]:
    """(location, caveats) of a `pypi-` token: the macaroon V2 binary form (libmacaroons' format), caveats
    decoded from JSON (a dict in PyPI's first format, a [tag, ...] list in its current one)."""
    raw = token.removeprefix("pypi-")
    try:
        data = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except ValueError:
        raise NotAMacaroon("not base64") from None
    if not data or data[0] != 2:
        raise NotAMacaroon("not a version 2 macaroon")
    header, i = _section(data, 1)
    caveats: list[object] = []
    while True:
        section, i = _section(data, i)
        if not section:
            break
        try:
            caveats.append(json.loads(section.get(2, b"").decode("utf-8")))
        except (UnicodeDecodeError, ValueError):
            caveats.append(None)  # unreadable: judged conservatively below
    return header.get(1, b"").decode("utf-8", "replace"), caveats


def _expiry(caveat: object) -> int | None | bool:
    """The expiry a caveat sets (epoch seconds), None when it sets none, False when it cannot be read."""
    if isinstance(caveat, list) and caveat and isinstance(caveat[0], int):
        if caveat[0] == EXPIRATION:
            return caveat[1] if len(caveat) > 1 and isinstance(caveat[1], int) else False
        return None if caveat[0] in (PROJECT_NAME, PROJECT_ID, REQUEST_USER, OIDC_PUBLISHER) else False
    if isinstance(caveat, dict):
        if "exp" in caveat:
            return caveat["exp"] if isinstance(caveat["exp"], int) else False
        return None if "permissions" in caveat or "version" in caveat else False
    return False


@verifier("pypi-token", PYPI)
def verify_pypi_token(http: Http, secret: str, hints: dict, opts: VerifyOptions) -> Verification:
    try:
        location, caveats = read_macaroon(secret)
    except NotAMacaroon as exc:
        return Verification("unknown", f"not a readable PyPI macaroon ({exc}): not sent")
    if location != "pypi.org":
        return Verification("unknown", f"a token for {location or 'an unnamed index'}, not pypi.org: not sent")
    expiries = [_expiry(c) for c in caveats]
    readable = all(e is not False for e in expiries)
    deadlines = [e for e in expiries if isinstance(e, int) and not isinstance(e, bool)]
    if deadlines and min(deadlines) < time.time():
        when = datetime.fromtimestamp(min(deadlines), timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        return Verification("inactive", f"expired {when} (its own expiry caveat): not sent")
    basic = base64.b64encode(f"__token__:{secret}".encode()).decode()
    a = http.request("POST", "/legacy/", {"Authorization": f"Basic {basic}"}, data=FORM)
    if v := no_answer(a):
        return v
    reason = a.reason.lower()
    if a.status == 403 and INVALID_AUTH in reason:
        return Verification("invalid", "403 Invalid or non-existent authentication information")
    if a.status == 400:
        scoped = any((isinstance(c, list) and c and c[0] in (PROJECT_NAME, PROJECT_ID))
                     or (isinstance(c, dict) and isinstance(c.get("permissions"), dict)) for c in caveats)
        reach = {"scope": "projects" if scoped else "account"}
        if not readable:
            return Verification("unknown", "PyPI knows the token (400 for the empty form), but some of its "
                                           "caveats cannot be read: it may be expired", reach=reach)
        until = (", expires " + datetime.fromtimestamp(min(deadlines), timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
                 if deadlines else "")
        return Verification("live", f"authenticated (400 for the empty upload form), "
                                    f"{'project-scoped' if scoped else 'account-wide'}{until}", reach=reach)
    if a.status == 200:
        return malformed(a, "an upload without a file cannot succeed")
    return undecided(a)
