"""Figure of the Alerts page: one analysed series with the run's events on it. DataFrames in, figure out.

Change points are dashed vertical lines, anomalies ✕ markers (vermillion up, blue down — and the
hover says which), emerging / vanishing windows shaded from their start to the series' end, and the
selected alert ringed, so colour is never the only cue.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards.figures import CAPTION_META, PAGE_ONLY, PALETTE, base_layout, merged, traces

LINE, UP, DOWN, MARK = PALETTE[0], PALETTE[3], PALETTE[5], PALETTE[6]
STATUS_FILL = {"emerging": "rgba(0,158,115,0.12)", "vanishing": "rgba(204,121,167,0.14)"}


def _day(value) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def alert_series_figure(
    frame: pd.DataFrame, events: pd.DataFrame, statuses: pd.DataFrame, title: str = "", at: pd.Timestamp | None = None
) -> go.Figure:
    """The series (`ds`, `y`) as a line; `events` (kind, date, direction, before, after) and `statuses`
    (kind, date) drawn on it; the point at `at` ringed."""
    missing = [c for c in ("ds", "y") if c not in frame.columns]
    if missing:
        raise ValueError(f"series frame lacks column(s): {', '.join(missing)}")
    breaks = events[events["kind"] == "changepoint"] if not events.empty else events
    layout = merged(
        base_layout(title),
        _breaks_layout(breaks),
        # Counts and shares alike (the base ",d" would round shares to 0).
        {"yaxis": {"tickformat": ",~g"}, "hovermode": "closest"},
    )
    fig = traces.figure(layout=layout)
    x = [_day(d) for d in frame["ds"]]
    y = [float(v) for v in frame["y"]]
    fig.add_trace(
        traces.scatter(
            x=x,
            y=y,
            name="Observed",
            mode="lines+markers",
            line={"color": LINE, "width": 2.5},
            marker={"color": LINE, "size": 5},
            hovertemplate="%{y:,.4~g}<extra>Observed</extra>",
        )
    )
    values = dict(zip(x, y))
    anomalies = events[events["kind"] == "anomaly"] if not events.empty else events
    for direction, colour, label in (("up", UP, "Anomaly (spike)"), ("down", DOWN, "Anomaly (dip)")):
        part = anomalies[anomalies["direction"] == direction] if not anomalies.empty else anomalies
        if part.empty:
            continue
        days = [_day(d) for d in part["date"]]
        fig.add_trace(
            traces.scatter(
                x=days,
                y=[values.get(d, float(v)) for d, v in zip(days, part["after"])],
                name=label,
                mode="markers",
                marker={"symbol": "x", "size": 12, "color": colour, "line": {"width": 1, "color": colour}},
                customdata=[[float(b)] for b in part["before"]],
                hovertemplate="%{y:,.4~g} (expected %{customdata[0]:,.4~g})<extra>" + label + "</extra>",
            )
        )
    if statuses is not None and not statuses.empty and x:
        for row in statuses.itertuples(index=False):
            fig.add_vrect(
                x0=_day(row.date),
                x1=x[-1],
                fillcolor=STATUS_FILL.get(row.kind, "rgba(0,0,0,0.08)"),
                line_width=0,
                annotation_text=row.kind,
                annotation_position="top left",
            )
    if at is not None and _day(at) in values:
        fig.add_trace(
            traces.scatter(
                x=[_day(at)],
                y=[values[_day(at)]],
                name="Selected alert",
                mode="markers",
                marker={"symbol": "circle-open", "size": 22, "color": MARK, "line": {"width": 3}},
                hovertemplate="selected: %{y:,.4~g}<extra></extra>",
            )
        )
    return fig


def _breaks_layout(breaks: pd.DataFrame) -> dict:
    """The change points' part of the layout: a dashed line and a page label per break, and the caption
    that exports list under the chart instead of the labels."""
    if breaks.empty:
        return {}
    rows = list(breaks.itertuples(index=False))
    return {
        "shapes": [
            {
                "type": "line",
                "x0": _day(row.date),
                "x1": _day(row.date),
                "y0": 0,
                "y1": 1,
                "yref": "paper",
                "line": {"color": MARK, "width": 1.5, "dash": "dash"},
            }
            for row in rows
        ],
        "annotations": [
            {
                "x": _day(row.date),
                "y": 1,
                "yref": "paper",
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "bottom",
                "text": f"break {'▲' if row.direction == 'up' else '▼'}",
                "font": {"size": 11, "color": "#52606D"},
                "name": f"{PAGE_ONLY}:changepoint",  # exports list the breaks under the chart instead
            }
            for row in rows
        ],
        "meta": {
            CAPTION_META: {
                "title": "Change points",
                "items": [
                    [MARK, f"{pd.Timestamp(row.date):%-d %b %Y} {'up' if row.direction == 'up' else 'down'}"]
                    for row in breaks.sort_values("date").itertuples(index=False)
                ],
            }
        },
    }
