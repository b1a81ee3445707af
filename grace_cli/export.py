"""`grace export`: a chart or a page's briefing pack from the command line, as the dashboard exports them.

The same path as `/export/...`: the chart catalogue, the small-cell rule, the marking and the preset
layout (`dashboards/exports/`). For scripted briefings and reports; `--scope` exports what a user scoped
to those countries would get (the one scope rule, `grace.scope`). Each export is written to the audit log.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import click

from grace_cli.options import OneLineErrors, warehouse_option

FORMATS = ("png", "svg", "pdf", "csv")
PRESET_NAMES = ("slide", "a4", "a4-landscape")


def register(cli: click.Group) -> None:
    """Attach this module's command to the `grace` group."""
    cli.add_command(export)


@click.command(name="export", cls=OneLineErrors)
@click.argument("chart_id", required=False)
@warehouse_option
@click.option("--list", "list_charts", is_flag=True, help="List every chart (id, page, what it shows) and stop.")
@click.option("--page", default="", help="Export the briefing pack (ZIP) of a page instead: overview, trends, ...")
@click.option(
    "--view",
    default="",
    help="The view as the page's query string, e.g. 'country=DEU&country=FRA&split=country&grain=month'.",
)
@click.option("--preset", type=click.Choice(PRESET_NAMES), default="slide", show_default=True, help="Where it goes.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="png", show_default=True, help="File format.")
@click.option("--scope", default="", help="Comma-separated ISO3 codes: export as a user scoped to these countries.")
@click.option("--k", type=click.IntRange(min=2), default=None, help="Small-cell threshold [default: GRACE_MIN_CELL].")
@click.option(
    "--out",
    type=click.Path(),
    default=".",
    show_default=True,
    help="Output file, or a folder for the export's own descriptive file name.",
)
def export(chart_id, warehouse, list_charts, page, view, preset, fmt, scope, k, out) -> None:
    """Export one chart (or with --page, a page's briefing pack) for a slide or an A4 page.

    \b
    Examples:
      grace export --list
      grace export trends-explorer --view 'country=DEU&country=FRA&split=country' --out deck/
      grace export dissemination-map --preset a4 --format pdf --out map.pdf
      grace export --page dissemination --preset a4-landscape --scope MLT --out packs/
    Small cells are suppressed (k, default GRACE_MIN_CELL) and every image carries its marking.
    """
    from dashboards.catalogue import all_charts, get_chart
    from dashboards.charts import UnknownChartError
    from dashboards.exports.build import briefing_pack, export_chart, page_of_slug, page_slug
    from dashboards.state import ViewState
    from dashboards.titles import headline
    from grace.errors import ConfigError
    from grace.scope import Scope
    from warehouse import WarehouseReader

    if list_charts:
        for chart in all_charts():
            click.echo(f"{chart.chart_id:40} {page_slug(chart.page):14} {headline(chart, ViewState())}")
        return
    if bool(chart_id) == bool(page):
        raise ConfigError("name one chart (see --list) or one --page, not both")
    state = ViewState.from_query(view)
    if scope:
        state = state.within(Scope.of_countries([code.strip().upper() for code in scope.split(",") if code.strip()]))
    reader = WarehouseReader(warehouse)
    reader.check()
    if page:
        try:
            path = page_of_slug(page)
        except KeyError:
            pages = ", ".join(sorted({page_slug(c.page) for c in all_charts()}))
            raise ConfigError(f"no page {page!r}; pages: {pages}") from None
        exported = briefing_pack(path, reader, state, k=k, preset=preset)
        what, fmt = f"pack:{page}", "zip"
    else:
        try:
            chart = get_chart(chart_id)
        except UnknownChartError:
            raise ConfigError(f"no chart {chart_id!r}; `grace export --list` lists them") from None
        exported = export_chart(chart, reader, state, fmt, k=k, preset=preset)
        what = chart.chart_id
    folder = out.endswith(("/", os.sep)) or Path(out).is_dir()
    target = Path(out) / exported.filename if folder else Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(exported.body)
    _audit(what, fmt, preset, state)
    click.echo(f"{target} ({len(exported.body):,} bytes; {state.filters_text()})")


def _audit(what: str, fmt: str, preset: str, state) -> None:
    """The export in the audit log, as the dashboard records it, by the operating-system user."""
    from dashboards.auth.audit import AuditLog

    AuditLog().record(
        "export",
        f"cli:{getpass.getuser()}",
        {
            "chart": what,
            "format": fmt,
            "preset": preset,
            "filters": state.filters_text(),
            "query": state.to_query(),
            "via": "command line",
        },
    )
