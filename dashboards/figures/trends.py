"""Trend explorer figure: one line per entity, an optional compared metric, change points and anomalies.

DataFrames in, a plotly figure out (no queries). Colours and marker symbols come from the shared
Okabe-Ito palette so lines differ by more than colour; the compared metric is a dashed black line
on the right axis; change points are dashed vertical lines labelled with their relative change;
anomalies are crosses in vermillion.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from dashboards.figures import MARKER_SYMBOLS, PALETTE, base_layout, empty_figure

MAX_LINES = len(PALETTE) - 1  # black is kept for the compared metric
COMPARE_COLOUR = "#000000"
EVENT_COLOUR = "#D55E00"  # Okabe-Ito vermillion
HOVER_DATES = {"day": "%d %b %Y", "week": "week of %d %b %Y", "month": "%B %Y", "quarter": "Q%q %Y", "year": "%Y"}


def _tick_format(unit: str, per_capita: bool) -> str:
    if unit == "share":
        return ".0%"
    if per_capita or unit in ("days", "ratio"):
        return ",.2~f"
    return ",d"


def _hover_value(unit: str, per_capita: bool) -> str:
    if unit == "share":
        return "%{y:.1%}"
    if per_capita or unit in ("days", "ratio"):
        return "%{y:,.3~f}"
    return "%{y:,.0f}"


def _values(series: pd.Series, log: bool) -> list:
    """Plain floats; on a log scale zeros (and negatives) become gaps instead of plunging lines."""
    return [float(v) if not log or v > 0 else None for v in series]


def _dates(series: pd.Series) -> list[str]:
    return [pd.Timestamp(d).strftime("%Y-%m-%d") for d in series]


def trend_figure(
    frame: pd.DataFrame,
    label: str,
    unit: str = "count",
    per_capita: bool = False,
    log: bool = False,
    grain: str = "month",
    entities: Sequence[str] | None = None,
    events: pd.DataFrame | None = None,
    compare: pd.DataFrame | None = None,
    compare_label: str = "",
    compare_unit: str = "count",
    split_label: str = "",
) -> go.Figure:
    """Lines of `y` over `ds` per `entity` (the first `MAX_LINES` of `entities`), plus extras.

    frame: columns ds, y, entity. compare: the same for a second metric (drawn on the right axis).
    events: columns kind ('changepoint' | 'anomaly'), entity, date, relative, after — drawn on the
    line of their entity when it is shown. Each line's points carry `customdata` "entity:<name>"
    so a click can drill down.
    """
    for column in ("ds", "y", "entity"):
        if column not in frame.columns:
            raise ValueError(f"trend frame lacks column {column!r}")
    title = label + (" per 100,000 inhabitants" if per_capita else "")
    if frame.empty:
        return empty_figure("No data for this selection.", title)
    order = list(entities) if entities else list(dict.fromkeys(frame["entity"].astype(str)))
    order = [e for e in order if e in set(frame["entity"].astype(str))][:MAX_LINES]
    fig = go.Figure(layout=base_layout(title))
    value = _hover_value(unit, per_capita)
    dense = frame["ds"].nunique() > 60
    for index, entity in enumerate(order):
        series = frame[frame["entity"].astype(str) == entity].sort_values("ds")
        name = label if entity == "total" else entity
        fig.add_trace(
            go.Scatter(
                x=_dates(series["ds"]),
                y=_values(series["y"], log),
                name=name,
                customdata=[f"entity:{entity}"] * len(series),
                mode="lines" if dense else "lines+markers",
                line={"color": PALETTE[index % MAX_LINES], "width": 2.2},
                marker={"symbol": MARKER_SYMBOLS[index % len(MARKER_SYMBOLS)], "size": 6},
                hovertemplate=f"{value}<extra>%{{fullData.name}}</extra>",
            )
        )
    if compare is not None and not compare.empty:
        series = compare.sort_values("ds")
        fig.add_trace(
            go.Scatter(
                x=_dates(series["ds"]),
                y=_values(series["y"], log),
                name=f"{compare_label} (right axis)",
                yaxis="y2",
                mode="lines",
                line={"color": COMPARE_COLOUR, "width": 2, "dash": "dash"},
                customdata=["compare"] * len(series),
                hovertemplate=f"{_hover_value(compare_unit, False)}<extra>{compare_label}</extra>",
            )
        )
        fig.update_layout(
            yaxis2={
                "overlaying": "y",
                "side": "right",
                "showgrid": False,
                "rangemode": "tozero",
                "tickformat": _tick_format(compare_unit, False),
                "title": {"text": compare_label},
                "type": "log" if log else "linear",
                **({"dtick": 1} if log else {}),
            }
        )
    _add_events(fig, frame, events, order, label)
    fig.update_xaxes(hoverformat=HOVER_DATES.get(grain, "%d %b %Y"))
    fig.layout.yaxis.update(
        title_text=title,
        tickformat=_tick_format(unit, per_capita),
        type="log" if log else "linear",
        rangemode="tozero" if not log else "normal",
    )
    if log:
        fig.layout.yaxis.dtick = 1  # one labelled tick per power of ten
    fig.update_layout(
        showlegend=len(order) > 1 or (compare is not None and not compare.empty),
        legend_title_text=split_label,
        margin={"r": 72 if compare is not None and not compare.empty else 24},
    )
    return fig


def _add_events(
    fig: go.Figure, frame: pd.DataFrame, events: pd.DataFrame | None, shown: Sequence[str], label: str
) -> None:
    """Change points as dashed vertical lines, anomalies as crosses on their line."""
    if events is None or events.empty:
        return
    shown_set = set(shown)
    events = events[events["entity"].astype(str).isin(shown_set)]
    # Shapes and labels are set in one layout update: `fig.add_vline` per change point re-scans every
    # shape already on the figure, which made split views with many breaks slow to draw.
    lines, labels = [], []
    for row in events[events["kind"] == "changepoint"].itertuples(index=False):
        relative = "" if row.relative is None or pd.isna(row.relative) else f" {row.relative * 100:+.0f} %"
        name = "" if row.entity == "total" else f" {row.entity}"
        day = pd.Timestamp(row.date).strftime("%Y-%m-%d")
        lines.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": day,
                "x1": day,
                "y0": 0,
                "y1": 1,
                "line": {"color": "#52606D", "dash": "dash", "width": 1.5},
            }
        )
        labels.append(
            {
                "xref": "x",
                "yref": "paper",
                "x": day,
                "y": 1,
                "text": f"change{name}{relative}",
                "showarrow": False,
                "font": {"size": 11, "color": "#52606D"},
                "textangle": -90,
                "xanchor": "right",
                "yanchor": "top",
            }
        )
    if lines:
        fig.update_layout(shapes=list(fig.layout.shapes) + lines, annotations=list(fig.layout.annotations) + labels)
    anomalies = events[events["kind"] == "anomaly"]
    if anomalies.empty:
        return
    values = frame.assign(ds=pd.to_datetime(frame["ds"]), entity=frame["entity"].astype(str))
    points = anomalies.assign(date=pd.to_datetime(anomalies["date"]), entity=anomalies["entity"].astype(str)).merge(
        values[["ds", "entity", "y"]], left_on=["date", "entity"], right_on=["ds", "entity"], how="inner"
    )
    if points.empty:
        return
    fig.add_trace(
        go.Scatter(
            x=_dates(points["date"]),
            y=[float(v) for v in points["y"]],
            name="Anomaly",
            mode="markers",
            marker={"symbol": "x", "size": 11, "color": EVENT_COLOUR, "line": {"width": 1}},
            customdata=["event"] * len(points),
            text=[
                f"{'spike' if d == 'up' else 'dip'} vs expected {e:,.4g}" if pd.notna(e) else "anomaly"
                for d, e in zip(points["direction"], points["before"])
            ],
            hovertemplate="%{text}<extra>Anomaly</extra>",
        )
    )
