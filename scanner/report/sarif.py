"""SARIF 2.1.0 for code-scanning platforms: one rule entry per rule used, one result per finding."""

from __future__ import annotations

import json
from urllib.parse import quote

from scanner import __version__
from scanner.findings import shown
from scanner.report import Report

LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}


def render_sarif(r: Report, show_secrets: bool) -> str:
    rules: dict[str, int] = {}
    descriptors = []
    results = []
    for f in r.findings:
        if f.rule_id not in rules:
            rules[f.rule_id] = len(descriptors)
            descriptors.append({
                "id": f.rule_id,
                "name": "".join(part.capitalize() for part in f.rule_id.split("-")),
                "shortDescription": {"text": f.description},
                "fullDescription": {"text": f.description},
                "defaultConfiguration": {"level": LEVEL.get(f.severity, "warning")},
                "properties": {"tags": ["security", "secret"], "security-severity": SECURITY_SEVERITY.get(f.severity, "5.0")},
            })
        s = shown(f, show_secrets)
        where = f" in commit {f.commit[:12]}" if f.commit else ""
        status = f.verification.status
        props = {"secret": s.secret, "checksum": f.checksum, "source": f.source, "encoding": f.encoding,
                 "verification": status, "tags": list(f.tags)}
        if f.verification.detail:
            props["verificationDetail"] = f.verification.detail
        if f.commit:
            props.update(commit=f.commit, author=f.author, date=f.date, refs=list(f.refs), atHead=f.at_head)
        results.append({
            "ruleId": f.rule_id,
            "ruleIndex": rules[f.rule_id],
            "level": LEVEL.get(f.severity, "warning"),
            "message": {"text": f"{f.description}: {s.secret}{where} (verification: {status})"},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": quote(f.path)},
                "region": {"startLine": max(1, f.line), "startColumn": max(1, f.column)},
            }}],
            "partialFingerprints": {"tokenscanSecret/v1": f.fingerprint},
            "properties": props,
        })
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "tokenscan", "version": __version__, "semanticVersion": __version__,
                                "rules": descriptors}},
            "results": results,
            "properties": {"mode": r.mode, "target": r.target, "suppressed": r.suppressed,
                           "bytesScanned": r.bytes_scanned, "itemsScanned": r.items_scanned},
        }],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
