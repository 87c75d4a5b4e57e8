"""What each command does, as plain functions: source -> engine -> findings -> report.

The CLI parses options into ScanOptions and calls these; tests call them directly too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from scanner.engine import Engine
from scanner.findings import Finding, dedupe
from scanner.report import Report
from scanner.rules import Rule, load_rules
from scanner.scan import ScanResult, default_jobs


@dataclass
class ScanOptions:
    rule_files: tuple[str, ...] = ()
    include_invalid_checksum: bool = False
    jobs: int = field(default_factory=default_jobs)
    accelerated: bool | None = None  # None: Hyperscan when importable
    progress: Callable[[int, int], None] | None = None


def build_engine(opts: ScanOptions) -> tuple[list[Rule], Engine]:
    rules = load_rules(opts.rule_files)
    return rules, Engine(rules, opts.accelerated)


def finish(findings: list[Finding], opts: ScanOptions) -> list[Finding]:
    """Policy applied to raw findings: drop bad-checksum candidates unless asked, one per place."""
    if not opts.include_invalid_checksum:
        findings = [f for f in findings if f.checksum != "invalid"]
    return dedupe(findings)


def to_report(mode: str, target: str, result: ScanResult, rules: list[Rule], opts: ScanOptions) -> Report:
    return Report(mode=mode, target=target, findings=finish(result.findings, opts), warnings=result.warnings,
                  bytes_scanned=result.bytes_scanned, items_scanned=result.items_scanned,
                  duration_s=result.duration_s, rules=len(rules))


def scan_paths(paths: list[str], opts: ScanOptions, excludes: tuple[str, ...] = (), gitignore: bool = True,
               max_file_size: int = 10 << 20, include_binary: bool = False) -> Report:
    from scanner import scan
    from scanner.sources.files import FileReader, walk

    rules, engine = build_engine(opts)
    items, warnings = walk(paths, excludes, gitignore)
    reader = FileReader(max_file_size, include_binary)
    result = scan.run(engine, reader, items, lambda i: i.size, opts.jobs, opts.progress)
    result.warnings[:0] = warnings
    return to_report("scan", ", ".join(paths), result, rules, opts)


def exit_code(findings: list[Finding], fail_on: str) -> int:
    gating = [f for f in findings if f.gating]
    if fail_on == "none":
        return 0
    if fail_on == "live":
        return int(any(f.verification.status == "live" for f in gating))
    return int(bool(gating))
