"""Trend analytics over regular time series: trends, growth, change points, anomalies, forecasts.

Small modules with one job each, all pure functions or small classes over DataFrames (`ds`, `y` and
dimension columns in, dataclasses or tidy frames out), seeded and deterministic:

- `series`       validate a (date, value[, entity]) table and regularise it (D/W/M/Q/Y, explicit zeros)
- `seasonality`  STL decomposition, seasonality test and strengths
- `trend`        Mann-Kendall (seasonal variant) with Sen's slope; year-on-year and rolling growth + CIs
- `changepoints` structural breaks (ruptures PELT) with before/after levels
- `anomalies`    spikes and dips, robust to seasonality, level shifts and outliers
- `attribution`  which entity explains an anomaly of a total
- `emerging`     emerging / vanishing / dropping / rising entities
- `forecast`     baselines, ETS, Theta, SARIMA, Prophet; rolling-origin backtests; choice by MASE
- `reconcile`    coherent forecasts across a hierarchy (OLS, WLS, MinT-shrink)
- `capacity`     backlog projection from forecast arrivals and analyst capacity
- `analyse`, `panel`  every detector over one series / a panel of entities
- `results`      parameter and result dataclasses, JSON-ready
- `warehouse_series`  metric x filters x split x grain series read from the warehouse rollups
- `warehouse_run`     `grace analyse`: every detector over the warehouse's series, persisted per run

Heavy libraries (statsmodels, Prophet, ruptures) are imported by the modules that use them, not here.
"""

from grace import __version__  # results record the package version that produced them

__all__ = ["__version__"]
