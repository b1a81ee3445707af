"""`grace warehouse check|stats|upgrade`: verify the warehouse, report what it holds, upgrade its schema."""

from __future__ import annotations

import json

import click

from grace.errors import WarehouseError
from grace_cli.options import warehouse_option


def register(cli: click.Group) -> None:
    cli.add_command(warehouse)


@click.group()
def warehouse() -> None:
    """Inspect, verify and upgrade the DuckDB warehouse."""


@warehouse.command()
@warehouse_option
def check(warehouse) -> None:
    """Verify the warehouse against its contract and scan it for identifiers.

    Compares every table and column with data_contracts/warehouse.yaml (types, NOT NULL,
    uniqueness; one row per referral and file ordinal; that every media cluster's id is the MD5
    it was created from, by which the ETL finds it again) and scans every text column for e-mail
    addresses, IP addresses, phone numbers and URLs. Exit status 1 on any finding.
    """
    from etl.checks import contract_findings, identifier_findings
    from warehouse import connect

    con = connect(warehouse, read_only=True)
    try:
        findings = contract_findings(con) + identifier_findings(con)
    finally:
        con.close()
    for finding in findings:
        click.echo(str(finding))
    if findings:
        click.echo(f"{len(findings)} finding(s) in {warehouse}", err=True)
        raise SystemExit(1)
    click.echo(f"ok: {warehouse} matches its contract; no identifiers found")


@warehouse.command()
@warehouse_option
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object (referrals, files, media_clusters, quarantined, tables).",
)
def stats(warehouse, as_json) -> None:
    """Print headline counts and the row count of every table."""
    from etl.checks import warehouse_stats
    from warehouse import connect, is_initialised

    con = connect(warehouse, read_only=True)
    try:
        if not is_initialised(con):
            raise WarehouseError(f"{warehouse}: not a GRACE warehouse (no schema)")
        result = warehouse_stats(con)
    finally:
        con.close()
    if as_json:
        click.echo(json.dumps(result, indent=2, sort_keys=True))
        return
    click.echo(f"warehouse     {warehouse}")
    for key in ("referrals", "files", "media_clusters", "quarantined"):
        click.echo(f"{key:<14}{result[key]:>14,}")
    click.echo("tables:")
    for name, count in result["tables"].items():
        click.echo(f"  {name:<24}{count:>14,}")


@warehouse.command()
@warehouse_option
def upgrade(warehouse) -> None:
    """Upgrade a warehouse of an older schema version in place, keeping every row.

    Creates the tables the new version adds and runs the migrations of sql/migrations/ one after the
    other (3 to 4: every stored alert copied into analytics_alert; 4 to 5: new columns such as the PDQ
    quality; 7 to 8: the subject of an alert; 9 to 10: weekly and monthly rollups filled from the daily
    ones), all in one transaction: on any error the warehouse is left as it was. A warehouse already at
    this version is left untouched. Stop the dashboard first: the upgrade needs the write lock.
    """
    from warehouse import connect, upgrade_schema

    con = connect(warehouse)
    try:
        before, after = upgrade_schema(con)
    finally:
        con.close()
    if before == after:
        click.echo(f"ok: {warehouse} is already at schema version {after}")
    else:
        click.echo(f"upgraded {warehouse} from schema version {before} to {after}")
