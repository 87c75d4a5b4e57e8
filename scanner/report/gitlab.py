"""GitLab's secret detection report (security report schema 15.x, `artifacts: reports: secret_detection`),
which merge requests show in their security widget. A vulnerability's id is derived from the finding's
place, so the same leak in the same place keeps its id across pipelines; the secret itself goes into
`raw_source_code_extract` only with --show-secrets."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta, timezone

from scanner import __version__
from scanner.findings import Finding, shown
from scanner.findings.advice import advice, advice_line
from scanner.report import Report

SCHEMA_VERSION = "15.2.1"
SCHEMA_URL = ("https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/"
              f"v{SCHEMA_VERSION}/dist/secret-detection-report-format.json")
SEVERITY = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low", "info": "Info"}
NO_COMMIT = "0000000"  # GitLab's own analyzer's value for a finding outside git history
TOOL = {"id": "tokenscan", "name": "tokenscan", "version": __version__, "vendor": {"name": "tokenscan"}}


def _time(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")  # the schema's pattern: no zone, no fraction


def _vulnerability(f: Finding, show_secrets: bool) -> dict:
    s = shown(f, show_secrets)
    place = f"{f.fingerprint}\0{f.rule_id}\0{f.path}\0{f.line}\0{f.commit or ''}\0{f.source}"
    file = f.path if f.source != "commit-message" else f"commit message of {f.commit}"
    commit: dict = {"sha": f.commit or NO_COMMIT}
    if f.author:
        commit["author"] = f.author
    if f.date:
        commit["date"] = f.date
    a = advice(f.rule_id)
    identifier: dict = {"type": "tokenscan_rule_id", "name": f"tokenscan rule {f.rule_id}", "value": f.rule_id}
    if a and a.url:
        identifier["url"] = a.url
    v = {
        "id": str(uuid.UUID(hashlib.sha256(place.encode()).hexdigest()[:32])),
        "category": "secret_detection",
        "name": f.description,
        "description": (f"{f.description}: {s.secret} (fingerprint {f.fingerprint}, checksum {f.checksum}, "
                        f"verification: {f.verification.status})."),
        "severity": SEVERITY.get(f.severity, "Unknown"),
        "solution": f"{advice_line(f.rule_id)}. Rotate it first: removing it from the code does not make it safe.",
        "location": {"file": file, "commit": commit, "start_line": max(1, f.line), "end_line": max(1, f.line)},
        "identifiers": [identifier],
    }
    if show_secrets:
        v["raw_source_code_extract"] = f.secret
    return v


def render_gitlab(r: Report, show_secrets: bool, color: bool = False) -> str:
    end = datetime.now(timezone.utc)
    scan: dict[str, object] = {
        "analyzer": TOOL, "scanner": TOOL, "type": "secret_detection", "status": "success",
        "start_time": _time(end - timedelta(seconds=r.duration_s)), "end_time": _time(end),
    }
    if r.incomplete:  # scanned with gaps: GitLab shows these messages on the pipeline's security tab
        scan["messages"] = [{"level": "warn", "value": w.message} for w in r.incomplete]
    doc = {"version": SCHEMA_VERSION, "schema": SCHEMA_URL, "scan": scan,
           "vulnerabilities": [_vulnerability(f, show_secrets) for f in r.findings]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
