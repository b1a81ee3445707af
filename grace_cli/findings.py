"""`grace findings`: the ranked narrative findings of the latest `grace analyse` run."""

from __future__ import annotations

import json

import click

from grace_cli.options import OneLineErrors, warehouse_option


def register(cli: click.Group) -> None:
    """Attach this module's command to the `grace` group."""
    cli.add_command(findings)


def _list(value: str) -> list[str]:
    return sorted({v.strip() for v in (value or "").split(",") if v.strip()})


@click.command(name="findings", cls=OneLineErrors)
@warehouse_option
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="At most this many findings, most important first (0 = all).",
)
@click.option("--metric", "metrics", default="", help="Comma-separated metrics to keep (default: all).")
@click.option(
    "--country",
    "countries",
    default="",
    help="Comma-separated ISO3 codes: keep findings about these countries (with --platform: either).",
)
@click.option("--platform", "platforms", default="", help="Comma-separated platform names to keep.")
@click.option("--run", "run_id", default="", help="A run id [default: the latest run].")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object: {run: {...}, findings: [{rank, score, kind, headline, series_id, "
    "metric, grain, split_by, entity, date, end_date, detector, source_table, numbers, parameters}]}.",
)
def findings(warehouse, limit, metrics, countries, platforms, run_id, as_json) -> None:
    """Print the ranked findings of the latest analysis run.

    \b
    Each finding is one plain-language sentence with its numbers (growth with its confidence
    interval, break levels, spike vs expected and what explains it, emerging / vanishing entities,
    forecasts, the backlog projection), ranked by importance = magnitude x confidence x reach
    (see analytics/narrative.py). Findings are written by `grace analyse`; this command only
    reads them (the warehouse is opened read-only).
    """
    from grace.errors import GraceError
    from warehouse import WarehouseReader

    reader = WarehouseReader(warehouse)
    reader.check()
    with reader.session() as session:
        run = session.run("analytics_latest_run", run_id=run_id)
        if run.empty:
            raise GraceError(
                f"{warehouse}: no analysis run{f' {run_id!r}' if run_id else ''}; run `grace analyse` first"
            )
        table = session.run(
            "analytics_findings",
            run_id=str(run["run_id"].iloc[0]),
            metrics=_list(metrics),
            kinds=[],
            countries=_list(countries),
            platforms=_list(platforms),
            scope_countries=None,  # the command line reads the whole warehouse
            start=None,
            end=None,
            limit=limit if limit else 2**62,
        )
    header = run.iloc[0]
    if as_json:
        rows = []
        for row in table.astype(object).where(table.notna(), None).to_dict(orient="records"):
            rows.append(
                {
                    **{k: v for k, v in row.items() if k not in ("run_id", "numbers", "parameters")},
                    "numbers": json.loads(row["numbers"]),
                    "parameters": json.loads(row["parameters"]),
                }
            )
        from analytics.results import jsonable

        out = {
            "run": jsonable(
                {
                    "run_id": header["run_id"],
                    "created_at": header["created_at"],
                    "code_version": header["code_version"],
                    "series_count": header["series_count"],
                    "findings": header["findings"],
                }
            ),
            "findings": jsonable(rows),
        }
        click.echo(json.dumps(out, indent=2, sort_keys=True, ensure_ascii=False))
        return
    click.echo(
        f"run {header['run_id']} ({header['created_at']:%Y-%m-%d %H:%M} UTC, grace {header['code_version']}): "
        f"{int(header['findings']):,} findings over {int(header['series_count']):,} series; "
        f"showing {len(table):,}"
    )
    for row in table.itertuples(index=False):
        click.echo(f"{row.rank:>4}. [{row.kind}] {row.headline}")
