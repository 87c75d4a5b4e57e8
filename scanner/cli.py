"""Command line: parse options into the command's typed settings (scanner.config: ScanSettings,
HistorySettings, ...), apply the project config to them, build ScanOptions, call scanner.app, print.
No scanning logic lives here, and nothing past parsing sees click's keyword dict."""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import fields
from typing import TYPE_CHECKING, Any, Callable, TypeVar

import click

from scanner import __version__
from scanner.config import (
    BaselineSettings,
    CommonSettings,
    HistorySettings,
    ScanSettings,
    StagedSettings,
    VerifySettings,
)
from scanner.errors import UsageError
from scanner.report.formats import FORMATS

if TYPE_CHECKING:
    from scanner.app import ScanOptions
    from scanner.report import Report

T = TypeVar("T", bound=CommonSettings)

_CLOSED: set[str] = set()  # standard streams the process was started without


class Terminated(BaseException):
    """SIGTERM (CI cancel, `timeout`, `docker stop`) unwinds like Ctrl-C: workers and git helpers are ended
    and waited for on the way out, so nothing is left holding the caller's pipes."""


def _on_sigterm(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once is enough: the unwinding must not be interrupted
    raise Terminated()


class _Group(click.Group):
    """Turns UsageError (bad input, named precisely) into one stderr line and exit 2, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            click.echo(f"tokenscan: error: {exc}", err=True)
            ctx.exit(2)
        except KeyboardInterrupt:
            click.echo("tokenscan: interrupted", err=True)
            ctx.exit(130)
        except Terminated:
            click.echo("tokenscan: terminated", err=True)
            ctx.exit(143)
        except BrokenPipeError:  # `tokenscan ... | head`: the reader left; say nothing more
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(1)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except Exception as exc:  # a bug: say so briefly; TOKENSCAN_DEBUG=1 shows the traceback
            if os.environ.get("TOKENSCAN_DEBUG"):
                raise
            click.echo(f"tokenscan: internal error: {type(exc).__name__}: {exc}", err=True)
            ctx.exit(2)


def _size(value: str) -> int:
    """--max-file-size: config.parse_size's rule, as click's error."""
    from scanner.config import parse_size

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
        click.option("--include-invalid-checksum", is_flag=True,
                     help="Also report candidates whose checksum fails (never fail the gate on their own)."),
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


def scan_options(s: CommonSettings, progress_label: str | None = None) -> ScanOptions:
    """ScanOptions for the app from a command's settings (config file already applied)."""
    from scanner.app import ScanOptions
    from scanner.scan import default_jobs

    opts = ScanOptions(rule_files=tuple(s.rule_files), unverified_rule_files=tuple(s.config_rule_files),
                       include_invalid_checksum=s.include_invalid_checksum,
                       baseline=s.baseline, ignore_file=s.ignore_file, no_suppress=s.no_suppress,
                       decode_depth=s.decode_depth, list_skipped=s.list_skipped, archive_depth=s.archive_depth)
    if progress_label and not s.quiet:
        from scanner.progress import progress_for

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


def _scan_options(kw: dict) -> ScanOptions:
    """scan_options() for callers that still hold click's keyword dict (the audit command)."""
    return scan_options(CommonSettings.of(kw), kw.get("progress_label"))


def _write(text: str, output: str | None, secret_bearing: bool) -> None:
    if output is None:
        if "stdout" in _CLOSED:
            raise UsageError("standard output is closed: give --output FILE for the report")
        try:
            click.echo(text, nl=False)
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
    from scanner.config import apply_config, find_config
    from scanner.policy import PolicyFiles

    _check_output(s.output)
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


def _check_output(output: str | None) -> None:
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
    from scanner.app import exit_code
    from scanner.report import render

    if s.only_live:  # checked in configure(): verification was on
        report.findings = [f for f in report.findings if f.verification.status == "live"]
    color = (s.fmt == "text" and s.output is None and not s.no_color and "NO_COLOR" not in os.environ
             and sys.stdout.isatty())
    if not (s.quiet and not report.findings and s.fmt == "text"):
        _write(render(report, s.fmt, s.show_secrets, color), s.output, s.show_secrets)
    sys.exit(exit_code(report, s.fail_on, s.allow_unknown, s.fail_on_incomplete))


def _settings(cls: type[T], values: dict[str, Any]) -> T:
    """The command's typed settings from click's parameters, noting which the command line gave."""
    ctx = click.get_current_context()
    unknown = set(values) - {f.name for f in fields(cls)}
    if unknown:  # a parameter the settings type does not carry would be silently lost
        raise TypeError(f"{cls.__name__} has no field for {', '.join(sorted(unknown))}")
    given = {n for n in values if ctx.get_parameter_source(n) not in (click.core.ParameterSource.DEFAULT, None)}
    settings: T = cls.of(values, given)
    return settings


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tokenscan")
def cli() -> None:
    """tokenscan: find leaked credentials with certainty (prefix + checksum) and say whether they are live.

    Exit codes: 0 no findings, 1 findings, 2 usage or runtime error.
    """


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=False))
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip paths matching GLOB (gitignore syntax).")
@click.option("--no-gitignore", is_flag=True, help="Scan files that .gitignore excludes too.")
@click.option("--include-binary", is_flag=True, help="Scan files with NUL bytes in their first 8 KiB.")

@click.option("--max-file-size", default="10M", show_default=True, callback=lambda c, p, v: _size(v),
              help="Files larger than this are streamed in overlapping windows.")
@report_options
def scan(**params: Any) -> None:
    """Scan files on disk (default: the current directory)."""
    from scanner.app import scan_paths

    s = _settings(ScanSettings, params)
    roots = list(s.paths) or ["."]
    opts = configure(s, roots[0], "scanning files")
    emit(_run(opts, scan_paths, roots, opts, s.exclude, not s.no_gitignore, s.max_file_size, s.include_binary), s)


def _run(opts: Any, fn: Callable, *args: Any) -> Any:
    """Call a scan with the progress line cleared afterwards, whatever happens."""
    try:
        return fn(*args)
    finally:
        if opts.progress is not None:
            opts.progress.close()


@cli.command()
@click.argument("repo", default=".", type=click.Path())
@click.option("--branch", metavar="REF", help="Only REF's ancestry (default: every ref, tag and stash).")
@click.option("--since", metavar="REV", help="Only commits not reachable from REV (CI: --since origin/main).")
@click.option("--max-commits", type=click.IntRange(min=1), help="Scan at most N commits (newest first).")
@click.option("--include-binary", is_flag=True, help="Scan blobs with NUL bytes in their first 8 KiB.")
@report_options
def history(**params: Any) -> None:
    """Scan git history: every blob reachable from any ref once, plus every commit message."""
    from scanner.app import history_scan

    s = _settings(HistorySettings, params)
    opts = configure(s, _repo_root(s.repo), "scanning history", base_rev=s.since)
    emit(_run(opts, history_scan, s.repo, opts, s.branch, s.since, s.max_commits, s.include_binary), s)


def _repo_root(path: str) -> str:
    """Where a repository's config lives: its work tree (or the git dir of a bare one). Found in Python
    (scanner.sources.repoview.top_level), so neither git nor libgit2 reads the scanned repository's config
    (and a pre-commit run does not pay pygit2's import)."""
    from scanner.sources.repoview import top_level

    return top_level(path)


@cli.command()
@click.argument("repo", default=".", type=click.Path())
@report_options
def staged(**params: Any) -> None:
    """Scan what `git commit` would add (index against HEAD); for pre-commit hooks."""
    from scanner.app import staged_scan

    s = _settings(StagedSettings, params)
    report = staged_scan(s.repo, configure(s, _repo_root(s.repo)))
    if report.findings and s.fmt == "text" and s.output is None:
        click.echo("tokenscan: credentials in staged changes; the commit was stopped.", err=True)
        click.echo("  Remove them (and rotate any real credential), or, for a false alarm, add the finding's\n"
                   "  fingerprint to .tokenscanignore or put `tokenscan:allow` in a comment on that line.",
                   err=True)
    s.quiet = s.quiet or not report.findings
    emit(report, s)


@cli.command("install-hook")
@click.argument("repo", default=".", type=click.Path())
@click.option("--force", is_flag=True, help="Replace an existing, different pre-commit hook.")
def install_hook(repo: str, force: bool) -> None:
    """Write .git/hooks/pre-commit running `tokenscan staged` (this command writes into the repository)."""
    from scanner.hook import install

    path = install(repo, force)
    click.echo(f"installed {path}")


@cli.command()
@click.argument("tokens", nargs=-1)
@report_options
def verify(**params: Any) -> None:
    """Verify credentials given as arguments, or one per line on stdin with "-".

    Exit code 1 when any is live (--fail-on any: when any is recognised).
    """
    from scanner.app import verify_tokens

    s = _settings(VerifySettings, params)
    values, given_on = list(s.tokens), "argument"
    if values == ["-"]:  # bytes: a line that is not UTF-8 is a warning naming it, not a crash
        lines = sys.stdin.buffer.read().decode("utf-8", "surrogateescape").splitlines()
        values, given_on = [line.strip() for line in lines], "stdin line"
        if not any(values):
            values = []
    if not values:
        raise UsageError("verify: give credentials as arguments, or - to read them from stdin")
    if s.fail_on == "any" and "fail_on" not in s.given:
        s.fail_on = "live"
    s.force_verify = True
    emit(verify_tokens(values, configure(s, "."), given_on), s)


@cli.group()
def baseline() -> None:
    """Record today's findings so a CI gate fails only on new leaks."""


@baseline.command("create")
@click.argument("target", default=".", type=click.Path())
@click.option("--history", "use_history", is_flag=True, help="Baseline the git history of TARGET, not its files.")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip paths matching GLOB (file scans).")
@report_options
def baseline_create(**params: Any) -> None:
    """Write the current findings of TARGET (fingerprints and places, never secrets) to --output."""
    from scanner.app import history_scan, scan_paths
    from scanner.suppress import baseline_document

    s = _settings(BaselineSettings, params)
    if not s.output:
        raise UsageError("baseline create: --output FILE is required")
    opts = configure(s, _repo_root(s.target) if s.use_history else s.target, "baselining")
    opts.baseline, opts.verify = None, None  # a baseline records everything that is there now
    if s.use_history:
        report = _run(opts, history_scan, s.target, opts)
    else:
        report = _run(opts, scan_paths, [s.target], opts, s.exclude)
    _write(baseline_document(report.findings), s.output, secret_bearing=False)
    n = len(report.findings)
    click.echo(f"baseline: {n} finding{'s' if n != 1 else ''} recorded in {s.output}", err=True)


@cli.group()
def rules() -> None:
    """List the rules, or check every rule against its own examples."""


@rules.command("list")
@click.option("--rules", "rule_files", multiple=True, type=click.Path(dir_okay=False))
def rules_list(rule_files: tuple[str, ...]) -> None:
    """Print every rule: id, severity, checksum validator, keywords."""
    from scanner.rules import load_rules

    click.echo(f"{'rule':40} {'severity':9} {'certainty':16} {'verified by':22} keywords")
    for r in load_rules(rule_files):
        check = r.validator or "shape" + ("+context" if r.context else "")
        click.echo(f"{r.id:40} {r.severity:9} {check:16} {_verified_by(r.verify):22} {', '.join(r.keywords)}")


def _verified_by(kind: str | None) -> str:
    """How `--verify` checks a rule's findings: the vendor's host, or that it is not verified."""
    if not kind:
        return "-"
    from scanner.verify.registry import get

    v = get(kind)
    return f"{v.vendor.hosts[0]}" if v is not None and v.vendor.hosts else kind


@rules.command("check")
@click.option("--rules", "rule_files", multiple=True, type=click.Path(dir_okay=False))
def rules_check(rule_files: tuple[str, ...]) -> None:
    """Run every rule on its examples (must be found) and negative examples (must not be)."""
    from scanner.rulecheck import check_rules
    from scanner.rules import load_rules

    rules_ = load_rules(rule_files)
    problems = check_rules(rules_)
    for p in problems:
        click.echo(p, err=True)
    n_ex = sum(len(r.examples) + len(r.negative_examples) for r in rules_)
    click.echo(f"{len(rules_)} rules, {n_ex} examples: {len(problems)} problem(s)")
    sys.exit(1 if problems else 0)


cli.add_command(__import__("scanner.remediate", fromlist=["remediate"]).remediate)  # `tokenscan remediate`
cli.add_command(__import__("scanner.revoke", fromlist=["revoke"]).revoke)  # `tokenscan revoke`


def main() -> None:
    for name in ("stdout", "stderr"):  # started with `>&-`: a report to -o still works; stdout is refused in _write
        if getattr(sys, name) is None:
            _CLOSED.add(name)
            setattr(sys, name, open(os.devnull, "w"))
    signal.signal(signal.SIGTERM, _on_sigterm)
    cli(prog_name="tokenscan")


import scanner.commands_audit  # noqa: E402, F401  -- registers `audit` and `triage` on cli (scanner/audit/)
