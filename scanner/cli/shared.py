"""What every command does around its scan, without click: the project config applied to the command's
settings, ScanOptions built from both, and the report written with the gate's exit code. The click
commands and the pre-commit hook's lean path (scanner/cli/precommit.py) both run these."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, Callable

from scanner.errors import UsageError

if TYPE_CHECKING:
    from scanner.pipeline.config import CommonSettings
    from scanner.pipeline.run import ScanOptions
    from scanner.report import Report

CLOSED: set[str] = set()  # standard streams the process was started without


def scan_options(s: CommonSettings, progress_label: str | None = None) -> ScanOptions:
    """ScanOptions for the app from a command's settings (config file already applied)."""
    from scanner.pipeline.run import ScanOptions
    from scanner.pipeline.workers import default_jobs

    opts = ScanOptions(rule_files=tuple(s.rule_files), unverified_rule_files=tuple(s.config_rule_files),
                       hide_invalid_checksum=s.hide_invalid_checksum,
                       baseline=s.baseline, ignore_file=s.ignore_file, no_suppress=s.no_suppress,
                       decode_depth=s.decode_depth, list_skipped=s.list_skipped, archive_depth=s.archive_depth)
    if progress_label and not s.quiet:
        from scanner.pipeline.progress import progress_for

        opts.progress = progress_for(progress_label)
    if s.jobs:  # more workers than cores only adds switching and memory (200 made a scan 7x slower)
        opts.jobs = s.jobs if s.force_jobs else min(s.jobs, default_jobs())
    if s.verify or s.force_verify or os.environ.get("TOKENSCAN_VERIFY", "") in ("1", "true", "yes"):
        from scanner.verify.options import VerifyOptions, api_base_from

        opts.verify = VerifyOptions(
            cloudflare_api_base=api_base_from(s.cloudflare_api_base), cloudflare_email=s.cloudflare_email,
            cloudflare_account_id=s.cloudflare_account_id, concurrency=s.verify_concurrency,
            timeout=s.verify_timeout, budget=s.verify_budget)
    return opts


def scan_options_from(kw: dict) -> ScanOptions:
    """scan_options() for callers that still hold click's keyword dict (the audit command)."""
    from scanner.pipeline.config import CommonSettings

    return scan_options(CommonSettings.of(kw), kw.get("progress_label"))


def write_output(text: str, output: str | None, secret_bearing: bool) -> None:
    if output is None:
        if "stdout" in CLOSED:
            raise UsageError("standard output is closed: give --output FILE for the report")
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:  # /dev/full, a closed descriptor: say so once, and never again at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise UsageError(f"cannot write the report to standard output: {exc.strerror or exc}") from None
        return
    try:
        if secret_bearing:  # owner-only from the first byte, not chmod after the fact
            if os.path.isfile(output):  # an existing report: narrow it before writing secrets into it
                os.chmod(output, 0o600)
            fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        else:
            fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise UsageError(f"--output {output}: {exc.strerror}") from None


def configure(s: CommonSettings, root: str, label: str | None = None, base_rev: str | None = None) -> ScanOptions:
    """Apply the project config to s (command line wins) and build ScanOptions. For a review (base_rev),
    the repository's config, ignore file and baseline are read as they are at the base."""
    from scanner.pipeline.config import apply_config, find_config
    from scanner.pipeline.policy import PolicyFiles

    check_output(s.output)
    policy = PolicyFiles(root, base_rev)
    file_settings, source, extra_rules = find_config(s.config_file, root, policy)
    notes = apply_config(s, file_settings, source)
    opts = scan_options(s, label)
    opts.extra_rules = tuple(extra_rules)
    opts.policy = policy
    opts.notes.extend(notes)
    if s.only_live and opts.verify is None:  # before the scan: a usage error must not cost its work
        raise UsageError("--only-live needs --verify (or TOKENSCAN_VERIFY=1): nothing would be verified")
    if base_rev:
        opts.notes.append(f"config, ignore file and baseline read as of {base_rev} (the base under review)")
    return opts


def check_output(output: str | None) -> None:
    """-o is checked before the scan: a typo must not cost the whole scan's work."""
    if not output:
        return
    folder = os.path.dirname(os.path.abspath(output))
    if os.path.isdir(output):
        raise UsageError(f"--output {output}: is a directory")
    if not os.path.isdir(folder):
        raise UsageError(f"--output {output}: folder {folder} does not exist")
    if not os.access(output if os.path.exists(output) else folder, os.W_OK):
        raise UsageError(f"--output {output}: not writable")


def emit(report: Report, s: CommonSettings) -> None:
    """Print or write the report and exit with the gate's code."""
    from scanner.pipeline.run import exit_code
    from scanner.report import render

    if s.only_live:  # checked in configure(): verification was on
        report.findings = [f for f in report.findings if f.verification.status == "live"]
    color = (s.fmt == "text" and s.output is None and not s.no_color and "NO_COLOR" not in os.environ
             and sys.stdout.isatty())
    if not (s.quiet and not report.findings and s.fmt == "text"):
        write_output(render(report, s.fmt, s.show_secrets, color), s.output, s.show_secrets)
    sys.exit(exit_code(report, s.fail_on, s.allow_unknown, s.fail_on_incomplete))


def run_closing(opts: Any, fn: Callable, *args: Any) -> Any:
    """Call a scan with the progress line cleared afterwards, whatever happens."""
    try:
        return fn(*args)
    finally:
        if opts.progress is not None:
            opts.progress.close()



def repo_root(path: str) -> str:
    """Where a repository's config lives: its work tree (or the git dir of a bare one). Found in Python
    (scanner.sources.repoview.top_level), so neither git nor libgit2 reads the scanned repository's config
    (and a pre-commit run does not pay pygit2's import)."""
    from scanner.sources.repoview import top_level

    return top_level(path)
