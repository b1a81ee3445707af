"""Breaks and anomalies of the analysis run as report sentences whose every number is checked.

The analysis words a break with the fitted levels of two regression lines at the break, which nothing but
the model can reproduce, so the report writes its own sentence about the same break: the series' mean over
the windows either side of the break date — up to `WINDOW` periods, never across a neighbouring break of
the same series nor past the series' last complete period — and their change. The means are written from
the period series and recomputed from the daily series (the sum of the window's days over its number of
periods).

An anomaly is the observed value of one period against the value the analysis model expected. The observed
value is written from the finding and recomputed from the daily series; the expected value is the model's,
so it is checked by reading the stored anomaly again (`report_anomaly_point`); the change is recomputed
from those two.

Only count metrics (sums over days) are worded; other units stay in the charts. A mean or value from 1 to
k − 1 withholds the sentence (the small-cell rule holds in text).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from analytics.narrative import format_percent, period_label, period_phrase, where
from analytics.warehouse_series import METRICS
from grace.vocabulary import metric_label
from reporting.model import CheckedNumber, Sentence
from reporting.queries import run_named

WINDOW = 6  # periods either side of a break that a sentence cites at most
WITHHELD = "withheld"  # a finding resting on counts from 1 to k - 1


@dataclass(frozen=True)
class Window:
    first: pd.Timestamp  # first period start
    last: pd.Timestamp  # last period start
    periods: int


def wordable(metric: str) -> bool:
    """Whether a break or anomaly of this metric can be worded with checked numbers (daily sums)."""
    return METRICS[metric].unit == "count"


def changepoint_sentence(
    con: duckdb.DuckDBPyConnection, row, series: pd.DataFrame, daily: pd.DataFrame, k: int
) -> Sentence | str | None:
    """The break's window means and change (None: cannot be worded; `WITHHELD`: small cells)."""
    if not wordable(row.metric):
        return None
    ds = pd.to_datetime(series["ds"])
    when = pd.Timestamp(row.date)
    breaks = [
        pd.Timestamp(day)
        for day in run_named(con, "report_series_breaks", run_id=row.run_id, series_id=row.series_id)["date"]
    ]
    earlier = max((day for day in breaks if day < when), default=pd.Timestamp.min)
    later = min((day for day in breaks if day > when), default=pd.Timestamp.max)
    before = ds[(ds < when) & (ds >= earlier)].tail(WINDOW)
    after = ds[(ds >= when) & (ds < later)].head(WINDOW)
    if before.empty or after.empty:
        return None
    windows = (Window(before.iloc[0], before.iloc[-1], len(before)), Window(after.iloc[0], after.iloc[-1], len(after)))
    means = [float(series.loc[ds.isin(part), "y"].mean()) for part in (before, after)]
    checks = [_daily_mean(daily, window, row.grain) for window in windows]
    if any(0 < mean < k for mean in means):
        return WITHHELD
    grain = row.grain
    labels = [f"{period_label(w.first, grain)} to {period_label(w.last, grain)}" for w in windows]
    numbers = [
        CheckedNumber(f"mean {side} the break ({row.series_id}, {label})", f"{mean:,.1f}", mean, check, 1e-6)
        for side, label, mean, check in zip(("before", "from"), labels, means, checks)
    ]
    text = (
        f"The analysis found a break in {metric_label(row.metric)}{where(row.split_by, row.entity)} in "
        f"{period_phrase(when, grain)}: {numbers[0].shown} per {grain} on average over {labels[0]}, "
        f"{numbers[1].shown} per {grain} over {labels[1]}"
    )
    if means[0] > 0:
        change = means[1] / means[0] - 1
        check = checks[1] / checks[0] - 1 if checks[0] and checks[1] is not None else None
        numbers.append(
            CheckedNumber(f"change at the break ({row.series_id})", format_percent(change, True), change, check, 1e-6)
        )
        text += f" ({numbers[-1].shown})"
    return Sentence(text + ".", tuple(numbers), source=f"finding {row.rank} of run {row.run_id} (window means)")


def anomaly_sentence(
    con: duckdb.DuckDBPyConnection, row, numbers: dict, daily: pd.DataFrame, k: int
) -> Sentence | str | None:
    """Observed against expected, and the change (None: cannot be worded; `WITHHELD`: small cells)."""
    if not wordable(row.metric) or numbers.get("value") is None or numbers.get("expected") is None:
        return None
    value, expected = float(numbers["value"]), float(numbers["expected"])
    if 0 < round(value) < k or 0 < round(expected) < k:
        return WITHHELD
    when = pd.Timestamp(row.date)
    observed = _daily_mean(daily, Window(when, when, 1), row.grain)
    stored = run_named(con, "report_anomaly_point", run_id=row.run_id, series_id=row.series_id, date=when.date())
    reread = float(stored["expected"].iloc[0]) if len(stored) == 1 and pd.notna(stored["expected"].iloc[0]) else None
    phrase = period_phrase(when, row.grain)
    checked = [
        CheckedNumber(f"observed ({row.series_id}, {phrase})", f"{value:,.0f}", value, observed, 1e-6),
        CheckedNumber(
            f"expected by the model ({row.series_id}, {phrase})", f"{max(expected, 0.0):,.1f}", expected, reread, 1e-9
        ),
    ]
    kind = "Spike" if numbers.get("direction") == "spike" else "Dip"
    text = (
        f"{kind} in {metric_label(row.metric)}{where(row.split_by, row.entity)} in {phrase}: "
        f"{checked[0].shown} observed against {checked[1].shown} expected by the analysis model"
    )
    if expected > 0:
        change = value / expected - 1
        again = observed / reread - 1 if observed is not None and reread else None
        checked.append(
            CheckedNumber(
                f"change on expected ({row.series_id})", format_percent(change, True, -1.0), change, again, 1e-6
            )
        )
        text += f" ({checked[-1].shown})"
    return Sentence(text + ".", tuple(checked), source=f"finding {row.rank} of run {row.run_id} (re-read anomaly)")


def _daily_mean(daily: pd.DataFrame, window: Window, grain: str) -> float | None:
    """The window's days summed, over its number of periods (None: no day of it in the daily series)."""
    end = (window.last.to_period(_PERIOD[grain]).end_time).normalize()
    days = pd.to_datetime(daily["ds"])
    part = daily.loc[(days >= window.first) & (days <= end), "y"]
    return float(part.sum()) / window.periods if len(part) else None


_PERIOD = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q-DEC", "year": "Y-DEC"}
