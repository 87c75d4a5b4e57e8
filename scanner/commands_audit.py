"""`tokenscan audit` and `tokenscan triage`: organisation-scale audits over a datastore (scanner/audit/).

Registered on the main group by one import at the end of scanner/cli.py; everything heavy is imported
inside the commands, so `tokenscan staged` (pre-commit) pays nothing for them.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from typing import Any

import click

from scanner.cli import _check_output, _scan_options, _write, cli, report_options
from scanner.errors import UsageError


def _datastore_option(fn: Any) -> Any:
    return click.option("--datastore", metavar="PATH", default=None,
                        help="SQLite datastore (default: $XDG_DATA_HOME/tokenscan/datastore.db; :memory: for a "
                             "throwaway run).")(fn)


def _open_store(path: str | None) -> Any:
    from scanner.audit.datastore import Datastore, default_path

    return Datastore(path or default_path())


@cli.command()
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
@report_options
def audit(targets: tuple[str, ...], targets_file: str | None, datastore: str | None, cache_dir: str | None,
          include_binary: bool, dask_scheduler: str | None, dask_local: int | None, **kw: Any) -> None:
    """Audit the full history of many repositories: paths, folders of repositories (found recursively, bare
    ones too), --targets-file lists and git URLs. Findings, scanned blobs and triage go in the datastore;
    blobs already scanned under the same rules are not read again. Exit 1 on open findings only."""
    from scanner.app import exit_code
    from scanner.audit.report import render_json, render_text
    from scanner.audit.runner import AuditProgress, gate_report, run_audit
    from scanner.audit.targets import default_cache_dir, read_targets_file, resolve

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
    _check_output(kw["output"])
    listed = read_targets_file(targets_file) if targets_file else []
    if not targets and not targets_file:
        raise UsageError("audit: give TARGETs (paths, folders of repositories, git URLs) or --targets-file")
    warnings: list[str] = []
    resolved = resolve(targets, listed, warnings)
    kw["progress_label"] = None
    opts = _scan_options(kw)
    store = _open_store(datastore)
    progress = AuditProgress(len(resolved)) if sys.stderr.isatty() and not kw["quiet"] else None
    try:
        result = run_audit(resolved, opts, store, cache_dir=cache_dir or default_cache_dir(),
                           include_binary=include_binary, show_secrets=kw["show_secrets"], verify=opts.verify,
                           executor=executor, progress=progress, warnings=warnings)
    finally:
        store.close()
    gate = gate_report(result)
    from scanner.audit.datastore import default_path

    where = datastore or default_path()
    if not (kw["quiet"] and not result.findings and kw["fmt"] == "text"):
        text = (render_json if kw["fmt"] == "json" else render_text)(result, kw["show_secrets"], where)
        _write(text, kw["output"], kw["show_secrets"])
    sys.exit(exit_code(gate, kw["fail_on"], kw["allow_unknown"], kw["fail_on_incomplete"]))


@cli.group()
def triage() -> None:
    """List findings in the datastore with their status, or set one's status (kept across rescans)."""


@triage.command("list")
@_datastore_option
@click.option("--status", type=click.Choice(["open", "false-positive", "revoked", "accepted-risk", "fixed"]),
              help="Only findings with this status.")
@click.option("--repository", metavar="TEXT", help="Only findings in a repository whose name contains TEXT.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def triage_list(datastore: str | None, status: str | None, repository: str | None, fmt: str) -> None:
    """Every finding (redacted), its status and note, and the repositories holding it at their last scan."""
    store = _open_store(datastore)
    try:
        rows = store.triage_list(status, repository)
    finally:
        store.close()
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
    store = _open_store(datastore)
    try:
        who = os.environ.get("TOKENSCAN_USER") or _user()
        found = store.triage_set(fingerprint, status, note, who)
    finally:
        store.close()
    click.echo(f"{found[0][:16]}: {status}")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
