"""The per-series detectors of `grace analyse`, registered once, in the order they run.

A detector is one `SeriesDetector`: what it computes from a series (`run`, which may use what the
detectors before it found), the analytics tables its results are stored in (`ResultTable`: the rows
one analysed series contributes) and, for a table that raises alerts, how one of its rows reads as an
alert (`ResultTable.alert`). `analytics.analyse.analyse_series` runs `SERIES_DETECTORS` in order;
`analytics.warehouse_run` stores their tables and copies every alert into `analytics_alert`, which the
Alerts page reads (one table, whatever detectors exist). The kinds of finding a detector's results
state are registered in `analytics.kinds`.

Adding a detector (see docs/architecture.md): write it in its own module with its `SeriesDetector`
entry (run, tables, alert mapping, findings) and add that entry to `SERIES_DETECTORS`; register the
kinds of finding it states in `analytics.kinds`. If it stores rows of its own, declare its table in
`sql/ddl/002_analytics.sql` and `data_contracts/warehouse.yaml` (a test compares the two); its alerts
need no table of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analytics.anomalies import detect_anomalies
from analytics.changepoints import detect_changepoints
from analytics.results import AnalysisParams, SeriesAnalysis
from analytics.seasonality import seasonality_and_parts
from analytics.series import RegularSeries
from analytics.trend import growth_summary, mann_kendall

Found = dict[str, Any]  # what the detectors found so far in one series, by name
AlertRow = dict[str, Any]


@dataclass(frozen=True)
class ResultTable:
    """One analytics table a detector fills.

    rows: the rows one analysed series contributes, without the series key (run_id, series_id,
        metric, grain, split_by, entity), which the writer adds; given the analysis and the series
        frame (ds, y);
    alert: for an alerting table, one stored row as an alert (kind, date, direction, before, after,
        relative, strength), or None when that row is no alert.
    """

    name: str
    rows: Callable[[SeriesAnalysis, pd.DataFrame], list[dict]] | None = None
    alert: Callable[[Mapping[str, Any]], AlertRow | None] | None = None


@dataclass(frozen=True)
class SeriesDetector:
    """One detector: run over a series after the detectors before it, results stored in `tables`.

    run(series, params, found) returns the detector's results by name; they are added to `found` for
    the detectors after it, and the built-in names become `SeriesAnalysis` fields (anything else lands
    in `SeriesAnalysis.detections`, and so in `grace series analyse --json`).
    """

    name: str
    run: Callable[[RegularSeries, AnalysisParams, Found], Found]
    tables: tuple[ResultTable, ...] = ()
    # The plain-language findings its stored rows state: (the run's rows by table, the narrative's
    # `Reach`) -> `analytics.narrative.Finding`s, each of a kind registered in `analytics.kinds`.
    # The built-in detectors' findings are worded in `analytics.narrative` itself.
    findings: Callable[[Mapping[str, list[dict]], Any], list] | None = None


# --- the built-in detectors ------------------------------------------------------------------


def _seasonality(series: RegularSeries, params: AnalysisParams, found: Found) -> Found:
    season, parts = seasonality_and_parts(series.y, series.season_length, params.trend.seasonal_alpha)
    return {"seasonality": season, "parts": parts}


def _trend(series: RegularSeries, params: AnalysisParams, found: Found) -> Found:
    return {
        "trend": mann_kendall(series, params.trend, found["seasonality"].seasonal),
        "growth": growth_summary(series, params.growth_level),
    }


def _changepoints(series: RegularSeries, params: AnalysisParams, found: Found) -> Found:
    seasonal = found["seasonality"].seasonal
    return {
        "changepoints": detect_changepoints(
            series, params.changepoints, seasonal, found["parts"]["seasonal"].to_numpy()
        )
    }


def _anomalies(series: RegularSeries, params: AnalysisParams, found: Found) -> Found:
    seasonal = found["seasonality"].seasonal
    return {
        "anomalies": detect_anomalies(
            series, params.anomalies, seasonal, found["changepoints"].changepoints, found["parts"]
        )
    }


def _forecast(series: RegularSeries, params: AnalysisParams, found: Found) -> Found:
    from analytics.forecast import forecast

    if not params.forecast.horizon:
        return {"forecast": None}
    return {"forecast": forecast(series, params.forecast, found["seasonality"].seasonal)}


def _trend_rows(result: SeriesAnalysis, frame: pd.DataFrame) -> list[dict]:
    trend, season = result.trend, result.seasonality
    yoy, recent = result.growth.get("year_on_year"), result.growth.get("recent")
    return [
        {
            "start_date": result.start.date(),
            "end_date": result.end.date(),
            "points": result.n,
            "total": float(frame["y"].sum()),
            "direction": trend.direction,
            "slope": trend.slope,
            "slope_per_year": trend.slope_per_year,
            "relative_slope": trend.relative_slope,
            "p_value": trend.p_value,
            "test": trend.test,
            "seasonal": bool(season.seasonal),
            "seasonal_strength": season.seasonal_strength,
            "trend_strength": season.trend_strength,
            "yoy_growth": yoy.growth if yoy else None,
            "yoy_lower": yoy.lower if yoy else None,
            "yoy_upper": yoy.upper if yoy else None,
            "recent_growth": recent.growth if recent else None,
            "recent_lower": recent.lower if recent else None,
            "recent_upper": recent.upper if recent else None,
        }
    ]


def _changepoint_rows(result: SeriesAnalysis, frame: pd.DataFrame) -> list[dict]:
    return [
        {
            "date": cp.date.date(),
            "level_before": cp.level_before,
            "level_after": cp.level_after,
            "magnitude": cp.magnitude,
            "relative_change": cp.relative_change,
            "direction": cp.direction,
            "confidence": cp.confidence,
        }
        for cp in result.changepoints.changepoints
    ]


def _changepoint_alert(row: Mapping[str, Any]) -> AlertRow:
    return _alert(
        "changepoint",
        row,
        row["direction"],
        row["level_before"],
        row["level_after"],
        row["relative_change"],
        row["confidence"],
    )


def _anomaly_rows(result: SeriesAnalysis, frame: pd.DataFrame) -> list[dict]:
    return [
        {
            "date": a.date.date(),
            "value": a.value,
            "expected": a.expected,
            "magnitude": a.magnitude,
            "relative": a.relative,
            "direction": a.direction,
            "score": a.score,
        }
        for a in result.anomalies
    ]


def _anomaly_alert(row: Mapping[str, Any]) -> AlertRow:
    return _alert("anomaly", row, row["direction"], row["expected"], row["value"], row["relative"], row["score"])


def _forecast_rows(result: SeriesAnalysis, frame: pd.DataFrame) -> list[dict]:
    f = result.forecast
    if f is None:
        return []
    return [
        {
            "date": p.date.date(),
            "yhat": p.yhat,
            "yhat_lower": p.yhat_lower,
            "yhat_upper": p.yhat_upper,
            "level": f.level,
            "model": f.model,
            "backtest_mase": f.backtest.mase,
            "backtest_coverage": f.backtest.coverage,
            "backtest_calibrated_coverage": f.backtest.calibrated_coverage,
            "calibration_factor": f.backtest.calibration_factor if f.interval == "calibrated" else None,
        }
        for p in f.forecast
    ]


def _candidate_rows(result: SeriesAnalysis, frame: pd.DataFrame) -> list[dict]:
    f = result.forecast
    if f is None:
        return []
    return [
        {
            "model": b.model,
            "chosen": b.model == f.model,
            "folds": b.folds,
            "horizon": b.horizon,
            "mase": b.mase,
            "mae": b.mae,
            "rmse": b.rmse,
            "coverage": b.coverage,
            "level": b.level,
            "calibrated_coverage": b.calibrated_coverage,
            "calibration_factor": b.calibration_factor,
        }
        for b in f.candidates
    ]


def _status_alert(row: Mapping[str, Any]) -> AlertRow | None:
    status = row["status"]
    if status not in ("emerging", "vanishing"):
        return None
    direction = "up" if status == "emerging" else "down"
    return {
        **_alert(status, row, direction, row["baseline_mean"], row["recent_mean"], row["growth"], row["recent_share"]),
        "date": row["recent_start"],
    }


def _alert(kind, row, direction, before, after, relative, strength) -> AlertRow:
    return {
        "kind": kind,
        "date": row.get("date"),
        "direction": direction,
        "before": before,
        "after": after,
        "relative": relative,
        "strength": strength,
    }


# In running order: a detector may use what the ones before it found.
SERIES_DETECTORS: tuple[SeriesDetector, ...] = (
    SeriesDetector("seasonality", _seasonality),
    SeriesDetector("trend", _trend, (ResultTable("analytics_trend", _trend_rows),)),
    SeriesDetector(
        "changepoints",
        _changepoints,
        (ResultTable("analytics_changepoint", _changepoint_rows, _changepoint_alert),),
    ),
    SeriesDetector("anomalies", _anomalies, (ResultTable("analytics_anomaly", _anomaly_rows, _anomaly_alert),)),
    SeriesDetector(
        "forecast",
        _forecast,
        (
            ResultTable("analytics_forecast", _forecast_rows),
            ResultTable("analytics_forecast_candidate", _candidate_rows),
        ),
    ),
)

# Tables derived from several series at once (analytics.warehouse_derived) that raise alerts.
DERIVED_ALERT_TABLES: tuple[ResultTable, ...] = (ResultTable("analytics_entity_status", alert=_status_alert),)

ALERT_TABLE = "analytics_alert"
_KEY = ("run_id", "series_id", "metric", "grain", "split_by", "entity")


def series_tables() -> tuple[str, ...]:
    """The tables the registered per-series detectors fill, in registry order."""
    return tuple(table.name for detector in SERIES_DETECTORS for table in detector.tables)


def alert_sources() -> tuple[ResultTable, ...]:
    """Every registered table whose rows raise alerts (per-series and derived)."""
    every = (*(t for d in SERIES_DETECTORS for t in d.tables), *DERIVED_ALERT_TABLES)
    return tuple(table for table in every if table.alert is not None)


def alert_rows(tables: Mapping[str, Iterable[Mapping[str, Any]]]) -> list[AlertRow]:
    """Every alert of one run's stored rows, as rows of `analytics_alert`.

    `alert_key` (series id | kind | date) names the same alert in every run, so a later run can tell
    what is new and an acknowledgement outlives the run it was made on."""
    out: list[AlertRow] = []
    for table in alert_sources():
        assert table.alert is not None
        for row in tables.get(table.name, ()):
            alert = table.alert(row)
            if alert is None:
                continue
            day = alert["date"]
            out.append(
                {
                    **{k: row[k] for k in _KEY},
                    **alert,
                    "alert_key": f"{row['series_id']}|{alert['kind']}|{day.isoformat()}",
                }
            )
    return out
