"""`grace import statistics|hashset FILE.csv`: load reference datasets into the warehouse."""

from __future__ import annotations

from pathlib import Path

import click

from grace_cli.options import warehouse_option


def register(cli: click.Group) -> None:
    """Attach this module's commands to the `grace` group."""
    cli.add_command(import_group)


@click.group(name="import")
def import_group() -> None:
    """Import reference datasets (published statistics, hash sets) into the warehouse."""


@import_group.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@warehouse_option
def statistics(file: Path, warehouse: Path) -> None:
    """Import a published-statistics CSV file (data_contracts/published_statistics.yaml).

    The header must be exactly period,period_type,country_iso3,platform,metric,value,source,note.
    The whole file is validated first; any bad row refuses the file (the error names the row
    and field) and leaves the warehouse unchanged. Importing the same file again changes nothing.
    """
    from etl.statistics import load_statistics, validate_statistics_file
    from warehouse import connect

    validated = validate_statistics_file(file)  # a bad file is refused before the warehouse is even opened
    con = connect(warehouse)
    try:
        result = load_statistics(con, validated)
    finally:
        con.close()
    if result.loaded:
        click.echo(
            f"loaded {result.rows:,} published statistic row(s) from {file} into {warehouse} (import {result.import_id})"
        )
    else:
        click.echo(
            f"{file}: already imported as {result.import_id} ({result.rows:,} row(s), {result.imported_at:%Y-%m-%d %H:%M} UTC); nothing changed"
        )


@import_group.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@warehouse_option
@click.option("--name", help="Name of the hash set [default: the file name].")
def hashset(file: Path, warehouse: Path, name: str | None) -> None:
    """Import a hash set of known material (CSV: md5,sha1,category; data_contracts/hash_set.yaml).

    Categories are codes only. Any bad row refuses the file (the error names row and field)
    and leaves the warehouse unchanged. Media clusters already loaded whose MD5 or SHA1 is in
    the set become known, and the file rollup is recomputed. Importing the same file again
    changes nothing.
    """
    from etl.hashsets import import_hash_set
    from warehouse import connect

    con = connect(warehouse)
    try:
        result = import_hash_set(con, file, name=name)
    finally:
        con.close()
    if result["status"] == "loaded":
        click.echo(f"loaded {result['rows']:,} hash(es) from {file} into {warehouse} (import {result['import_id']})")
    else:
        click.echo(f"{file}: already imported as {result['import_id']}; nothing changed")
