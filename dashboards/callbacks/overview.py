"""Overview page: what its callbacks compute, as plain functions of a `WarehouseReader`."""

from __future__ import annotations

from typing import NamedTuple, Sequence

import pandas as pd
import plotly.graph_objects as go

from dashboards.components import PLACEHOLDER_VALUE, format_count
from dashboards.figures import MAX_SERIES, empty_figure, monthly_referrals_figure
from dashboards.queries import WarehouseReader
from grace.errors import WarehouseError


class FilterState(NamedTuple):
    """Outputs of `load_filters`, in the order the page's callback declares them."""

    country_options: list[dict]
    platform_options: list[dict]
    freshness: str


class OverviewState(NamedTuple):
    """Outputs of `update_overview`, in the order the page's callback declares them."""

    figure: go.Figure
    referrals: str
    files: str
    media_clusters: str
    media_clusters_note: str
    quarantined: str
    scope: str
    status: str


def selection(values: Sequence[str] | str | None) -> list[str]:
    """A dropdown value as a clean list (None or empty means "no filter")."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return sorted({str(value) for value in values if value})


def load_filters(reader: WarehouseReader) -> FilterState:
    """Country and platform options present in the warehouse, and the data-freshness line."""
    try:
        with reader.session() as session:
            countries = session.run("filter_countries")
            platforms = session.run("filter_platforms")
            freshness = session.run("data_freshness")
    except WarehouseError as error:
        return FilterState([], [], f"Warehouse unavailable: {error}")
    return FilterState(
        country_options=[
            {"label": row.country_name, "value": row.country_iso3} for row in countries.itertuples(index=False)
        ],
        platform_options=[{"label": name, "value": name} for name in platforms["platform_name"]],
        freshness=freshness_text(freshness),
    )


def update_overview(reader: WarehouseReader, countries=None, platforms=None) -> OverviewState:
    """KPI values and the monthly referrals chart for the selected countries and platforms."""
    countries, platforms = selection(countries), selection(platforms)
    split = 0 < len(countries) <= MAX_SERIES
    try:
        with reader.session() as session:
            kpis = session.run("overview_kpis", countries=countries, platforms=platforms)
            monthly = session.run(
                "referrals_monthly", countries=countries, platforms=platforms, split_by_country=split
            )
    except WarehouseError as error:
        return unavailable(countries, platforms, str(error))
    row = kpis.iloc[0]
    filtered = bool(countries or platforms)
    clusters = row["clusters_first_seen"] if filtered else row["media_clusters"]
    return OverviewState(
        figure=monthly_referrals_figure(monthly, title=chart_title(countries, split, monthly)),
        referrals=format_count(row["referrals"]),
        files=format_count(row["files"]),
        media_clusters=format_count(clusters),
        media_clusters_note="first seen in this selection" if filtered else "distinct clusters in the warehouse",
        quarantined=format_count(row["quarantined_records"]),
        scope=scope_text(countries, platforms),
        status="",
    )


def unavailable(countries: list[str], platforms: list[str], reason: str) -> OverviewState:
    """What the page shows when the warehouse cannot be read (locked by a writer, missing)."""
    return OverviewState(
        figure=empty_figure("The warehouse cannot be read right now."),
        referrals=PLACEHOLDER_VALUE,
        files=PLACEHOLDER_VALUE,
        media_clusters=PLACEHOLDER_VALUE,
        media_clusters_note="",
        quarantined=PLACEHOLDER_VALUE,
        scope=scope_text(countries, platforms),
        status=f"Warehouse unavailable: {reason}",
    )


def chart_title(countries: list[str], split: bool, monthly: pd.DataFrame) -> str:
    """Chart title naming what the lines show."""
    if split and len(countries) == 1 and not monthly.empty:
        return f"Referrals per month, {monthly['series_name'].iloc[0]}"
    if split:
        return "Referrals per month, by country"
    if countries:
        return f"Referrals per month, {len(countries)} countries combined"
    return "Referrals per month, all countries"


def scope_text(countries: list[str], platforms: list[str]) -> str:
    """What the KPI cards and chart currently cover, in words."""

    def part(values: list[str], singular: str, plural: str, everything: str) -> str:
        if not values:
            return everything
        return f"1 {singular}" if len(values) == 1 else f"{len(values)} {plural}"

    return (
        f"Showing {part(countries, 'country', 'countries', 'all countries')}, "
        f"{part(platforms, 'platform', 'platforms', 'all platforms')}."
    )


def freshness_text(frame: pd.DataFrame) -> str:
    """'Incidents up to 30 Jun 2024 · last ETL batch finished 01 Jul 2024 03:12 UTC (12 batches loaded).'"""
    row = frame.iloc[0] if not frame.empty else None
    if row is None or pd.isna(row["latest_incident_date"]):
        return "No referrals loaded yet."
    latest = pd.Timestamp(row["latest_incident_date"]).strftime("%d %b %Y")
    text = f"Incidents up to {latest}"
    if pd.isna(row["latest_batch_finished_at"]):
        return f"{text} · no ETL batch recorded."
    batch = pd.Timestamp(row["latest_batch_finished_at"]).strftime("%d %b %Y %H:%M")
    count = int(row["batch_count"])
    return f"{text} · last ETL batch finished {batch} UTC ({count:,} batch{'es' if count != 1 else ''} loaded)."
