"""A page's interactive figure made into a static one for a slide or a report page.

What the page draws for a screen and a mouse is not what a projected slide or a printed page needs.
`static_figure` takes the chart's own figure and, for one `Preset`:
- sizes it to the page and sets every text in the preset's type scale (points; ≥ 14 pt on a slide);
- drops what only makes sense interactively: annotations and shapes named `page-only…` (click
  hints, change-point labels that the page staggers), the range slider, hover-only subtitles;
- writes the specific title, the filters as subtitle, the classification banner and a footer with
  the chart's caption (e.g. the change points as a list, coloured like their series), the figure's
  own legend notes, source, data freshness, the small-cell rule and the export time;
- puts the legend beside the plot and, with more than four lines, labels each line at its end
  (line styles already differ), so no series is told apart by colour alone.

Layout is computed, not left to chance: the title block and the footer get measured bands (text is
wrapped to the width it has, from a conservative glyph width), so no text lands on another —
`tests/test_chart_presets.py` measures every text of every chart in Chromium to hold us to that.
"""

from __future__ import annotations

import html
import math
import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import plotly.graph_objects as go

from dashboards.exports.marking import Marking
from dashboards.exports.presets import Preset
from dashboards.figures import CAPTION_META, PAGE_ONLY, TEXT_COLOUR
from dashboards.figures.colour import readable_on

MARK_COLOUR = "#8A1C1C"
MUTED = "#3E4C59"  # secondary text: 9.6:1 on white (WCAG AA needs 4.5)
# Average glyph width in em of the sans-serif font Chromium uses here (Liberation Sans for Arial: about 0.47
# on mixed text, 0.45 bold at title size), with room for capitals and digits.
GLYPH_EM = 0.52
BOLD_GLYPH_EM = 0.55
MAX_PLOT_ASPECT = 0.75  # plot height / width at most: a portrait page leaves the rest of the page blank
LINE_EM = 1.32  # line height
DIRECT_LABEL_FROM = 5  # lines in one chart from which each is labelled at its end
MAX_CAPTION_ITEMS = 12
LEGEND_SYMBOL_EM = 3.4  # a legend entry's symbol and gaps, in em
LEGEND_ROW_EM = 1.5  # a legend row's height, in em


@dataclass(frozen=True)
class TextBlock:
    """Lines of wrapped text at one size: what it takes vertically."""

    lines: tuple[str, ...]
    size_px: float

    @property
    def height(self) -> float:
        return len(self.lines) * self.size_px * LINE_EM

    def html(self) -> str:
        return "<br>".join(self.lines)


def wrap(text: str, width_px: float, size_px: float, bold: bool = False) -> TextBlock:
    """`text` (already HTML-escaped, no markup) wrapped to `width_px` at `size_px`."""
    per_char = size_px * (BOLD_GLYPH_EM if bold else GLYPH_EM)
    chars = max(12, int(width_px / per_char))
    return TextBlock(tuple(textwrap.wrap(text, chars, break_on_hyphens=False)) or ("",), size_px)


def _escape(text: str) -> str:
    return html.escape(" ".join(str(text).split()), quote=False)


def static_figure(
    figure: go.Figure, marking: Marking, preset: Preset, caption_title: str = "", caption: Sequence[tuple] = ()
) -> go.Figure:
    """A copy of `figure` laid out for `preset`, with the marking drawn in (see the module docstring).

    `caption`: (colour, text) items listed under the chart after `caption_title` (e.g. change points);
    when not given, the figure's own `layout.meta["caption"]` is used.
    """
    fig = go.Figure(figure)  # a deep copy
    meta = dict(fig.layout.meta) if isinstance(fig.layout.meta, dict) else {}
    if not caption and meta.get(CAPTION_META):
        caption_title, caption = meta[CAPTION_META]["title"], meta[CAPTION_META]["items"]
    figure_note = _figure_subtitle(fig)
    _drop_page_only(fig)
    _apply_type_scale(fig, preset)
    width, height, pad = preset.width_px, preset.height_px, preset.margin_px
    text_width = width - 2 * pad
    body, small = preset.px(preset.body_pt), preset.px(preset.small_pt)

    banner = wrap(_escape(marking.classification), text_width, small, bold=True)
    title = wrap(_escape(marking.title), text_width, preset.px(preset.title_pt), bold=True)
    subtitle = wrap(_escape(marking.subtitle), text_width, preset.px(preset.subtitle_pt))
    labelled = _lines_to_label(fig)
    legend_top = pad + banner.height + 0.4 * small + title.height + 0.25 * body + subtitle.height + 0.6 * body
    legend_rows = _legend_rows(fig, preset, text_width, {str(trace.name) for trace in labelled})
    top = legend_top + legend_rows * body * LEGEND_ROW_EM + 0.8 * body

    footer = _footer_blocks(marking, preset, text_width, caption_title, caption, figure_note)
    _fit_axis_titles(fig, preset, plot_height=height - top - _footer_height(footer, small) - 3 * body)
    left = pad + _left_band(fig, preset)
    right = pad + _right_band(fig, preset, labelled)
    _tame_axes(fig, preset, plot_width=width - left - right)
    axis_band = _x_axis_band(fig, preset)
    bottom = axis_band + _footer_height(footer, small) + pad
    plot_height = height - top - bottom
    tallest = MAX_PLOT_ASPECT * (width - left - right)
    if plot_height > tallest:  # no towering plots on a portrait page: the footer follows the plot up
        bottom += plot_height - tallest
        plot_height = tallest
    direct = _direct_labels(fig, preset, labelled, plot_height=plot_height)
    _layout_map(fig, preset, plot_width=width - left - right, plot_height=plot_height)
    fig.update_layout(
        width=width,
        height=height,
        autosize=False,
        margin={"t": top, "b": bottom, "l": left, "r": right, "pad": 0, "autoexpand": False},
        paper_bgcolor="white",
        plot_bgcolor="white",
        title={"text": ""},  # drawn as annotations below: plotly misplaces multi-line titles anchored at the top
        meta=None,
    )
    head = top - pad  # from the plot's top edge up to the page's top margin
    annotations = list(fig.layout.annotations) + direct
    banner_note = _block(banner, MARK_COLOUR, head, left, pad, bold=True, centred=True)
    banner_note["xshift"] = (right - left) / 2  # centred on the page, not on the plot
    annotations.append(banner_note)
    head -= banner.height + 0.4 * small
    annotations.append(_block(title, TEXT_COLOUR, head, left, pad, bold=True))
    head -= title.height + 0.25 * body
    annotations.append(_block(subtitle, MUTED, head, left, pad))
    y = -axis_band
    for index, block in enumerate(footer):
        last = index == len(footer) - 1
        annotations.append(_block(block, MARK_COLOUR if last else MUTED, y, left, pad, bold=last, anchor_y=0))
        y -= block.height + 0.35 * small
    fig.layout.annotations = annotations
    _place_legend(fig, labelled, legend_top, pad, height)
    return fig


MAP_ASPECT = 0.98  # width / height of the EU-27 in the map's projection, its small-state labels included
MAP_SHARE = 0.72  # of the plot width, at most


def _layout_map(fig: go.Figure, preset: Preset, plot_width: float, plot_height: float) -> None:
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


def _figure_subtitle(fig: go.Figure) -> str:
    """The figure's own subtitle (a legend note such as 'Dotted: latest month, still in progress')."""
    subtitle = fig.layout.title.subtitle
    return str(subtitle.text) if subtitle is not None and subtitle.text else ""


def _drop_page_only(fig: go.Figure) -> None:
    """Remove annotations and shapes meant for the page only, and the interactive widgets."""
    keep = [a for a in fig.layout.annotations if not str(a.name or "").startswith(PAGE_ONLY)]
    shapes = [s for s in fig.layout.shapes if not str(s.name or "").startswith(PAGE_ONLY)]
    fig.layout.annotations, fig.layout.shapes = keep, shapes  # assigned: update_layout would merge by index
    fig.update_layout(updatemenus=[], sliders=[])
    for axis in _axes(fig, "xaxis"):
        axis.rangeslider = None
        axis.rangeselector = None


def _axes(fig: go.Figure, prefix: str) -> list:
    return [fig.layout[name] for name in fig.layout if name.startswith(prefix) and fig.layout[name] is not None]


def _apply_type_scale(fig: go.Figure, preset: Preset) -> None:
    """Every text of the figure at the preset's body size (annotations: at least that size)."""
    body = preset.px(preset.body_pt)
    fig.update_layout(font={"size": body}, legend={"font": {"size": body}, "title": {"font": {"size": body}}})
    for axis in _axes(fig, "xaxis") + _axes(fig, "yaxis"):
        axis.tickfont.size = body
        axis.title.font.size = body
        axis.automargin = True
        if axis.title.standoff is None:
            axis.title.standoff = 0.5 * body
    for annotation in fig.layout.annotations:
        annotation.font.size = max(body, annotation.font.size or 0)
    for trace in fig.data:
        if "colorbar" in trace and trace.colorbar is not None:
            trace.colorbar.tickfont.size = body
            trace.colorbar.title.font.size = body
        if "textfont" in trace:
            trace.textfont.size = body
        if trace.type == "table":
            trace.header.font.size = body
            trace.cells.font.size = body
    if fig.layout.geo is not None:
        pass  # geo labels are traces (Scattergeo text), sized above


def _footer_blocks(
    marking: Marking,
    preset: Preset,
    width: float,
    caption_title: str,
    caption: Sequence[tuple],
    figure_note: str,
) -> list[TextBlock]:
    """The footer, top to bottom: caption, legend note, chart note, then one run of marking lines."""
    small = preset.px(preset.small_pt)
    blocks = []
    if caption:
        blocks.append(_caption_block(caption_title, caption, width, small))
    notes = " ".join(part for part in (_escape(figure_note), _escape(marking.note)) if part)
    if notes:
        blocks.append(wrap(notes, width, small))
    provenance = " · ".join(
        part
        for part in (
            f"Source: {_escape(marking.source)}",
            f"Data: {_escape(marking.freshness)}" if marking.freshness else "",
            _escape(marking.rule_in_brief or marking.rule),
            f"Exported {_escape(marking.generated_at)}",
        )
        if part
    )
    blocks.append(wrap(provenance, width, small))
    blocks.append(wrap(_escape(marking.classification), width, small, bold=True))
    return blocks  # the last one is the classification, printed in its colour


def _footer_height(blocks: Sequence[TextBlock], small: float) -> float:
    return sum(block.height for block in blocks) + 0.35 * small * (len(blocks) - 1)


def _fit_axis_titles(fig: go.Figure, preset: Preset, plot_height: float) -> None:
    """Vertical axis titles longer than the plot is high are wrapped onto lines that fit."""
    body = preset.px(preset.body_pt)
    for axis in _axes(fig, "yaxis"):
        text = str(axis.title.text or "")
        if text and len(text) * body * GLYPH_EM > plot_height:
            axis.title.text = wrap(_escape(text), plot_height, body).html()


def _caption_block(title: str, items: Sequence[tuple], width: float, size: float) -> TextBlock:
    """'Change points: ■ Spain 1 Mar 2024 −12 % · ■ Italy …' — each square in its series' colour,
    wrapped on item boundaries (markup is added after wrapping so it does not count as width)."""
    shown = list(items)[:MAX_CAPTION_ITEMS]
    words = [f"{_escape(title)}:"] + [f"■ {_escape(text)}" for _, text in shown]
    if len(items) > len(shown):
        words.append(f"and {len(items) - len(shown)} more")
    per_char = size * GLYPH_EM
    limit = max(12, int(width / per_char))
    lines, current = [], ""
    for word in words:
        candidate = f"{current} · {word}" if current and not current.endswith(":") else f"{current} {word}".strip()
        if current and len(candidate) > limit:
            lines.append(current)
            current = word
        else:
            current = candidate
    lines.append(current)
    colours = iter(readable_on(str(colour)) for colour, _ in shown)
    painted = []
    for line in lines:
        parts = line.split("■")
        out = parts[0]
        for part in parts[1:]:
            out += f'<span style="color:{next(colours)}">■</span>{part}'
        painted.append(out)
    return TextBlock(tuple(painted), size)


def _block(
    block: TextBlock,
    colour: str,
    shift: float,
    left: float,
    pad: float,
    bold: bool = False,
    centred: bool = False,
    anchor_y: float = 1,
) -> dict:
    """A block of text outside the plot, its top `shift` px above the plot's top (`anchor_y` 1) or below its
    bottom (`anchor_y` 0, negative shift), starting at the page's left margin or centred on the plot."""
    text = block.html()
    return {
        "text": f"<b>{text}</b>" if bold else text,
        "xref": "paper",
        "yref": "paper",
        "x": 0.5 if centred else 0,
        "y": anchor_y,
        "xanchor": "center" if centred else "left",
        "yanchor": "top",
        "xshift": 0 if centred else pad - left,
        "yshift": shift,
        "showarrow": False,
        "align": "left",
        "font": {"size": block.size_px, "color": colour},
    }


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


def _tame_axes(fig: go.Figure, preset: Preset, plot_width: float) -> None:
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


def _x_axis_band(fig: go.Figure, preset: Preset) -> float:
    """Room under the plot for the x-axis tick labels and title (rotated labels take more; a date axis
    without a tick format may print two lines, time over date)."""
    body = preset.px(preset.body_pt)
    axes = [axis for axis in _axes(fig, "xaxis") if axis.visible is not False]
    if not axes or (fig.layout.geo is not None and not any(t.type in ("scatter", "bar", "heatmap") for t in fig.data)):
        return body
    band = 0.0
    for axis in axes:
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


def _left_band(fig: go.Figure, preset: Preset) -> float:
    """Room left of the plot: axis automargin works inside the margin we give, so give enough."""
    body = preset.px(preset.body_pt)
    if fig.layout.geo is not None and not _axes(fig, "yaxis"):
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


def _legend_rows(fig: go.Figure, preset: Preset, width: float, labelled: set[str]) -> int:
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


def _right_band(fig: go.Figure, preset: Preset, labelled: list) -> float:
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


def _place_legend(fig: go.Figure, labelled: list, top_px: float, pad: float, height: float) -> None:
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


def _lines_to_label(fig: go.Figure) -> list:
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


def _direct_labels(fig: go.Figure, preset: Preset, lines: list, plot_height: float) -> list[dict]:
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
            "text": _escape(str(trace.name)),
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
