"""`tokenscan revoke`: revocation at the vendor where it allows it (scanner.remediate.revoke)."""

from __future__ import annotations

import sys

import click

from scanner.remediate.revoke import load_report, resolve_targets, revoker_for, secrets_from_stdin


@click.command("revoke")
@click.argument("fingerprints", nargs=-1, required=True)
@click.option("--from", "report", required=True, metavar="REPORT.json",
              help="A JSON report holding the findings (written with --show-secrets, or give the secrets on stdin).")
@click.option("--yes", is_flag=True, help="Really send the revocations (without it, only say what would be sent).")
def revoke(fingerprints: tuple[str, ...], report: str, yes: bool) -> None:
    """Revoke the credentials with these fingerprints where the vendor allows it (GitHub tokens, Cloudflare
    user API tokens that may delete themselves); print the manual step for every other one.

    Irreversible: whatever uses a revoked credential stops working. Nothing is sent without --yes.
    Exit status 1 when any credential listed was not (or, without --yes, could not be) revoked."""
    from scanner.findings.advice import advice_line

    targets = resolve_targets(fingerprints, load_report(report))
    secrets_from_stdin(targets)
    if not yes:
        click.echo("dry run: nothing is sent without --yes")
    failed = 0
    for t in targets:
        click.echo(f"{t.fingerprint[:16]} {t.rule_id} {t.shown}")
        fn = revoker_for(t)
        if fn is None:
            click.echo(f"  cannot be revoked by tokenscan: {advice_line(t.rule_id)}")
            failed += 1
        elif t.secret is None:
            click.echo("  secret not available: the report is redacted; give the secret on stdin "
                       "(or write the report with --show-secrets)")
            failed += 1
        elif not fn(t, yes):
            failed += 1
    sys.exit(1 if failed else 0)
