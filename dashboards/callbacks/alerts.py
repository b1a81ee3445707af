"""Alerts page: what its callbacks compute, as plain functions of a `WarehouseReader` and an `AlertsView`.

The latest `grace analyse` run's anomalies, change points, emerging / vanishing entities and the active
triage model's drift (`sql/queries/analytics_alerts.sql`; a drift alert is EU-wide, on the weekly share
of high-priority referrals, its headline naming the feature and its PSI) and its ranked narrative
findings (`analytics_findings.sql`), as two sortable, filterable tables. By default the alerts table lists what still needs the user's
attention: material alerts (`analytics.alerting`) the user has not acknowledged or dismissed; an
analyst acknowledges, dismisses or reopens selected rows (`review`, audited per user). Every row opens the chart that shows it: the page's inline
chart of that series with the run's events marked and the row's date ringed, and a link to the
Trend explorer with the series and a window around the date.

The view is a URL: the shared `ViewState` (country, platform, period; `series` = the selected
row's series) plus this page's own keys, validated here: `kind` (anomaly, changepoint, emerging,
vanishing, drift; repeatable, none = all), `metrics` (repeatable, none = all), `sort` (importance, date,
magnitude), `show` (attention, new, all, reviewed) and `at` (the selected row's date).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlencode

import pandas as pd
import plotly.graph_objects as go

from analytics.kinds import ALERT_KINDS, FINDING_KINDS
from analytics.warehouse_series import METRICS, SeriesRequestError, load_series
from dashboards.callbacks.alert_rows import (
    SEP,
    column,
    day_column,
    number,
    period_text,
    series_label,
    series_parts,
    text,
    trend_link,
    windowed_link,
)
from dashboards.charts import Chart, ChartData, register_chart
from dashboards.figures import empty_figure
from dashboards.figures.alerts import alert_series_figure
from dashboards.state import ViewState, ViewStateError, value_set
from grace.errors import WarehouseError
from grace.vocabulary import NO_SPLIT, metric_title
from warehouse import WarehouseReader

PAGE_PATH = "/alerts"
SOURCE = "GRACE warehouse, latest `grace analyse` run (analytics_alert, analytics_finding)"
NO_RUN_HINT = (
    "No analysis run in this warehouse yet: run `grace analyse` to detect anomalies, change points and "
    "emerging or vanishing countries and platforms."
)
KINDS = ALERT_KINDS
KIND_LABELS = {kind.name: kind.label for kind in FINDING_KINDS}
SORTS = ("importance", "date", "magnitude")
SHOWS = ("attention", "new", "all", "reviewed")  # see sql/queries/analytics_alerts.sql ($show)
SHOW_LABELS = {
    "attention": "Needs attention",
    "new": "New since the previous run",
    "all": "All",
    "reviewed": "Reviewed by me",
}
REVIEW_LABELS = {"acknowledged": "Acknowledged", "dismissed": "Dismissed"}
TABLE_LIMIT = 500  # rows shown; the count line says when there are more


@dataclass(frozen=True)
class AlertsView:
    """The shared view state plus this page's own choices."""

    state: ViewState = field(default_factory=ViewState)
    kinds: tuple[str, ...] = ()  # empty = every kind
    metrics: tuple[str, ...] = ()  # empty = every metric
    sort: str = "importance"
    show: str = "attention"
    at: str | None = None  # ISO date of the selected row (with state.series)

    @classmethod
    def from_query(cls, search: str | Mapping[str, Any] | None) -> AlertsView:
        """Parse and validate a query string (or Dash's page kwargs); raises `ViewStateError`."""
        state = ViewState.from_query(search)
        raw = _lists(search)
        kinds = _allowed("kind", raw.get("kind", []), KINDS)
        metrics = _allowed("metrics", raw.get("metrics", []), tuple(METRICS))
        sort = raw.get("sort", ["importance"])[-1] or "importance"
        if sort not in SORTS:
            raise ViewStateError(f"sort: {sort!r} is not one of {', '.join(SORTS)}")
        show = raw.get("show", ["attention"])[-1] or "attention"
        if show not in SHOWS:
            raise ViewStateError(f"show: {show!r} is not one of {', '.join(SHOWS)}")
        at = raw.get("at", [""])[-1] or None
        if at:
            try:
                at = date.fromisoformat(at).isoformat()
            except ValueError:
                raise ViewStateError(f"at: {at!r} is not an ISO date (YYYY-MM-DD)") from None
        if state.series and not series_parts(state.series):
            raise ViewStateError(f"series: {state.series!r} is not metric|grain|split|entity")
        return cls(state=state, kinds=kinds, metrics=metrics, sort=sort, show=show, at=at)

    def to_query(self) -> str:
        """The shared state's query string followed by this page's keys (defaults left out)."""
        pairs = [(k, v) for k, values in parse_qs(self.state.to_query().lstrip("?")).items() for v in values]
        pairs += [("kind", k) for k in self.kinds] + [("metrics", m) for m in self.metrics]
        if self.sort != "importance":
            pairs.append(("sort", self.sort))
        if self.show != "attention":
            pairs.append(("show", self.show))
        if self.at:
            pairs.append(("at", self.at))
        return f"?{urlencode(pairs)}" if pairs else ""

    def with_changes(self, **changes: Any) -> AlertsView:
        for key in ("kinds", "metrics"):
            if key in changes:
                changes[key] = value_set(changes[key])
        return replace(self, **changes)


def _lists(search) -> dict[str, list[str]]:
    if not search:
        return {}
    if isinstance(search, str):
        return parse_qs(search.lstrip("?"), keep_blank_values=True)
    return {
        k: [str(x) for x in v] if isinstance(v, (list, tuple)) else [str(v)] for k, v in search.items() if v is not None
    }


def _allowed(key: str, values: list[str], allowed: tuple[str, ...]) -> tuple[str, ...]:
    items = sorted({part for value in values for part in value.split(",") if part})
    bad = [item for item in items if item not in allowed]
    if bad:
        raise ViewStateError(f"{key}: {bad[0]!r} is not a known value")
    return tuple(items)


def selection_from_row(row_id: str | None) -> tuple[str, str | None] | None:
    """(series_id, date or None) of a clicked row, or None when the id is not a row key."""
    if not row_id or SEP not in str(row_id):
        return None
    _kind, series_id, day = str(row_id).split(SEP, 2)
    if series_parts(series_id) is None:
        return None
    return series_id, day or None


# --- tables ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableView:
    """Outputs of the tables: rows, a count line, a status message and the run line.

    A frozen dataclass rather than a NamedTuple: a tuple's `count` method clashes with the field."""

    alerts: list[dict]
    findings: list[dict]
    count: str
    status: str
    run: str


def _params(view: AlertsView) -> dict:
    """The filters both queries share."""
    return {
        "run_id": "",
        "metrics": list(view.metrics),
        "countries": list(view.state.country),
        "platforms": list(view.state.platform),
        "scope_countries": view.state.scope.sql_countries,
    }


def _num(value: Any) -> float | None:
    if value is None or pd.isna(value):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def alert_params(view: AlertsView, reviewed: Mapping[str, str]) -> dict:
    """Parameters of `analytics_alerts` for a view and the user's reviews (alert key -> action)."""
    return {
        **_params(view),
        "show": view.show,
        "reviewed_keys": sorted(reviewed),
        "start": view.state.start,
        "end": view.state.end,
    }


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def alert_rows(frame: pd.DataFrame, reviewed: Mapping[str, str] | None = None) -> list[dict]:
    """Table rows of the `analytics_alerts` frame (numbers kept numeric so the table sorts them); labels,
    dates and links computed once per distinct value (`alert_rows` module)."""
    reviewed = reviewed or {}
    c = {name: day_column(frame, name) if name in DAY_COLUMNS else column(frame, name) for name in ALERT_COLUMNS}
    rows = []
    for i, series_id in enumerate(c["series_id"]):
        kind, grain, day, subject, relative = (
            c["kind"][i],
            c["grain"][i],
            c["date"][i] or "",
            c["subject"][i],
            number(c["relative"][i]),
        )
        rows.append(
            {
                # a drift alert names the feature it is about: several share a series and a week
                "id": SEP.join((f"{kind}:{subject}" if text(subject) else kind, series_id, day)),
                "kind": KIND_LABELS.get(kind, kind),
                "date": day,
                "period": period_text(day, grain),
                "metric": metric_title(c["metric"][i]),
                "grain": grain,
                "series": series_label(c["split_by"][i], c["entity"][i]),
                "direction": "▲ up" if c["direction"][i] == "up" else "▼ down",
                "before": number(c["before"][i]),
                "after": number(c["after"][i]),
                "relative": None if relative is None else max(relative, -1.0),
                "strength": number(c["strength"][i]),
                "importance": number(c["importance"][i]),
                "rank": None if c["finding_rank"][i] is None else int(c["finding_rank"][i]),
                "headline": text(c["headline"][i]),
                "open": f"[Trend explorer]({windowed_link(series_id, day)})",
                "new": "New" if c["is_new"][i] is True else "",
                "review": REVIEW_LABELS.get(reviewed.get(c["alert_key"][i], ""), ""),
                "alert_key": c["alert_key"][i],
            }
        )
    return rows


ALERT_COLUMNS = (
    "kind",
    "subject",
    "series_id",
    "date",
    "metric",
    "grain",
    "split_by",
    "entity",
    "direction",
    "before",
    "after",
    "relative",
    "strength",
    "importance",
    "finding_rank",
    "headline",
    "is_new",
    "alert_key",
)
DAY_COLUMNS = ("date", "end_date")  # read as ISO days (`day_column`)
FINDING_COLUMNS = (
    "kind",
    "series_id",
    "date",
    "end_date",
    "rank",
    "score",
    "headline",
    "metric",
    "split_by",
    "entity",
    "grain",
)


def finding_rows(frame: pd.DataFrame) -> list[dict]:
    """Table rows of the `analytics_findings` frame, most important first."""
    c = {name: day_column(frame, name) if name in DAY_COLUMNS else column(frame, name) for name in FINDING_COLUMNS}
    rows = []
    for i, series_id in enumerate(c["series_id"]):
        kind = c["kind"][i]
        day = (c["date"][i] if c["date"][i] is not None else c["end_date"][i]) or ""
        rows.append(
            {
                "id": SEP.join((kind, series_id, day)),
                "rank": int(c["rank"][i]),
                "score": number(c["score"][i]),
                "kind": KIND_LABELS.get(kind, kind),
                "headline": str(c["headline"][i]),
                "metric": metric_title(c["metric"][i]),
                "series": series_label(c["split_by"][i], c["entity"][i]),
                "period": period_text(day, c["grain"][i]),
                "open": f"[Trend explorer]({windowed_link(series_id, day)})",
            }
        )
    return rows


def alert_table(reader: WarehouseReader, view: AlertsView, reviewed: Mapping[str, str] | None = None) -> TableView:
    """The alerts table for a view (what to show, kinds, metrics, countries / platforms, period, sorted), with
    its count line, status and run line; `findings` is left empty (`finding_table`). `reviewed`: the user's
    reviews (alert key -> 'acknowledged' | 'dismissed')."""
    reviewed = reviewed or {}
    try:
        with reader.session() as session:
            run = session.run("analytics_latest_run", run_id="")
            if run.empty:
                return TableView([], [], "", NO_RUN_HINT, "")
            alerts = session.run(
                "analytics_alerts",
                **alert_params(view, reviewed),
                kinds=list(view.kinds),
                sort_by=view.sort,
                limit=TABLE_LIMIT,  # one page of rows; the query counts every match
            )
    except WarehouseError as error:
        return TableView([], [], "", f"Warehouse unavailable: {error}", "")
    row = run.iloc[0]
    run_text = (
        f"Latest analysis {pd.Timestamp(row['created_at']):%d %b %Y %H:%M} UTC (run {row['run_id']}): "
        f"{int(row['series_count']):,} series, {int(row['anomalies']):,} anomalies, "
        f"{int(row['changepoints']):,} change points, {int(row['emerging_or_vanishing']):,} emerging or "
        f"vanishing, {int(row['findings']):,} findings."
    )
    if alerts.empty:  # the count line reads the query's totals off its first row
        count = EMPTY_TEXT[view.show]
    else:
        count = _count_text(alerts, view.show) + (
            f"; the first {TABLE_LIMIT:,} are listed — narrow the filters to see the rest."
            if int(alerts["matching"].iloc[0]) > TABLE_LIMIT
            else "."
        )
    return TableView(alert_rows(alerts, reviewed), [], count, "", run_text)


def finding_table(reader: WarehouseReader, view: AlertsView) -> list[dict]:
    """The ranked findings of the latest run for a view (same metrics, countries / platforms and period as the
    alerts), best first; none without a run or when the warehouse cannot be read (the alerts table says why)."""
    try:
        with reader.session() as session:
            findings = session.run(
                "analytics_findings",
                **_params(view),
                kinds=[],
                start=view.state.start,
                end=view.state.end,
                limit=TABLE_LIMIT,  # the period is filtered in SQL: one page of the best-ranked
            )
    except WarehouseError:
        return []
    return finding_rows(findings)


def tables(reader: WarehouseReader, view: AlertsView, reviewed: Mapping[str, str] | None = None) -> TableView:
    """Both tables for a view: `alert_table` with the findings of `finding_table` (the page draws them with a
    callback each, so neither waits for the other)."""
    found = alert_table(reader, view, reviewed)
    return replace(found, findings=finding_table(reader, view)) if found.run else found


EMPTY_TEXT = {
    "attention": "Nothing needs your attention for these filters: every material alert is acknowledged or "
    "dismissed (choose Show: All to list every alert).",
    "new": "No new material alert since the previous run for these filters.",
    "all": "No alert matches these filters.",
    "reviewed": "You have not acknowledged or dismissed any alert that matches these filters.",
}


def _count_text(alerts: pd.DataFrame, show: str) -> str:
    """The count line from the query's totals (`matching…`: every match, not only the rows fetched)."""
    first = alerts.iloc[0]
    n, new, material = int(first["matching"]), int(first["matching_new"]), int(first["matching_material"])
    if show == "attention":
        return f"{n:,} alert(s) need your attention ({new:,} new since the previous run)"
    if show == "new":
        return f"{n:,} new material alert(s) since the previous run need your attention"
    if show == "reviewed":
        return f"{n:,} alert(s) you have acknowledged or dismissed"
    return f"{n:,} alert(s) match ({material:,} material)"


# --- reviews ---------------------------------------------------------------------------------


def review_keys(view: AlertsView, keys: list[str]) -> list[str]:
    """The alert keys a review may record for this view's user: each parsed, each series within the user's
    scope (`ScopeError` otherwise: a crafted request cannot review what the user may not see)."""
    from dashboards.auth.reviews import parse_alert_key

    checked = []
    for key in keys:
        series, _kind, _day = parse_alert_key(key)
        view.state.scope.require_series(series.split_by, series.entity)
        checked.append(str(key))
    return checked


# --- the selected series ---------------------------------------------------------------------


EVENT_COLUMNS = ["kind", "entity", "date", "direction", "before", "after", "relative", "strength"]


@dataclass(frozen=True)
class AlertExtras:
    """The run's events of the selected series: change points and anomalies, emerging / vanishing windows."""

    events: pd.DataFrame
    statuses: pd.DataFrame
    series_id: str


def series_data(reader: WarehouseReader, state: ViewState) -> ChartData[AlertExtras]:
    """The selected series (`state.series`) from the rollups, with the run's events as `AlertExtras`
    (none, and an empty frame, when nothing is selected)."""
    parts = series_parts(state.series or "")
    if parts is None or state.series is None:
        return ChartData(frame=pd.DataFrame(columns=["ds", "y"]), subtitle="", note="")
    metric, grain, split_by, entity = parts
    state.scope.require_series(split_by, entity)  # also checked when the view was scoped; a chart never trusts it
    filters = {} if split_by == NO_SPLIT else {split_by: [entity]}
    from warehouse import load_query

    with reader.cursor() as con:
        frame = load_series(con, metric, grain, filters=filters)[["ds", "y"]]
        query = load_query("trends_series_events")
        events = con.execute(
            query.sql, query.bind({"metric": metric, "grain": grain, "split_by": split_by, "entities": [entity]})
        ).df()
        statuses = _statuses(con, metric, split_by, entity, state)
    unit = METRICS[metric].unit
    counts = ("y",) if unit in ("count", "stock", "distinct") else ()
    subtitle = f"{metric_title(metric)} per {grain}, {series_label(split_by, entity)}"
    note = (
        f"{(events['kind'] == 'changepoint').sum()} change point(s) (dashed lines), "
        f"{(events['kind'] == 'anomaly').sum()} anomaly(ies) (✕) and {len(statuses)} emerging / vanishing window(s) "
        "(shaded) from the latest analysis; the selected alert is ringed."
    )
    return ChartData(
        frame=frame,
        count_columns=counts,
        cell_columns=("ds",),
        subtitle=subtitle,
        note=note,
        extras=AlertExtras(events, statuses, state.series),
    )


def _statuses(con, metric: str, split_by: str, entity: str, state: ViewState) -> pd.DataFrame:
    """Emerging / vanishing rows of the series in the latest run (recent window start)."""
    from warehouse import load_query

    if split_by == NO_SPLIT:
        return pd.DataFrame(columns=["kind", "date"])
    query = load_query("analytics_alerts")
    frame = con.execute(
        query.sql,
        query.bind(
            {
                "run_id": "",
                "metrics": [metric],
                "kinds": ["emerging", "vanishing"],
                "countries": [entity] if split_by == "country" else [],
                "platforms": [entity] if split_by == "platform" else [],
                "sort_by": "date",
                "limit": 100,
                "scope_countries": state.scope.sql_countries,
                "show": "all",  # the chart marks every stored event of the series
                "reviewed_keys": [],
                "start": None,
                "end": None,
            }
        ),
    ).df()
    return frame[frame["series_id"] == state.series][["kind", "date"]].reset_index(drop=True)


def series_figure_for(data: ChartData[AlertExtras], state: ViewState, at: str | None = None) -> go.Figure:
    if data.extras is None:
        return empty_figure("No alert selected.")
    return alert_series_figure(
        data.frame, data.extras.events, data.extras.statuses, title=data.subtitle, at=pd.Timestamp(at) if at else None
    )


def alert_headline(state: ViewState) -> str:
    """'Referrals per month: the selected alert on its series' (the series' entity goes in the scope)."""
    parts = series_parts(state.series or "")
    if parts is None:
        return "The selected alert on its series"
    return f"{metric_title(parts[0])} per {parts[1]}: the selected alert on its series"


ALERT_CHART = register_chart(
    Chart(
        chart_id="alerts-series",
        page=PAGE_PATH,
        title="The selected alert on its series",
        source=SOURCE,
        data=series_data,
        figure=series_figure_for,
        headline=alert_headline,
    )
)


class SeriesView(NamedTuple):
    figure: go.Figure
    subtitle: str
    note: str
    link: str  # Trend explorer URL ('' when nothing is selected)


def draw_series(reader: WarehouseReader, view: AlertsView) -> SeriesView:
    """The inline chart of the selected row's series, or a prompt when none is selected."""
    try:
        data = series_data(reader, view.state)
    except (SeriesRequestError, WarehouseError) as error:
        return SeriesView(empty_figure(f"This series cannot be drawn: {error}"), "", "", "")
    link = trend_link(view.state.series, view.at) if view.state.series else ""
    return SeriesView(series_figure_for(data, view.state, view.at), data.subtitle, data.note, link)


def select(view: AlertsView, row_id: str | None) -> AlertsView:
    """The view with a clicked row selected (unchanged when the id is not a row)."""
    chosen = selection_from_row(row_id)
    if chosen is None:
        return view
    series_id, day = chosen
    return replace(view, state=view.state.with_changes(series=series_id), at=day)
