"""The default listing: one block per finding, then a one-line summary a person reads first."""

from __future__ import annotations

from collections import Counter

from scanner.findings import shown, terminal_safe
from scanner.findings.advice import advice_line
from scanner.report import Report

_SEV_COLOR = {"critical": "\033[1;31m", "high": "\033[31m", "medium": "\033[33m", "low": "\033[36m",
              "info": "\033[2m"}
_STATUS_COLOR = {"live": "\033[1;31m", "inactive": "\033[33m", "invalid": "\033[32m"}
_RESET = "\033[0m"


def _human_bytes(count: int) -> str:
    n = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"  # pragma: no cover


def render_text(r: Report, show_secrets: bool, color: bool) -> str:
    def paint(text: str, code: str | None) -> str:
        return f"{code}{text}{_RESET}" if color and code else text

    lines: list[str] = []
    for f in r.findings:
        f = shown(f, show_secrets)
        where = f"{terminal_safe(f.path)}:{f.line}:{f.column}"
        head = f"{paint(f.severity.upper(), _SEV_COLOR.get(f.severity))}  {f.rule_id}  {where}"
        lines.append(head)
        lines.append(f"    secret: {f.secret}   fingerprint: {f.fingerprint[:16]}")
        extra = []
        if f.checksum != "none":
            extra.append(f"checksum {f.checksum}")
        if f.encoding != "plain":
            extra.append(f"encoding {f.encoding}")
        if f.tags:
            extra.append("tags " + ",".join(f.tags))
        if not f.gating:
            extra.append("does not fail the gate")
        if f.verification.status != "not-checked":
            status = paint(f.verification.status, _STATUS_COLOR.get(f.verification.status))
            extra.append(f"verification {status}" + (f" ({f.verification.detail})" if f.verification.detail else ""))
        if extra:
            lines.append("    " + "; ".join(extra))
        lines.append(f"    fix: {advice_line(f.rule_id)}")
        if f.source == "image":
            from scanner.sources.images import layer_digest

            state = {True: "in the final image", False: "deleted by a later layer (still in the image)",
                     None: ""}[f.at_head]
            command = terminal_safe(" ".join((f.layer_command or "").split()))
            lines.append(f"    layer {(layer_digest(f.path) or '')[:19]}  {state}")
            if command:
                lines.append(f"    created by: {command[:200]}")
        if f.commit:
            lines.append(f"    commit {f.commit[:12]}  {terminal_safe(f.author or '')}  {f.date or ''}  source {f.source}")
            if f.refs or f.at_head is not None:
                head_state = {True: "still at HEAD", False: "not at HEAD", None: ""}[f.at_head]
                lines.append(f"    refs {terminal_safe(', '.join(f.refs[:4]))}{' …' if len(f.refs) > 4 else ''}  {head_state}")
        lines.append("")
    lines.extend(summary_lines(r))
    return "\n".join(lines) + "\n"


SHOWN_WARNINGS = 20


def summary_lines(r: Report) -> list[str]:
    sev = Counter(f.severity for f in r.findings)
    parts = ", ".join(f"{n} {s}" for s, n in sev.most_common())
    n = len(r.findings)
    head = f"{n} finding{'s' if n != 1 else ''}" + (f" ({parts})" if parts else "")
    noun = "file" if r.mode == "scan" else "item"
    out = [f"{head} in {r.items_scanned} {noun}{'s' if r.items_scanned != 1 else ''}, "
           f"{_human_bytes(r.bytes_scanned)}, {r.duration_s:.2f} s"]
    if (quiet := sum(1 for f in r.findings if not f.gating)):
        out.append(f"{quiet} of them fail no gate: a checksum that does not hold or a test token "
                   f"(--hide-invalid-checksum leaves the bad checksums out)")
    by_rule = Counter(f.rule_id for f in r.findings)
    if len(by_rule) > 1 or (by_rule and r.mode == "history"):
        width = max(len(k) for k in by_rule)
        out.append("by rule:")
        out.extend(f"  {rule:<{width}}  {n:>5}" for rule, n in by_rule.most_common())
    verified = Counter(f.verification.status for f in r.findings if f.verification.status != "not-checked")
    if verified:
        out.append("verification: " + ", ".join(f"{k} {v}" for k, v in sorted(verified.items())))
    if r.suppressed:
        out.append("suppressed: " + ", ".join(f"{k} {v}" for k, v in sorted(r.suppressed.items())))
    kinds = Counter(w.kind for w in r.warnings)
    if kinds:
        out.append("warnings: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
        # skips by design are counted apart below unless --list-skipped; what is here is worth naming
        for w in r.warnings[:SHOWN_WARNINGS]:
            out.append(f"  {w.kind}: {terminal_safe(w.path) + ': ' if w.path else ''}{terminal_safe(w.message)}")
        if len(r.warnings) > SHOWN_WARNINGS:
            out.append(f"  … and {len(r.warnings) - SHOWN_WARNINGS} more (--format json lists every one)")
    if r.skipped:
        out.append("skipped by design: " + ", ".join(f"{k} {v}" for k, v in sorted(r.skipped.items()))
                   + " (--list-skipped names them)")
    if r.incomplete:
        n = len(r.incomplete)
        out.append(f"incomplete: {n} item{'s' if n != 1 else ''} could not be scanned (see warnings); "
                   f"--fail-on-incomplete fails the gate on this")
    out.extend(terminal_safe(n) for n in r.notes)
    return out
