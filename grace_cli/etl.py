"""`grace etl run`: load deliveries (folders, package files, a case database) into the warehouse."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from grace.config import load_pseudonym_key
from grace.errors import GraceError
from grace.progress import progress_bar
from grace_cli.options import warehouse_option


def register(cli: click.Group) -> None:
    cli.add_command(etl)


@click.group()
def etl() -> None:
    """Extract, validate, anonymise, deduplicate and load referral metadata."""


@etl.command("run")
@click.argument("sources", nargs=-1, type=click.Path(exists=True, path_type=Path))
@warehouse_option
@click.option(
    "--from-db",
    "database_url",
    metavar="URL",
    help="Also extract new rows from a case database (SQLAlchemy URL), incrementally in commit order.",
)
@click.option(
    "--chunk-size",
    default=50_000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Referrals per batch when extracting from a case database.",
)
@click.option(
    "--fail-fast", is_flag=True, help="Stop at the first failing batch (default: continue, report at the end)."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every batch report.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def run(sources, warehouse, database_url, chunk_size, fail_fast, as_json, quiet) -> None:
    """Load every delivery under SOURCES into the warehouse.

    A SOURCE is a delivery folder (referrals.csv|parquet + files.csv|parquet), a JSON Lines file
    of referral packages, or a folder searched recursively for those. Each delivery is one batch
    and one transaction: bad rows are quarantined with file, row, field and reason; a failed
    batch leaves the warehouse unchanged; a batch already loaded (same checksum) is skipped.
    Exit status is 1 when any batch failed.
    """
    from etl.runner import RunSummary, run_batches
    from etl.sources import discover_batches
    from warehouse import connect, ensure_schema

    if not sources and not database_url:
        raise GraceError("nothing to load: give a delivery folder or file, or --from-db URL")
    key = load_pseudonym_key()
    batches = [batch for source in sources for batch in discover_batches(source)]
    con = connect(warehouse)
    try:
        ensure_schema(con)
        if database_url:
            from etl.sources.case_database import case_database_batches

            batches.extend(case_database_batches(database_url, con, chunk_size=chunk_size))
        if not batches and sources:
            raise GraceError("no deliveries found under " + ", ".join(str(s) for s in sources))
        if not batches:
            if as_json:
                _print_json(RunSummary(), warehouse)
            else:
                click.echo("nothing new in the case database; the warehouse is unchanged")
            return
        with progress_bar(enabled=not quiet and not as_json) as progress:
            summary = run_batches(con, batches, key, progress=progress, fail_fast=fail_fast)
    finally:
        con.close()
    if as_json:
        _print_json(summary, warehouse)
    else:
        _print_summary(summary, warehouse)
    if not summary.ok:
        for source, reason in summary.failures:
            click.echo(f"error: {source}: batch failed and was rolled back: {reason}", err=True)
        raise SystemExit(1)


def _print_json(summary, warehouse: Path) -> None:
    """One JSON object with every batch report and failure (empty lists when nothing was new)."""
    click.echo(
        json.dumps(
            {
                "warehouse": str(warehouse),
                "batches": [r.as_dict() for r in summary.reports],
                "failures": [{"source": s, "reason": r} for s, r in summary.failures],
            },
            indent=2,
        )
    )


def _print_summary(summary, warehouse: Path) -> None:
    table = Table(title=f"ETL into {warehouse}", show_lines=False)
    for column in ("batch", "status", "referrals in", "loaded", "quarantined", "duplicate", "files loaded", "seconds"):
        table.add_column(column, justify="left" if column in ("batch", "status") else "right")
    for r in summary.reports:
        table.add_row(
            Path(r.source_path).name or r.source_path,
            r.status,
            f"{r.referrals_in:,}",
            f"{r.referrals_loaded:,}",
            f"{r.referrals_quarantined:,}",
            f"{r.referrals_duplicate:,}",
            f"{r.files_loaded:,}",
            f"{r.seconds:.2f}",
        )
    Console().print(table)
    for r in summary.reports:
        if r.ignored_columns:
            click.echo(
                f"{Path(r.source_path).name}: columns not in the contract, ignored: {', '.join(r.ignored_columns)}"
            )
    click.echo(
        f"{len(summary.reports)} batch(es): {summary.total('referrals_loaded'):,} referrals loaded, "
        f"{summary.total('referrals_quarantined'):,} quarantined, {summary.total('referrals_duplicate'):,} duplicates; "
        f"{len(summary.failures)} failed."
    )
