"""Text measured in rendered charts (tests/rendered_text.py): boxes, collisions, edges and contrast.

Synthetic plotly figures rendered to SVG by the export renderer (kaleido, Debian Chromium) and measured
in a second headless Chromium; one of each for the module.
"""

from __future__ import annotations

import time

import plotly.graph_objects as go
import pytest
from rendered_text import TextBox, contrast_problems, outside, overlaps, text_boxes

from dashboards.exports.renderer import renderer
from dashboards.figures import base_layout
from dashboards.figures.colour import WCAG_AA, contrast_ratio, readable_on

WIDTH, HEIGHT = 640, 400


def chart(*annotations: dict, **layout) -> go.Figure:
    """A small line chart in the dashboards' layout, with paper-positioned annotations."""
    fig = go.Figure(go.Scatter(x=["2024-01", "2024-02", "2024-03"], y=[120, 80, 100], name="Referrals"))
    fig.update_layout(base_layout("Referrals per month"), **layout)
    for annotation in annotations:
        fig.add_annotation({"xref": "paper", "yref": "paper", "showarrow": False, **annotation})
    return fig


def measured(fig: go.Figure) -> list[TextBox]:
    return text_boxes(renderer().render(fig, "svg", width=WIDTH, height=HEIGHT))


def only(boxes: list[TextBox], text: str) -> TextBox:
    [box] = [box for box in boxes if box.text == text]
    return box


def test_every_visible_text_of_a_chart_is_measured_once_in_document_order():
    boxes = measured(chart(xaxis_title="Month", yaxis_title="Referrals"))
    texts = [box.text for box in boxes]
    assert "Referrals per month" in texts
    assert texts.count("Month") == texts.count("Referrals") == 1
    title = only(boxes, "Referrals per month")
    assert title.role == "gtitle"
    assert title.font_size == 16
    assert title.fill == "#1F2933"
    assert title.opacity == 1
    assert 0 <= title.left < title.right < WIDTH  # the dashboards' title sits at x=0 of the image
    assert 0 < title.top < title.bottom < HEIGHT


def test_a_multi_line_annotation_is_one_box_with_its_lines():
    boxes = measured(chart({"text": "first line<br>second line", "x": 0.5, "y": 0.5}))
    note = only(boxes, "first line\nsecond line")
    assert note.role == "annotation-text"
    assert note.height > 2 * note.font_size


def test_two_annotations_on_top_of_each_other_overlap():
    boxes = measured(
        chart({"text": "Peak in March", "x": 0.5, "y": 0.5}, {"text": "Backlog grows", "x": 0.52, "y": 0.5})
    )
    pairs = overlaps(boxes)
    assert [{a.text, b.text} for a, b in pairs] == [{"Peak in March", "Backlog grows"}]


def test_the_same_two_annotations_far_apart_do_not_overlap_nor_does_anything_else():
    boxes = measured(
        chart({"text": "Peak in March", "x": 0.1, "y": 0.9}, {"text": "Backlog grows", "x": 0.9, "y": 0.1})
    )
    assert overlaps(boxes) == []


def test_a_rotated_axis_title_gets_the_rotated_box():
    same = "Referrals per month"
    boxes = measured(chart(xaxis_title=same, yaxis_title=same))
    [upright] = [box for box in boxes if box.role == "xtitle"]
    [rotated] = [box for box in boxes if box.role == "ytitle"]
    assert upright.angle == 0
    assert rotated.angle == pytest.approx(-90)
    assert rotated.height == pytest.approx(upright.width, abs=1)
    assert rotated.width == pytest.approx(upright.height, abs=1)
    assert rotated.height > 4 * rotated.width


def test_diagonal_tick_labels_are_compared_as_rotated_rectangles_not_their_upright_bounds():
    months = [f"Month number {n}" for n in range(1, 9)]
    fig = chart()
    fig.data = []
    fig.add_trace(go.Bar(x=months, y=list(range(8))))
    fig.update_xaxes(tickangle=-45, tickmode="array", tickvals=months)  # every label, however crowded

    def ticks(width: int) -> list[TextBox]:
        return [
            box for box in text_boxes(renderer().render(fig, "svg", width=width, height=HEIGHT)) if box.role == "xtick"
        ]

    roomy = ticks(WIDTH)
    assert [box.text for box in roomy] == months
    assert all(box.angle == pytest.approx(-45) for box in roomy)
    first, second = roomy[0], roomy[1]
    assert first.right > second.left and first.bottom > second.top  # their upright bounds intersect
    assert overlaps(roomy) == []
    # 15 px apart along the axis is 11 px across the slanted text: less than a line, so they collide.
    crowded = ticks(220)
    assert len(overlaps(crowded)) == len(months) - 1


def test_a_text_placed_past_the_right_edge_is_outside_and_nothing_else_is():
    boxes = measured(chart({"text": "Too far right", "x": 1.02, "xanchor": "left", "y": 0.5}, margin={"r": 24}))
    assert [box.text for box in outside(boxes, WIDTH, HEIGHT)] == ["Too far right"]
    assert only(boxes, "Too far right").right > WIDTH


def test_an_orange_annotation_fails_contrast_and_its_readable_colour_passes():
    orange = "#E69F00"
    boxes = measured(chart({"text": "Orange note", "x": 0.5, "y": 0.5, "font": {"color": orange, "size": 13}}))
    problems = contrast_problems(boxes)
    assert [(problem.box.text, problem.box.fill) for problem in problems] == [("Orange note", orange)]
    assert problems[0].ratio == pytest.approx(2.25, abs=0.01)
    assert problems[0].minimum == WCAG_AA
    readable = readable_on(orange)
    fixed = measured(chart({"text": "Orange note", "x": 0.5, "y": 0.5, "font": {"color": readable, "size": 13}}))
    assert contrast_problems(fixed) == []
    assert contrast_ratio(only(fixed, "Orange note").fill) >= WCAG_AA


def test_large_and_large_bold_text_need_only_three_to_one():
    vermillion = "#D55E00"  # 3.87 on white: large text only
    boxes = measured(
        chart(
            {"text": "small", "x": 0.1, "y": 0.9, "font": {"color": vermillion, "size": 13}},
            {"text": "large", "x": 0.5, "y": 0.9, "font": {"color": vermillion, "size": 24}},
            {"text": "bold", "x": 0.9, "y": 0.9, "font": {"color": vermillion, "size": 19, "weight": "bold"}},
            {"text": "not bold", "x": 0.9, "y": 0.1, "font": {"color": vermillion, "size": 19}},
        )
    )
    assert only(boxes, "bold").bold
    assert sorted(problem.box.text for problem in contrast_problems(boxes)) == ["not bold", "small"]


def test_opacity_is_composited_before_the_contrast_check():
    boxes = measured(chart({"text": "faint", "x": 0.5, "y": 0.5, "font": {"color": "#000000"}, "opacity": 0.3}))
    faint = only(boxes, "faint")
    assert faint.opacity == pytest.approx(0.3)
    assert [problem.box.text for problem in contrast_problems(boxes)] == ["faint"]
    assert contrast_problems(boxes, background="#000000", minimum=1.0, large_minimum=1.0) == []


def test_transparent_and_blank_annotations_are_not_text():
    boxes = measured(
        chart(
            {"text": "invisible", "x": 0.2, "y": 0.5, "font": {"color": "rgba(0,0,0,0)"}},
            {"text": "see-through", "x": 0.4, "y": 0.5, "opacity": 0},
            {"text": " ", "x": 0.6, "y": 0.5},
            {"text": "visible", "x": 0.8, "y": 0.5},
        )
    )
    texts = [box.text for box in boxes]
    assert "visible" in texts
    assert not {"invisible", "see-through", " "} & set(texts)


HANDMADE = b"""<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 400 200">
<text x="10" y="20" style="font-size: 10px; fill: rgb(0, 0, 0)">shown</text>
<text x="10" y="40" style="display: none">display none</text>
<g style="display: none"><text x="10" y="60">group hidden</text></g>
<text x="10" y="80" style="visibility: hidden">visibility hidden</text>
<g opacity="0"><text x="10" y="100">group transparent</text></g>
<text x="10" y="120" fill="none">no fill</text>
<text x="10" y="140" fill-opacity="0">fill opacity 0</text>
<text x="10" y="160">   </text>
<g transform="translate(200, 100) scale(2)"><text style="font-size: 10px; fill: #808080" fill-opacity="0.5">scaled</text></g>
</svg>"""


def test_hidden_text_in_any_of_the_ways_svg_hides_it_is_skipped():
    assert [box.text for box in text_boxes(HANDMADE)] == ["shown", "scaled"]


def test_boxes_are_in_viewbox_units_and_scaled_text_reports_its_scaled_size():
    shown, scaled = text_boxes(HANDMADE)
    assert shown.font_size == 10
    assert shown.left == pytest.approx(10, abs=1)  # viewBox units, though the SVG is drawn at half size
    assert scaled.font_size == 20
    assert scaled.left == pytest.approx(200, abs=1)
    assert scaled.fill == "#808080"
    assert scaled.opacity == 0.5


def test_an_svg_that_does_not_parse_is_an_error():
    with pytest.raises(Exception, match="not a well-formed SVG"):
        text_boxes(b"<svg><text>unclosed</svg>")


def test_measuring_is_cheap_once_the_browser_runs():
    svg = renderer().render(chart({"text": "note", "x": 0.5, "y": 0.5}), "svg", width=WIDTH, height=HEIGHT)
    text_boxes(svg)
    started = time.perf_counter()
    for _ in range(10):
        text_boxes(svg)
    assert (time.perf_counter() - started) / 10 < 0.25
