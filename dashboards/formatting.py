"""Numbers and words as the pages show them: counts, changes, grain names, KPI card content.

Plain Python (no Dash), shared by the page layouts (`components.py`) and the page logic
(`callbacks/`), so the chart catalogue stays usable without a Dash app.
"""

from __future__ import annotations

from typing import Any, NamedTuple

PLACEHOLDER_VALUE = "–"
GRAIN_LABELS = {"day": "Day", "week": "Week", "month": "Month", "quarter": "Quarter", "year": "Year"}


def format_count(value: int | float | None) -> str:
    """A count with thousands separators (`12,345`); a dash when unknown."""
    if value is None:
        return PLACEHOLDER_VALUE
    try:
        if value != value:  # NaN
            return PLACEHOLDER_VALUE
        return f"{round(value):,}"
    except (TypeError, ValueError):
        return PLACEHOLDER_VALUE


def format_change(current: float | None, previous: float | None) -> tuple[str, str]:
    """Period-over-period change as (text, tone): `("+12.5 % vs previous", "up")`.

    tone is "up", "down", "flat" or "none" (no comparison possible: previous period missing or
    zero); the page colours the badge from it, and the text never relies on colour alone.
    """
    if current is None or previous is None or current != current or previous != previous:
        return "no previous period", "none"
    if previous == 0:
        return ("new since previous period", "up") if current > 0 else ("no change", "flat")
    change = (current - previous) / abs(previous) * 100
    if abs(change) < 0.05:
        return "no change vs previous", "flat"
    arrow = "▲" if change > 0 else "▼"
    return f"{arrow} {change:+.1f} % vs previous", "up" if change > 0 else "down"


class KpiContent(NamedTuple):
    """What one KPI card shows (see `kpi_values`)."""

    value: str
    change: str
    change_class: str
    sparkline: Any  # a plotly figure (or dict)
    note: str


def kpi_values(
    current: float | None, previous: float | None, sparkline, note: str, value_text: str | None = None
) -> KpiContent:
    """A KPI card's content: formatted value, change badge (text and tone class), sparkline, note."""
    text, tone = format_change(current, previous)
    return KpiContent(
        value_text if value_text is not None else format_count(current),
        text,
        f"kpi-change kpi-change--{tone}",
        sparkline,
        note,
    )
