"""The Alerts page's table rows: labels, dates and links computed once per distinct value.

A view lists up to 500 alerts and the run's findings. Building each row from scratch (a timestamp, a
period label, a Trend-explorer link through a `ViewState`, per row) took most of the callback at 10 M
referrals, though the queries took ~20 ms. Dates, series and kinds repeat across rows, so each column is
read once as Python objects and every derived value is memoised by its inputs: a link is one template per
series with the window dates written in. (Whole-column pandas code was measured slower at 500 rows: its
per-operation overhead and `DataFrame.to_dict` boxing every cell cost more than the rows.)

`trend_link` and the single-row helpers are what the page uses for one selected row, and what the tests
check the rows against.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import pandas as pd

from analytics.warehouse_series import METRICS
from dashboards.state import ViewState
from grace.vocabulary import NO_SPLIT, TOTAL, SeriesId

WINDOW = {"day": 60, "week": 26, "month": 18, "quarter": 8, "year": 4}  # periods either side in the Trend link
_FREQ = {"day": "D", "week": "W-MON", "month": "MS", "quarter": "QS", "year": "YS"}
SEP = "~"
# placeholders for a link's window dates: not dates, so never in a real link, and left alone by urlencode
_START, _END = "0000-00-01", "0000-00-02"


def series_parts(series_id: str) -> SeriesId | None:
    """The parts of an analysed series' id, or None when it is not one of a known metric."""
    parts = SeriesId.parse(series_id)
    return parts if parts is not None and parts.metric in METRICS else None


def series_label(split_by: str, entity: str) -> str:
    if split_by in (NO_SPLIT, "", TOTAL) or entity in (TOTAL, ""):
        return "EU total"
    return f"{entity} ({split_by})"


def date_text(value: Any, grain: str) -> str:
    """A date as its period of `grain`: 2024-W05, 2024-02, 2024-Q1, 2024 or the ISO day."""
    if value is None or pd.isna(value):
        return ""
    day = pd.Timestamp(value)
    if grain == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if grain == "month":
        return day.strftime("%Y-%m")
    if grain == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if grain == "year":
        return str(day.year)
    return day.strftime("%Y-%m-%d")


def row_key(kind: str, series_id: str, at: Any) -> str:
    """A table row's id: kind~series~date (the parts a selection needs)."""
    day = "" if at is None or pd.isna(at) else pd.Timestamp(at).date().isoformat()
    return SEP.join((kind, series_id, day))


def trend_link(series_id: str, at: Any = None) -> str:
    """The Trend explorer URL showing one analysed series (its events are marked there), around `at`."""
    parts = series_parts(series_id)
    if parts is None:
        return "/trends"
    if at is None or pd.isna(at):
        return _link_template(series_id, False)
    day = pd.Timestamp(at)
    offset = pd.tseries.frequencies.to_offset(_FREQ[parts.grain]) * WINDOW[parts.grain]
    return _with_window(
        _link_template(series_id, True), (day - offset).date().isoformat(), (day + offset).date().isoformat()
    )


@lru_cache(maxsize=4096)
def _link_template(series_id: str, windowed: bool) -> str:
    """The Trend explorer link of a known series, with placeholder window dates when `windowed`."""
    parts = series_parts(series_id)
    if parts is None:
        return "/trends"
    state = ViewState(metric=parts.metric, grain=parts.grain, series=series_id)
    if parts.split_by == "country":
        state = state.with_changes(country=[parts.entity])
    elif parts.split_by == "platform":
        state = state.with_changes(platform=[parts.entity])
    if windowed:
        state = state.with_changes(start=_START, end=_END)
    return "/trends" + state.to_query()


def _with_window(template: str, start: str, end: str) -> str:
    return template.replace(_START, start, 1).replace(_END, end, 1)


# --- whole columns ---------------------------------------------------------------------------------
# Each column is turned into a Python list once and every label is computed once per distinct value
# (dates, series, kinds, metrics repeat across the rows): pandas operations per column cost more than
# they save at 500 rows, and `DataFrame.to_dict` boxes every cell.


def column(frame: pd.DataFrame, name: str) -> list:
    """A column as Python objects, None where missing (NaN, NaT, None)."""
    values = frame[name]
    return [None if missing else v for v, missing in zip(values.tolist(), values.isna().tolist(), strict=True)]


def day_column(frame: pd.DataFrame, name: str) -> list:
    """A date column as ISO days ('YYYY-MM-DD'), None where missing, formatted as one column instead of
    turning datetime64 values into Timestamps one at a time (`column`): building the 500 alert rows took
    5.3 ms of CPU that way, 4.0 ms this way (1 M-referral warehouse)."""
    values = pd.to_datetime(frame[name])
    days = values.dt.strftime("%Y-%m-%d").tolist()
    return [None if missing else day for day, missing in zip(days, values.isna().tolist(), strict=True)]


def iso_day(value: Any) -> str:
    """The ISO day of a date-like value ('' for None)."""
    return "" if value is None else _iso_day(value)


@lru_cache(maxsize=65536)
def _iso_day(value: Any) -> str:
    return pd.Timestamp(value).date().isoformat()


@lru_cache(maxsize=65536)
def period_text(day: str, grain: str) -> str:
    """`date_text` of an ISO day ('' stays '')."""
    return date_text(day or None, grain)


@lru_cache(maxsize=65536)
def windowed_link(series_id: str, day: str) -> str:
    """`trend_link` of an ISO day ('' = no window)."""
    return trend_link(series_id, day or None)


def number(value: Any) -> float | None:
    """A float, or None when missing or not finite (JSON has no NaN)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""
