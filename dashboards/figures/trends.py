"""Trend explorer figure: one line per entity, an optional compared metric, change points and anomalies.

DataFrames in, a plotly figure out (no queries). Colours and marker symbols come from the shared
Okabe-Ito palette so lines differ by more than colour; the compared metric is a dashed black line
on the right axis; change points are dashed vertical lines in their series' colour, labelled with their
relative change on the page and listed under the chart in exports; anomalies are crosses in vermillion.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboards.figures import (
    CAPTION_META,
    MARKER_SYMBOLS,
    PAGE_ONLY,
    PALETTE,
    base_layout,
    empty_figure,
    iso_days,
    line_dash,
    merged,
    traces,
)
from dashboards.figures.colour import readable_on
from dashboards.figures.downsample import keep_extremes

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
    """Plain floats; on a log scale zeros (and negatives) become gaps instead of plunging lines. Converted
    as one array: iterating an Arrow-backed column value by value costs ~1 µs a value."""
    values = series.to_numpy(dtype=float).tolist()
    return [v if v > 0 else None for v in values] if log else values


LABEL_LANES = 4
SAME_DAY_GAP_PX = 4
PAGE_PLOT_PX = 900  # the page's plot width the label layout assumes (labels are ~7 px per character)
PAGE_CHAR_PX = 7.0


def _change_text(relative) -> str:
    return "" if relative is None or pd.isna(relative) else f"{relative * 100:+.0f} %".replace("-", "−")


def _change_points_layout(frame: pd.DataFrame, changes: list[dict], shown: list[str], label: str) -> dict:
    """The layout's lines, page labels and export caption of the change points (see `_events`).

    `changes` are the change points' event rows as records: a chart has a few dozen at most, so plain
    Python over them is cheaper than a pandas operation per step."""
    rows = sorted(
        ({**row, "day": _iso_day(row["date"]), "index": shown.index(str(row["entity"]))} for row in changes),
        key=lambda row: (row["day"], row["index"]),
    )
    # Series changing on the same date get lines a few pixels apart, so each colour shows.
    per_day = Counter(row["day"] for row in rows)
    seen: Counter[str] = Counter()
    for row in rows:
        row["offset"] = seen[row["day"]] - (per_day[row["day"]] - 1) / 2
        seen[row["day"]] += 1
    shapes, caption = [], []
    for row in rows:
        colour = PALETTE[row["index"] % MAX_LINES]
        shapes.append(
            {
                "type": "line",
                "name": "changepoint",
                "xref": "x",
                "xsizemode": "pixel",
                "xanchor": row["day"],
                "x0": SAME_DAY_GAP_PX * row["offset"],
                "x1": SAME_DAY_GAP_PX * row["offset"],
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "line": {"color": colour, "dash": "dash", "width": 1.6},
            }
        )
        name = label if row["entity"] == "total" else str(row["entity"])
        when = pd.Timestamp(row["day"]).strftime("%-d %b %Y")
        caption.append([colour, f"{name} {when} {_change_text(row['relative'])}".strip()])
    # Page labels: one per date, laid out left to right in the first lane where they fit.
    first, last = pd.to_datetime(frame["ds"]).min(), pd.to_datetime(frame["ds"]).max()
    span = max((last - first).days, 1)
    lane_ends = [-1.0] * LABEL_LANES
    labels = []
    for day, group in itertools.groupby(rows, key=lambda row: row["day"]):  # rows are sorted by day
        parts = [
            (
                PALETTE[row["index"] % MAX_LINES],
                ("" if row["entity"] == "total" else f"{row['entity']} ") + (_change_text(row["relative"]) or "change"),
            )
            for row in group
        ]
        width = (sum(len(text) for _, text in parts) + 3 * (len(parts) - 1) + 2) * PAGE_CHAR_PX / PAGE_PLOT_PX
        start = (pd.Timestamp(day) - first).days / span
        lane = next((i for i, end in enumerate(lane_ends) if end < start), None)
        if lane is None:  # every lane is busy here: the lane that frees first
            lane = min(range(LABEL_LANES), key=lambda i: lane_ends[i])
        lane_ends[lane] = start + width
        labels.append(
            {
                "name": f"{PAGE_ONLY}:changepoint",
                "xref": "x",
                "yref": "paper",
                "x": day,
                "y": 1,
                "yshift": -16 * lane,
                "text": " · ".join(f'<span style="color:{readable_on(c)}">{t}</span>' for c, t in parts),
                "showarrow": False,
                "font": {"size": 11},
                "bgcolor": "rgba(255,255,255,0.85)",
                "xanchor": "left",
                "yanchor": "top",
            }
        )
    return {
        "shapes": shapes,
        "annotations": labels,
        "meta": {CAPTION_META: {"title": "Change points", "items": caption}},
    }


def _iso_day(value) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%d")


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
    names = frame["entity"].astype(str)
    present = set(names)
    order = list(entities) if entities else list(dict.fromkeys(names))
    order = [e for e in order if e in present][:MAX_LINES]
    compared = compare is not None and not compare.empty
    value = _hover_value(unit, per_capita)
    dense = frame["ds"].nunique() > 60
    drawn = total = 0
    lines = []  # the traces, added once the layout (which says how many points are drawn) is built
    rows_of = frame.groupby(names.to_numpy(), sort=False).indices  # entity -> its rows, in the frame's order
    for index, entity in enumerate(order):
        series = frame.iloc[rows_of[entity]].sort_values("ds")
        total += len(series)
        series = series.iloc[keep_extremes(series["y"])]  # long daily lines: extremes kept (downsample.py)
        drawn += len(series)
        name = label if entity == "total" else entity
        lines.append(
            traces.scatter(
                x=iso_days(series["ds"]),
                y=_values(series["y"], log),
                name=name,
                customdata=[f"entity:{entity}"] * len(series),
                mode="lines" if dense else "lines+markers",
                line={"color": PALETTE[index % MAX_LINES], "width": 2.2, "dash": line_dash(index, len(order))},
                marker={"symbol": MARKER_SYMBOLS[index % len(MARKER_SYMBOLS)], "size": 6},
                hovertemplate=f"{value}<extra>%{{fullData.name}}</extra>",
            )
        )
    right_axis: dict = {}
    if compare is not None and not compare.empty:
        series = compare.sort_values("ds")
        lines.append(
            traces.scatter(
                x=iso_days(series["ds"]),
                y=_values(series["y"], log),
                name=f"{compare_label} (right axis)",
                yaxis="y2",
                mode="lines",
                line={"color": COMPARE_COLOUR, "width": 2, "dash": "dash"},
                customdata=["compare"] * len(series),
                hovertemplate=f"{_hover_value(compare_unit, False)}<extra>{compare_label}</extra>",
            )
        )
        right_axis = {
            "yaxis2": {
                "overlaying": "y",
                "side": "right",
                "showgrid": False,
                "rangemode": "tozero",
                "tickformat": _tick_format(compare_unit, False),
                "title": {"text": compare_label},
                "type": "log" if log else "linear",
                **({"dtick": 1} if log else {}),
            }
        }
    change_points, anomalies = _events(frame, events, order, label)
    if anomalies is not None:
        lines.append(anomalies)
    annotations = list(change_points.get("annotations", []))  # the change points' labels, then the note
    if drawn < total:
        annotations.append(
            {
                "text": f"Drawn at {drawn:,} of {total:,} points (each stretch's minimum and maximum kept; CSV has all)",
                "xref": "paper",
                "yref": "paper",
                "x": 1,
                "y": 1.02,
                "xanchor": "right",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 11},
            }
        )
    layout = merged(
        base_layout(title),
        right_axis,
        change_points,
        {"annotations": annotations} if annotations else {},
        {
            "xaxis": {"hoverformat": HOVER_DATES.get(grain, "%d %b %Y")},
            "yaxis": {
                "title": {"text": title},
                "tickformat": _tick_format(unit, per_capita),
                "type": "log" if log else "linear",
                "rangemode": "tozero" if not log else "normal",
                **({"dtick": 1} if log else {}),  # one labelled tick per power of ten
            },
            "showlegend": len(order) > 1 or compared,
            "legend": {"title": {"text": split_label}},
            "margin": {"r": 72 if compared else 24},
        },
    )
    fig = traces.figure(layout=layout)
    fig.add_traces(lines)
    return fig


def _events(
    frame: pd.DataFrame, events: pd.DataFrame | None, shown: Sequence[str], label: str
) -> tuple[dict, go.Scatter | None]:
    """Change points as vertical lines in their series' colour and dash (a layout update), anomalies as crosses
    on their line (a trace, or None).

    On the page the change points carry short labels at the top, one per date (several series changing
    on the same date share it), staggered over up to `LABEL_LANES` rows so labels never sit on each other.
    Static exports drop those labels (`PAGE_ONLY`) and list the change points under the chart instead
    (`CAPTION_META`).
    """
    if events is None or events.empty:
        return {}, None
    events = events[events["entity"].astype(str).isin(set(shown))]
    rows = events.to_dict("records")
    changes = [row for row in rows if row["kind"] == "changepoint"]
    change_points = _change_points_layout(frame, changes, list(shown), label) if changes else {}
    anomalies = [row for row in rows if row["kind"] == "anomaly"]
    if not anomalies:
        return change_points, None
    # Each anomaly on its line: the value drawn at its date (as an inner merge on date and entity would
    # pair them, in the anomalies' order).
    keys = [(pd.Timestamp(row["date"]).value, str(row["entity"])) for row in anomalies]
    stamps = pd.to_datetime(frame["ds"]).to_numpy("datetime64[ns]").astype("int64")
    entities = frame["entity"].astype(str)
    wanted = np.isin(stamps, [stamp for stamp, _ in keys]) & entities.isin({e for _, e in keys}).to_numpy()
    values: dict[tuple[int, str], list] = {}  # only the rows at an anomaly's date and entity
    for stamp, entity, y in zip(stamps[wanted].tolist(), entities[wanted].tolist(), frame["y"][wanted].tolist()):
        values.setdefault((stamp, entity), []).append(y)
    points = [(row, y) for row, key in zip(anomalies, keys) for y in values.get(key, [])]
    if not points:
        return change_points, None
    return change_points, (
        traces.scatter(
            x=[_iso_day(row["date"]) for row, _ in points],
            y=[float(y) for _, y in points],
            name="Anomaly",
            mode="markers",
            marker={"symbol": "x", "size": 11, "color": EVENT_COLOUR, "line": {"width": 1}},
            customdata=["event"] * len(points),
            text=[
                f"{'spike' if row['direction'] == 'up' else 'dip'} vs expected {row['before']:,.4g}"
                if pd.notna(row["before"])
                else "anomaly"
                for row, _ in points
            ],
            hovertemplate="%{text}<extra>Anomaly</extra>",
        )
    )
