"""SARIF 2.1.0 for code-scanning platforms: one rule entry per rule used, one result per finding."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import quote

from scanner import __version__
from scanner.findings import Finding, shown
from scanner.findings.advice import advice, advice_line
from scanner.report import Report

LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}


HELP_TEXT = ("Rotate or revoke it at the vendor first (removing it from the "
             "code does not make it safe: it stays in history and in every clone), then remove it from the code and, "
             "for history, purge it with git filter-repo. A false alarm: add the fingerprint to .tokenscanignore or "
             "a `tokenscan:allow` comment on the line.")


def _location(f: Finding) -> dict:
    """Commit messages are not files: a logical location naming the commit. GitHub's code scanning drops a
    result without a physical location, so it also gets one whose relative URI names the commit's message
    (`commit/SHA/message`, never a path that could be mistaken for a file of the repository)."""
    region = {"startLine": max(1, f.line), "startColumn": max(1, f.column)}
    if f.source == "commit-message":
        name = f"commit/{f.commit}/message"
        return {"physicalLocation": {"artifactLocation": {"uri": name}, "region": region},
                "logicalLocations": [{"name": f"commit {f.commit}", "fullyQualifiedName": name, "kind": "resource"}],
                "message": {"text": f"commit message of {f.commit}"}}
    return {"physicalLocation": {"artifactLocation": {"uri": quote(f.path)}, "region": region}}


def _place_fingerprint(f: Finding) -> str:
    return hashlib.sha256(f"{f.fingerprint}\0{f.rule_id}\0{f.path}\0{f.commit or ''}".encode()).hexdigest()[:32]


def _invocation(r: Report) -> dict:
    """SARIF's place for what the run could not do: one notification per item not scanned (it names the
    file where there is one), and executionSuccessful false when there is any."""
    notes = []
    for w in r.incomplete:
        n: dict = {"level": "error", "message": {"text": w.message}, "descriptor": {"id": w.kind}}
        if w.path:
            n["locations"] = [{"physicalLocation": {"artifactLocation": {"uri": quote(w.path)}}}]
        notes.append(n)
    return {"executionSuccessful": not notes, "toolExecutionNotifications": notes}


def render_sarif(r: Report, show_secrets: bool, color: bool = False) -> str:
    rules: dict[str, int] = {}
    descriptors: list[dict] = []
    results = []
    for f in r.findings:
        if f.rule_id not in rules:
            rules[f.rule_id] = len(descriptors)
            descriptors.append({
                "id": f.rule_id,
                "name": "".join(part.capitalize() for part in f.rule_id.split("-")),
                "shortDescription": {"text": f.description},
                "fullDescription": {"text": f.description},
                "help": {"text": (help_text := f"{advice_line(f.rule_id)}. {HELP_TEXT}"), "markdown": help_text},
                **({"helpUri": a.url} if (a := advice(f.rule_id)) and a.url else {}),
                "defaultConfiguration": {"level": LEVEL.get(f.severity, "warning")},
                "properties": {"tags": ["security", "secret"], "security-severity": SECURITY_SEVERITY.get(f.severity, "5.0")},
            })
        s = shown(f, show_secrets)
        where = f" in commit {f.commit[:12]}" if f.commit else ""
        status = f.verification.status
        props: dict[str, object] = {"secret": s.secret, "secretFingerprint": f.fingerprint, "checksum": f.checksum,
                                    "source": f.source, "encoding": f.encoding, "verification": status,
                                    "tags": list(f.tags)}
        if f.verification.detail:
            props["verificationDetail"] = f.verification.detail
        if f.commit:
            props.update(commit=f.commit, author=f.author, date=f.date, refs=list(f.refs), atHead=f.at_head)
        results.append({
            "ruleId": f.rule_id,
            "ruleIndex": rules[f.rule_id],
            # a finding that never fails the gate (a bad checksum, a test token) is a note whatever its rule
            "level": LEVEL.get(f.severity, "warning") if f.gating else "note",
            "message": {"text": f"{f.description}: {s.secret}{where} (verification: {status})"},
            "locations": [_location(f)],
            # one secret at two places is two results: the fingerprint names the place too
            "partialFingerprints": {"tokenscanSecretAt/v1": _place_fingerprint(f)},
            "properties": props,
        })
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "tokenscan", "version": __version__, "semanticVersion": __version__,
                                "rules": descriptors}},
            "results": results,
            "invocations": [_invocation(r)],
            "properties": {"mode": r.mode, "target": r.target, "suppressed": r.suppressed,
                           "bytesScanned": r.bytes_scanned, "itemsScanned": r.items_scanned},
        }],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
