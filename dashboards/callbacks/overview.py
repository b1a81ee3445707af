"""Overview page: what its callbacks compute, as plain functions of a `WarehouseReader` and a `ViewState`.

- `update_kpis`: four KPI cards (total over the period, the latest complete month against the
  month before, a monthly sparkline) and the scope line.
- `MONTHLY_CHART` (registered in `dashboards.charts`): the monthly referral trend, one line per
  selected country (up to the palette's size) or one for the selection.
- `top_movers`: countries and platforms whose referrals changed most between the latest three
  complete months and the three before.
- `latest_insights`: ranked narrative findings and the latest alerts of the newest `grace analyse`
  run, or what to run when there is none.
- `filter_from_click`: cross-filtering — a clicked line or mover becomes the page's filter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import pandas as pd
import plotly.graph_objects as go

from dashboards.charts import Chart, ChartData, register_chart, with_release_note
from dashboards.figures import MAX_SERIES, OKABE_ITO, empty_figure, monthly_referrals_figure, sparkline_figure
from dashboards.formatting import PLACEHOLDER_VALUE, KpiContent, format_count, kpi_values
from dashboards.freshness import has_releases, release_summary
from dashboards.state import ViewState
from grace.errors import WarehouseError
from warehouse import WarehouseReader

PAGE_PATH = "/"
MOVER_MONTHS = 3
MOVER_LIMIT = 5
INSIGHT_LIMIT = 5
SPARK_MONTHS = 24
WITHHELD_NOTE = "Months whose every cell the agencies suppressed are gaps (blank in CSV), not zeros."
NOT_RELEASED = "not in the agencies' differentially private releases"
NO_RUN_HINT = "Run `grace analyse` to compute trends, change points, anomalies and findings."


class KpiState(NamedTuple):
    """Outputs of `update_kpis`: the four cards, the scope line and the status message."""

    referrals: KpiContent
    files: KpiContent
    media_clusters: KpiContent
    quarantined: KpiContent
    scope: str
    status: str


class Mover(NamedTuple):
    """One entity in the top-movers list."""

    dimension: str  # country | platform
    entity: str  # ISO-3 code or platform name (what the filter takes)
    label: str
    recent: int
    previous: int
    change: int
    relative_change: float | None


class MoversState(NamedTuple):
    """Outputs of `top_movers`."""

    countries: list[Mover]
    platforms: list[Mover]
    window: str  # "Oct–Dec 2025 vs Jul–Sep 2025"
    message: str  # why the lists are empty, when they are


class Insight(NamedTuple):
    """A finding or alert line, with the Trend explorer link that shows it."""

    text: str
    meta: str
    href: str


class InsightsState(NamedTuple):
    """Outputs of `latest_insights`."""

    findings: list[Insight]
    alerts: list[Insight]
    run: str  # "Run 2026-11-25 17:03 UTC · 1,234 series"; empty when there is none
    message: str  # NO_RUN_HINT when there is no run
    attention: str = ""  # "12 alerts need your attention (3 new since the previous run)"
    alerts_href: str = "/alerts"  # the Alerts page with the same countries and platforms


def selection(values: Sequence[str] | str | None) -> list[str]:
    """A dropdown value as a clean list (None or empty means "no filter")."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return sorted({str(value) for value in values if value})


# --- KPI cards -------------------------------------------------------------------------------


def _month_label(month) -> str:
    return pd.Timestamp(month).strftime("%b %Y")


def _last_two_complete(frame: pd.DataFrame, column: str) -> tuple[float | None, float | None, str]:
    """Values of the latest complete month and the one before it, and the comparison label."""
    complete = frame[frame["is_complete"].astype(bool)]
    if len(complete) < 2:
        return None, None, ""
    last, before = complete.iloc[-1], complete.iloc[-2]
    return (
        float(last[column]),
        float(before[column]),
        f"{_month_label(last['month'])} vs {_month_label(before['month'])}",
    )


def _sparkline(frame: pd.DataFrame, column: str, colour: str) -> go.Figure:
    recent = frame.tail(SPARK_MONTHS)
    return sparkline_figure(pd.DataFrame({"ds": recent["month"], "y": recent[column]}), colour=colour)


def _kpi(frame: pd.DataFrame, column: str, note: str, colour: str, total: float | None = None) -> KpiContent:
    current, previous, label = _last_two_complete(frame, column)
    value = float(frame[column].sum()) if total is None else total
    content = kpi_values(current, previous, _sparkline(frame, column, colour), note, value_text=format_count(value))
    if label:
        content = content._replace(change=content.change.replace("vs previous", label))
    return content


def update_kpis(reader: WarehouseReader, state: ViewState) -> KpiState:
    """KPI cards for the selection: totals over the period, month-on-month change, sparklines."""
    params = _filter_params(state)
    try:
        with reader.session() as session:
            monthly = session.run("overview_kpi_monthly", **params, start=state.start, end=state.end)
            quarantine = session.run("overview_quarantine_monthly")
            releases = release_summary(session)
    except WarehouseError as error:
        return unavailable(state, str(error))
    if has_releases(releases):
        return released_kpis(monthly, state)
    filtered = bool(state.country or state.platform)
    return KpiState(
        referrals=_kpi(monthly, "referrals", "in the selected countries, platforms and period", OKABE_ITO[0]),
        files=_kpi(monthly, "files", "reported with those referrals", OKABE_ITO[2]),
        media_clusters=_kpi(
            monthly,
            "new_clusters",
            "first seen in this selection" if filtered else "media clusters first seen",
            OKABE_ITO[4],
        ),
        quarantined=_kpi(quarantine, "quarantined", "all ETL batches, unfiltered (by batch month)", OKABE_ITO[3]),
        scope=scope_text(list(state.country), list(state.platform), state.start, state.end),
        status="",
    )


def released_kpis(monthly: pd.DataFrame, state: ViewState) -> KpiState:
    """The cards of a hub warehouse of differentially private releases: noisy referrals; files, media
    clusters and quarantine are not released, so they say so instead of showing 0."""
    return KpiState(
        referrals=_kpi(monthly, "referrals", "noisy (differentially private) sum of the cells shown", OKABE_ITO[0]),
        files=_blank_kpi(NOT_RELEASED),
        media_clusters=_blank_kpi(NOT_RELEASED),
        quarantined=_blank_kpi(NOT_RELEASED),
        scope=scope_text(list(state.country), list(state.platform), state.start, state.end),
        status="",
    )


def _blank_kpi(note: str = "") -> KpiContent:
    return KpiContent(
        PLACEHOLDER_VALUE, "", "kpi-change kpi-change--none", sparkline_figure(pd.DataFrame(columns=["ds", "y"])), note
    )


def unavailable(state: ViewState, reason: str) -> KpiState:
    """What the cards show when the warehouse cannot be read (locked by a writer, missing)."""
    return KpiState(
        _blank_kpi(),
        _blank_kpi(),
        _blank_kpi(),
        _blank_kpi(),
        scope_text(list(state.country), list(state.platform), state.start, state.end),
        f"Warehouse unavailable: {reason}",
    )


def _filter_params(state: ViewState) -> dict[str, list[str]]:
    return {"countries": list(state.country), "platforms": list(state.platform)}


# --- the monthly trend chart -----------------------------------------------------------------


def monthly_data(reader: WarehouseReader, state: ViewState) -> ChartData:
    """Monthly referrals for the selection (one series per country when a few are selected)."""
    countries = list(state.country)
    split = 0 < len(countries) <= MAX_SERIES
    frame = reader.run("referrals_monthly", countries=countries, platforms=list(state.platform), split_by_country=split)
    months = pd.to_datetime(frame["month"])
    if state.start:
        frame = frame[months >= pd.Timestamp(state.start).to_period("M").to_timestamp()]
    if state.end:
        frame = frame[pd.to_datetime(frame["month"]) <= pd.Timestamp(state.end)]
    frame = frame.reset_index(drop=True)
    note = "The latest month is still in progress (dotted)." if frame["is_partial"].astype(bool).any() else ""
    if len(countries) > MAX_SERIES:
        note = (note + " " if note else "") + f"More than {MAX_SERIES} countries: shown as one combined line."
    if frame["referrals"].isna().any():  # a hub warehouse: every released cell of those months was suppressed
        note = (note + " " if note else "") + WITHHELD_NOTE
    platforms = (
        f"{len(state.platform)} platform{'s' if len(state.platform) != 1 else ''}"
        if state.platform
        else "all platforms"
    )
    return ChartData(
        frame=frame,
        count_columns=("referrals",),
        cell_columns=("month", "series_key"),
        subtitle=f"Referrals per month by incident date, {platforms}",
        note=note,
        hint="Click a country's line to filter to it.",
    )


def monthly_figure(data: ChartData, state: ViewState) -> go.Figure:
    """The monthly referrals line chart (click a country's line to filter to it)."""
    countries = list(state.country)
    split = 0 < len(countries) <= MAX_SERIES
    return monthly_referrals_figure(data.frame, title=chart_title(countries, split, data.frame))


MONTHLY_CHART = register_chart(
    Chart(
        chart_id="overview-monthly-referrals",
        page=PAGE_PATH,
        title="Monthly trend",
        source="GRACE warehouse, daily referral rollup (rollup_referral_daily)",
        data=monthly_data,
        figure=monthly_figure,
        headline="Referrals per month",
    )
)


def draw_monthly(reader: WarehouseReader, state: ViewState) -> tuple[go.Figure, str, str]:
    """Figure, subtitle and note of the monthly chart; a message figure when the warehouse is unreadable."""
    try:
        data = with_release_note(monthly_data(reader, state), reader)
    except WarehouseError as error:
        return empty_figure("The warehouse cannot be read right now."), "", f"Warehouse unavailable: {error}"
    return monthly_figure(data, state), data.subtitle, data.page_note


def chart_title(countries: list[str], split: bool, monthly: pd.DataFrame) -> str:
    """Chart title naming what the lines show."""
    if split and len(countries) == 1 and not monthly.empty:
        return f"Referrals per month, {monthly['series_name'].iloc[0]}"
    if split:
        return "Referrals per month, by country"
    if countries:
        return f"Referrals per month, {len(countries)} countries combined"
    return "Referrals per month, all countries"


def scope_text(countries: list[str], platforms: list[str], start: str | None = None, end: str | None = None) -> str:
    """What the KPI cards and chart currently cover, in words."""

    def part(values: list[str], singular: str, plural: str, everything: str) -> str:
        if not values:
            return everything
        return f"1 {singular}" if len(values) == 1 else f"{len(values)} {plural}"

    period = ""
    if start or end:
        period = f", {start or 'first day'} to {end or 'latest day'}"
    return (
        f"Showing {part(countries, 'country', 'countries', 'all countries')}, "
        f"{part(platforms, 'platform', 'platforms', 'all platforms')}{period}."
    )


# --- top movers ------------------------------------------------------------------------------


def _window_text(frame: pd.DataFrame) -> str:
    row = frame.iloc[0]
    recent_start, recent_end = pd.Timestamp(row["recent_start"]), pd.Timestamp(row["recent_last_day"])
    previous_start = pd.Timestamp(row["previous_start"])
    previous_end = recent_start - pd.Timedelta(days=1)

    def span(first: pd.Timestamp, last: pd.Timestamp) -> str:
        if first.year == last.year:
            return f"{first:%b}–{last:%b %Y}"
        return f"{first:%b %Y}–{last:%b %Y}"

    return f"{span(recent_start, recent_end)} vs {span(previous_start, previous_end)}"


def top_movers(
    reader: WarehouseReader, state: ViewState, months: int = MOVER_MONTHS, limit: int = MOVER_LIMIT
) -> MoversState:
    """Countries and platforms with the largest change in referrals, latest `months` vs the ones before."""
    try:
        frame = reader.run("overview_movers", **_filter_params(state), end=state.end, months=months, limit=limit)
    except WarehouseError as error:
        return MoversState([], [], "", f"Warehouse unavailable: {error}")
    if frame.empty:
        return MoversState([], [], "", "No change to report for this selection.")
    movers = [
        Mover(
            row.dimension,
            row.entity,
            row.label,
            int(row.recent),
            int(row.previous),
            int(row.change),
            None if pd.isna(row.relative_change) else float(row.relative_change),
        )
        for row in frame.itertuples(index=False)
    ]
    return MoversState(
        countries=[m for m in movers if m.dimension == "country"],
        platforms=[m for m in movers if m.dimension == "platform"],
        window=_window_text(frame),
        message="",
    )


def mover_text(mover: Mover) -> str:
    """'+1,234 (+12.5 %)' — the change in words that do not depend on colour."""
    relative = f" ({mover.relative_change * 100:+.1f} %)" if mover.relative_change is not None else " (new)"
    return f"{mover.change:+,}{relative}"


# --- findings and alerts ---------------------------------------------------------------------


def _series_href(metric: str, grain: str, split_by: str, entity: str) -> str:
    """The Trend explorer link that shows one analysed series."""
    state = ViewState(metric=metric, grain=grain if grain in ("day", "week", "month", "quarter", "year") else "month")
    if split_by == "country" and len(entity) == 3 and entity.isupper():
        state = state.with_changes(country=[entity])
    elif split_by == "platform":
        state = state.with_changes(platform=[entity])
    return "/trends" + state.to_query()


def _date_text(value: Any, grain: str) -> str:
    if value is None or pd.isna(value):
        return ""
    day = pd.Timestamp(value)
    if grain == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if grain == "month":
        return day.strftime("%b %Y")
    return day.strftime("%d %b %Y")


def _entity_text(split_by: str, entity: str) -> str:
    return "EU total" if split_by in ("", "none", "total") or entity in ("total", "") else entity


def latest_insights(
    reader: WarehouseReader,
    state: ViewState,
    limit: int = INSIGHT_LIMIT,
    reviewed: Mapping[str, str] | None = None,
) -> InsightsState:
    """Ranked findings and the newest alerts that still need the user's attention (material, not
    acknowledged or dismissed: `reviewed` maps the user's reviewed alert keys), for the selection.

    A warehouse without analytics tables or without a run gives `NO_RUN_HINT`.
    """
    params = {
        "run_id": "",
        "metrics": [],
        "countries": list(state.country),
        "platforms": list(state.platform),
        "scope_countries": state.scope.sql_countries,
    }
    try:
        with reader.session() as session:
            run = session.run("analytics_latest_run", run_id="")
            if run.empty:
                return InsightsState([], [], "", NO_RUN_HINT)
            findings = session.run("analytics_findings", **params, kinds=[], start=None, end=None, limit=limit)
            alerts = session.run(
                "analytics_alerts",
                **params,
                kinds=[],
                sort_by="date",
                limit=limit,
                show="attention",
                reviewed_keys=sorted(reviewed or {}),
                start=None,  # the newest alerts whatever the period: what needs attention now
                end=None,
            )
    except WarehouseError as error:
        return InsightsState([], [], "", f"Warehouse unavailable: {error}")
    row = run.iloc[0]
    run_text = (
        f"Latest analysis {pd.Timestamp(row['created_at']):%d %b %Y %H:%M} UTC · {int(row['series_count']):,} series"
    )
    found = [
        Insight(
            text=str(f.headline),
            meta=f"#{int(f.rank)} · {f.kind} · {f.metric} · {_entity_text(f.split_by, f.entity)}",
            href=_series_href(f.metric, f.grain, f.split_by, f.entity),
        )
        for f in findings.itertuples(index=False)
    ]
    alerted = [
        Insight(
            text=(str(a.headline) if isinstance(a.headline, str) and a.headline else _alert_text(a)),
            meta=f"{a.kind} · {_date_text(a.date, a.grain)} · {a.metric} · {_entity_text(a.split_by, a.entity)}",
            href=_series_href(a.metric, a.grain, a.split_by, a.entity),
        )
        for a in alerts.itertuples(index=False)
    ]
    message = "" if found or alerted else "The latest analysis found nothing notable for this selection."
    attention = "Nothing needs your attention: every material alert is acknowledged or dismissed."
    if not alerts.empty:
        total, new = int(alerts["matching"].iloc[0]), int(alerts["matching_new"].iloc[0])
        attention = f"{total:,} alert(s) need your attention ({new:,} new since the previous run)"
    href = "/alerts" + ViewState(country=state.country, platform=state.platform).to_query()
    return InsightsState(found, alerted, run_text, message, attention, href)


def _alert_text(alert) -> str:
    """Words for an alert without a finding: kind, metric, entity and the change with its sign."""
    relative = alert.relative if alert.relative is not None and not pd.isna(alert.relative) else None
    if relative is not None:
        movement = f"{'up' if relative >= 0 else 'down'} {relative * 100:+.0f} %"
    else:
        movement = str(alert.direction or "").replace("_", " ")
    text = f"{alert.kind.capitalize()} in {alert.metric} ({_entity_text(alert.split_by, alert.entity)})"
    return f"{text}, {movement}" if movement else text


# --- cross-filtering -------------------------------------------------------------------------


def filter_from_click(click_data: dict | None) -> str | None:
    """The country code of a clicked chart line (its trace's customdata), or None."""
    if not click_data or not click_data.get("points"):
        return None
    point = click_data["points"][0]
    code = point.get("customdata")
    if isinstance(code, (list, tuple)):
        code = code[0] if code else None
    if isinstance(code, str) and code != "ALL" and len(code) == 3 and code.isalpha() and code.isupper():
        return code
    return None
