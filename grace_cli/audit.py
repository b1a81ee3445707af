"""`grace audit list|verify`: read the dashboard's audit log and check its hash chain."""

from __future__ import annotations

import json

import click


def register(cli: click.Group) -> None:
    cli.add_command(audit)


@click.group()
def audit() -> None:
    """Read and verify the append-only audit log ($GRACE_HOME/auth/auth.sqlite).

    It records sign-ins (successful, failed, rate-limited), sign-outs, page views with their
    filters, exports, refused accesses and user changes, with UTC timestamps, each row chained
    to the previous one by SHA-256.
    """


def _log():
    from dashboards.auth.audit import AuditLog

    return AuditLog()


@audit.command("list")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True, help="Newest N rows.")
@click.option("--event", default=None, help="Only this event (e.g. login_failure, page_view, export).")
@click.option("--user", default=None, help="Only this user.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, newest first.")
def list_events(limit: int, event: str | None, user: str | None, as_json: bool) -> None:
    """Show the newest audit rows, newest first."""
    filters = {key: value for key, value in (("event", event), ("user", user)) if value}
    entries = _log().recent(limit, filters)
    if as_json:
        click.echo(json.dumps([entry.as_dict() for entry in entries], indent=2, ensure_ascii=False))
        return
    for entry in entries:
        detail = json.dumps(entry.detail, ensure_ascii=False, sort_keys=True)
        click.echo(
            f"{entry.id:>7}  {entry.at}  {entry.event:<19}{entry.user or '-':<20}{entry.client or '-':<16}{detail}"
        )
    if not entries:
        click.echo("no audit rows")


@audit.command("verify")
def verify() -> None:
    """Recompute the hash chain; exit 1 if any row was edited, removed or reordered.

    Prints the head hash: keep it elsewhere (e.g. in a ticket) to prove later that the log up
    to that row has not been rewritten.
    """
    report = _log().verify_chain()
    if not report.ok:
        click.echo(f"audit chain BROKEN after {report.rows} rows: {report.problem}", err=True)
        raise SystemExit(1)
    click.echo(f"ok: {report.rows} rows, chain intact; head {report.head_hash}")
