"""`grace demo`: simulate case systems and load them through the real ETL, in one command."""

from __future__ import annotations

import click

from grace.errors import GraceError
from grace.progress import progress_bar
from grace_cli.options import warehouse_option


def register(cli: click.Group) -> None:
    cli.add_command(demo)


@click.command()
@warehouse_option
@click.option(
    "--scale",
    type=click.FloatRange(min=0.0001, max=10),
    default=None,
    help="Volume scale; 1.0 is EU-27 public magnitudes [default: $GRACE_DEMO_SCALE or 0.015].",
)
@click.option("--seed", type=int, default=42, show_default=True, help="Random seed (same seed, same data).")
@click.option("--force", is_flag=True, help="Replace an existing warehouse at --warehouse.")
@click.option(
    "--analyse/--no-analyse",
    default=True,
    show_default=True,
    help="Also run a first `grace analyse` over the headline metrics, so the dashboard has "
    "trends, alerts, forecasts and findings to show.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def demo(warehouse, scale, seed, force, analyse, quiet) -> None:
    """Build a demo warehouse: simulate → ETL → DuckDB, with progress.

    The simulated inputs stay in $GRACE_HOME/demo so you can inspect them or reload them
    with `grace etl run`.
    """
    from grace_cli.demo_warehouse import build_demo_warehouse

    if warehouse.exists() and not force:
        raise GraceError(f"{warehouse}: already exists; use --force to replace it")
    with progress_bar(enabled=not quiet) as progress:
        result = build_demo_warehouse(warehouse, scale=scale, seed=seed, progress=progress, analyse=analyse)
    s = result.summary
    click.echo(
        f"demo warehouse {result.warehouse}: {s.total('referrals_loaded'):,} referrals, "
        f"{s.total('files_loaded'):,} files, {s.total('referrals_quarantined'):,} quarantined, "
        f"{s.total('referrals_duplicate'):,} duplicates from {len(s.reports)} batches (inputs in {result.inputs})"
        + (f"; {result.analysis_series:,} series analysed" if result.analysis_series else "")
        + (f"; triage model {result.triage_model} trained, promoted and scored" if result.triage_model else "")
    )
    from grace_cli.report_desk import schedule_demo_brief

    schedule_demo_brief(click.echo)
