"""Reporters turn a finished Report into text; they never scan and never see unredacted secrets unless asked."""

from __future__ import annotations

from dataclasses import dataclass, field

from scanner.findings import INCOMPLETE_KINDS, Finding, Warning


@dataclass
class Report:
    mode: str  # scan | history | staged | verify
    target: str
    findings: list[Finding]
    warnings: list[Warning]
    bytes_scanned: int = 0
    items_scanned: int = 0
    duration_s: float = 0.0
    rules: int = 0
    suppressed: dict = field(default_factory=dict)  # how many findings each suppression hid
    notes: list[str] = field(default_factory=list)
    skipped: dict = field(default_factory=dict)  # kind -> count of skips by design not listed in warnings

    @property
    def incomplete(self) -> list[Warning]:
        """What could not be scanned at all (as opposed to files skipped by design, such as binaries)."""
        return [w for w in self.warnings if w.kind in INCOMPLETE_KINDS]


def render(report: Report, fmt: str, show_secrets: bool, color: bool = False) -> str:
    """The report in format fmt (a name of formats.RENDERERS); its module is imported only when used."""
    import importlib

    from scanner.report.formats import RENDERERS

    module, _, func = RENDERERS[fmt].partition(":")
    return getattr(importlib.import_module(module), func)(report, show_secrets, color)
