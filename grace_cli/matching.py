"""`grace matching status|rebuild`: the warehouse's perceptual clusters and its near-duplicate index."""

from __future__ import annotations

import json

import click

from grace.errors import WarehouseError
from grace.progress import progress_bar
from grace_cli.options import warehouse_option


def register(cli: click.Group) -> None:
    cli.add_command(matching)


@click.group()
def matching() -> None:
    """Perceptual clusters of near-duplicate media (PDQ) and the index kept beside the warehouse.

    Every ETL batch places its new media clusters itself; these commands report and re-cluster.
    """


@matching.command()
@warehouse_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def status(warehouse, as_json) -> None:
    """Media clusters placed and indexed, perceptual clusters, merges, the radius and quality cutoff in use."""
    from etl.perceptual import status as matching_status
    from warehouse import check_schema, connect

    con = connect(warehouse, read_only=True)
    try:
        check_schema(con, warehouse)
        result = matching_status(con)
    finally:
        con.close()
    if as_json:
        click.echo(json.dumps(result, indent=2, sort_keys=True))
        return
    for name, value in result.items():
        shown = f"{value:,}" if isinstance(value, int) else ("(not clustered yet)" if value is None else value)
        click.echo(f"{name.replace('_', ' '):<24}{shown}")


@matching.command()
@warehouse_option
@click.option("--quiet", is_flag=True, help="No progress bar.")
def rebuild(warehouse, quiet) -> None:
    """Re-cluster every media cluster with the radius and quality cutoff set now.

    Needed after changing GRACE_PDQ_RADIUS or GRACE_PDQ_MIN_QUALITY (batches refuse to mix settings).
    One transaction: the perceptual tables, their merge history and daily rollup are replaced, and the
    index beside the warehouse is written afresh; a failure leaves the warehouse as it was.
    """
    from etl.perceptual import MatchingParams
    from etl.perceptual import rebuild as rebuild_clusters
    from grace import settings
    from warehouse import connect, is_initialised

    params = MatchingParams(radius=settings.pdq_radius(), min_quality=settings.pdq_min_quality())
    con = connect(warehouse)
    try:
        if not is_initialised(con):
            raise WarehouseError(f"{warehouse}: not a GRACE warehouse (no schema)")
        with progress_bar(enabled=not quiet) as progress:
            result = rebuild_clusters(con, params, progress)
    finally:
        con.close()
    click.echo(
        f"re-clustered {result.pending:,} media clusters at radius {params.radius}, quality ≥ {params.min_quality}: "
        f"{result.indexed:,} indexed, {result.linked:,} linked to a near-duplicate, {result.low_quality:,} below the cutoff"
    )
