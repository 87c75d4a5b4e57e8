"""The audit's own report: one summary line per repository, the overall summary, and the findings grouped by
fingerprint (one secret, every place it is in this audit) with their triage status. Text or JSON
(schema tokenscan.audit/1). Secrets are redacted unless --show-secrets."""

from __future__ import annotations

import json
from typing import Any

from scanner import __version__
from scanner.audit.cache import kept, shown_secret
from scanner.audit.datastore import gates
from scanner.audit.runner import AuditResult
from scanner.findings import SKIPPED_KINDS

SCHEMA = "tokenscan.audit/1"


def audit_dict(audit: AuditResult, show_secrets: bool, datastore: str) -> dict[str, Any]:
    repos = []
    grouped: dict[str, dict[str, Any]] = {}
    for r in audit.results:
        rec = r.record
        open_n = sum(1 for f in r.findings if gates(r.statuses.get(f.fingerprint, ("open", ""))[0]))
        warnings = [w for w in (rec.warnings if rec else []) if w["kind"] not in SKIPPED_KINDS]
        repos.append({
            "target": r.target.key, "kind": r.target.kind, "listed_by": r.target.listed_by or None,
            "status": "failed" if r.error else "ok",
            "error": r.error, "action": r.action or None,
            "blobs_planned": rec.blobs_planned if rec else 0, "blobs_read": len(rec.blobs_read) if rec else 0,
            "blobs_skipped": r.skipped_blobs, "bytes_scanned": rec.bytes_scanned if rec else 0,
            "messages_read": len(rec.messages_read) if rec else 0, "messages_skipped": r.skipped_messages,
            "findings": len(r.findings), "open": open_n, "seconds": round(r.seconds, 3), "scan_id": r.scan_id,
            "refs": len(rec.refs) if rec else 0, "warnings": warnings, "suppressed": r.suppressed,
            "unchanged": r.unchanged, "commits_covered": r.covered_commits,
        })
        for f in r.findings:
            status, note = r.statuses.get(f.fingerprint, ("open", ""))
            g = grouped.setdefault(f.fingerprint, {
                "fingerprint": f.fingerprint, "rule_id": f.rule_id, "description": f.description,
                "severity": f.severity, "secret": f.secret if show_secrets and kept(f) else shown_secret(f),
                "status": status, "note": note, "verification": f.verification.status, "gating": f.gating,
                "places": []})
            g["places"].append({"repository": r.target.key, "commit": f.commit, "path": f.path, "line": f.line,
                                "column": f.column, "source": f.source, "at_head": f.at_head,
                                "author": f.author, "date": f.date})
    findings = sorted(grouped.values(), key=lambda g: (not g["status"].endswith("-but-live"), not gates(g["status"]),
                                                       g["rule_id"], g["fingerprint"]))
    failed = sum(1 for r in audit.results if r.error)
    return {
        "schema": SCHEMA, "tool": {"name": "tokenscan", "version": __version__},
        "datastore": datastore, "ruleset": audit.ruleset, "duration_s": round(audit.seconds, 3),
        "summary": {
            "repositories": len(audit.results), "failed": failed,
            "blobs_planned": sum(r["blobs_planned"] for r in repos), "blobs_read": sum(r["blobs_read"] for r in repos),
            "blobs_skipped": sum(r["blobs_skipped"] for r in repos),
            "findings": len(findings), "places": sum(len(g["places"]) for g in findings),
            "open": sum(1 for g in findings if g["status"] == "open"),
            "live_again": sum(1 for g in findings if g["status"].endswith("-but-live")),
            "by_status": _count(g["status"] for g in findings),
        },
        "repositories": repos, "findings": findings, "warnings": audit.warnings, "incomplete": audit.gaps,
        "notes": audit.notes,
    }


def _count(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return dict(sorted(out.items()))


def render_json(audit: AuditResult, show_secrets: bool, datastore: str) -> str:
    return json.dumps(audit_dict(audit, show_secrets, datastore), indent=2, ensure_ascii=False) + "\n"


def render_text(audit: AuditResult, show_secrets: bool, datastore: str) -> str:
    d = audit_dict(audit, show_secrets, datastore)
    s = d["summary"]
    out = []
    if d["findings"]:
        out.append("findings (one secret each, every place it is in this audit):")
        for g in d["findings"]:
            out.append(f"  [{g['severity']}] {g['rule_id']}  {g['secret']}  fingerprint {g['fingerprint'][:16]}  "
                       f"{g['status']}{' (' + g['note'] + ')' if g['note'] else ''}"
                       f"{'' if g['verification'] == 'not-checked' else '  verification: ' + g['verification']}")
            for p in g["places"]:
                where = f"{p['path']}:{p['line']}"
                commit = f" {p['commit'][:12]}" if p["commit"] else ""
                head = " (still at HEAD)" if p["at_head"] else ""
                out.append(f"      {p['repository']}{commit}  {where}{head}")
        out.append("")
    out.append("repositories:")
    for r in d["repositories"]:
        if r["error"]:
            out.append(f"  {r['target']}: FAILED: {r['error']}")
            continue
        action = f", {r['action']}" if r["action"] else ""
        if r["unchanged"]:
            action += ", unchanged since its last audit: not scanned"
        elif r["commits_covered"]:
            action += f", {r['commits_covered']} commits covered by earlier scans: not walked again"
        out.append(f"  {r['target']}: {r['findings']} finding{'s' if r['findings'] != 1 else ''} ({r['open']} open), "
                   f"{r['blobs_read']} of {r['blobs_planned']} blobs read ({r['blobs_skipped']} known), "
                   f"{r['seconds']:.1f} s{action}")
        for w in r["warnings"][:5]:
            out.append(f"      warning: {w['kind']}: {w['message']}")
    if d["warnings"]:
        out.append("warnings:")
        out.extend(f"  {w}" for w in d["warnings"])
    if d["incomplete"]:
        out.append("incomplete (--fail-on-incomplete fails on these):")
        out.extend(f"  {g}" for g in d["incomplete"])
    for n in d["notes"]:
        out.append(f"note: {n}")
    if s["live_again"]:
        out.append(live_again_line(s["live_again"]))
    statuses = ", ".join(f"{k} {v}" for k, v in s["by_status"].items()) or "none"
    failed = f" ({s['failed']} failed)" if s["failed"] else ""
    out.append(f"audit: {s['repositories']} repositor{'ies' if s['repositories'] != 1 else 'y'}"
               f"{failed}, {s['findings']} findings in {s['places']} places "
               f"({statuses}); {s['blobs_read']} of {s['blobs_planned']} blobs read, {s['blobs_skipped']} already "
               f"scanned; {d['duration_s']:.1f} s; datastore {datastore}")
    return "\n".join(out) + "\n"


def live_again_line(n: int) -> str:
    """The loud line: a credential someone marked revoked, fixed or a false positive answers as live."""
    return (f"ALERT: {n} finding{'s' if n != 1 else ''} marked revoked, fixed or false-positive verif"
            f"{'y' if n != 1 else 'ies'} live again (status *-but-live): the credential still works; rotate it at "
            f"the vendor now. These fail the gate.")
