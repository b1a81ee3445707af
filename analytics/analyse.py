"""One series, every detector: seasonality, trend, growth, change points, anomalies and a forecast.

The order matters and is fixed: seasonality decides the trend test and what is deseasonalised;
change points are found first so anomalies are measured against the shifted level (a break is not a
run of spikes); the forecast model is chosen by backtest. Same input and parameters, same output.
"""

from __future__ import annotations

import dataclasses

from analytics.anomalies import detect_anomalies
from analytics.changepoints import detect_changepoints
from analytics.forecast import forecast, single_threaded
from analytics.results import AnalysisParams, SeriesAnalysis
from analytics.seasonality import seasonality_and_parts
from analytics.series import RegularSeries
from analytics.trend import growth_summary, mann_kendall

MIN_POINTS = 8


def analyse_series(series: RegularSeries, params: AnalysisParams = AnalysisParams()) -> SeriesAnalysis:
    """Run every detector (and the forecast unless `params.forecast.horizon` is 0) over one series."""
    series.require(MIN_POINTS, "trend, change-point and anomaly analysis")
    horizon = params.forecast.horizon
    if horizon:
        from analytics.forecast import min_points

        series.require(min_points(horizon), f"a {horizon}-period forecast with a backtest")
    with single_threaded():
        season, parts = seasonality_and_parts(series.y, series.season_length, params.trend.seasonal_alpha)
        trend = mann_kendall(series, params.trend, season.seasonal)
        growth = growth_summary(series, params.growth_level)
        breaks = detect_changepoints(series, params.changepoints, season.seasonal, parts["seasonal"].to_numpy())
        anomalies = detect_anomalies(series, params.anomalies, season.seasonal, breaks.changepoints, parts)
        outlook = forecast(series, params.forecast, season.seasonal) if horizon else None
    return SeriesAnalysis(
        freq=series.freq,
        start=series.ds[0],
        end=series.ds[-1],
        n=series.n,
        seasonality=season,
        trend=trend,
        growth=growth,
        changepoints=breaks,
        anomalies=anomalies,
        forecast=outlook,
        parameters=params,
        notes=series.notes,
    )


def with_horizon(params: AnalysisParams, horizon: int, **forecast_changes) -> AnalysisParams:
    """The same parameters with another forecast horizon (and any other forecast parameter changed)."""
    return dataclasses.replace(
        params, forecast=dataclasses.replace(params.forecast, horizon=horizon, **forecast_changes)
    )
