"""A single self-contained HTML audit report: summary, a filterable findings table, and (for history) a
timeline of when each secret came in and whether it is still at HEAD. No network fetches: styles and
script are inline, and every value is escaped."""

from __future__ import annotations

import json
import os
from collections import Counter
from html import escape

from scanner import __version__
from scanner.findings import shown
from scanner.findings.advice import advice, advice_line
from scanner.report import Report

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1d2330;background:#fafbfc}
h1{font-size:1.4rem;margin:0 0 .3rem} h2{font-size:1.1rem;margin-top:2rem}
.meta{color:#5a6475} .cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.card{background:#fff;border:1px solid #dde2ea;border-radius:8px;padding:.7rem 1rem;min-width:9rem}
.card b{display:block;font-size:1.5rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border-bottom:1px solid #e6e9ef;padding:.4rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f2f6;position:sticky;top:0} code{font:12px ui-monospace,monospace;word-break:break-all}
.sev-critical{color:#b00020;font-weight:600}.sev-high{color:#d0342c}.sev-medium{color:#b26a00}
.st-live{background:#fde2e1;color:#9b1c1c;font-weight:600}.st-inactive{background:#fff4d6}.st-invalid{background:#e3f6e8}
.badge{border-radius:4px;padding:0 .35rem}
.filters{margin:.6rem 0;display:flex;gap:1rem}
.timeline{border-left:3px solid #c9d1de;margin-left:.6rem;padding-left:1rem}
.event{margin:.5rem 0}.event .when{color:#5a6475;font-variant-numeric:tabular-nums}
.fix td{border-top:none;color:#334;font-size:.9em}.head-yes{color:#9b1c1c;font-weight:600}.head-no{color:#2f6f3e}
"""

_JS = """
(function(){
  var rule=document.getElementById('f-rule'), st=document.getElementById('f-status');
  function apply(){
    var rows=document.querySelectorAll('#findings tbody tr'), shown=0;
    rows.forEach(function(r){
      var ok=(!rule.value||r.dataset.rule===rule.value)&&(!st.value||r.dataset.status===st.value);
      r.style.display=ok?'':'none'; if(ok&&!r.classList.contains('fix'))shown++;
    });
    document.getElementById('shown').textContent=shown;
  }
  rule.addEventListener('change',apply); st.addEventListener('change',apply); apply();
})();
"""


def _options(values: list[str]) -> str:
    return "".join(f'<option value="{escape(v)}">{escape(v)}</option>' for v in values)


def fix_html(rule_id: str) -> str:
    """One line a person can follow, linking the vendor's own page (a link never leaves the rule's vendor)."""
    a = advice(rule_id)
    if a is None:
        return escape(advice_line(rule_id))
    link = f' <a href="{escape(a.url)}" rel="noreferrer">{escape(a.url)}</a>' if a.url else ""
    return escape(a.what) + link


def render_html(r: Report, show_secrets: bool, color: bool = False) -> str:
    findings = [shown(f, show_secrets) for f in r.findings]
    by_rule = Counter(f.rule_id for f in findings)
    by_status = Counter(f.verification.status for f in findings)
    verified = any(status != "not-checked" for status in by_status)  # "0 live" would claim a check never made
    cards = [("findings", len(findings)), *([("live", by_status.get("live", 0))] if verified else []),
             ("suppressed", sum(r.suppressed.values())), ("items scanned", r.items_scanned),
             ("MB scanned", f"{r.bytes_scanned / 1e6:.1f}"), ("seconds", f"{r.duration_s:.2f}")]
    name = r.target
    if name and os.path.isdir(name):  # "history of ." names nothing; the folder's own name does
        name = os.path.basename(os.path.abspath(name).rstrip(os.sep)) or name
    rows = []
    for f in findings:
        where = f"{escape(f.path)}:{f.line}:{f.column}"
        commit = escape(f.commit[:12]) if f.commit else ""
        status = f.verification.status
        reach = f.verification.reach
        reach_text = ", ".join(f"{k} {v}" for k, v in reach.items() if not k.endswith("_names") and v is not None)
        rows.append(
            f'<tr data-rule="{escape(f.rule_id)}" data-status="{escape(status)}">'
            f'<td class="sev-{escape(f.severity)}">{escape(f.severity)}</td><td>{escape(f.rule_id)}</td>'
            f"<td><code>{where}</code></td><td><code>{escape(f.secret)}</code></td>"
            f"<td>{escape(f.checksum)}</td>"
            f'<td><span class="badge st-{escape(status)}">{escape(status)}</span> {escape(f.verification.detail)}'
            f"{'<br>' + escape(reach_text) if reach_text else ''}</td>"
            f"<td><code>{commit}</code> {escape(f.author or '')}<br>{escape(f.date or '')}</td></tr>"
            f'<tr class="fix" data-rule="{escape(f.rule_id)}" data-status="{escape(status)}"><td></td>'
            f'<td colspan="6">What to do: {fix_html(f.rule_id)}</td></tr>')
    timeline = ""
    dated = sorted((f for f in findings if f.date), key=lambda f: f.date or "")
    if dated:
        events = "".join(
            f'<div class="event"><span class="when">{escape((f.date or "")[:19])}</span> '
            f"<b>{escape(f.rule_id)}</b> in <code>{escape(f.path)}</code> "
            f"(commit <code>{escape((f.commit or '')[:12])}</code>, {escape(f.author or '')}) — "
            + ('<span class="head-yes">still at HEAD</span>' if f.at_head else
               '<span class="head-no">not at HEAD</span>' if f.at_head is False else "")
            + "</div>" for f in dated)
        timeline = f'<h2>Timeline: when each secret came in</h2><div class="timeline">{events}</div>'
    warnings = Counter(w.kind for w in r.warnings)
    summary_rules = "".join(f"<tr><td>{escape(k)}</td><td>{v}</td></tr>" for k, v in by_rule.most_common())
    data = json.dumps({"mode": r.mode, "findings": len(findings)})
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>tokenscan report: {escape(r.mode)} of {escape(name)}</title><style>{CSS}</style></head>
<body data-report='{escape(data)}'>
<h1>tokenscan report</h1>
<div class="meta">{escape(r.mode)} of <code>{escape(name)}</code> · tokenscan {__version__} · {r.rules} rules
{' · suppressed: ' + escape(', '.join(f'{k} {v}' for k, v in r.suppressed.items())) if r.suppressed else ''}
{' · warnings: ' + escape(', '.join(f'{k} {v}' for k, v in warnings.items())) if warnings else ''}</div>
<div class="cards">{''.join(f'<div class="card"><b>{escape(str(v))}</b>{escape(k)}</div>' for k, v in cards)}</div>
<h2>Findings per rule</h2><table id="per-rule"><tr><th>rule</th><th>findings</th></tr>{summary_rules}</table>
<h2>Findings (<span id="shown">{len(findings)}</span> shown)</h2>
<div class="filters"><label>Rule <select id="f-rule"><option value="">all</option>{_options(sorted(by_rule))}</select></label>
<label>Verification <select id="f-status"><option value="">all</option>{_options(sorted(by_status))}</select></label></div>
<table id="findings"><thead><tr><th>severity</th><th>rule</th><th>where</th><th>secret</th><th>checksum</th>
<th>verification</th><th>commit</th></tr></thead><tbody>{''.join(rows)}</tbody></table>
{timeline}
<script>{_JS}</script>
</body></html>
"""
