"""Pieces the chart pages share: what a chart card shows, the page texts, the page grains."""

from __future__ import annotations

from typing import NamedTuple

import plotly.graph_objects as go

from dashboards.state import ViewState, ViewStateError

# Pages of shares and mixes offer no daily grain: days are too noisy for them.
PERIOD_GRAINS = ("week", "month", "quarter", "year")


class ChartView(NamedTuple):
    """Outputs of a page's `draw_chart`: what one chart card shows."""

    figure: go.Figure
    subtitle: str
    note: str


class PageTexts(NamedTuple):
    """Outputs of a page's `page_texts`: the scope line and the status (an error, or empty)."""

    scope: str
    status: str


def grain_of(state: ViewState) -> str:
    """The view's grain when the page offers it (week, month, quarter or year), else a `ViewStateError`."""
    if state.grain not in PERIOD_GRAINS:
        raise ViewStateError(f"grain: {state.grain!r} is not offered on this page; choose {', '.join(PERIOD_GRAINS)}")
    return state.grain
