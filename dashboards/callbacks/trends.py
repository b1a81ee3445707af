"""Trend explorer: what its callbacks compute, as plain functions of a `WarehouseReader` and a `ViewState`.

A view is one metric of `analytics.warehouse_series.METRICS` at a grain, filtered by the global
filters (country, platform, period) and the page's (channel, incident type, category,
annotation), optionally split by one dimension, compared with a second metric, on a log scale or
per 100,000 inhabitants. The series come from the rollups through `load_series` (never the fact
tables); change points and anomalies persisted by `grace analyse` annotate the chart when the
view is one of the analysed series (EU total, one country, one platform, or split by country or
platform, without other filters).

- `control_options(metric)`: which splits, filters and options the metric supports.
- `TREND_CHART` (registered): `trend_data` -> `ChartData`, `trend_figure` -> figure.
- `drill_down(state, click)`: a clicked entity becomes the filter; a clicked period on an unsplit
  chart zooms into it at the next finer grain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import pandas as pd
import plotly.graph_objects as go

from analytics.warehouse_series import (
    METRICS,
    SeriesRequestError,
    annotations_of,
    dimensions_of,
    load_series,
)
from analytics.warehouse_series import (
    metric as metric_named,
)
from dashboards.charts import Chart, ChartData, register_chart, with_release_note
from dashboards.figures import empty_figure
from dashboards.figures.trends import MAX_LINES, trend_figure
from dashboards.state import ViewState, ViewStateError
from grace.errors import WarehouseError
from grace.vocabulary import GRAINS, NO_SPLIT, PERIOD_CODES, TOTAL, metric_title
from warehouse import WarehouseReader
from warehouse.grain import MONTHLY, RELEASED_METRICS, finer_than

PAGE_PATH = "/trends"
PAGE_FILTERS = ("channel", "incident_type", "category", "annotation")
ANALYSED_SPLITS = ("country", "platform")
FINER = {"year": "quarter", "quarter": "month", "month": "week", "week": "day"}
DIMENSION_LABELS = {
    "country": "Country",
    "platform": "Platform",
    "channel": "Channel",
    "incident_type": "Incident type",
    "category": "Category",
    "annotation": "Annotation",
}
PER_CAPITA_UNITS = ("count", "stock", "distinct")


class TrendRequestError(ViewStateError, ValueError):
    """A view the warehouse cannot answer (e.g. a filter the metric does not have)."""


class ControlOptions(NamedTuple):
    """What the controls offer for one metric."""

    split_options: list[dict]
    filters_enabled: dict[str, bool]  # page filter -> supported by the metric
    annotation_options: list[dict]
    per_capita_allowed: bool
    description: str


def metric_options() -> list[dict]:
    """Every metric, grouped (production, dissemination, consumption, operations, harm) and labelled."""
    ordered = sorted(METRICS.values(), key=lambda m: (m.group, m.name))
    return [{"label": f"{metric_title(m.name)} ({m.group})", "value": m.name, "title": m.description} for m in ordered]


class WarehouseLimits(NamedTuple):
    """The grain and metric choices a warehouse can answer (a hub's DP releases: months and released metrics)."""

    grain_options: list[dict]
    metric_options: list[dict]


def warehouse_limits(reader: WarehouseReader) -> WarehouseLimits:
    """Every grain and metric, with those a hub warehouse of monthly releases cannot answer disabled
    (`warehouse/grain.py`): a link asking for one still gets the chart's one-line reason."""
    from dashboards.formatting import GRAIN_LABELS
    from dashboards.freshness import has_releases, release_summary

    grains = [{"label": GRAIN_LABELS[g], "value": g} for g in GRAINS]
    metrics = metric_options()
    if not has_releases(release_summary(reader)):
        return WarehouseLimits(grains, metrics)
    return WarehouseLimits(
        [dict(option, disabled=finer_than(option["value"], MONTHLY)) for option in grains],
        [dict(option, disabled=option["value"] not in RELEASED_METRICS) for option in metrics],
    )


def control_options(metric_name: str) -> ControlOptions:
    """Splits, page filters, annotations and per-capita availability for a metric."""
    m = metric_named(metric_name)
    dims = dimensions_of(m.name)
    splits = [{"label": "No split", "value": ""}] + [{"label": DIMENSION_LABELS.get(d, d), "value": d} for d in dims]
    return ControlOptions(
        split_options=splits,
        filters_enabled={f: f in dims for f in PAGE_FILTERS},
        annotation_options=[{"label": metric_title(a), "value": a} for a in annotations_of(m.name)],
        per_capita_allowed=m.unit in PER_CAPITA_UNITS,
        description=m.description,
    )


def dimension_options(reader: WarehouseReader) -> dict[str, list[dict]]:
    """Options of the channel, incident-type and category filters (codes only)."""
    try:
        frame = reader.run("trends_dimension_values")
    except WarehouseError:
        return {"channel": [], "incident_type": [], "category": []}
    return {
        dim: [{"label": row.label, "value": row.value} for row in part.itertuples(index=False)]
        for dim, part in frame.groupby("dimension", sort=True)
    } | {d: [] for d in ("channel", "incident_type", "category") if d not in set(frame["dimension"])}


# --- data ------------------------------------------------------------------------------------


def _filters(state: ViewState, metric_name: str) -> dict[str, list[str]]:
    """The view's filters that apply to the metric; a filter it cannot take is an error."""
    dims = dimensions_of(metric_name)
    filters = {}
    for key in ("country", "platform", *PAGE_FILTERS):
        values = list(getattr(state, key))
        if not values:
            continue
        if key not in dims:
            raise TrendRequestError(
                f"{metric_title(metric_name)} cannot be filtered by {DIMENSION_LABELS[key].lower()}; "
                "clear that filter or choose another metric"
            )
        filters[key] = values
    return filters


def _series(con, state: ViewState, metric_name: str, split: str | None) -> pd.DataFrame:
    frame = load_series(
        con,
        metric_name,
        state.grain,
        filters=_filters(state, metric_name),
        split=split,
        parts=True,
        per_capita=state.per_capita,
    )
    missing = list(frame.attrs.get("population_missing", []) or [])  # set by analytics.population
    if "entity" not in frame.columns:
        frame = frame.assign(entity=TOTAL)
    return frame[state.in_period(frame["ds"], aligned_to=state.grain)].assign(metric=metric_name), missing


def analysed_series(state: ViewState) -> tuple[str, list[str] | None] | None:
    """(split_by, entities or None = every entity shown) when `grace analyse` stores this view's series.

    Stored series are unfiltered: the EU total, and per country / per platform.
    """
    if any(getattr(state, key) for key in PAGE_FILTERS) or state.per_capita:
        return None
    if state.split in ANALYSED_SPLITS:
        other = "platform" if state.split == "country" else "country"
        return (state.split, None) if not getattr(state, other) else None
    if state.split:
        return None
    if not state.country and not state.platform:
        return NO_SPLIT, [TOTAL]
    if len(state.country) == 1 and not state.platform:
        return "country", list(state.country)
    if len(state.platform) == 1 and not state.country:
        return "platform", list(state.platform)
    return None


def _events(con, state: ViewState, entities: list[str]) -> pd.DataFrame:
    """Persisted change points and anomalies of the shown series (empty when none or not analysed)."""
    from warehouse import load_query

    analysed = analysed_series(state)
    if analysed is None:
        return pd.DataFrame(columns=["kind", "entity", "date", "direction", "before", "after", "relative", "strength"])
    split_by, wanted = analysed
    query = load_query("trends_series_events")
    params = query.bind(
        {
            "metric": state.metric,
            "grain": state.grain,
            "split_by": split_by,
            "entities": wanted if wanted is not None else entities,
        }
    )
    events = con.execute(query.sql, params).df()
    if wanted is not None and split_by != NO_SPLIT:
        events = events.assign(entity=TOTAL)  # one filtered series is drawn as the single line
    events["date"] = pd.to_datetime(events["date"])
    return events


@dataclass(frozen=True)
class TrendExtras:
    """What the trend figure draws besides the series: the run's events and the entities shown."""

    events: pd.DataFrame
    top_entities: list[str] | None


def trend_data(reader: WarehouseReader, state: ViewState) -> ChartData[TrendExtras]:
    """The view's series (and the compared metric's), tidy: metric, entity, ds, y[, numerator, denominator].

    The persisted change points and anomalies and the entities drawn ride along as `TrendExtras`. Raises
    `TrendRequestError` (or `SeriesRequestError`) for a view the metric cannot answer.
    """
    m = metric_named(state.metric)
    if state.per_capita and m.unit not in PER_CAPITA_UNITS:
        raise TrendRequestError(f"{metric_title(m.name)} is a {m.unit}; per-capita rates apply to counts only")
    with reader.cursor() as con:
        frame, missing = _series(con, state, m.name, state.split)
        parts = [frame]
        if state.compare and state.compare != m.name:
            compared, _ = _series(
                con,
                state.with_changes(
                    per_capita=state.per_capita and metric_named(state.compare).unit in PER_CAPITA_UNITS
                ),
                state.compare,
                None,
            )
            parts.append(compared)
        shown = _top_entities(frame)
        events = _events(con, state, shown)
    data = pd.concat(parts, ignore_index=True)
    data = data[[c for c in ("metric", "entity", "ds", "y", "numerator", "denominator") if c in data.columns]]
    data = data.sort_values(["metric", "entity", "ds"], kind="stable").reset_index(drop=True)
    counts = ("numerator", "denominator") if m.is_ratio else ("numerator",)
    return ChartData(
        frame=data,
        count_columns=counts,
        cell_columns=("metric", "entity", "ds"),
        subtitle=subtitle(state),
        note=note(state, frame, shown, events, missing),
        hint=hint(state),
        extras=TrendExtras(events=events, top_entities=shown),
    )


def _top_entities(frame: pd.DataFrame) -> list[str]:
    totals = frame.groupby("entity", sort=True)["y"].sum().sort_values(ascending=False, kind="stable")
    return [str(e) for e in totals.index[:MAX_LINES]]


def subtitle(state: ViewState) -> str:
    """What is drawn, in words: 'Referrals per month, split by country · per 100,000 inhabitants'."""
    parts = [f"{metric_title(state.metric)} per {state.grain}"]
    if state.split:
        parts[0] += f", split by {DIMENSION_LABELS[state.split].lower()}"
    if state.compare and state.compare != state.metric:
        parts.append(f"compared with {metric_title(state.compare).lower()} (right axis)")
    if state.per_capita:
        parts.append("per 100,000 inhabitants")
    if state.log:
        parts.append("log scale")
    parts.append(state.filters_text())
    return " · ".join(parts)


def note(state: ViewState, frame: pd.DataFrame, shown: list[str], events: pd.DataFrame, missing: list[str]) -> str:
    """Caveats: lines left out, missing population figures, what the markers are."""
    notes = []
    entities = frame["entity"].nunique()
    if entities > len(shown):
        if state.split is None:
            raise RuntimeError(f"an unsplit view has one series, got {entities}")
        notes.append(
            f"The {len(shown)} largest of {entities} {DIMENSION_LABELS[state.split].lower()} values are drawn."
        )
    if missing:
        notes.append(f"No population figure for {', '.join(sorted(missing))}: no rate shown.")
    if not events.empty:
        notes.append(
            f"{(events['kind'] == 'changepoint').sum()} change point(s) (dashed lines) and "
            f"{(events['kind'] == 'anomaly').sum()} anomaly(ies) (✕) from the latest analysis."
        )
    elif analysed_series(state) is None:
        notes.append("Change points and anomalies are stored for the EU total and per country / platform only.")
    return " ".join(notes)


def hint(state: ViewState) -> str:
    """How to interact with the trend chart (page only)."""
    return "Click a line to filter to it" + ("" if state.split else ", or a point to zoom into that period") + "."


def trend_figure_for(data: ChartData[TrendExtras], state: ViewState) -> go.Figure:
    """The trend chart of a view (the registered chart's figure step)."""
    frame, extras = data.frame, data.extras
    main = frame[frame["metric"] == state.metric]
    compared = frame[frame["metric"] != state.metric] if state.compare else frame.iloc[0:0]
    unit = metric_named(state.metric).unit
    return trend_figure(
        main,
        metric_title(state.metric),
        unit=unit,
        per_capita=state.per_capita,
        log=state.log,
        grain=state.grain,
        entities=extras.top_entities if extras else None,
        events=extras.events if extras else None,
        compare=compared,
        compare_label=metric_title(state.compare) if state.compare else "",
        compare_unit=metric_named(state.compare).unit if state.compare else "count",
        split_label=DIMENSION_LABELS.get(state.split or "", ""),
    )


def trend_headline(state: ViewState) -> str:
    """'Referrals per 100,000 inhabitants per month, by country, vs actionable referrals'."""
    text = metric_title(state.metric) + (" per 100,000 inhabitants" if state.per_capita else "")
    text += f" per {state.grain}"
    if state.split:
        text += f", by {DIMENSION_LABELS[state.split].lower()}"
    if state.compare and state.compare != state.metric:
        text += f", vs {metric_title(state.compare).lower()}"
    return text


TREND_CHART = register_chart(
    Chart(
        chart_id="trends-explorer",
        page=PAGE_PATH,
        title="Trend",
        source="GRACE warehouse, daily rollups via analytics.warehouse_series; change points and anomalies "
        "from the latest `grace analyse` run",
        data=trend_data,
        figure=trend_figure_for,
        headline=trend_headline,
    )
)


class TrendView(NamedTuple):
    """Outputs of `draw`: figure, subtitle, note, status message."""

    figure: go.Figure
    subtitle: str
    note: str
    status: str


def draw(reader: WarehouseReader, state: ViewState) -> TrendView:
    """The chart for a view, or a figure and status that say why it cannot be drawn."""
    try:
        data = with_release_note(trend_data(reader, state), reader)
    except (TrendRequestError, SeriesRequestError) as error:
        return TrendView(empty_figure(str(error)), subtitle(state), "", str(error))
    except WarehouseError as error:
        return TrendView(
            empty_figure("The warehouse cannot be read right now."), "", "", f"Warehouse unavailable: {error}"
        )
    return TrendView(trend_figure_for(data, state), data.subtitle, data.page_note, "")


# --- drill-down ------------------------------------------------------------------------------


def _period_end(start: pd.Timestamp, grain: str) -> pd.Timestamp:
    return start.to_period(PERIOD_CODES[grain]).end_time.normalize()


def drill_down(state: ViewState, click: dict | None) -> ViewState | None:
    """The view a click on the chart opens, or None when the click means nothing.

    - On a split chart, a clicked line's entity becomes that dimension's filter (the split is
      removed): drill into one country, platform, channel …
    - On an unsplit chart, a clicked point zooms into its period at the next finer grain.
    Clicks on the compared metric or on event markers are ignored.
    """
    if not click or not click.get("points"):
        return None
    point = click["points"][0]
    custom = point.get("customdata")
    if isinstance(custom, (list, tuple)):
        custom = custom[0] if custom else None
    if not isinstance(custom, str) or not custom.startswith("entity:"):
        return None
    entity = custom.split(":", 1)[1]
    if state.split:
        if state.split in ("country", "platform", *PAGE_FILTERS):
            return state.with_changes(**{state.split: [entity]}, split=None)
        return None
    finer = FINER.get(state.grain)
    if finer is None or not point.get("x"):
        return None
    start = pd.Timestamp(str(point["x"])[:10])
    end = _period_end(start, state.grain)
    return state.with_changes(grain=finer, start=start.date().isoformat(), end=end.date().isoformat())


def control_values(state: ViewState) -> tuple[Any, ...]:
    """The controls' values for a state, in the order the page's drill-down callback sets them."""
    return (
        list(state.country),
        list(state.platform),
        state.start,
        state.end,
        state.split or "",
        state.grain,
        list(state.channel),
        list(state.incident_type),
        list(state.category),
        list(state.annotation),
    )
