"""Plain-language findings, with their numbers, ranked by importance — from one run's result rows.

Input: the rows of one `grace analyse` run, table by table (`analytics_trend`, `analytics_changepoint`,
`analytics_anomaly`, `analytics_forecast`, `analytics_entity_status`, `analytics_attribution`,
`analytics_forecast_reconciled`, `analytics_backlog`) as lists of dicts or DataFrames. Output:
`Finding`s, each linked to the series (`series_id`), the detector and the result row that produced
it (`source_table` + `series_id` + `date` identify that row within the run). The dashboard and the
reports reuse the stored findings (`analytics_finding`) instead of re-wording results.

Findings (one kind each):
- growth:      year-on-year growth whose confidence interval excludes zero;
- trend:       otherwise, a significant Mann-Kendall trend with Sen's slope;
- changepoint: a structural break with its levels before and after;
- anomaly:     a spike or dip against the expected value, with the entities that explain it (totals);
- emerging / vanishing: entities accelerating from a low base / collapsing to near zero;
- forecast:    the total's forecast (reconciled when available) against its historical mean;
- backlog:     the projected referral backlog at the recent triage rate.

Importance score = kind weight x grain weight x magnitude x confidence x reach, each in [0, 1]:
- magnitude  = 1 - min(q, 1/q), q the ratio after / before (1 + relative change): doubling and
  halving weigh the same; from or to zero counts as 1;
  for a backlog q = (end + A) / (start + A), A the mean arrivals per period;
- confidence = 1 - p for growth (p from its interval) and trends (Mann-Kendall p); the detector's
  confidence for breaks; |z| / (|z| + threshold) for anomalies (0.5 at the threshold); 0.8 for the
  rule-based emerging / vanishing statuses; 1 / (1 + MASE) for forecasts; the probability that
  the backlog moves the way projected for backlogs;
- reach      = 1 for the total; sqrt(share of the split's volume) for an entity (its share of the
  count metric, or for a share / mean of its denominator's count metric when analysed, else 1 / number
  of entities); for emerging entities the recent share, for vanishing ones the baseline share.
  So the EU total ranks above any single entity with the same magnitude and confidence;
- kind weight (`analytics.kinds`): breaks 1.0, growth / trend / emerging / vanishing 0.9, anomalies 0.8,
  backlog 0.7, forecasts 0.6; grain weight (`GRAIN_WEIGHT`): coarser grains slightly first.
Duplicates are dropped, keeping the higher score: the same series' growth and trend at another grain,
the same break or anomaly seen at another grain (same direction; overlapping periods, for breaks give or
take one period of the coarser grain),
the same entity's status at another grain, the same metric's forecast or backlog at another grain.
Metrics never go below zero, so a change shown below -100 % (a fitted level or interval bound that
crossed zero) is shown as -100 %; the numbers keep the detector's value.
Order: score, then kind, series id, date, headline — deterministic. Wording uses metric names and
codes only (country ISO codes, platform names), never descriptions of content.
"""

from __future__ import annotations

import datetime
import functools
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import pandas as pd
from scipy.stats import norm

from analytics.kinds import KIND_RANK, KINDS
from analytics.results import jsonable
from analytics.warehouse_series import METRICS
from grace.vocabulary import NO_SPLIT, PERIODS_PER_YEAR, metric_label

TOTAL_LABEL = "EU total"
GRAIN_WEIGHT = {"year": 1.0, "quarter": 1.0, "month": 1.0, "week": 0.95, "day": 0.9}
PERIOD_DAYS = {"day": 1, "week": 7, "month": 31, "quarter": 92, "year": 366}
_PERIOD_ALIAS = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q-DEC", "year": "Y-DEC"}
STATUS_CONFIDENCE = 0.8


@dataclass(frozen=True)
class Finding:
    """One plain-language statement, its numbers and where it came from."""

    kind: str
    series_id: str
    metric: str
    grain: str
    split_by: str
    entity: str
    date: date | None
    end_date: datetime.date | None  # (`date` here would name the field above)
    headline: str
    numbers: dict[str, Any]
    magnitude: float
    confidence: float
    reach: float
    parameters: dict[str, Any] = field(default_factory=dict)
    detector: str = ""
    source_table: str = ""
    score: float = 0.0

    def scored(self) -> Finding:
        s = KINDS[self.kind].weight * GRAIN_WEIGHT.get(self.grain, 0.9) * self.magnitude * self.confidence * self.reach
        return replace(
            self,
            score=float(s),
            detector=self.detector or KINDS[self.kind].detector,
            source_table=self.source_table or KINDS[self.kind].source_table,
        )


# ---------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------


def _unit(name: str) -> str:
    found = METRICS.get(name)
    return found.unit if found else "count"


def format_count(value: float) -> str:
    """Thousands separators; one decimal below 100, two significant digits below 1."""
    v = float(value)
    if abs(v) >= 100 or v == round(v):
        text = f"{v:,.0f}"
    elif abs(v) >= 1:
        text = f"{v:,.1f}"
    else:
        text = f"{v:.2g}"
    return "0" if text.lstrip("-") in ("0", "0.0", "0.00") else text


def format_percent(fraction: float, signed: bool = False, floor: float | None = None) -> str:
    """0.0123 -> '1.2 %', 2.3 -> '230 %', 0.0004 -> '0.04 %' (two decimals below 1 %, one below
    10 %, thousands separators above). `floor` clips the value shown (e.g. -1 for a count's change)."""
    number = float(fraction) if floor is None else max(float(fraction), floor)
    pct = 100.0 * number
    if abs(pct) < 1:
        text = f"{abs(pct):.2f}"
    elif abs(pct) < 10:
        text = f"{abs(pct):.1f}"
    else:
        text = f"{abs(pct):,.0f}"
    if float(text.replace(",", "")) == 0:
        return "0 %"
    sign = ("+" if pct > 0 else "-") if signed else ("-" if pct < 0 else "")
    return f"{sign}{text} %"


def format_level(value: float, name: str, grain: str | None = None) -> str:
    """A metric's value in its unit: '1,234 per month' (flows, distinct counts), '1,234' (stocks,
    ratios), '34.5 %' (shares), '4.2 days'."""
    unit = _unit(name)
    if unit == "share":
        return format_percent(value)
    if unit == "days":
        return f"{float(value):,.1f} days"
    per = f" per {grain}" if grain and unit in ("count", "distinct") else ""
    return format_count(value) + per


def format_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def period_label(day: date | pd.Timestamp, grain: str) -> str:
    """The period starting at `day`: 2024-03-05, 2024-W12 (ISO week), 2024-03, 2024-Q1 or 2024."""
    stamp = pd.Timestamp(day)
    if grain == "week":
        iso = stamp.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if grain == "month":
        return f"{stamp.year}-{stamp.month:02d}"
    if grain == "quarter":
        return f"{stamp.year}-Q{(stamp.month - 1) // 3 + 1}"
    if grain == "year":
        return f"{stamp.year}"
    return stamp.date().isoformat()


def period_phrase(day, grain: str) -> str:
    return ("week " if grain == "week" else "") + period_label(day, grain)


def entity_name(split_by: str, entity: str) -> str:
    """'platform Glimmr', 'DEU' (countries are ISO codes) or the EU total."""
    if split_by == NO_SPLIT:
        return TOTAL_LABEL
    return f"{split_by} {entity}" if split_by != "country" else entity


def where(split_by: str, entity: str) -> str:
    """' (EU total)', ' in DEU', ' from platform Glimmr'."""
    if split_by == NO_SPLIT:
        return f" ({TOTAL_LABEL})"
    if split_by == "country":
        return f" in {entity}"
    return f" from {split_by} {entity}"


def subject(name: str, split_by: str, entity: str) -> str:
    label = metric_label(name)
    return label[:1].upper() + label[1:] + where(split_by, entity)


# ---------------------------------------------------------------------------------------------
# Scores
# ---------------------------------------------------------------------------------------------


def magnitude(ratio: float | None) -> float:
    """1 - min(q, 1/q) for q = after / before; 1 when q is zero, infinite or unknown."""
    if ratio is None or not math.isfinite(ratio) or ratio <= 0:
        return 1.0
    return 1.0 - min(ratio, 1.0 / ratio)


def _num(value) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _rows(tables: Mapping[str, Any], name: str) -> list[dict]:
    found = tables.get(name)
    if found is None:
        return []
    if isinstance(found, pd.DataFrame):
        return found.to_dict(orient="records")
    return list(found)


def _day(value) -> date | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    return pd.Timestamp(value).date()


def _dated(value) -> date:
    """`_day` of a sort key: forecast, reconciled and backlog points always have a date (NOT NULL)."""
    day = _day(value)
    if day is None:
        raise ValueError(f"a forecast or backlog point without a date ({value!r})")
    return day


class Reach:
    """sqrt(share of the split's volume) per (metric, grain, split, entity); 1 for totals."""

    def __init__(self, trend_rows: list[dict]):
        totals: dict[tuple, float] = {}
        sums: dict[tuple, float] = {}
        counts: dict[tuple, int] = {}
        for r in trend_rows:
            if r["split_by"] == NO_SPLIT:
                continue
            key = (r["metric"], r["grain"], r["split_by"])
            totals[(*key, r["entity"])] = max(0.0, _num(r["total"]) or 0.0)
            sums[key] = sums.get(key, 0.0) + max(0.0, _num(r["total"]) or 0.0)
            counts[key] = counts.get(key, 0) + 1
        self._totals, self._sums, self._counts = totals, sums, counts

    def share(self, name: str, grain: str, split_by: str, entity: str) -> float | None:
        if split_by == NO_SPLIT:
            return 1.0
        volume = name if _unit(name) in ("count", "stock", "distinct") else _count_metric_of(name)
        if volume is not None:
            total = self._sums.get((volume, grain, split_by))
            mine = self._totals.get((volume, grain, split_by, entity))
            if total and mine is not None:
                return mine / total
        n = self._counts.get((name, grain, split_by))
        return 1.0 / n if n else None

    def __call__(self, name: str, grain: str, split_by: str, entity: str) -> float:
        share = self.share(name, grain, split_by, entity)
        return math.sqrt(share) if share is not None else 0.5


def _count_metric_of(name: str) -> str | None:
    """The count metric whose column is this ratio's denominator (files for file shares ...)."""
    m = METRICS.get(name)
    if m is None or m.denominator is None:
        return None
    for other in METRICS.values():
        if other.denominator is None and other.source == m.source and other.numerator == m.denominator:
            return other.name
    return None


# ---------------------------------------------------------------------------------------------
# One builder per kind
# ---------------------------------------------------------------------------------------------


def _base(kind: str, row: dict, **extra) -> dict:
    return {
        "kind": kind,
        "series_id": row["series_id"],
        "metric": row["metric"],
        "grain": row["grain"],
        "split_by": row.get("split_by", NO_SPLIT),
        "entity": row.get("entity", "total"),
        **extra,
    }


def trend_findings(rows: list[dict], reach: Reach, growth_level: float) -> list[Finding]:
    """Significant year-on-year growth, else a significant Mann-Kendall trend (one per series)."""
    out = []
    z = norm.ppf(0.5 + growth_level / 2)
    for r in rows:
        name, grain, split, entity = r["metric"], r["grain"], r["split_by"], r["entity"]
        g, lo, hi = _num(r.get("yoy_growth")), _num(r.get("yoy_lower")), _num(r.get("yoy_upper"))
        n = PERIODS_PER_YEAR[grain]
        end = _day(r["end_date"])
        if g is not None and lo is not None and hi is not None and (lo > 0 or hi < 0):
            se = (hi - lo) / (2 * z)
            p = 2 * (1 - norm.cdf(abs(g) / se)) if se > 0 else 0.0
            headline = (
                f"{subject(name, split, entity)} {'rose' if g > 0 else 'fell'} {format_percent(abs(g))} "
                f"year on year (the {n} {grain}s to {period_label(end, grain)} vs the {n} before; "
                f"{format_percent(growth_level)} CI {format_percent(lo, True, -1.0)} to {format_percent(hi, True)})"
            )
            out.append(
                Finding(
                    **_base("growth", r),
                    date=None,
                    end_date=end,
                    headline=headline,
                    numbers={
                        "growth": g,
                        "lower": lo,
                        "upper": hi,
                        "level": growth_level,
                        "p_value": p,
                        "window_periods": n,
                    },
                    magnitude=magnitude(1 + g),
                    confidence=1 - p,
                    reach=reach(name, grain, split, entity),
                    parameters={"growth_level": growth_level},
                )
            )
            continue
        p_value = _num(r.get("p_value"))
        slope, relative = _num(r.get("slope")), _num(r.get("relative_slope"))
        if r.get("direction") not in ("increasing", "decreasing") or p_value is None or not slope:
            continue  # a zero Sen's slope (sparse series) states no change worth a sentence
        per_year = relative * n if relative is not None else None
        yearly = f"; {format_percent(per_year, True)} a year" if per_year is not None else ""
        level_change = format_level(abs(slope), name)
        sign = "+" if slope > 0 else "-"
        if _unit(name) == "share":
            level_change = f"{format_count(100 * abs(slope))} percentage points"
        headline = (
            f"{subject(name, split, entity)}: {r['direction']} trend of {sign}{level_change} per {grain} "
            f"(Sen's slope{yearly}; Mann-Kendall {format_p(p_value)})"
        )
        out.append(
            Finding(
                **_base("trend", r),
                date=_day(r.get("start_date")),
                end_date=end,
                headline=headline,
                numbers={
                    "slope": slope,
                    "slope_per_year": _num(r.get("slope_per_year")),
                    "relative_per_year": per_year,
                    "p_value": p_value,
                    "direction": r["direction"],
                    "test": r.get("test"),
                },
                magnitude=magnitude(1 + per_year) if per_year is not None else 0.5,
                confidence=1 - p_value,
                reach=reach(name, grain, split, entity),
            )
        )
    return out


def changepoint_findings(rows: list[dict], reach: Reach) -> list[Finding]:
    out = []
    for r in rows:
        name, grain, split, entity = r["metric"], r["grain"], r["split_by"], r["entity"]
        before, after = _num(r.get("level_before")), _num(r.get("level_after"))
        if before is None or after is None:
            continue
        relative = _num(r.get("relative_change"))
        change = f" ({format_percent(relative, True, -1.0)})" if relative is not None else ""
        per = grain
        headline = (
            f"A structural break in {metric_label(name)}{where(split, entity)} in "
            f"{period_phrase(r['date'], grain)}: level {'rose' if after > before else 'fell'} from "
            f"{format_level(max(before, 0.0), name)} to {format_level(max(after, 0.0), name, per)}{change}"
        )
        out.append(
            Finding(
                **_base("changepoint", r),
                date=_day(r["date"]),
                end_date=None,
                headline=headline,
                numbers={
                    "level_before": before,
                    "level_after": after,
                    "relative_change": relative,
                    "magnitude": _num(r.get("magnitude")),
                    "direction": r.get("direction"),
                    "confidence": _num(r.get("confidence")),
                },
                magnitude=magnitude(1 + relative) if relative is not None else 1.0,
                confidence=_num(r.get("confidence")) or 0.0,
                reach=reach(name, grain, split, entity),
            )
        )
    return out


def anomaly_findings(rows: list[dict], attribution: list[dict], reach: Reach, threshold: float) -> list[Finding]:
    """Spikes and dips; a total's finding names the entity that explains most of the excess."""
    contributors: dict[tuple, list[dict]] = {}
    for a in attribution:
        contributors.setdefault((a["series_id"], _day(a["date"])), []).append(a)
    out = []
    for r in rows:
        name, grain, split, entity = r["metric"], r["grain"], r["split_by"], r["entity"]
        value, expected, relative = _num(r.get("value")), _num(r.get("expected")), _num(r.get("relative"))
        if value is None or expected is None:
            continue
        day = _day(r["date"])
        change = f" ({format_percent(relative, True, -1.0)})" if relative is not None else ""
        headline = (
            f"{'Spike' if r.get('direction') == 'spike' else 'Dip'} in {metric_label(name)}"
            f"{where(split, entity)} in {period_phrase(day, grain)}: {format_level(value, name)} vs "
            f"{format_level(max(expected, 0.0), name)} expected{change}"
        )
        numbers = {
            "value": value,
            "expected": expected,
            "relative": relative,
            "score": _num(r.get("score")),
            "direction": r.get("direction"),
        }
        parts = sorted(
            contributors.get((r["series_id"], day), []),
            key=lambda a: (-(_num(a.get("share")) or 0.0), a["by_dimension"], a["rank"]),
        )
        share = _num(parts[0].get("share")) if parts else None
        if share is not None and share > 0:
            top = parts[0]
            who = entity_name(top["by_dimension"], top["contributor"])
            lead = "mostly explained by" if share >= 0.5 else "largest contributor:"
            headline += f", {lead} {who} ({format_percent(min(share, 1.0))} of the excess)"
            numbers["attribution"] = [
                {
                    "by": a["by_dimension"],
                    "entity": a["contributor"],
                    "share": _num(a["share"]),
                    "excess": _num(a["excess"]),
                }
                for a in parts[:5]
            ]
        z = abs(_num(r.get("score")) or 0.0)
        out.append(
            Finding(
                **_base("anomaly", r),
                date=day,
                end_date=None,
                headline=headline,
                numbers=numbers,
                magnitude=magnitude(1 + relative) if relative is not None else 1.0,
                confidence=z / (z + threshold) if z > 0 else 0.0,
                reach=reach(name, grain, split, entity),
                parameters={"threshold": threshold},
            )
        )
    return out


def status_findings(rows: list[dict]) -> list[Finding]:
    """Emerging and vanishing entities (dropping, rising and stable ones are left to trends)."""
    out = []
    for r in rows:
        status = r["status"]
        if status not in ("emerging", "vanishing"):
            continue
        name, grain, split, entity = r["metric"], r["grain"], r["split_by"], r["entity"]
        params = (
            json.loads(r["parameters"]) if isinstance(r.get("parameters"), str) else dict(r.get("parameters") or {})
        )
        recent_n, baseline_n = params.get("recent_periods"), params.get("baseline_periods")
        recent, baseline = float(r["recent_mean"]), float(r["baseline_mean"])
        growth = _num(r.get("growth"))
        who = entity_name(split, entity)
        who = who[:1].upper() + who[1:]
        change = f" ({format_percent(growth, True)})" if growth is not None else " (from zero)"
        verb = "is emerging in" if status == "emerging" else "is vanishing from"
        headline = (
            f"{who} {verb} {metric_label(name)}: {format_level(recent, name, grain)} over the last "
            f"{recent_n} {grain}s ({period_label(r['recent_start'], grain)} to "
            f"{period_label(r['recent_end'], grain)}) vs {format_level(baseline, name, grain)} in the "
            f"{baseline_n} {grain}s before{change}"
        )
        share = _num(r.get("recent_share") if status == "emerging" else r.get("baseline_share"))
        out.append(
            Finding(
                **_base(status, r),
                date=_day(r["recent_start"]),
                end_date=_day(r["recent_end"]),
                headline=headline,
                numbers={
                    "recent_mean": recent,
                    "baseline_mean": baseline,
                    "growth": growth,
                    "recent_share": _num(r.get("recent_share")),
                    "baseline_share": _num(r.get("baseline_share")),
                    "baseline_start": _day(r["baseline_start"]),
                    "baseline_end": _day(r["baseline_end"]),
                },
                magnitude=magnitude(recent / baseline if baseline > 0 else None),
                confidence=STATUS_CONFIDENCE,
                reach=math.sqrt(share) if share else 0.0,
                parameters=params,
            )
        )
    return out


def forecast_findings(forecast: list[dict], reconciled: list[dict], trend: list[dict]) -> list[Finding]:
    """The totals' forecasts (reconciled when available) against their historical mean."""
    history = {r["series_id"]: r for r in trend}
    base: dict[str, list[dict]] = {}
    for r in forecast:
        if r["split_by"] == NO_SPLIT:
            base.setdefault(r["series_id"], []).append(r)
    coherent: dict[str, list[dict]] = {}
    for r in reconciled:
        if r["split_by"] == NO_SPLIT:
            coherent.setdefault(r["series_id"], []).append(r)
    out = []
    for series_id, points in sorted(base.items()):
        points = sorted(points, key=lambda p: _dated(p["date"]))
        used = sorted(coherent.get(series_id, points), key=lambda p: _dated(p["date"]))
        first, last = used[0], used[-1]
        name, grain = first["metric"], first["grain"]
        mean = sum(_num(p["yhat"]) or 0.0 for p in used) / len(used)
        mase, coverage = _num(points[0].get("backtest_mase")), _num(points[0].get("backtest_coverage"))
        level = float(points[0]["level"])
        past = history.get(series_id)
        past_mean = (_num(past["total"]) or 0.0) / past["points"] if past and past.get("points") else None
        per = grain
        compare = ""
        if past is not None and past_mean is not None:
            compare = (
                f", against {format_level(past_mean, name, per)} over "
                f"{period_label(past['start_date'], grain)} to {period_label(past['end_date'], grain)}"
            )
        how = f"model {points[0]['model']}"
        if mase is not None:
            how += f", backtest MASE {mase:.2f}"
        calibrated = _num(points[0].get("backtest_calibrated_coverage"))
        if _num(points[0].get("calibration_factor")) is not None:
            how += ", interval calibrated on the backtest errors"
            if calibrated is not None:
                how += f" (coverage {format_percent(calibrated)} on later folds"
                how += f"; the model's own {format_percent(coverage)})" if coverage is not None else ")"
        elif coverage is not None:
            how += f", interval coverage {format_percent(coverage)}"
        if series_id in coherent:
            how += f", reconciled ({used[0]['method']})"
        headline = (
            f"Forecast for {metric_label(name)}{where(NO_SPLIT, 'total')}: {format_level(mean, name, per)} "
            f"on average over {period_label(first['date'], grain)} to {period_label(last['date'], grain)}"
            f"{compare} "
            f"({format_percent(level)} interval for {period_label(last['date'], grain)}: "
            f"{format_level(max(0.0, _num(last['yhat_lower']) or 0.0), name)} to "
            f"{format_level(max(0.0, _num(last['yhat_upper']) or 0.0), name)}; {how})"
        )
        ratio = mean / past_mean if past_mean and past_mean > 0 else None
        out.append(
            Finding(
                **_base("forecast", first),
                date=_day(first["date"]),
                end_date=_day(last["date"]),
                headline=headline,
                numbers={
                    "mean": mean,
                    "historical_mean": past_mean,
                    "last_yhat": _num(last["yhat"]),
                    "last_lower": _num(last["yhat_lower"]),
                    "last_upper": _num(last["yhat_upper"]),
                    "level": level,
                    "model": points[0]["model"],
                    "backtest_mase": mase,
                    "backtest_coverage": coverage,
                    "backtest_calibrated_coverage": calibrated,
                    "reconciled": series_id in coherent,
                },
                magnitude=magnitude(ratio) if ratio is not None else 0.5,
                confidence=1 / (1 + mase) if mase is not None else 0.5,
                reach=1.0,
            )
        )
    return out


def backlog_findings(rows: list[dict]) -> list[Finding]:
    by_series: dict[str, list[dict]] = {}
    for r in rows:
        by_series.setdefault(r["series_id"], []).append(r)
    out = []
    for series_id, points in sorted(by_series.items()):
        points = sorted(points, key=lambda p: _dated(p["date"]))
        first, last = points[0], points[-1]
        name, grain = first["metric"], first["grain"]
        start, end = float(first["initial_backlog"]), float(last["backlog"])
        p_grow = float(last["p_growing"])
        arrivals = sum(float(p["arrivals"]) for p in points) / len(points)
        verb = "grow to" if end > start else ("fall to" if end < start else "stay at")
        headline = (
            f"Backlog of {metric_label(name)} ({TOTAL_LABEL}): at the recent triage rate of "
            f"{format_count(float(first['capacity_per_day']))} per day, the {format_count(start)} open now "
            f"would {verb} {format_count(end)} by {period_label(last['date'], grain)} "
            f"({format_percent(float(last['level']))} interval {format_count(float(last['backlog_lower']))} to "
            f"{format_count(float(last['backlog_upper']))}; chance it grows: {format_percent(p_grow)})"
        )
        out.append(
            Finding(
                kind="backlog",
                series_id=series_id,
                metric=name,
                grain=grain,
                split_by=NO_SPLIT,
                entity="total",
                date=_day(first["date"]),
                end_date=_day(last["date"]),
                headline=headline,
                numbers={
                    "initial_backlog": start,
                    "backlog": end,
                    "lower": float(last["backlog_lower"]),
                    "upper": float(last["backlog_upper"]),
                    "p_growing": p_grow,
                    "capacity_per_day": float(first["capacity_per_day"]),
                    "mean_arrivals": arrivals,
                    "arrivals_source": first["arrivals_source"],
                },
                magnitude=magnitude((end + arrivals) / (start + arrivals)) if arrivals > 0 else 0.0,
                confidence=max(p_grow, 1 - p_grow),
                reach=1.0,
                parameters=json.loads(first["parameters"]) if isinstance(first["parameters"], str) else {},
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# Ranking
# ---------------------------------------------------------------------------------------------


def _order(f: Finding) -> tuple:
    return (-round(f.score, 12), KIND_RANK[f.kind], f.series_id, f.date or date.min, f.headline)


@functools.lru_cache(maxsize=4096)
def _span(day: date, grain: str) -> tuple[date, date]:
    """First and last day of the period starting at `day` (cached: ranking asks for the same few
    thousand periods tens of thousands of times, and a pandas Period costs ~10 µs)."""
    period = pd.Period(day, _PERIOD_ALIAS[grain])
    return period.start_time.date(), period.end_time.date()


def _duplicate(a: Finding, b: Finding) -> bool:
    """Whether b says what the (higher-ranked) a already says."""
    same = (a.metric, a.split_by, a.entity) == (b.metric, b.split_by, b.entity)
    if not same:
        return False
    rule = KINDS[a.kind].duplicates
    if rule == "trend":
        return KINDS[b.kind].duplicates == "trend"
    if a.kind != b.kind:
        return False
    if rule == "subject":
        return True
    if a.grain != b.grain and a.date and b.date and a.numbers.get("direction") == b.numbers.get("direction"):
        (a0, a1), (b0, b1) = _span(a.date, a.grain), _span(b.date, b.grain)
        if rule == "period±1":
            slack = timedelta(days=max(PERIOD_DAYS[a.grain], PERIOD_DAYS[b.grain]))
            a0, a1 = a0 - slack, a1 + slack
        return a0 <= b1 and b0 <= a1
    return False


def rank(findings: Iterable[Finding]) -> list[Finding]:
    """Scored, deduplicated (the higher score kept) and in a deterministic order."""
    kept: list[Finding] = []
    # Only findings about the same series subject can duplicate each other (see `_duplicate`), so
    # compare within those groups: linear in the number of findings instead of quadratic.
    kept_by_subject: dict[tuple, list[Finding]] = {}
    for f in sorted((f.scored() for f in findings), key=_order):
        group = kept_by_subject.setdefault((f.metric, f.split_by, f.entity), [])
        if not any(_duplicate(k, f) for k in group):
            group.append(f)
            kept.append(f)
    return kept


def build_findings(
    tables: Mapping[str, Any], growth_level: float = 0.9, anomaly_threshold: float = 3.5
) -> list[Finding]:
    """Every finding of one run's result rows, ranked (see the module docstring)."""
    trend = _rows(tables, "analytics_trend")
    reach = Reach(trend)
    found = (
        trend_findings(trend, reach, growth_level)
        + changepoint_findings(_rows(tables, "analytics_changepoint"), reach)
        + anomaly_findings(
            _rows(tables, "analytics_anomaly"), _rows(tables, "analytics_attribution"), reach, anomaly_threshold
        )
        + status_findings(_rows(tables, "analytics_entity_status"))
        + forecast_findings(_rows(tables, "analytics_forecast"), _rows(tables, "analytics_forecast_reconciled"), trend)
        + backlog_findings(_rows(tables, "analytics_backlog"))
    )
    from analytics import detectors

    for detector in detectors.SERIES_DETECTORS:  # detectors registered with findings of their own
        if detector.findings is not None:
            found += detector.findings({name: _rows(tables, name) for name in tables}, reach)
    return rank(found)


def finding_rows(run_id: str, findings: list[Finding]) -> list[dict]:
    """Rows of `analytics_finding` (rank 1 = most important)."""
    rows = []
    for i, f in enumerate(findings, 1):
        numbers = {
            **f.numbers,
            "score_parts": {
                "kind_weight": KINDS[f.kind].weight,
                "grain_weight": GRAIN_WEIGHT.get(f.grain, 0.9),
                "magnitude": f.magnitude,
                "confidence": f.confidence,
                "reach": f.reach,
            },
        }
        rows.append(
            {
                "run_id": run_id,
                "rank": i,
                "score": f.score,
                "kind": f.kind,
                "series_id": f.series_id,
                "metric": f.metric,
                "grain": f.grain,
                "split_by": f.split_by,
                "entity": f.entity,
                "date": f.date,
                "end_date": f.end_date,
                "headline": f.headline,
                "numbers": json.dumps(jsonable(numbers), sort_keys=True),
                "detector": f.detector,
                "source_table": f.source_table,
                "parameters": json.dumps(jsonable(f.parameters), sort_keys=True),
            }
        )
    return rows
