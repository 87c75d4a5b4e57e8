"""`tokenscan audit` and `tokenscan triage`: organisation-scale audits over a datastore (scanner/audit/).

Registered on the main group by scanner/cli/group.py; everything heavy is imported
inside the commands, so `tokenscan staged` (pre-commit) pays nothing for them.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from scanner.audit.datastore import SHOWN_STATUSES, STATUSES, triage_user
from scanner.cli.options import report_options
from scanner.cli.shared import check_output, scan_options_from, write_output
from scanner.errors import UsageError


def _datastore_option(fn: Any) -> Any:
    return click.option("--datastore", metavar="PATH", default=None,
                        help="SQLite datastore (default: $XDG_DATA_HOME/tokenscan/datastore.db; :memory: for a "
                             "throwaway run).")(fn)


def _open_store(path: str | None) -> Any:
    from scanner.audit.datastore import Datastore, default_path

    return Datastore(path or default_path())


@contextmanager
def _store(path: str | None, must_exist: bool = False) -> Iterator[Any]:
    """The datastore for one command, closed afterwards; a file damaged past what opening it checks (a
    corrupt page met later) is exit 2 naming it, never a traceback. must_exist: commands that only read
    (or change a decision about a finding an audit recorded) do not create an empty datastore for a typo."""
    from scanner.audit.datastore import default_path

    where = path or default_path()
    if must_exist and where != ":memory:" and not os.path.exists(where):
        raise UsageError(f"--datastore {where}: no datastore there (run `tokenscan audit` first)")
    store = None
    try:
        store = _open_store(path)
        yield store
    except sqlite3.DatabaseError as exc:
        raise UsageError(f"--datastore {where}: {exc} (a damaged datastore?)") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        # a flipped byte inside a row (text that is not UTF-8, a stored report that is not JSON) reads back
        # as data no code path expects: the file is damaged, said as such
        raise UsageError(f"--datastore {where}: a row cannot be read ({type(exc).__name__}: {str(exc)[:120]}; "
                         "a damaged datastore? PRAGMA integrity_check tells)") from None
    finally:
        if store is not None:
            store.close()


@click.command()
@click.argument("targets", nargs=-1)
@click.option("--targets-file", metavar="FILE", help="Paths or git URLs, one per line (# comments); - for stdin.")
@_datastore_option
@click.option("--cache-dir", metavar="DIR", default=None,
              help="Where git URLs are cloned (bare, blobless) and fetched next time "
                   "(default: $XDG_CACHE_HOME/tokenscan/repos).")
@click.option("--include-binary", is_flag=True, help="Scan blobs with NUL bytes in their first 8 KiB.")
@click.option("--dask-scheduler", metavar="ADDRESS",
              help="Run one task per repository on this Dask scheduler (needs the 'dask' extra).")
@click.option("--dask-local", type=click.IntRange(min=1), metavar="N",
              help="Start a local Dask cluster of N worker processes (needs the 'dask' extra).")
@click.option("--full", is_flag=True,
              help="Read every blob and commit message again, even of unchanged repositories and of history an "
                   "earlier audit covered (default: only what is new since the datastore's last scans).")
@click.option("--forks/--no-forks", default=False, show_default=True,
              help="github:/gitlab: targets: audit forks too (they mostly repeat their upstream's history).")
@click.option("--archived/--no-archived", default=True, show_default=True,
              help="github:/gitlab: targets: audit archived repositories.")
@click.option("--github-api-url", metavar="URL", default="https://api.github.com", show_default=True,
              help="GitHub's REST API (GitHub Enterprise Server: https://HOST/api/v3).")
@click.option("--gitlab-url", metavar="URL", default="https://gitlab.com", show_default=True,
              help="The GitLab instance of gitlab: targets (self-managed: https://HOST).")
@click.option("--forge-max-wait", type=click.FloatRange(min=0), default=900.0, show_default=True, metavar="SECONDS",
              help="The longest wait for a forge's rate limit to reset; beyond it the listing is incomplete.")
@report_options
def audit(targets: tuple[str, ...], targets_file: str | None, datastore: str | None, cache_dir: str | None,
          include_binary: bool, dask_scheduler: str | None, dask_local: int | None, full: bool, forks: bool,
          archived: bool, github_api_url: str, gitlab_url: str, forge_max_wait: float, **kw: Any) -> None:
    """Audit the full history of many repositories: paths, folders of repositories (found recursively, bare
    ones too), --targets-file lists, git URLs, and every repository of a GitHub organisation or user
    (github:NAME) or a GitLab group with its subgroups (gitlab:GROUP/PATH), private ones with GITHUB_TOKEN /
    GITLAB_TOKEN. Findings, scanned blobs and triage go in the datastore; blobs already scanned under the
    same rules are not read again. Exit 1 on open findings only."""
    from scanner.audit.report import render_json, render_text
    from scanner.audit.runner import AuditProgress, gate_report, run_audit
    from scanner.audit.targets import default_cache_dir, read_targets_file, resolve
    from scanner.pipeline.run import exit_code

    if kw["fmt"] not in ("text", "json"):
        raise UsageError(f"--format {kw['fmt']}: audit reports are text or json")
    if kw["config_file"]:
        raise UsageError("--config: an audit is configured on its command line (each repository's ignore file "
                         "and inline allows still apply)")
    if dask_scheduler and dask_local:
        raise UsageError("--dask-scheduler and --dask-local: give one of them")
    executor = None
    if dask_scheduler or dask_local:
        from scanner.audit.distributed import DaskExecutor

        executor = DaskExecutor(dask_scheduler, dask_local)
    check_output(kw["output"])
    listed = read_targets_file(targets_file) if targets_file else []
    if not targets and not targets_file:
        raise UsageError("audit: give TARGETs (paths, folders of repositories, git URLs) or --targets-file")
    from scanner.audit.forges import ForgeOptions, forge_tokens
    from scanner.verify.options import check_api_base

    forge_opts = ForgeOptions(check_api_base(github_api_url, "--github-api-url"),
                              check_api_base(gitlab_url, "--gitlab-url"), forks, archived,
                              max_wait=forge_max_wait, tokens=forge_tokens())
    warnings: list[str] = []
    notes: list[str] = []
    gaps: list[str] = []
    resolved = resolve(targets, listed, warnings, forges=forge_opts, notes=notes, gaps=gaps)
    kw["progress_label"] = None
    opts = scan_options_from(kw)
    progress = AuditProgress(len(resolved)) if sys.stderr.isatty() and not kw["quiet"] else None
    with _store(datastore) as store:
        result = run_audit(resolved, opts, store, cache_dir=cache_dir or default_cache_dir(),
                           include_binary=include_binary, show_secrets=kw["show_secrets"], verify=opts.verify,
                           executor=executor, progress=progress, warnings=warnings, full=full, notes=notes,
                           gaps=gaps)
    gate = gate_report(result)
    from scanner.audit.datastore import default_path

    where = datastore or default_path()
    if not (kw["quiet"] and not result.findings and kw["fmt"] == "text"):
        text = (render_json if kw["fmt"] == "json" else render_text)(result, kw["show_secrets"], where)
        write_output(text, kw["output"], kw["show_secrets"])
    code = exit_code(gate, kw["fail_on"], kw["allow_unknown"], kw["fail_on_incomplete"])
    if code == 0 and result.not_scanned:  # a gate that scanned less than it was given never passes
        n, total = len(result.not_scanned), len(result.not_scanned) + sum(1 for r in result.results if not r.error)
        click.echo(f"tokenscan: error: {n} of {total} targets could not be scanned: {result.not_scanned[0]}"
                   + (f" (and {n - 1} more, listed in the report)" if n > 1 else ""), err=True)
        code = 2
    sys.exit(code)


@click.group()
def triage() -> None:
    """Finding statuses in the datastore: list, set (kept across rescans), export as a baseline for CI
    gates, import from a baseline."""


@triage.command("list")
@_datastore_option
@click.option("--status", type=click.Choice(SHOWN_STATUSES),
              help="Only findings with this status (revoked-but-live: marked revoked, verified live since).")
@click.option("--repository", metavar="TEXT", help="Only findings in a repository whose name contains TEXT.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def triage_list(datastore: str | None, status: str | None, repository: str | None, fmt: str) -> None:
    """Every finding (redacted), its status and note, and the repositories holding it at their last scan."""
    with _store(datastore, must_exist=True) as store:
        rows = store.triage_list(status, repository)
    if fmt == "json":
        click.echo(json.dumps({"schema": "tokenscan.triage/1", "findings": rows}, indent=2, ensure_ascii=False))
        return
    for r in rows:
        note = f"  ({r['note']})" if r["note"] else ""
        click.echo(f"{r['fingerprint'][:16]}  {r['status']:14} {r['severity']:8} {r['rule_id']:36} {r['secret']}  "
                   f"{r['places']} place{'s' if r['places'] != 1 else ''} in {', '.join(r['repositories']) or '-'}"
                   f"{note}")
    if not rows:
        click.echo("no findings", err=True)


@triage.command("set")
@click.argument("fingerprint")
@click.argument("status", type=click.Choice(["open", "false-positive", "revoked", "accepted-risk", "fixed"]))
@click.option("--note", help="Why (kept with the status; the previous note stays when omitted).")
@_datastore_option
def triage_set(fingerprint: str, status: str, note: str | None, datastore: str | None) -> None:
    """Set a finding's status: FINGERPRINT is the 16 hex characters reports print (or all 64)."""
    from scanner.audit.datastore import check_fingerprint

    check_fingerprint(fingerprint)  # a typo is named before a missing datastore is
    with _store(datastore, must_exist=True) as store:
        found = store.triage_set(fingerprint, status, note, triage_user())
    click.echo(f"{found[0][:16]}: {status}")


@triage.command("export")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False),
              help="Baseline file to write (schema tokenscan.baseline/1; no secrets).")
@click.option("--repository", metavar="TEXT", help="Only places in repositories whose name contains TEXT (one "
              "repository's CI gate then reports no stale entries for the others).")
@_datastore_option
def triage_export(output: str, repository: str | None, datastore: str | None) -> None:
    """Write every triage decision (every status but open) as a baseline: `history --baseline FILE` in CI
    then suppresses what the audit's triage settled. Decisions a later verification contradicts
    (revoked-but-live) are left out: they must keep failing."""
    from scanner.findings import Finding
    from scanner.findings.suppress import baseline_document

    check_output(output)
    with _store(datastore, must_exist=True) as store:
        rows = store.findings_view(repository=repository)
    decided = [r for r in rows if r["status"] in STATUSES and r["status"] != "open"]
    contradicted = [r for r in rows if r["status"].endswith("-but-live")]
    findings = [Finding(r["rule_id"], r["description"], r["severity"], "", r["fingerprint"], p["path"], p["line"],
                        p["column"], source=p["source"], commit=p["commit"])
                for r in decided for p in r["places"] if not repository or repository in p["repository"]]
    write_output(baseline_document(findings), output, secret_bearing=False)
    left = f"; {len(contradicted)} left out: marked revoked/fixed/false-positive but verified live since" \
        if contradicted else ""
    click.echo(f"triage export: {len(decided)} decisions, {len(findings)} places, written to {output}{left}", err=True)


@triage.command("import")
@click.argument("baseline_file", metavar="FILE", type=click.Path(dir_okay=False))
@click.option("--status", type=click.Choice([s for s in STATUSES if s != "open"]), default="accepted-risk",
              show_default=True, help="The decision each fingerprint in FILE gets.")
@click.option("--note", default=None, help="Kept with each decision (default: where it came from).")
@_datastore_option
def triage_import(baseline_file: str, status: str, note: str | None, datastore: str | None) -> None:
    """Read a baseline (`baseline create`, `triage export`) as triage decisions: its fingerprints become
    `--status` (default accepted-risk), also for secrets no audit has seen yet. Findings already decided
    keep their decision."""
    from scanner.findings.suppress import load_baseline

    try:
        base = load_baseline(baseline_file)
    except UsageError as exc:
        raise UsageError(str(exc).replace("--baseline ", "triage import: ", 1)) from None
    fps = {e["fingerprint"]: e["rule_id"] for e in base.entries}
    with _store(datastore) as store:
        counts = store.triage_import(fps, status, note if note is not None else f"imported from {baseline_file}",
                                     triage_user())
    click.echo(f"triage import: {len(fps)} fingerprints from {baseline_file}: {counts['set']} set to {status}, "
               f"{counts['added']} not seen yet (recorded), {counts['kept']} already decided (kept)", err=True)


@click.command("findings")
@_datastore_option
@click.option("--status", type=click.Choice(SHOWN_STATUSES), help="Only secrets with this status.")
@click.option("--rule", metavar="RULE", help="Only secrets found by this rule id.")
@click.option("--repository", metavar="TEXT", help="Only secrets in a repository whose name contains TEXT.")
@click.option("--verification", type=click.Choice(["live", "inactive", "invalid", "unknown", "not-checked"]),
              help="Only secrets whose last verification said this.")
@click.option("--since", metavar="DATE", help="Only secrets first committed on or after DATE (ISO, e.g. 2026-03-01).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "html"]), default="text",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report to FILE.")
@click.option("--show-secrets", is_flag=True,
              help="Secrets in full where an audit stored them (--show-secrets audits); redacted otherwise.")
def findings(datastore: str | None, status: str | None, rule: str | None, repository: str | None,
             verification: str | None, since: str | None, fmt: str, output: str | None, show_secrets: bool) -> None:
    """Every secret in the datastore across all audited repositories: one entry per secret with all its
    places, live credentials first. Reads only the datastore (run `audit` first); exit 0."""
    from scanner.audit.datastore import default_path, parse_since
    from scanner.audit.views import render

    when = parse_since(since) if since else None
    check_output(output)
    with _store(datastore, must_exist=True) as store:
        rows = store.findings_view(status=status, rule=rule, repository=repository, verification=verification,
                                   since=when, show_secrets=show_secrets)
    write_output(render(rows, fmt, datastore or default_path()), output, secret_bearing=show_secrets)
