"""Plotly traces, checked against Plotly's schema only when `GRACE_FIGURE_CHECKS` is on.

Plotly checks every value of every trace as it is built, element by element, in Python, and again when
the trace is added to a figure: for a stacked chart of 8 platforms × 365 weeks that was most of the
figure's build time on 2 cores, and the figure's JSON is the same either way. The checks find programming errors (a misspelt property,
a wrong type), which the test suite catches: it turns them on (tests/conftest.py) and checks that every
chart of the catalogue builds the same figure with and without them (tests/test_chart_presets.py).
Serving leaves them off. Every figure builder makes its traces here instead of `plotly.graph_objects`.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from grace import settings


def scatter(**properties: Any) -> go.Scatter:
    return go.Scatter(_validate=settings.figure_checks(), **properties)


def bar(**properties: Any) -> go.Bar:
    return go.Bar(_validate=settings.figure_checks(), **properties)


def heatmap(**properties: Any) -> go.Heatmap:
    return go.Heatmap(_validate=settings.figure_checks(), **properties)


def choropleth(**properties: Any) -> go.Choropleth:
    return go.Choropleth(_validate=settings.figure_checks(), **properties)


def scattergeo(**properties: Any) -> go.Scattergeo:
    return go.Scattergeo(_validate=settings.figure_checks(), **properties)


# The trace types built here: the only ones whose styles the figures' template needs.
TRACE_TYPES = ("scatter", "bar", "heatmap", "choropleth", "scattergeo")


def _template() -> dict:
    """Plotly's default template ("plotly") with the styles of `TRACE_TYPES` only. Plotly copies its
    default template into every figure, styles for 24 trace types included: 7 KB of JSON in each
    figure (of 7.4 KB for a KPI sparkline), deep-copied as the figure is made and encoded on every
    response. The browser applies a trace type's styles only to traces of that type, so the trimmed
    template draws every figure the same (tests/test_chart_presets.py checks the types; the golden
    images of the exports check the look)."""
    full = pio.templates["plotly"].to_plotly_json()
    return {"data": {name: full["data"][name] for name in TRACE_TYPES}, "layout": full["layout"]}


TEMPLATE = _template()


def figure(**properties: Any) -> go.Figure:
    """A figure that, unchecked, also takes added traces as they are: Plotly's `add_trace` re-creates every
    trace through the figure's trace-list validator with checks on, whatever the trace was built with, so
    that validator is wrapped to pass `_validate=False` (Plotly's own switch, which its constructors take).
    This reaches into one private attribute; tests/test_chart_presets.py checks every chart's JSON is the
    same either way, so a Plotly upgrade that changes it fails there. The layout gets `TEMPLATE` unless it
    names a template."""
    checks = settings.figure_checks()
    layout = properties.get("layout") or {}
    if isinstance(layout, dict) and "template" not in layout:
        properties["layout"] = {**layout, "template": TEMPLATE}
    built = go.Figure(_validate=checks, **properties)
    if not checks:
        built._data_validator = _TracesAsBuilt(built._data_validator)
    return built


class _TracesAsBuilt:
    """Plotly's trace-list validator, re-creating the traces it is given without checking them again."""

    def __init__(self, validator: Any) -> None:
        self._validator = validator

    def validate_coerce(self, value: Any, skip_invalid: bool = False, _validate: bool = True) -> Any:
        return self._validator.validate_coerce(value, skip_invalid=skip_invalid, _validate=False)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._validator, name)
