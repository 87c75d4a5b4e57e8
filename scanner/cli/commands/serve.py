"""`tokenscan serve`: triage in a browser over the audit datastore (scanner/serve/)."""

from __future__ import annotations

import os

import click

from scanner.errors import UsageError


@click.command()
@click.option("--datastore", metavar="PATH", default=None,
              help="The audit's SQLite datastore (default: $XDG_DATA_HOME/tokenscan/datastore.db).")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port to listen on (0: any free port, printed at start).")
@click.option("--host", default=None, metavar="ADDRESS",
              help="Listen on this address instead of 127.0.0.1. The server has no authentication: anyone who "
                   "can reach the address can read and triage findings.")
@click.option("--show-secrets", is_flag=True,
              help="Show secrets the datastore holds (an audit with --show-secrets keeps them); else redactions.")
@click.option("--verify", is_flag=True, help="Allow re-verifying one secret with its vendor from its page.")
@click.option("--cloudflare-api-base", metavar="URL", default=None, hidden=True)
def serve(datastore: str | None, port: int, host: str | None, show_secrets: bool, verify: bool,
          cloudflare_api_base: str | None) -> None:
    """Triage in a browser: the secrets across every audited repository, live ones first, filterable; each
    secret's places, what to do and its history; decisions written to the datastore as `triage set` writes
    them. Needs the optional extra: pip install '.[serve]'."""
    from scanner.audit.datastore import default_path, triage_user

    try:
        from scanner.serve.app import create_app
        from scanner.serve.server import host_names, is_loopback, run
    except ImportError:
        raise UsageError("serve needs Flask, which is not installed; install the optional extra: "
                         "pip install '.[serve]' in tokenscan's checkout, or pip install 'flask>=3.0'") from None
    where = datastore or default_path()
    if where == ":memory:" or not os.path.isfile(where):
        raise UsageError(f"--datastore {where}: no datastore there (run `tokenscan audit` first)")
    address = host or "127.0.0.1"
    if host is not None and not is_loopback(host):
        click.echo(f"tokenscan serve: WARNING: listening on {host}: there is no authentication, anyone who can "
                   "reach it can read and triage these findings", err=True)
    opts = None
    if verify:
        from scanner.verify.options import VerifyOptions, api_base_from

        opts = VerifyOptions(cloudflare_api_base=api_base_from(cloudflare_api_base))
    wildcard = address in ("0.0.0.0", "::")

    def factory(bound: int) -> object:
        hosts: tuple[str, ...] = host_names(address, bound)
        app = create_app(where, hosts=hosts, show_secrets=show_secrets, verify=opts, who=triage_user)
        if wildcard:
            app.config["ANY_HOST"] = True
        return app

    try:
        run(factory, address, port)
    except OSError as exc:
        raise UsageError(f"--port {port}: cannot listen on {address}: {exc.strerror or exc}") from None
