"""The public Python API: build a Scanner once (rules, options) and scan strings, bytes, files, directories,
git history or staged changes with it; get frozen, redacted findings back; verify them if you choose to.

    from scanner.api import Scanner

    scanner = Scanner()
    for f in scanner.scan_text("CLOUDFLARE_API_TOKEN=...").findings:
        print(f.rule_id, f.line, f.secret)          # redacted unless Scanner(show_secrets=True)

Everything here goes through the same engine, suppressions, gate and renderers as the command line, so a
program and a CI job agree on what was found. Names outside this module (and `scanner.__init__`) are
internals and may change.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from scanner.findings import Finding as _Finding
from scanner.findings import Warning, redact
from scanner.findings.advice import advice_line
from scanner.findings.suppress import Suppressor
from scanner.pipeline.run import (
    ScanOptions,
    build_engine,
    exit_code,
    history_scan,
    scan_paths,
    staged_scan,
    to_report,
)
from scanner.pipeline.workers import ScanResult, scan_chunk
from scanner.report import Report
from scanner.report import render as _render
from scanner.sources import Chunk

__all__ = ["Finding", "Result", "Scanner", "Warning"]


@dataclass(frozen=True)
class Finding:
    """One credential at one place. `secret` is redacted unless the Scanner was built with show_secrets."""

    rule_id: str
    description: str
    severity: str
    secret: str
    fingerprint: str
    path: str
    line: int
    column: int
    source: str  # file | blob | staged | commit-message | text
    checksum: str  # valid | invalid | none
    encoding: str = "plain"
    tags: tuple[str, ...] = ()
    commit: str | None = None
    author: str | None = None
    date: str | None = None
    refs: tuple[str, ...] = ()
    at_head: bool | None = None
    verification: str = "not-checked"  # live | inactive | invalid | unknown | not-checked
    verification_detail: str = ""
    remediation: str = ""  # what to do, with the vendor's documented page where known
    _internal: _Finding | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Result:
    findings: tuple[Finding, ...]
    warnings: tuple[Warning, ...]
    report: Report = field(repr=False, compare=False)

    def exit_code(self, fail_on: str = "any", allow_unknown: bool = False, fail_on_incomplete: bool = False) -> int:
        """The exit code the command line would give: 0 clean, 1 the gate fails."""
        return exit_code(self.report, fail_on, allow_unknown, fail_on_incomplete)


class Scanner:
    """Rules are compiled once here; reuse one Scanner for many scans."""

    def __init__(self, rule_files: Sequence[str] = (), *, decode_depth: int = 2, hide_invalid_checksum: bool = False,
                 show_secrets: bool = False, jobs: int = 1, suppress: bool = True,
                 baseline: str | None = None) -> None:
        self.show_secrets = show_secrets
        self._opts: dict[str, Any] = {
            "rule_files": tuple(rule_files), "decode_depth": decode_depth, "jobs": jobs, "baseline": baseline,
            "hide_invalid_checksum": hide_invalid_checksum, "no_suppress": not suppress}
        self._built = build_engine(self._options())

    def _options(self) -> ScanOptions:
        return ScanOptions(**self._opts)

    @property
    def rules(self) -> list[str]:
        return [r.id for r in self._built[0]]

    def scan_bytes(self, data: bytes, path: str = "<bytes>") -> Result:
        rules, engine = self._built
        warnings: list[Warning] = []
        chunk = Chunk(data, path, "text")
        found = scan_chunk(engine, chunk, warnings)
        result = ScanResult(found, warnings, len(data), 1, 0.0)
        opts = self._options()
        inline = None if opts.no_suppress else Suppressor(report_stale=False)  # `tokenscan:allow` comments
        return self._result(to_report("scan", path, result, rules, opts, inline))

    def scan_text(self, text: str, path: str = "<text>") -> Result:
        return self.scan_bytes(text.encode("utf-8", "surrogateescape"), path)

    def scan_file(self, path: str | os.PathLike[str]) -> Result:
        return self.scan_path(path)

    def scan_path(self, *paths: str | os.PathLike[str], exclude: Iterable[str] = (), gitignore: bool = True,
                  archive_depth: int | None = None) -> Result:
        opts = self._options()
        if archive_depth is not None:
            opts.archive_depth = archive_depth
        return self._result(scan_paths([os.fspath(p) for p in paths] or ["."], opts, tuple(exclude), gitignore))

    def scan_repo(self, path: str | os.PathLike[str] = ".", *, since: str | None = None, branch: str | None = None,
                  max_commits: int | None = None) -> Result:
        """Git history: every blob reachable from every ref once (or `since..HEAD`), plus commit messages."""
        return self._result(history_scan(os.fspath(path), self._options(), branch, since, max_commits,
                                         built=self._built))

    def scan_staged(self, path: str | os.PathLike[str] = ".") -> Result:
        return self._result(staged_scan(os.fspath(path), self._options()))

    def verify(self, result: Result, **verify_options: Any) -> Result:
        """Opt-in: sends each distinct secret to its own vendor's "who am I" endpoint (keyword arguments are
        scanner.verify.VerifyOptions fields, e.g. timeout=5.0). Returns the result with statuses filled in."""
        from scanner.verify import VerifyOptions
        from scanner.verify.scheduler import verify_findings

        found, _ = verify_findings(result.report.findings, VerifyOptions(**verify_options))
        return self._result(replace(result.report, findings=found))  # the given result stays as it was

    def render(self, result: Result, fmt: str = "text") -> str:
        """The report as the command line writes it: text, json, jsonl, sarif or html."""
        return _render(result.report, fmt, self.show_secrets)

    def _result(self, report: Report) -> Result:
        return Result(tuple(self._public(f) for f in report.findings), tuple(report.warnings), report)

    def _public(self, f: _Finding) -> Finding:
        return Finding(
            rule_id=f.rule_id, description=f.description, severity=f.severity,
            secret=f.secret if self.show_secrets else redact(f.secret, f.prefix), fingerprint=f.fingerprint,
            path=f.path, line=f.line, column=f.column, source=f.source, checksum=f.checksum, encoding=f.encoding,
            tags=tuple(f.tags), commit=f.commit, author=f.author, date=f.date, refs=tuple(f.refs), at_head=f.at_head,
            verification=f.verification.status, verification_detail=f.verification.detail,
            remediation=advice_line(f.rule_id), _internal=f)
