"""Where things go around the plot of a static chart: axis bands and ticks that fit the type size, the
legend in rows under the subtitle, lines labelled at their ends, a map beside its colour bar.

Each helper works on a plotly figure for one `Preset`; `dashboards/exports/static.py` calls them in order.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date

import plotly.graph_objects as go

from dashboards.exports.presets import Preset
from dashboards.exports.static_text import GLYPH_EM, LINE_EM, escape, wrap
from dashboards.figures import TEXT_COLOUR
from dashboards.figures.colour import readable_on

DIRECT_LABEL_FROM = 5  # lines in one chart from which each is labelled at its end

LEGEND_SYMBOL_EM = 3.4  # a legend entry's symbol and gaps, in em

LEGEND_ROW_EM = 1.5  # a legend row's height, in em

MAP_ASPECT = 0.98  # width / height of the EU-27 in the map's projection, its small-state labels included

MAP_SHARE = 0.72  # of the plot width, at most


def axes(fig: go.Figure, prefix: str) -> list:
    return [fig.layout[name] for name in fig.layout if name.startswith(prefix) and fig.layout[name] is not None]


def layout_map(fig: go.Figure, preset: Preset, plot_width: float, plot_height: float) -> None:
    """A map and its colour bar as one group, centred: the map as large as the plot's height allows and the
    colour bar upright right beside it, its title along it (the page puts the bar under the map)."""
    choropleths = [trace for trace in fig.data if trace.type == "choropleth" and trace.showscale is not False]
    if fig.layout.geo is None or not choropleths:
        return
    body = preset.px(preset.body_pt)
    map_width = min(plot_height * MAP_ASPECT, plot_width * MAP_SHARE)
    gap = 2.5 * body  # the small states' labels reach past the map's edge
    bar_width = 14 + 6 * body * GLYPH_EM + 2 * body
    start = max(0.0, (plot_width - map_width - gap - bar_width) / 2)
    fig.update_geos(domain={"x": [start / plot_width, (start + map_width) / plot_width], "y": [0, 1]})
    for trace in choropleths:
        trace.colorbar.update(
            orientation="v",
            x=(start + map_width + gap) / plot_width,
            xanchor="left",
            y=0.5,
            yanchor="middle",
            len=0.8,
            lenmode="fraction",
            thickness=14,
        )
        trace.colorbar.title.side = "right"


def fit_axis_titles(fig: go.Figure, preset: Preset, plot_height: float) -> None:
    """Vertical axis titles longer than the plot is high are wrapped onto lines that fit."""
    body = preset.px(preset.body_pt)
    for axis in axes(fig, "yaxis"):
        text = str(axis.title.text or "")
        if text and len(text) * body * GLYPH_EM > plot_height:
            axis.title.text = wrap(escape(text), plot_height, body).html()


DATE_VALUE = re.compile(r"^\d{4}-\d{2}-\d{2}")

DATE_TICK_CHARS = 9  # 'Sep 2024', '2024-10-01'


def _is_date_axis(fig: go.Figure, axis) -> bool:
    if axis.type is not None:
        return axis.type == "date"
    for trace in fig.data:
        if trace.type in ("scatter", "bar") and trace.x is not None and len(trace.x):
            return bool(DATE_VALUE.match(str(trace.x[0])))
    return False  # no trace with x values: nothing to tame


MONTH_TICKS_FROM_DAYS = 62


def _date_span_days(fig: go.Figure) -> int:
    """Days between the first and the last x value of the figure's date traces."""
    days = [
        str(x)[:10]
        for trace in fig.data
        if trace.type in ("scatter", "bar") and trace.x is not None
        for x in trace.x
        if DATE_VALUE.match(str(x))
    ]
    if not days:
        return 0
    first, last = min(days), max(days)
    return (date.fromisoformat(last) - date.fromisoformat(first)).days


def tame_axes(fig: go.Figure, preset: Preset, plot_width: float) -> None:
    """Tick labels that fit at the preset's type size, level: category axes label every category (plotly
    would skip some) and x labels stand upright (90°) only when they cannot sit side by side; date axes get
    as many ticks as fit level (plotly would otherwise tilt them)."""
    body = preset.px(preset.body_pt)
    for axis_name, labels in (("xaxis", _category_labels(fig, "x")), ("yaxis", _category_labels(fig, "y"))):
        axis = fig.layout[axis_name]
        if axis is None or axis.type != "category" or not labels:
            continue
        axis.dtick = 1
        if axis_name == "xaxis":
            longest = max(len(label) for label in labels)
            fits = len(set(labels)) * (longest * body * GLYPH_EM + 0.6 * body) <= plot_width
            axis.tickangle = 0 if fits else -90
    axis = fig.layout.xaxis
    if axis is not None and _is_date_axis(fig, axis) and axis.dtick is None:
        axis.nticks = max(2, int(plot_width / (DATE_TICK_CHARS * body * GLYPH_EM + 2 * body)))
        axis.tickangle = 0
        if not axis.tickformat and _date_span_days(fig) > MONTH_TICKS_FROM_DAYS:
            axis.tickformat = "%b %Y"  # one line ('Jan 2024'), not plotly's day over year


def x_axis_band(fig: go.Figure, preset: Preset) -> float:
    """Room under the plot for the x-axis tick labels and title (rotated labels take more; a date axis
    without a tick format may print two lines, time over date)."""
    body = preset.px(preset.body_pt)
    shown = [axis for axis in axes(fig, "xaxis") if axis.visible is not False]
    if not shown or (fig.layout.geo is not None and not any(t.type in ("scatter", "bar", "heatmap") for t in fig.data)):
        return body
    band = 0.0
    for axis in shown:
        labels = _category_labels(fig, "x")
        angle = abs(float(axis.tickangle)) if isinstance(axis.tickangle, (int, float)) else 0.0
        longest = max((len(label) for label in labels), default=8) if axis.type == "category" else 8
        lines = 2 if _is_date_axis(fig, axis) and not axis.tickformat else 1
        tick = body * LINE_EM * lines
        if angle:
            tick = body * GLYPH_EM * longest * math.sin(math.radians(angle)) + body
        title = body * LINE_EM + 0.5 * body if axis.title.text else 0
        band = max(band, tick + title + 0.8 * body)
    return band


def _category_labels(fig: go.Figure, axis: str) -> list[str]:
    """The labels bars and heatmaps put on the `axis` ('x' or 'y')."""
    labels: list[str] = []
    for trace in fig.data:
        if trace.type not in ("bar", "heatmap"):
            continue
        values = trace.x if axis == "x" else trace.y
        if values is not None:
            labels += [str(value) for value in values]
    return labels


def left_band(fig: go.Figure, preset: Preset) -> float:
    """Room left of the plot: axis automargin works inside the margin we give, so give enough."""
    body = preset.px(preset.body_pt)
    if fig.layout.geo is not None and not axes(fig, "yaxis"):
        return 0.0
    labels = [label for label in _category_labels(fig, "y") if not _numeric(label)]
    longest = max((len(label) for label in labels), default=7)
    axis = fig.layout.yaxis
    title_lines = str(axis.title.text or "").count("<br>") + 1 if axis is not None and axis.title.text else 0
    return body * GLYPH_EM * max(longest, 7) + 1.2 * body + title_lines * body * LINE_EM


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _legend_names(fig: go.Figure) -> list[str]:
    names = []
    for trace in fig.data:
        if trace.showlegend is False or not trace.name or trace.type in ("choropleth", "heatmap"):
            continue
        if trace.name not in names:
            names.append(str(trace.name))
    return names


def _shows_legend(fig: go.Figure) -> bool:
    names = _legend_names(fig)
    return bool(names) and fig.layout.showlegend is not False and (len(names) > 1 or fig.layout.showlegend is True)


def legend_rows(fig: go.Figure, preset: Preset, width: float, labelled: set[str]) -> int:
    """Rows a horizontal legend of the figure's entries needs across `width` (0: no legend); entries
    packed left to right as plotly does, each estimated generously."""
    if not _shows_legend(fig):
        return 0
    body = preset.px(preset.body_pt)
    names = [name for name in _legend_names(fig) if name not in labelled]
    if not names:
        return 0
    title = str(fig.layout.legend.title.text or "") if fig.layout.legend.title else ""
    rows, used = 1, (len(title) * body * GLYPH_EM + body if title else 0.0)
    for name in names:
        item = len(name) * body * GLYPH_EM + LEGEND_SYMBOL_EM * body
        if used and used + item > width:
            rows, used = rows + 1, 0.0
        used += item
    return rows


def right_band(fig: go.Figure, preset: Preset, labelled: list) -> float:
    """Room right of the plot: a second axis or a colour bar next to it, or the lines' direct labels."""
    body = preset.px(preset.body_pt)
    band = 0.5 * body
    if "yaxis2" in fig.layout and fig.layout.yaxis2.overlaying:
        band += 6 * body * GLYPH_EM + 2.6 * body  # tick labels and the rotated axis title
    if any(trace.type == "heatmap" and trace.showscale is not False for trace in fig.data):
        band += 7 * body
    if labelled:
        band += body * GLYPH_EM * max(len(str(trace.name)) for trace in labelled) + body
    return band


def place_legend(fig: go.Figure, labelled: list, top_px: float, pad: float, height: float) -> None:
    """The legend as rows across the page under the subtitle (`top_px` from the top); lines labelled at
    their ends leave it."""
    for trace in labelled:
        trace.showlegend = False
    fig.update_layout(
        legend={
            "orientation": "h",
            "xref": "container",
            "yref": "container",
            "x": pad / fig.layout.width,
            "xanchor": "left",
            "y": 1 - top_px / height,
            "yanchor": "top",
            "bgcolor": "rgba(255,255,255,0)",
            "itemwidth": 30,
            "entrywidthmode": "pixels",
            "traceorder": "normal",
        }
    )


def lines_to_label(fig: go.Figure) -> list:
    """The lines to label at their ends: all of them when there are five or more (else none)."""
    lines = [
        trace
        for trace in fig.data
        if trace.type == "scatter"
        and "lines" in str(trace.mode or "lines")
        and trace.showlegend is not False
        and not trace.stackgroup
        and trace.yaxis in (None, "y")
        and trace.y is not None
        and any(y is not None for y in trace.y)
    ]
    return lines if len(lines) >= DIRECT_LABEL_FROM else []


def direct_labels(fig: go.Figure, preset: Preset, lines: list, plot_height: float) -> list[dict]:
    """A label at each line's last point, nudged apart vertically so none covers another (order kept)."""
    if not lines:
        return []
    body = preset.px(preset.body_pt)
    ends = [(trace, [(x, y) for x, y in zip(trace.x, trace.y) if y is not None][-1]) for trace in lines]
    values = [float(y) for trace in lines for y in trace.y if y is not None]
    low = 0.0 if fig.layout.yaxis.rangemode != "normal" else min(values, default=0.0)
    high = max(values, default=1.0)
    span = (high - low) or 1.0
    positions = sorted(
        ((float(point[1]) - low) / span * plot_height, index, trace, point) for index, (trace, point) in enumerate(ends)
    )  # px above the axis
    placed = _spread([p for p, _, _, _ in positions], gap=body * LINE_EM, ceiling=plot_height)
    return [
        {
            "text": escape(str(trace.name)),
            "x": point[0],
            "y": point[1],
            "xref": "x",
            "yref": "y",
            "xanchor": "left",
            "yanchor": "middle",
            "xshift": 0.4 * body,
            "yshift": at - want,
            "showarrow": False,
            "font": {"size": body, "color": readable_on(_trace_colour(trace))},
        }
        for (want, _, trace, point), at in zip(positions, placed)
    ]


def _spread(positions: Iterable[float], gap: float, ceiling: float) -> list[float]:
    """Sorted positions moved apart as little as possible so neighbours are at least `gap` apart and
    none is above `ceiling` (a crowded top is pushed down, keeping the gaps)."""
    out: list[float] = []
    for position in positions:
        out.append(max(position, out[-1] + gap) if out else position)
    if out:
        out[-1] = min(out[-1], ceiling)
    for index in range(len(out) - 2, -1, -1):
        out[index] = min(out[index], out[index + 1] - gap)
    return out


def _trace_colour(trace) -> str:
    colour = trace.line.color if trace.line is not None else None
    return str(colour or TEXT_COLOUR)
