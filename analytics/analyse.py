"""One series, every detector: seasonality, trend, growth, change points, anomalies and a forecast.

The detectors and their order are registered in `analytics.detectors`. The order matters and is
fixed: seasonality decides the trend test and what is deseasonalised; change points are found first
so anomalies are measured against the shifted level (a break is not a run of spikes); the forecast
model is chosen by backtest. Same input and parameters, same output.
"""

from __future__ import annotations

import dataclasses

from analytics import detectors
from analytics.detectors import Found
from analytics.forecast import single_threaded
from analytics.results import AnalysisParams, SeriesAnalysis
from analytics.series import RegularSeries

MIN_POINTS = 8
_BUILT_IN = ("seasonality", "trend", "growth", "changepoints", "anomalies", "forecast")


def analyse_series(series: RegularSeries, params: AnalysisParams = AnalysisParams()) -> SeriesAnalysis:
    """Run every detector (and the forecast unless `params.forecast.horizon` is 0) over one series."""
    series.require(MIN_POINTS, "trend, change-point and anomaly analysis")
    horizon = params.forecast.horizon
    if horizon:
        from analytics.forecast import min_points

        series.require(min_points(horizon), f"a {horizon}-period forecast with a backtest")
    found: Found = {}
    with single_threaded():
        for detector in detectors.SERIES_DETECTORS:
            found.update(detector.run(series, params, found))
    builtin = {name: found.pop(name) for name in _BUILT_IN}
    found.pop("parts", None)  # the decomposition the detectors share; not a result
    return SeriesAnalysis(
        freq=series.freq,
        start=series.ds[0],
        end=series.ds[-1],
        n=series.n,
        **builtin,
        parameters=params,
        notes=series.notes,
        detections=found,
    )


def with_horizon(params: AnalysisParams, horizon: int, **forecast_changes) -> AnalysisParams:
    """The same parameters with another forecast horizon (and any other forecast parameter changed)."""
    return dataclasses.replace(
        params, forecast=dataclasses.replace(params.forecast, horizon=horizon, **forecast_changes)
    )
