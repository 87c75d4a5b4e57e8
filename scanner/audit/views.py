"""`tokenscan findings`: the datastore's cross-repository view, one entry per secret (fingerprint) with every
place it is in across the audited repositories, live credentials first.

Why per secret: one leaked token copied into 14 repositories is one credential to rotate, not 14 findings;
the view says how far it spread and where it came in first. Text and JSON (schema tokenscan.findings/1)
are grouped here; SARIF reuses the report renderer (one result per place, the repository in its
properties); HTML groups by secret with the report renderer's styles and what-to-do lines.

Rows come from Datastore.findings_view: the `secret` field already holds only what may be shown (the
redaction, or the stored secret for --show-secrets when an audit kept it), so renderers print it as is.
"""

from __future__ import annotations

import json
from collections import Counter
from html import escape
from typing import Any

from scanner import __version__
from scanner.audit.datastore import gates
from scanner.audit.report import live_again_line
from scanner.findings.advice import advice, advice_line

SCHEMA = "tokenscan.findings/1"
FORMATS = ("text", "json", "sarif", "html")
TEXT_PLACES = 10  # places listed per secret in text; JSON lists every one


def summary(rows: list[dict]) -> dict[str, Any]:
    return {
        "secrets": len(rows), "places": sum(len(r["places"]) for r in rows),
        "repositories": len({p["repository"] for r in rows for p in r["places"]}),
        "live": sum(1 for r in rows if r["verification"] == "live"),
        "gating": sum(1 for r in rows if gates(r["status"])),
        "live_again": sum(1 for r in rows if r["status"].endswith("-but-live")),
        "by_status": dict(sorted(Counter(r["status"] for r in rows).items())),
    }


def headline(r: dict) -> str:
    """`live cfut_…7e32 in 14 repositories, first committed 2024-03-01 in org/api`."""
    state = "unverified" if r["verification"] == "not-checked" else r["verification"]
    n = len(r["repositories"])
    spread = f"in {n} repositor{'ies' if n != 1 else 'y'}" if n else "in no audited repository now"
    first = r["first_committed"]
    came = ""
    if first:
        came = f", first committed {(first['date'] or '?')[:10]} in {first['repository']}"
    return f"{state} {r['secret']} {spread}{came}"


def render_text(rows: list[dict], datastore: str) -> str:
    out: list[str] = []
    for r in rows:
        note = f" ({r['note']})" if r["note"] else ""
        out.append(f"[{r['severity'] or '?'}] {headline(r)}")
        out.append(f"    {r['rule_id']}  fingerprint {r['fingerprint'][:16]}  status {r['status']}{note}")
        out.append(f"    fix: {advice_line(r['rule_id'])}")
        for p in r["places"][:TEXT_PLACES]:
            commit = f" {p['commit'][:12]}" if p["commit"] else ""
            head = " (still at HEAD)" if p["at_head"] else ""
            out.append(f"      {p['repository']}{commit}  {p['path']}:{p['line']}{head}")
        if len(r["places"]) > TEXT_PLACES:
            out.append(f"      … and {len(r['places']) - TEXT_PLACES} more places (--format json lists every one)")
        out.append("")
    s = summary(rows)
    if s["live_again"]:
        out.append(live_again_line(s["live_again"]))
    statuses = ", ".join(f"{k} {v}" for k, v in s["by_status"].items()) or "none"
    live = f"{s['live']} live; " if any(r["verification"] != "not-checked" for r in rows) else "none verified; "
    out.append(f"{s['secrets']} secret{'s' if s['secrets'] != 1 else ''} in {s['places']} places across "
               f"{s['repositories']} repositories ({live}{statuses}); datastore {datastore}")
    return "\n".join(out) + "\n"


def render_json(rows: list[dict], datastore: str) -> str:
    findings = []
    for r in rows:
        a = advice(r["rule_id"])
        findings.append({**r, "remediation": {"what": a.what, "url": a.url} if a else None})
    doc = {"schema": SCHEMA, "tool": {"name": "tokenscan", "version": __version__}, "datastore": datastore,
           "summary": summary(rows), "findings": findings}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render_sarif(rows: list[dict], datastore: str) -> str:
    """The report renderer's SARIF, one result per place; each result's properties name the repository and
    the triage status (a code-scanning upload per repository can filter on them)."""
    from scanner.findings import Finding, Verification
    from scanner.report import Report, render

    findings, extra = [], []
    for r in rows:
        for p in r["places"]:
            findings.append(Finding(
                r["rule_id"], r["description"], r["severity"] or "high", r["secret"], r["fingerprint"], p["path"],
                p["line"], p["column"], source=p["source"], commit=p["commit"], author=p["author"], date=p["date"],
                at_head=p["at_head"], verification=Verification(r["verification"])))
            extra.append({"repository": p["repository"], "status": r["status"], "note": r["note"]})
    # the secret field holds only what may be shown already: rendered as is
    doc = json.loads(render(Report(mode="findings", target=datastore, findings=findings, warnings=[]), "sarif", True))
    for result, more in zip(doc["runs"][0]["results"], extra, strict=True):
        result["properties"].update(more)
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render_html(rows: list[dict], datastore: str) -> str:
    """Grouped by secret: a header per credential (state, spread, first commit, what to do), then its places."""
    from scanner.report.html import CSS, fix_html  # the report's styles and what-to-do links, not a copy

    s = summary(rows)
    cards = [("secrets", s["secrets"]), ("live", s["live"]), ("live again after triage", s["live_again"]),
             ("places", s["places"]), ("repositories", s["repositories"]), ("fail the gate", s["gating"])]
    blocks = []
    for r in rows:
        places = "".join(
            f"<tr><td><code>{escape(p['repository'])}</code></td><td><code>{escape(p['path'])}:{p['line']}</code></td>"
            f"<td><code>{escape((p['commit'] or '')[:12])}</code></td><td>{escape(p['author'] or '')}</td>"
            f"<td>{escape(p['date'] or '')}</td><td>"
            + ('<span class="head-yes">still at HEAD</span>' if p["at_head"] else
               '<span class="head-no">not at HEAD</span>' if p["at_head"] is False else "")
            + "</td></tr>" for p in r["places"])
        alert = ' <span class="badge st-live">the credential still works: rotate it now</span>' \
            if r["status"].endswith("-but-live") else ""
        note = f" ({escape(r['note'])})" if r["note"] else ""
        blocks.append(
            f'<section class="secret" data-status="{escape(r["status"])}" '
            f'data-verification="{escape(r["verification"])}">'
            f'<h3><span class="badge st-{escape(r["verification"])}">{escape(r["verification"])}</span> '
            f"<code>{escape(r['secret'])}</code> · <span class=\"sev-{escape(r['severity'])}\">{escape(r['severity'])}"
            f"</span> {escape(r['rule_id'])}</h3>"
            f"<p>{escape(headline(r))}. Status <b>{escape(r['status'])}</b>{note}{alert} · fingerprint "
            f"<code>{escape(r['fingerprint'][:16])}</code></p><p>What to do: {fix_html(r['rule_id'])}</p>"
            f"<table><thead><tr><th>repository</th><th>where</th><th>commit</th><th>author</th><th>date</th>"
            f"<th>HEAD</th></tr></thead><tbody>{places}</tbody></table></section>")
    warning = f'<p class="badge st-live">{escape(live_again_line(s["live_again"]))}</p>' if s["live_again"] else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>tokenscan findings across repositories</title><style>{CSS}section.secret{{margin:1.5rem 0}}</style></head>
<body>
<h1>tokenscan findings across repositories</h1>
<div class="meta">datastore <code>{escape(datastore)}</code> · tokenscan {__version__}</div>
<div class="cards">{''.join(f'<div class="card"><b>{v}</b>{escape(k)}</div>' for k, v in cards)}</div>
{warning}
<h2>Secrets ({s['secrets']}), live first</h2>
{''.join(blocks)}
</body></html>
"""


def render(rows: list[dict], fmt: str, datastore: str) -> str:
    return {"text": render_text, "json": render_json, "sarif": render_sarif, "html": render_html}[fmt](rows, datastore)
