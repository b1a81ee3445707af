"""A page's interactive figure made into a static one for a slide or a report page.

What the page draws for a screen and a mouse is not what a projected slide or a printed page needs.
`static_figure` takes the chart's own figure and, for one `Preset`:
- sizes it to the page and sets every text in the preset's type scale (points; ≥ 14 pt on a slide);
- drops what only makes sense interactively: annotations and shapes named `page-only…` (click
  hints, change-point labels that the page staggers), the range slider, hover-only subtitles;
- writes the specific title, the filters as subtitle, the classification banner and a footer with
  the chart's caption (e.g. the change points as a list, coloured like their series), the figure's
  own legend notes, source, data freshness, the small-cell rule and the export time;
- puts the legend in rows under the subtitle and, with more than four lines, labels each line at its
  end (line styles already differ), so no series is told apart by colour alone; a map gets its colour
  bar beside it.

The words (wrapping, footer, caption) are in `static_text.py`, the placing around the plot (axes,
legend, direct labels, map) in `static_layout.py`.

Layout is computed, not left to chance: the title block and the footer get measured bands (text is
wrapped to the width it has, from a conservative glyph width), so no text lands on another —
`tests/test_chart_presets.py` measures every text of every chart in Chromium to hold us to that.
"""

from __future__ import annotations

import plotly.graph_objects as go

from dashboards.exports.marking import Marking
from dashboards.exports.presets import Preset
from dashboards.exports.static_layout import (
    LEGEND_ROW_EM,
    axes,
    direct_labels,
    fit_axis_titles,
    layout_map,
    left_band,
    legend_rows,
    lines_to_label,
    place_legend,
    right_band,
    tame_axes,
    x_axis_band,
)
from dashboards.exports.static_text import (
    MARK_COLOUR,
    MUTED,
    escape,
    footer_blocks,
    footer_height,
    text_annotation,
    wrap,
)
from dashboards.figures import CAPTION_META, PAGE_ONLY, TEXT_COLOUR

MAX_PLOT_ASPECT = 0.75  # plot height / width at most: a portrait page leaves the rest of the page blank


def static_figure(figure: go.Figure, marking: Marking, preset: Preset) -> go.Figure:
    """A copy of `figure` laid out for `preset`, with the marking drawn in (see the module docstring).

    The figure's `layout.meta["caption"]` ({"title", "items": [[colour, text], …]}), when set, is listed
    under the chart (e.g. the change points).
    """
    fig = go.Figure(figure)  # a deep copy
    meta = dict(fig.layout.meta) if isinstance(fig.layout.meta, dict) else {}
    caption = meta.get(CAPTION_META) or {"title": "", "items": []}
    caption_title, items = caption["title"], caption["items"]
    figure_note = _figure_subtitle(fig)
    _drop_page_only(fig)
    _apply_type_scale(fig, preset)
    width, height, pad = preset.width_px, preset.height_px, preset.margin_px
    text_width = width - 2 * pad
    body, small = preset.px(preset.body_pt), preset.px(preset.small_pt)

    banner = wrap(escape(marking.classification), text_width, small, bold=True)
    title = wrap(escape(marking.title), text_width, preset.px(preset.title_pt), bold=True)
    subtitle = wrap(escape(marking.subtitle), text_width, preset.px(preset.subtitle_pt))
    labelled = lines_to_label(fig)
    legend_top = pad + banner.height + 0.4 * small + title.height + 0.25 * body + subtitle.height + 0.6 * body
    rows = legend_rows(fig, preset, text_width, {str(trace.name) for trace in labelled})
    top = legend_top + rows * body * LEGEND_ROW_EM + 0.8 * body

    footer = footer_blocks(marking, preset, text_width, caption_title, items, figure_note)
    fit_axis_titles(fig, preset, plot_height=height - top - footer_height(footer, small) - 3 * body)
    left = pad + left_band(fig, preset)
    right = pad + right_band(fig, preset, labelled)
    tame_axes(fig, preset, plot_width=width - left - right)
    axis_band = x_axis_band(fig, preset)
    bottom = axis_band + footer_height(footer, small) + pad
    plot_height = height - top - bottom
    tallest = MAX_PLOT_ASPECT * (width - left - right)
    if plot_height > tallest:  # no towering plots on a portrait page: the footer follows the plot up
        bottom += plot_height - tallest
        plot_height = tallest
    direct = direct_labels(fig, preset, labelled, plot_height=plot_height)
    layout_map(fig, preset, plot_width=width - left - right, plot_height=plot_height)
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
    banner_note = text_annotation(banner, MARK_COLOUR, head, left, pad, bold=True, centred=True)
    banner_note["xshift"] = (right - left) / 2  # centred on the page, not on the plot
    annotations.append(banner_note)
    head -= banner.height + 0.4 * small
    annotations.append(text_annotation(title, TEXT_COLOUR, head, left, pad, bold=True))
    head -= title.height + 0.25 * body
    annotations.append(text_annotation(subtitle, MUTED, head, left, pad))
    y = -axis_band
    for index, block in enumerate(footer):
        last = index == len(footer) - 1
        annotations.append(text_annotation(block, MARK_COLOUR if last else MUTED, y, left, pad, bold=last, anchor_y=0))
        y -= block.height + 0.35 * small
    fig.layout.annotations = annotations
    place_legend(fig, labelled, legend_top, pad, height)
    return fig


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
    for axis in axes(fig, "xaxis"):
        axis.rangeslider = None
        axis.rangeselector = None


def _apply_type_scale(fig: go.Figure, preset: Preset) -> None:
    """Every text of the figure at the preset's body size (annotations: at least that size)."""
    body = preset.px(preset.body_pt)
    fig.update_layout(font={"size": body}, legend={"font": {"size": body}, "title": {"font": {"size": body}}})
    for axis in axes(fig, "xaxis") + axes(fig, "yaxis"):
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
