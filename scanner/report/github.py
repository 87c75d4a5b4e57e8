"""GitHub Actions: workflow-command annotations (one per finding, on its file and line) and the job summary
(Markdown, for `$GITHUB_STEP_SUMMARY`). Annotations are shown to everyone who can read the pull request, so
the secret is always redacted here, whatever --show-secrets says; and everything from the scanned content
(paths, rule text) is escaped, so a file name cannot become a workflow command of its own."""

from __future__ import annotations

import html

from scanner.findings import Finding, shown
from scanner.findings.advice import advice_line
from scanner.report import Report

LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "notice", "info": "notice"}


def _data(text: str) -> str:
    """A workflow command's message: %, CR and LF escaped as the runner unescapes them."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    """A workflow command's property value: also `:` and `,`, which end a property."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(f: Finding) -> str:
    s = shown(f, False)
    where = f" (commit {f.commit[:12]})" if f.commit else ""
    text = (f"{f.description}: {s.secret}{where}, verification: {f.verification.status}. "
            f"{advice_line(f.rule_id)}. Fingerprint {f.fingerprint}")
    props = [f"title={_prop(f'tokenscan: {f.rule_id}')}"]
    if f.source != "commit-message" and f.path:
        props[:0] = [f"file={_prop(f.path)}", f"line={max(1, f.line)}", f"col={max(1, f.column)}"]
    else:
        text = f"in the commit message of {f.commit}: {text}"
    return f"::{LEVEL.get(f.severity, 'warning')} {','.join(props)}::{_data(text)}"


def render_github(r: Report, show_secrets: bool, color: bool = False) -> str:
    lines = [annotation(f) for f in r.findings]
    lines += [f"::warning title={_prop('tokenscan: not scanned')}::{_data(w.message)}" for w in r.incomplete]
    return "".join(line + "\n" for line in lines)


def _cell(text: str) -> str:
    """Markdown table cell: HTML escaped (GitHub renders HTML in summaries), `|` and newlines neutralised."""
    return html.escape(text).replace("|", "&#124;").replace("\n", " ").replace("`", "&#96;")


def render_markdown(r: Report, show_secrets: bool, color: bool = False) -> str:
    """The job summary: what was scanned, each finding (redacted) with where it is and what to do."""
    n = len(r.findings)
    out = [f"### tokenscan: {n} credential{'s' if n != 1 else ''} found" if n else "### tokenscan: no credentials found",
           ""]
    out += [f"- {_cell(note)}" for note in r.notes if note.startswith("ci: ")]
    out.append(f"- scanned {r.items_scanned} items ({r.bytes_scanned} bytes) with {r.rules} rules")
    if r.incomplete:
        out.append(f"- **{len(r.incomplete)} could not be scanned**: "
                   + "; ".join(_cell(w.message) for w in r.incomplete[:10]))
    if n:
        out += ["", "| Severity | Rule | Where | Commit | Secret | Verification | What to do |",
                "|---|---|---|---|---|---|---|"]
        for f in r.findings:
            s = shown(f, False)
            where = "commit message" if f.source == "commit-message" else f"{f.path}:{f.line}"
            out.append("| " + " | ".join(_cell(x) for x in (
                f.severity, f.rule_id, where, (f.commit or "")[:12], s.secret, f.verification.status,
                advice_line(f.rule_id))) + " |")
    return "\n".join(out) + "\n"
