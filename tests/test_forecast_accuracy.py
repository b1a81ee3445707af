"""Forecast accuracy (issue 15): the ETS search, Theta, the autoregressive ARIMA search, the log-scale
candidates and the combination, all chosen by the rolling-origin backtest; the cost rules; calibrated
intervals. Every series is synthetic and seeded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics import forecast as forecast_module
from analytics.arima import auto_ar
from analytics.ets import ADD, MUL, NONE, auto_ets, fit_form, theta
from analytics.forecast import forecast, plan_candidates
from analytics.results import ForecastParams
from analytics.series import RegularSeries
from analytics.validation import mase

STRONG = ("theta", "arima", "ets", "ets_log", "combo")


def series_of(y, freq="M", start="2015-01-01") -> RegularSeries:
    alias = {"M": "MS", "W": "W-MON", "Q": "QS", "Y": "YS"}[freq]
    ds = pd.date_range(start, periods=len(y), freq=alias)
    return RegularSeries(pd.DataFrame({"ds": ds, "y": np.asarray(y, dtype=float)}), freq)


def trend_season(n=96, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 500 + 3 * t + 80 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 12, n)


def exponential_multiplicative(n=96, seed=0) -> np.ndarray:
    """Growth of 4 % a month with a season whose amplitude grows with the level."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 20 * np.exp(0.04 * t) * (1 + 0.35 * np.sin(2 * np.pi * t / 12)) * np.exp(rng.normal(0, 0.04, n))


# --- the candidates ---------------------------------------------------------------------------


def test_the_new_candidates_beat_seasonal_naive_on_a_series_with_trend_and_season():
    y = trend_season()
    result = forecast(series_of(y[:-12]), ForecastParams(horizon=12), seasonal=True)
    scores = {b.model: b.mase for b in result.candidates}
    assert set(STRONG) <= set(scores)
    assert result.model in STRONG
    assert min(scores[m] for m in STRONG) < 0.6 * scores["seasonal_naive"]
    # and on the 12 months it never saw
    held_out = mase(y[-12:], [p.yhat for p in result.forecast], y[:-12], 12)
    naive = mase(y[-12:], y[-24:-12], y[:-12], 12)
    assert held_out < 0.6 * naive


def test_the_ets_search_picks_a_seasonal_trend_form_and_a_flat_one_for_noise():
    fit = auto_ets(trend_season(seed=1), 12, seasonal=True)
    assert fit.season != NONE and fit.trend != NONE
    noise = 100 + np.random.default_rng(2).normal(0, 5, 80)
    assert auto_ets(noise, 12, seasonal=True).label in {"ETS(A,N,N)", "ETS(M,N,N)"}


def test_multiplicative_forms_are_only_tried_on_positive_series():
    y = trend_season(seed=3) - 600  # crosses zero
    with pytest.raises(ValueError):
        fit_form(y, 12, MUL, ADD, MUL, False)
    assert auto_ets(y, 12, seasonal=True).error == ADD


def test_extending_a_fit_follows_the_new_data_without_re_estimating():
    y = trend_season(seed=4)
    fit = auto_ets(y[:72], 12, seasonal=True)
    same = fit.extend(y[:72])
    np.testing.assert_allclose(same.predict(6, 0.8)[0], fit.predict(6, 0.8)[0])
    longer = fit.extend(y[:78])
    np.testing.assert_array_equal(longer.params, fit.params)
    assert longer.n == 78 and not np.allclose(longer.predict(6, 0.8)[0], fit.predict(6, 0.8)[0])


def test_theta_forecasts_a_trend_with_half_its_slope_plus_the_level():
    y = 50 + 2.0 * np.arange(60) + np.random.default_rng(5).normal(0, 1, 60)
    mean, lower, upper = theta(y, 12, seasonal=False).predict(12, 0.8)
    assert np.all(np.diff(mean) > 0.5) and np.all(np.diff(mean) < 1.5)  # drift = b / 2 = 1 a month
    assert np.all(lower < mean) and np.all(mean < upper)


def test_the_arima_search_finds_an_autoregression_and_its_cycle():
    rng = np.random.default_rng(6)
    y = np.zeros(300)
    for t in range(2, 300):
        y[t] = 1.3 * y[t - 1] - 0.6 * y[t - 2] + rng.normal()
    fit = auto_ar(y + 50, 1, seasonal=False, freq="Y")
    assert fit.d == 0 and fit.p >= 2
    np.testing.assert_allclose(fit.coef[:2], [1.3, -0.6], atol=0.15)
    mean, lower, upper = fit.predict(10, 0.8)
    assert np.all(lower < mean) and np.all(mean < upper) and np.all(np.diff(upper - lower) >= -1e-9)


def test_the_log_transform_is_chosen_by_the_backtest_on_a_multiplicative_series():
    result = forecast(series_of(exponential_multiplicative()), ForecastParams(horizon=12), seasonal=True)
    scores = {b.model: b.mase for b in result.candidates}
    assert scores["ets_log"] < scores["ets"]
    assert result.transform in ("log", "mixed")
    assert "log(y + 1)" in result.spec


def test_the_log_transform_is_not_chosen_on_an_additive_series():
    result = forecast(series_of(trend_season(seed=7)), ForecastParams(horizon=12), seasonal=True)
    assert result.transform == "none"


def test_the_combination_averages_its_members_forecasts():
    params = ForecastParams(horizon=6, models=("theta", "ets", "combo"))
    result = forecast(series_of(trend_season(seed=8)), params, seasonal=True)
    by_name = {b.model: b for b in result.candidates}
    assert set(by_name) == {"theta", "ets", "combo"}
    combo, members = by_name["combo"].errors, [by_name["theta"].errors, by_name["ets"].errors]
    np.testing.assert_allclose(combo, np.mean(members, axis=0))  # clipping aside, errors average too


def test_the_result_names_the_fitted_form_and_transform():
    result = forecast(series_of(trend_season(seed=9)), ForecastParams(horizon=6, models=("ets",)), seasonal=True)
    assert result.spec.startswith("ETS(") and result.transform == "none"
    assert result.to_dict()["spec"] == result.spec


# --- cost rules -------------------------------------------------------------------------------


def test_expensive_candidates_are_skipped_on_an_intermittent_series():
    y = np.where(np.random.default_rng(10).random(96) < 0.5, 0.0, 3.0)
    kept, notes = plan_candidates(series_of(y), ForecastParams(horizon=12))
    assert kept == ["seasonal_naive", "drift", "theta", "combo"]
    assert any("arima skipped: intermittent" in note for note in notes)
    result = forecast(series_of(y), ForecastParams(horizon=12), seasonal=False)
    assert {b.model for b in result.candidates} == {"seasonal_naive", "drift", "theta"}  # combo needs 2 members


def test_expensive_candidates_are_skipped_on_a_short_series():
    kept, notes = plan_candidates(series_of(trend_season(n=30)), ForecastParams(horizon=12))
    assert not {"arima", "ets", "ets_log"} & set(kept)
    assert any("short series" in note for note in notes)


def test_weekly_and_negative_series_get_no_log_variant():
    weekly = series_of(200 + np.random.default_rng(11).normal(0, 10, 260), "W")
    assert "ets_log" not in plan_candidates(weekly, ForecastParams(horizon=13))[0]
    negative = series_of(trend_season(seed=12) - 600)
    kept, notes = plan_candidates(negative, ForecastParams(horizon=12))
    assert "ets_log" not in kept and "ets" in kept
    assert any("negative values" in note for note in notes)


def test_a_cost_rule_never_removes_the_last_candidate():
    y = np.where(np.arange(40) % 2 == 0, 0.0, 5.0)
    kept, _ = plan_candidates(series_of(y), ForecastParams(horizon=6, models=("ets",)))
    assert kept == ["ets"]


def test_calibration_origins_reuse_the_fold_fit_where_the_model_allows(monkeypatch):
    series = series_of(trend_season(seed=13))
    params = ForecastParams(horizon=12)
    _, origins, fitted_at = forecast_module._layout(series, params)
    assert len(fitted_at) == 2 * len(origins)
    _, fits = forecast_module.origin_forecasts(series, "ets", params, True, origins, fitted_at)
    assert fits == len(origins)
    _, naive_fits = forecast_module.origin_forecasts(series, "seasonal_naive", params, True, origins, fitted_at)
    assert naive_fits == len(fitted_at)


# --- intervals --------------------------------------------------------------------------------


def test_calibrated_intervals_hold_about_the_nominal_share_of_later_actuals():
    inside = []
    for seed in range(12):
        rng = np.random.default_rng(100 + seed)
        n = 120
        noise = np.zeros(n)
        for t in range(1, n):
            noise[t] = 0.5 * noise[t - 1] + rng.normal(0, 10)
        t = np.arange(n)
        y = 300 + 1.5 * t + 40 * np.sin(2 * np.pi * t / 12) + noise
        result = forecast(series_of(y[:-12]), ForecastParams(horizon=12, level=0.8), seasonal=True)
        assert result.interval == "calibrated"
        frame = result.frame()
        inside.append((y[-12:] >= frame["yhat_lower"]) & (y[-12:] <= frame["yhat_upper"]))
    assert abs(np.mean(np.concatenate(inside)) - 0.8) <= 0.1


@pytest.mark.slow
def test_calibrated_intervals_of_a_trending_series_with_known_noise_hold_the_nominal_share_within_a_few_points():
    # 60 draws of one process: trend, season, AR(1) noise of known scale; each forecast 12 months ahead from
    # 108 months, the 12 held out scored (720 actuals). Calibrated on the chosen model's own backtest errors
    # (before the selection-honest scores) this held 74 %: the model chosen among seven was the one whose
    # folds had gone best, so its errors there understated its errors to come.
    inside = []
    with forecast_module.single_threaded():
        for seed in range(60):
            rng = np.random.default_rng(100 + seed)
            noise = np.zeros(120)
            for t in range(1, 120):
                noise[t] = 0.5 * noise[t - 1] + rng.normal(0, 10)
            t = np.arange(120)
            y = 300 + 1.5 * t + 40 * np.sin(2 * np.pi * t / 12) + noise
            frame = forecast(series_of(y[:-12]), ForecastParams(horizon=12, level=0.8), seasonal=True).frame()
            inside.append((y[-12:] >= frame["yhat_lower"]) & (y[-12:] <= frame["yhat_upper"]))
    assert abs(np.mean(np.concatenate(inside)) - 0.8) <= 0.04


def test_the_same_series_gives_the_same_forecast_twice():
    series = series_of(exponential_multiplicative(seed=14))
    first, second = (forecast(series, ForecastParams(horizon=12), seasonal=True) for _ in range(2))
    assert first.to_dict() == second.to_dict()


def test_the_command_lines_model_sets_match_the_forecast_module():
    from analytics.forecast import MODELS
    from grace_cli.series import ALL_MODELS, DEFAULT_MODELS

    assert tuple(DEFAULT_MODELS.split(",")) == ForecastParams().models
    assert set(ALL_MODELS.split(",")) == set(MODELS)
