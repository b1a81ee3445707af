"""The analysis run's findings as report sentences, each number recomputed from the warehouse's series.

A finding's wording comes from `grace analyse` (`analytics/narrative.py`, stored in `analytics_finding`);
the report prints a finding only when every number in it can be checked now, independently of the run:
- growth: the stored headline; the sums of the last and the previous year of periods (and the interval,
  by the same formula) recomputed from the series;
- emerging / vanishing: the stored headline; the means of the recent and the baseline windows, and their
  change, recomputed from the series;
- changepoint: the report's own sentence (`reporting/event_findings.py`), since the run's fitted levels are
  a model's: the series' means over the windows either side of the break, written from the period series
  and recomputed from the daily one;
- anomaly: the report's own sentence: the observed value (recomputed from the daily series) against the
  model's expected value (read again from `analytics_anomaly`) and the change between them;
On a hub warehouse of monthly releases the release cells summed per month stand in for the daily series
(`reporting/releases.py`); a finding they cannot recompute is not printed.
- forecast: the outlook sentence (`reporting/outlook.py`): the next period's point and interval, read
  again from `analytics_forecast` and checked for consistency (the interval holds the point).
Other kinds (Mann-Kendall trends, backlog projections) and breaks or anomalies of metrics that are not
daily-additive counts stay in the charts. A finding resting on counts from 1 to k − 1 in what it cites is
withheld (the small-cell rule holds in text too); the report says how many were withheld and why.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from analytics.narrative import format_percent
from analytics.series import RegularSeries
from analytics.trend import growth as period_growth
from analytics.warehouse_series import METRICS, load_series
from grace.vocabulary import NO_SPLIT, PERIODS_PER_YEAR
from reporting.event_findings import WITHHELD, anomaly_sentence, changepoint_sentence
from reporting.model import CheckedNumber, Sentence
from reporting.outlook import forecast_sentence
from reporting.releases import NotCheckable, check_series
from warehouse import load_query

CHECKED_KINDS = ("growth", "emerging", "vanishing", "changepoint", "anomaly", "forecast")
EVENT_KINDS = ("changepoint", "anomaly")  # dated events: worded only inside the report's window
FREQ = {"day": "D", "week": "W", "month": "MS", "quarter": "QS", "year": "YS"}


@dataclass(frozen=True)
class FindingSentences:
    sentences: tuple[Sentence, ...]
    withheld: int  # findings left out under the small-cell rule
    run_id: str


def finding_sentences(
    con: duckdb.DuckDBPyConnection,
    limit: int,
    kinds: Sequence[str],
    metrics: Sequence[str],
    scope_countries: list[str] | None,
    k: int,
    window: tuple[date, date] | None = None,
    monthly: bool = False,
) -> FindingSentences:
    """The top `limit` checkable findings of the latest run within the scope, as checked sentences; breaks and
    anomalies only when dated inside `window` (first and last day: what the report's charts show)."""
    wanted = [kind for kind in (kinds or CHECKED_KINDS) if kind in CHECKED_KINDS]
    query = load_query("analytics_findings")
    rows = con.execute(
        query.sql,
        query.bind(
            {
                "run_id": "",
                "metrics": list(metrics),
                "kinds": wanted,
                "countries": [],
                "platforms": [],
                "scope_countries": scope_countries,
                "start": None,  # dated breaks and anomalies are kept to `window` below
                "end": None,
                "limit": 2**62,
            }
        ),
    ).df()
    sentences: list[Sentence] = []
    withheld = 0
    run_id = str(rows["run_id"].iloc[0]) if not rows.empty else ""
    # One kind may fill at most half of the findings while others wait (a run's top scores are often all
    # breaks of one event); what it could not place fills the rest afterwards, in rank order.
    cap = limit if len(wanted) == 1 else max(1, -(-limit // 2))
    per_kind: dict[str, int] = {}
    deferred = []
    for row in rows.itertuples(index=False):
        if len(sentences) >= limit:
            break
        if window is not None and row.kind in EVENT_KINDS and not window[0] <= _day(row.date) <= window[1]:
            continue
        if per_kind.get(row.kind, 0) >= cap:
            deferred.append(row)
            continue
        found = _sentence(con, row, _numbers(row), k, monthly)
        if found is None:
            continue
        if found == WITHHELD:
            withheld += 1
            continue
        assert isinstance(found, Sentence)
        sentences.append(found)
        per_kind[row.kind] = per_kind.get(row.kind, 0) + 1
    for row in deferred:
        if len(sentences) >= limit:
            break
        found = _sentence(con, row, _numbers(row), k, monthly)
        if found == WITHHELD:
            withheld += 1
        elif isinstance(found, Sentence):
            sentences.append(found)
    return FindingSentences(tuple(sentences), withheld, run_id)


def _numbers(row) -> dict:
    return json.loads(row.numbers) if isinstance(row.numbers, str) else dict(row.numbers or {})


def _sentence(con, row, numbers: dict, k: int, monthly: bool = False) -> Sentence | str | None:
    """The finding as a checked sentence; None when its kind or metric cannot be checked; `WITHHELD`
    when it rests on small counts."""
    if row.kind == "forecast":
        return forecast_sentence(con, row.series_id, _label(row.split_by, row.entity), k, row.run_id)
    if row.kind in ("changepoint", "anomaly"):
        filters = {} if row.split_by == NO_SPLIT else {row.split_by: [row.entity]}
        try:
            daily = check_series(con, row.metric, filters, monthly)[["ds", "y"]]
        except NotCheckable:
            return None
        if row.kind == "anomaly":
            return anomaly_sentence(con, row, numbers, daily, k)
        return changepoint_sentence(con, row, _series(con, row.metric, row.grain, row.split_by, row.entity), daily, k)
    series = _series(con, row.metric, row.grain, row.split_by, row.entity)
    checked = _check(row.kind, row, numbers, series)
    if checked is None:
        return None
    if _small(row.kind, row.metric, numbers, k):
        return WITHHELD
    return Sentence(f"{row.headline}.", checked, source=f"finding {row.rank} of run {row.run_id}")


def _label(split_by: str, entity: str) -> str:
    return "EU total" if split_by == NO_SPLIT else entity


def _series(con, metric: str, grain: str, split_by: str, entity: str, drop_partial: bool = True) -> pd.DataFrame:
    filters = {} if split_by == NO_SPLIT else {split_by: [entity]}
    return load_series(con, metric, grain, filters=filters, drop_partial=drop_partial)[["ds", "y"]]


def _check(kind: str, row, numbers: dict, series: pd.DataFrame) -> tuple[CheckedNumber, ...] | None:
    if kind == "growth":
        return _growth_numbers(row, numbers, series)
    if kind in ("emerging", "vanishing"):
        return _status_numbers(numbers, series, row)
    return None


def _growth_numbers(row, numbers: dict, series: pd.DataFrame) -> tuple[CheckedNumber, ...]:
    end = pd.Timestamp(row.end_date)
    upto = series[pd.to_datetime(series["ds"]) <= end].reset_index(drop=True)
    n = int(numbers.get("window_periods") or PERIODS_PER_YEAR[row.grain])
    again = period_growth(RegularSeries(upto, FREQ[row.grain]), n, n, level=float(numbers.get("level") or 0.9))
    found: dict[str, float | None] = {"growth": None, "lower": None, "upper": None}
    if again is not None:
        found = {"growth": again.growth, "lower": again.lower, "upper": again.upper}
    return tuple(
        CheckedNumber(
            f"{label} ({row.series_id})",
            format_percent(float(numbers[key]), signed=key != "growth"),
            float(numbers[key]),
            found[key],
            tolerance=1e-6,
        )
        for key, label in (("growth", "growth"), ("lower", "interval low"), ("upper", "interval high"))
    )


def _status_numbers(numbers: dict, series: pd.DataFrame, row) -> tuple[CheckedNumber, ...]:
    days = pd.to_datetime(series["ds"]).dt.date
    start, end = _day(numbers["baseline_start"]), _day(numbers["baseline_end"])
    recent_start, recent_end = _day(row.date), _day(row.end_date)
    baseline = series.loc[(days >= start) & (days <= end), "y"]
    recent = series.loc[(days >= recent_start) & (days <= recent_end), "y"]
    base_mean = float(baseline.mean()) if len(baseline) else None
    recent_mean = float(recent.mean()) if len(recent) else None
    again = recent_mean / base_mean - 1 if base_mean and recent_mean is not None else None
    checked = [
        CheckedNumber(
            f"recent mean ({row.series_id})",
            f"{numbers['recent_mean']:,.1f}",
            numbers["recent_mean"],
            recent_mean,
            1e-6,
        ),
        CheckedNumber(
            f"baseline mean ({row.series_id})",
            f"{numbers['baseline_mean']:,.1f}",
            numbers["baseline_mean"],
            base_mean,
            1e-6,
        ),
    ]
    if numbers.get("growth") is not None:
        checked.append(
            CheckedNumber(
                f"change ({row.series_id})", format_percent(numbers["growth"], True), numbers["growth"], again, 1e-6
            )
        )
    return tuple(checked)


def _small(kind: str, metric: str, numbers: dict, k: int) -> bool:
    """True when a count the finding rests on is from 1 to k − 1 (window means count per period)."""
    if METRICS[metric].unit not in ("count", "distinct", "stock"):
        return False
    keys = ("recent_mean", "baseline_mean") if kind in ("emerging", "vanishing") else ()
    return any(0 < float(numbers.get(key) or 0) < k for key in keys)


def _day(value) -> date:
    return pd.Timestamp(value).date()
