"""Forecasts: backtested model choice, measured interval coverage, reconciliation, backlog, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.analyse import analyse_series
from analytics.capacity import project_backlog
from analytics.forecast import fold_layout, forecast, make_model
from analytics.panel import forecast_panel
from analytics.reconcile import is_coherent, reconcile, shrunk_covariance, summing_matrix
from analytics.results import AnalysisParams, ForecastParams
from analytics.series import RegularPanel, RegularSeries, TooFewPointsError


def monthly(y, start="2018-01-01") -> RegularSeries:
    ds = pd.date_range(start, periods=len(y), freq="MS")
    return RegularSeries(pd.DataFrame({"ds": ds, "y": np.asarray(y, dtype=float)}), "M")


def trending_seasonal(n=72, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 400 + 4 * t + 60 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 10, n)


def test_the_chosen_model_beats_seasonal_naive_on_a_trending_seasonal_series():
    result = forecast(monthly(trending_seasonal()), ForecastParams(horizon=12), seasonal=True)
    by_name = {b.model: b for b in result.candidates}
    assert set(by_name) == {"seasonal_naive", "drift", "ets"}
    assert result.model != "seasonal_naive"
    assert result.backtest.mase < 0.8 * by_name["seasonal_naive"].mase
    assert result.backtest.mase == min(b.mase for b in result.candidates)


def test_the_backtest_reports_mase_and_the_measured_interval_coverage():
    result = forecast(monthly(trending_seasonal(seed=1)), ForecastParams(horizon=6, level=0.8), seasonal=True)
    back = result.backtest
    assert back.folds == 3 and back.horizon == 6
    assert 0 <= back.coverage <= 1 and back.level == 0.8
    assert back.errors.shape == (3, 6)
    payload = result.backtest.to_dict()
    assert {"mase", "mae", "rmse", "coverage", "level", "folds", "horizon"} <= set(payload) and "errors" not in payload


def test_forecast_points_follow_the_calendar_with_ordered_intervals():
    result = forecast(monthly(trending_seasonal(seed=2)), ForecastParams(horizon=4), seasonal=True)
    frame = result.frame()
    assert frame["date"].dt.strftime("%Y-%m").tolist() == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert (frame["yhat_lower"] <= frame["yhat"]).all() and (frame["yhat"] <= frame["yhat_upper"]).all()


def test_forecasts_of_counts_never_go_below_zero():
    y = np.maximum(0, 200 - 8 * np.arange(30.0))  # falls to zero
    result = forecast(monthly(y), ForecastParams(horizon=12, models=("drift",)))
    assert min(p.yhat_lower for p in result.forecast) >= 0


def test_folds_shrink_to_fit_a_short_series_and_too_short_a_series_is_refused():
    assert fold_layout(n=72, season_length=12, horizon=12, folds=3) == (12, [36, 48, 60])
    assert fold_layout(n=30, season_length=12, horizon=12, folds=3) == (7, [9, 16, 23])  # n // 4 ahead
    with pytest.raises(TooFewPointsError, match="needs at least 24"):
        forecast(monthly(np.arange(20.0)), ForecastParams(horizon=24))


def test_prophet_is_seeded_so_two_fits_give_identical_intervals():
    series = monthly(trending_seasonal(n=48, seed=3))
    runs = [make_model("prophet", 12, True, "M", seed=7).fit(series.y, series.ds).predict(6, 0.8) for _ in range(2)]
    for first, second in zip(*runs):
        np.testing.assert_array_equal(first, second)


def test_the_same_series_gives_the_same_analysis_twice():
    series = monthly(trending_seasonal(seed=4))
    params = AnalysisParams(forecast=ForecastParams(horizon=6))
    assert analyse_series(series, params).to_dict() == analyse_series(series, params).to_dict()


# --- reconciliation ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["ols", "wls_struct", "wls_var", "mint_shrink"])
def test_reconciled_forecasts_make_the_total_equal_the_sum_of_the_countries(method):
    rng = np.random.default_rng(5)
    S, nodes = summing_matrix(["AUT", "BEL", "CZE"], {"EU": ["AUT", "BEL", "CZE"]})
    assert nodes == ["EU", "AUT", "BEL", "CZE"]
    base = np.array([[1000.0, 1010.0], [300.0, 310.0], [450.0, 455.0], [200.0, 190.0]])  # 950 != 1000
    errors = rng.normal(0, 10, size=(24, 4))
    coherent = reconcile(base, S, method, errors)
    assert not is_coherent(base, S) and is_coherent(coherent, S)
    np.testing.assert_allclose(coherent[0], coherent[1:].sum(axis=0))
    assert np.abs(coherent - base).max() < 60


def test_reconciliation_leaves_already_coherent_forecasts_alone():
    S, _ = summing_matrix(["a", "b"], {"total": ["a", "b"]})
    base = np.array([[30.0], [10.0], [20.0]])
    np.testing.assert_allclose(reconcile(base, S, "ols"), base)


def test_mint_reconciliation_copes_with_nodes_whose_backtest_errors_are_all_zero():
    """A constant series is forecast exactly: its errors are all zero (this raised "Singular matrix")."""
    S, _ = summing_matrix(["a", "b"], {"total": ["a", "b"]})
    base = np.array([[32.0, 33.0], [10.0, 10.0], [20.0, 21.0]])
    errors = np.zeros((6, 3))
    errors[:, 2] = np.random.default_rng(7).normal(size=6)  # only one node has errors
    assert is_coherent(reconcile(base, S, "mint_shrink", errors), S)
    assert is_coherent(reconcile(base, S, "mint_shrink", np.zeros((6, 3))), S)


def test_mint_shrinkage_is_strong_for_few_errors_and_the_covariance_stays_positive_definite():
    rng = np.random.default_rng(6)
    W, lam = shrunk_covariance(rng.normal(size=(6, 10)))
    assert 0 < lam <= 1
    assert np.linalg.eigvalsh(W).min() > 0


def test_a_panel_forecast_is_coherent_at_every_date():
    rng = np.random.default_rng(7)
    n = 48
    ds = pd.date_range("2020-01-01", periods=n, freq="MS")
    long = pd.concat(
        [
            pd.DataFrame({"ds": ds, "entity": c, "y": base + rng.normal(0, np.sqrt(base), n)})
            for c, base in (("AUT", 100), ("BEL", 300), ("CZE", 50))
        ],
        ignore_index=True,
    )
    table = forecast_panel(RegularPanel(long, "M"), ForecastParams(horizon=3, models=("ets",)))
    assert table["node"].unique().tolist() == ["total", "AUT", "BEL", "CZE"]
    wide = table.pivot(index="date", columns="node", values="yhat")
    np.testing.assert_allclose(wide["total"], wide[["AUT", "BEL", "CZE"]].sum(axis=1))
    base = table.pivot(index="date", columns="node", values="base_yhat")
    assert not np.allclose(base["total"], base[["AUT", "BEL", "CZE"]].sum(axis=1))  # ETS fits did not add up


# --- capacity ---------------------------------------------------------------------------------


def test_the_backlog_grows_when_arrivals_exceed_analyst_capacity():
    dates = pd.date_range("2025-01-01", periods=6, freq="MS")
    arrivals = pd.DataFrame({"date": dates, "yhat": 3100.0, "yhat_lower": 2900.0, "yhat_upper": 3300.0})
    short = project_backlog(arrivals, "M", capacity_per_day=90, initial_backlog=500)
    ample = project_backlog(arrivals, "M", capacity_per_day=120, initial_backlog=500)
    assert short["backlog"].is_monotonic_increasing and short["p_growing"].iloc[-1] > 0.9
    assert (short["backlog_lower"] <= short["backlog"]).all() and (short["backlog"] <= short["backlog_upper"]).all()
    assert ample["backlog"].iloc[-1] == 0
    assert short.equals(project_backlog(arrivals, "M", capacity_per_day=90, initial_backlog=500))
