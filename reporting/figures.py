"""Key figures: a metric's total for the report period and its change on the period before, as a sentence
whose every number is recomputed by a second, independent path and compared.

The sentence is written from the period series (`load_series` at the report's grain); the check sums the
daily series over the period's days (counts), or the daily numerators and denominators (shares); on a hub
warehouse of monthly releases it sums the release cells the agencies showed (`reporting/releases.py`).
Counts from 1 to k − 1 are not printed ("fewer than 10"), and no change is given next to one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import duckdb
import pandas as pd

from analytics.warehouse_series import METRICS, load_series
from grace.vocabulary import metric_title
from reporting.model import CheckedNumber, Sentence
from reporting.period import Period
from reporting.releases import check_series

FIGURE_UNITS = ("count", "share")


@dataclass(frozen=True)
class PeriodValue:
    value: float | None  # the metric in the period (None: no data)
    count: float | None  # the count the small-cell rule looks at (the value, or a share's denominator)


def figure_sentence(
    con: duckdb.DuckDBPyConnection,
    metric: str,
    period: Period,
    filters: Mapping[str, list[str]],
    scope: str,
    k: int,
    monthly: bool = False,
) -> Sentence:
    """'Referrals: 1,234 in March 2024, +5.2 % on February 2024.' with its numbers checked."""
    unit = METRICS[metric].unit
    if unit not in FIGURE_UNITS:
        raise ValueError(f"metric {metric!r} is a {unit}; key figures are counts or shares")
    series = load_series(con, metric, period.grain, filters=filters, drop_partial=False, parts=unit == "share")
    daily = check_series(con, metric, filters, monthly, parts=unit == "share")
    now, before = _at(series, period.start, unit), _at(series, period.previous_start, unit)
    now_check = _summed(daily, period.start, period.end, unit)
    before_check = _summed(daily, period.previous_start, period.previous_end, unit)
    name = metric_title(metric)
    where = f" ({scope})" if scope else ""
    if now.value is None or now_check.value is None:
        return Sentence(f"{name}{where}: no data for {period.label}.", source=f"key figure: {metric}")
    if now.count is not None and 0 < now.count < k:
        what = "counts" if unit == "count" else "records behind the share"
        return Sentence(
            f"{name}{where}, {period.label}: not shown (fewer than {k} {what}; small-cell rule).",
            source=f"key figure: {metric}",
        )
    shown = _format(now.value, unit)
    numbers = [CheckedNumber(f"{name} in {period.label}{where}", shown, now.value, now_check.value, _tolerance(unit))]
    text = f"{name}{where}: {shown} in {period.label}"
    comparable = before.value is not None and before_check.value is not None
    if comparable and before.count is not None and 0 < before.count < k:
        comparable = False
        text += f" (the {period.previous_label} figure is below the small-cell threshold)"
    if comparable and before.value and before_check.value:
        if unit == "count":
            change, check = now.value / before.value - 1, now_check.value / before_check.value - 1
            change_text = f"{change * 100:+.1f} %"
            numbers.append(CheckedNumber(f"change on {period.previous_label}", change_text, change, check, 0.0005))
        else:
            change, check = now.value - before.value, now_check.value - before_check.value
            change_text = f"{change * 100:+.1f} percentage points"
            numbers.append(CheckedNumber(f"change on {period.previous_label}", change_text, change, check, 0.0005))
        text += f", {change_text} on {period.previous_label}"
    checked_on = "the release cells" if monthly else "daily sums"
    return Sentence(text + ".", tuple(numbers), source=f"key figure: {metric} (period series, checked on {checked_on})")


def _at(series: pd.DataFrame, start, unit: str) -> PeriodValue:
    row = series[pd.to_datetime(series["ds"]).dt.date == start]
    if row.empty or pd.isna(row["y"].iloc[0]):
        return PeriodValue(None, None)
    value = float(row["y"].iloc[0])
    count = float(row["denominator"].iloc[0]) if unit == "share" else value
    return PeriodValue(value, count)


def _summed(daily: pd.DataFrame, start, end, unit: str) -> PeriodValue:
    days = pd.to_datetime(daily["ds"]).dt.date
    part = daily[(days >= start) & (days <= end)]
    if part.empty:
        return PeriodValue(None, None)
    if unit == "share":
        denominator = float(part["denominator"].sum())
        return PeriodValue(float(part["numerator"].sum()) / denominator if denominator else None, denominator)
    total = float(part["y"].sum())
    return PeriodValue(total, total)


def _format(value: float, unit: str) -> str:
    return f"{value:,.0f}" if unit == "count" else f"{value * 100:.1f} %"


def _tolerance(unit: str) -> float:
    return 0.5 if unit == "count" else 0.0005
