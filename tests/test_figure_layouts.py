"""Figure layouts are built as one dict (`dashboards.figures.merged`) with Plotly's update semantics, so the
figures stay the ones the update calls made (tests/test_chart_presets.py compares every chart's JSON)."""

from __future__ import annotations

import plotly.graph_objects as go

from dashboards.figures import base_layout, merged


def test_nested_settings_merge_key_by_key_and_lists_replace_the_old_ones():
    base = {"xaxis": {"showgrid": False, "ticks": "outside"}, "shapes": [{"type": "line"}], "title": {"text": "a"}}
    layout = merged(base, {"xaxis": {"ticks": "", "dtick": "M1"}, "shapes": [{"type": "rect"}]}, {"title": None})
    assert layout == {"xaxis": {"showgrid": False, "ticks": "", "dtick": "M1"}, "shapes": [{"type": "rect"}]}
    assert base == {
        "xaxis": {"showgrid": False, "ticks": "outside"},
        "shapes": [{"type": "line"}],
        "title": {"text": "a"},
    }


def test_an_equal_number_keeps_the_old_value_as_plotlys_setters_do():
    assert merged({"legend": {"y": 1.0}}, {"legend": {"y": 1}})["legend"]["y"] == 1.0
    assert isinstance(merged({"legend": {"y": 1.0}}, {"legend": {"y": 1}})["legend"]["y"], float)
    assert merged({"legend": {"y": 1.0}}, {"legend": {"y": 0.5}})["legend"]["y"] == 0.5


def test_a_merged_layout_gives_the_figure_the_update_calls_give():
    updates = {"legend": {"orientation": "h", "y": -0.14}, "margin": {"b": 96}, "yaxis": {"title": {"text": "Files"}}}
    by_update = go.Figure(layout=base_layout("Files per month"))
    by_update.update_layout(**updates)
    at_once = go.Figure(layout=merged(base_layout("Files per month"), updates))
    assert at_once.to_plotly_json() == by_update.to_plotly_json()
