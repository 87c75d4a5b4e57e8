"""The click side of what every command shares: the report options, and typed settings from click's
keywords. Applying the project config and writing the report are in scanner/cli/shared.py (no click). No
command lives here."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Callable, TypeVar

import click

from scanner.pipeline.config import CommonSettings
from scanner.report.formats import FORMATS

T = TypeVar("T", bound=CommonSettings)


def parse_size(value: str) -> int:
    """--max-file-size: config.parse_size's rule, as click's error."""
    from scanner.pipeline.config import parse_size

    try:
        return parse_size(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def report_options(fn: Callable) -> Callable:
    """Options every scanning command shares: rules, output, gate."""
    opts = [
        click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
                     help="Report format."),
        click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
                     help="Write the report to FILE (mode 0600 when it holds unredacted secrets)."),
        click.option("--rules", "rule_files", multiple=True, type=click.Path(dir_okay=False),
                     help="Extra rule file (TOML); repeatable."),
        click.option("--show-secrets", is_flag=True, help="Print secrets in full (default: redacted)."),
        click.option("--hide-invalid-checksum", is_flag=True,
                     help="Leave out candidates whose checksum fails (listed by default; they never fail the gate)."),
        click.option("--fail-on", type=click.Choice(["any", "live", "none"]), default="any",
                     show_default=True, help="Which findings make the exit code 1."),
        click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
                     help="Worker processes (default and maximum: number of cores)."),
        click.option("--force-jobs", is_flag=True, help="Allow --jobs above the number of cores."),
        click.option("--list-skipped", is_flag=True,
                     help="Name every file skipped by design (binary, symlink); by default they are counted."),
        click.option("--fail-on-incomplete", is_flag=True,
                     help="Exit 1 when anything could not be scanned (unreadable, corrupt, missing objects)."),
        click.option("--only-live", is_flag=True,
                     help="Report only findings verification found live (with --verify; every verified vendor)."),
        click.option("--allow-unknown", is_flag=True,
                     help="With --fail-on live: pass when verification could not decide (default: fail)."),
        click.option("--no-color", is_flag=True, help="Never colour the text report."),
        click.option("--config", "config_file", type=click.Path(dir_okay=False),
                     help="Config file (default: .tokenscan.toml or [tool.tokenscan] in pyproject.toml at the root)."),
        click.option("--baseline", type=click.Path(dir_okay=False),
                     help="Suppress the findings recorded in this baseline file (see `baseline create`)."),
        click.option("--ignore-file", type=click.Path(dir_okay=False),
                     help="Ignore file (default: .tokenscanignore at the scanned root)."),
        click.option("--no-suppress", is_flag=True, help="Show everything: ignore inline allows, ignore file, baseline."),
        click.option("--archive-depth", type=click.IntRange(0, 5), default=2, show_default=True,
                     help="Levels of archives opened (zip, jar, whl, docx/xlsx/pptx, tar, tar.gz, gz, bz2, xz); 0: none."),
        click.option("--decode-depth", type=click.IntRange(0, 4), default=2, show_default=True,
                     help="How many encodings deep to look (base64, URL, JSON escapes); 0 turns decoding off."),
        click.option("--verify", is_flag=True,
                     help="Ask the vendor whether each finding is live (sends the secret to the vendor's API)."),
        click.option("--cloudflare-api-base", metavar="URL",
                     help="Cloudflare API base (https, or http on loopback; env TOKENSCAN_CLOUDFLARE_API_BASE)."),
        click.option("--cloudflare-email", metavar="EMAIL", help="E-mail to pair with global API keys."),
        click.option("--cloudflare-account-id", metavar="ID", help="Account id to verify account tokens with."),
        click.option("--verify-timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
                     help="Seconds per verification request."),
        click.option("--verify-concurrency", type=click.IntRange(min=1, max=32), default=4, show_default=True,
                     help="Verification requests in flight at once."),
        click.option("--verify-budget", type=click.FloatRange(min=1), default=120.0, show_default=True,
                     help="Seconds all verification may take; what is left is reported unknown."),
        click.option("--quiet", "-q", is_flag=True, help="Print nothing when there are no findings."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def settings_of(cls: type[T], values: dict[str, Any]) -> T:
    """The command's typed settings from click's parameters, noting which the command line gave."""
    ctx = click.get_current_context()
    unknown = set(values) - {f.name for f in fields(cls)}
    if unknown:  # a parameter the settings type does not carry would be silently lost
        raise TypeError(f"{cls.__name__} has no field for {', '.join(sorted(unknown))}")
    given = {n for n in values if ctx.get_parameter_source(n) not in (click.core.ParameterSource.DEFAULT, None)}
    settings: T = cls.of(values, given)
    return settings
