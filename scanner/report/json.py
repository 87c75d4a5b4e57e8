"""JSON (schema tokenscan.report/1) and JSON Lines (one finding object per line)."""

from __future__ import annotations

import json
from dataclasses import asdict

from scanner import __version__
from scanner.findings import Finding, shown
from scanner.findings.advice import advice
from scanner.report import Report

SCHEMA = "tokenscan.report/1"


def finding_dict(f: Finding, show_secrets: bool) -> dict:
    f = shown(f, show_secrets)
    return {
        "rule_id": f.rule_id, "description": f.description, "severity": f.severity,
        "secret": f.secret, "fingerprint": f.fingerprint,
        "path": f.path, "line": f.line, "column": f.column,
        "commit": f.commit, "author": f.author, "date": f.date, "refs": list(f.refs),
        "at_head": f.at_head, "source": f.source, "encoding": f.encoding,
        "checksum": f.checksum, "tags": list(f.tags), "gating": f.gating,
        "verification": asdict(f.verification),
        "remediation": _remediation(f.rule_id),
        **({"layer": _layer(f)} if f.source == "image" else {}),
    }


def _layer(f: Finding) -> dict:
    from scanner.sources.images import layer_digest

    return {"digest": layer_digest(f.path), "created_by": f.layer_command, "in_final_image": f.at_head}


def _remediation(rule_id: str) -> dict | None:
    a = advice(rule_id)
    return {"what": a.what, "url": a.url} if a else None


def report_dict(r: Report, show_secrets: bool) -> dict:
    return {
        "schema": SCHEMA,
        "tool": {"name": "tokenscan", "version": __version__},
        "scan": {
            "mode": r.mode, "target": r.target, "bytes_scanned": r.bytes_scanned,
            "items_scanned": r.items_scanned, "duration_s": round(r.duration_s, 3), "rules": r.rules,
            "suppressed": r.suppressed, "notes": r.notes,
            "warnings": [asdict(w) for w in r.warnings], "skipped": r.skipped,
            "incomplete": [asdict(w) for w in r.incomplete],  # what could not be scanned (see --fail-on-incomplete)
        },
        "findings": [finding_dict(f, show_secrets) for f in r.findings],
    }


def render_json(r: Report, show_secrets: bool, color: bool = False) -> str:
    return json.dumps(report_dict(r, show_secrets), indent=2, ensure_ascii=False) + "\n"


def render_jsonl(r: Report, show_secrets: bool, color: bool = False) -> str:
    """One finding per line, then one `{"incomplete": {kind, message, path}}` line per item that could not
    be scanned: a stream consumer sees what the gate did not cover without a second format."""
    lines = [json.dumps(finding_dict(f, show_secrets), ensure_ascii=False) for f in r.findings]
    lines += [json.dumps({"incomplete": asdict(w)}, ensure_ascii=False) for w in r.incomplete]
    return "".join(line + "\n" for line in lines)
