"""Forecasts: backtested model choice, measured interval coverage, reconciliation, backlog, determinism."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from analytics import forecast as forecast_module
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
    assert set(by_name) == {"seasonal_naive", "drift", "theta", "arima", "ets", "ets_log", "combo"}
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


# --- calibrated intervals ---------------------------------------------------------------------


def test_the_conformal_quantile_takes_the_finite_sample_rank_and_refuses_too_few_scores():
    quantile = forecast_module.conformal_quantile
    assert quantile(np.arange(9.0, 0.0, -1.0), 0.8) == 8.0  # the ceil((9 + 1) 0.8) = 8th smallest of 9
    assert quantile(np.arange(1.0, 5.0), 0.8) == 4.0  # 4 scores: the largest
    assert quantile(np.array([1.0, 2.0, 3.0]), 0.8) is None  # an 80 % quantile needs at least 4
    assert quantile(np.arange(1.0, 19.0), 0.95) is None and quantile(np.arange(1.0, 20.0), 0.95) == 19.0


class _TooSure(forecast_module._Model):
    """A model that always forecasts 0 with the 80 % interval of a standard deviation of 1 / z(0.9),
    i.e. -1 .. 1, whatever the data."""

    name = "too_sure"

    def fit(self, y, ds):
        return self

    def predict(self, horizon, level):
        return np.zeros(horizon), -np.ones(horizon), np.ones(horizon)


def test_calibration_widens_an_overconfident_interval_to_the_quantile_of_the_errors(monkeypatch):
    # errors N(0, 3^2) against a model that claims -1 .. 1: the calibrated 80 % interval must be
    # +- the 80 % quantile of |N(0, 3^2)| = 3 z(0.9) = 3.84, and cover about 80 % of later actuals
    monkeypatch.setitem(forecast_module._REGISTRY, "too_sure", _TooSure)
    y = np.random.default_rng(11).normal(0.0, 3.0, 400)
    params = ForecastParams(horizon=12, models=("too_sure",), folds=10, level=0.8)
    result = forecast(monthly(y), params)
    back = result.backtest
    expected = 3.0 * 1.2815515655446004
    assert result.interval == "calibrated"
    # 10 folds x 2 origins x 12 steps (the last origin's block cut at n), and 19 blocks of calibration history
    assert back.calibration_points == 234 + 19 * 12
    assert back.calibration_factor == pytest.approx(expected, rel=0.15)
    frame = result.frame()
    np.testing.assert_allclose(frame["yhat_upper"], back.calibration_factor)
    np.testing.assert_allclose(frame["yhat_lower"], -back.calibration_factor)
    assert back.coverage < 0.4  # the model's own interval: P(|N(0, 9)| <= 1) = 26 %
    assert abs(back.calibrated_coverage - 0.8) <= 0.1
    uncalibrated = forecast(monthly(y), dataclasses.replace(params, calibration_origins=0))
    assert uncalibrated.interval == "model" and uncalibrated.backtest.calibrated_coverage is None
    assert uncalibrated.frame()["yhat_upper"].tolist() == [1.0] * 12


def test_too_few_backtest_errors_keep_the_models_own_interval_with_a_note(monkeypatch):
    monkeypatch.setitem(forecast_module._REGISTRY, "too_sure", _TooSure)
    y = np.random.default_rng(12).normal(0.0, 3.0, 10)  # one fold of 2 points, one origin more: 3 errors
    result = forecast(monthly(y), ForecastParams(horizon=2, models=("too_sure",), level=0.8))
    assert result.backtest.calibration_points == 3 and result.backtest.calibration_factor is None
    assert result.interval == "model"
    assert any("not calibrated" in note for note in result.notes)
    assert result.frame()["yhat_upper"].tolist() == [1.0, 1.0]


def _backtest(model: str, fold_mase: list[float]) -> forecast_module.Backtest:
    folds = len(fold_mase)
    return forecast_module.Backtest(
        model=model, folds=folds, horizon=2, mase=float(np.mean(fold_mase)), mae=1.0, rmse=1.0, coverage=0.8,
        level=0.8, errors=np.ones((folds, 2)), fold_mase=np.asarray(fold_mase),
    )  # fmt: skip


def test_each_fold_is_calibrated_with_the_model_chosen_without_that_fold():
    lucky = _backtest("lucky", [1.0, 1.0, 0.1])  # chosen overall (mean 0.70) thanks to its third fold
    steady = _backtest("steady", [0.8, 0.8, 0.8])
    assert forecast_module.fold_picks([lucky, steady]) == ["lucky", "lucky", "steady"]
    assert forecast_module.fold_picks([steady, _backtest("tie", [0.8, 0.8, 0.8])]) == ["steady"] * 3  # earlier wins
    assert forecast_module.fold_picks([_backtest("alone", [0.5])]) == []  # one fold: nothing to leave out


class _Guess(forecast_module._Model):
    """A model that knows nothing: it forecasts a constant drawn from N(0, 1) (seeded by its number and its
    history), with the interval guess - 1 .. guess + 1."""

    number = 0

    def fit(self, y, ds):
        self.guess = np.random.default_rng([self.number, len(y), int(abs(y[-1]) * 1e6)]).normal()
        return self

    def predict(self, horizon, level):
        mean = np.full(horizon, self.guess)
        return mean, mean - 1.0, mean + 1.0


def test_choosing_among_many_models_does_not_make_the_calibrated_interval_too_narrow(monkeypatch):
    # Eight equally useless models: the one chosen merely had the luckiest backtest folds, so its errors there
    # understate its errors to come (calibrated on them, 76 % of the held-out actuals fell inside the 80 %
    # interval). Calibrated on the errors of the model chosen without each fold, the interval holds ~80 %:
    # every error is N(0, 2), in units of a half-width of 1 (q -> 1.81).
    names = []
    for number in range(8):
        model = type(f"_Guess{number}", (_Guess,), {"number": number, "name": f"guess{number}"})
        monkeypatch.setitem(forecast_module._REGISTRY, model.name, model)
        names.append(model.name)
    params = ForecastParams(horizon=6, models=tuple(names), nonnegative=False)
    inside = []
    for seed in range(200):
        y = np.random.default_rng(1000 + seed).normal(size=66)
        frame = forecast(monthly(y[:60]), params).frame()
        inside.append((y[60:] >= frame["yhat_lower"]) & (y[60:] <= frame["yhat_upper"]))
    assert abs(np.mean(np.concatenate(inside)) - 0.8) <= 0.03


def test_the_calibration_history_lies_one_block_apart_before_the_first_fold_with_enough_data_behind_it():
    origins = [176, 184, 192]
    history = forecast_module.history_origins(200, 4, 8, origins, count=24)
    assert history == list(range(32, 169, 8))  # at least 4 blocks (32 points) of data before each
    assert forecast_module.history_origins(200, 4, 8, origins, count=3) == [152, 160, 168]
    assert forecast_module.history_origins(200, 4, 8, origins, count=0) == []
    assert forecast_module.history_origins(200, 52, 8, origins, count=24) == list(range(104, 169, 8))  # two seasons


def test_a_volatile_past_widens_an_interval_that_a_calm_recent_backtest_would_make_too_narrow():
    # A random walk whose steps were five times larger before its last 40 quarters: the three backtest folds
    # see only the calm part, the calibration history the volatile one too.
    rng = np.random.default_rng(8)
    steps = np.concatenate([rng.normal(0, 5, 160), rng.normal(0, 1, 40)])
    ds = pd.date_range("1960-01-01", periods=len(steps), freq="QS")
    series = RegularSeries(pd.DataFrame({"ds": ds, "y": 1000 + np.cumsum(steps)}), "Q")
    params = ForecastParams(horizon=8, models=("drift",))
    calm = forecast(series, dataclasses.replace(params, calibration_history=0))
    both = forecast(series, params)
    assert both.backtest.calibration_points == calm.backtest.calibration_points + 18 * 8  # 18 more blocks
    width = {
        name: (r.frame()["yhat_upper"] - r.frame()["yhat_lower"]).mean() for name, r in (("calm", calm), ("both", both))
    }
    assert width["both"] > 1.5 * width["calm"]
    assert both.backtest.calibration_factor > calm.backtest.calibration_factor
    assert [p.yhat for p in both.forecast] == [p.yhat for p in calm.forecast]  # the point forecast is untouched


def _real_trending_series() -> dict[str, RegularSeries]:
    """Real public series with a strong trend, shipped with statsmodels: Mauna Loa CO2 (monthly means of
    the weekly readings, empty months interpolated), US real GDP, CPI and population (quarterly)."""
    from statsmodels.datasets import co2, macrodata

    weekly = co2.load_pandas().data["co2"]
    months = weekly.resample("MS").mean().interpolate()
    out = {"co2": RegularSeries(pd.DataFrame({"ds": months.index, "y": months.to_numpy()}), "M")}
    macro = macrodata.load_pandas().data
    quarters = pd.PeriodIndex.from_fields(
        year=macro["year"].astype(int), quarter=macro["quarter"].astype(int), freq="Q"
    ).to_timestamp()
    for name in ("realgdp", "cpi", "pop"):
        out[name] = RegularSeries(pd.DataFrame({"ds": quarters, "y": macro[name].to_numpy(dtype=float)}), "Q")
    return out


def test_calibrated_intervals_cover_about_the_nominal_share_of_held_out_real_trending_series():
    # Each series forecast 24 periods ahead from four successive cut-offs (the last 24 periods held
    # out, then the 24 before them, ...), every actual of the held-out blocks scored. One block alone
    # is all or nothing on a trending series (its errors share one misjudged slope), hence four.
    # The models' own 80 % intervals held 50 % of these actuals (US real GDP 30 %, population 40 %).
    from analytics.seasonality import seasonality

    inside = []
    with forecast_module.single_threaded():
        for series in _real_trending_series().values():
            for block in range(1, 5):
                cut = series.n - 24 * block
                train = RegularSeries(series.frame.iloc[:cut].reset_index(drop=True), series.freq)
                result = forecast(train, ForecastParams(horizon=24, level=0.8), seasonality(train).seasonal)
                frame, actual = result.frame(), series.y[cut : cut + 24]
                inside.append((actual >= frame["yhat_lower"]) & (actual <= frame["yhat_upper"]))
    assert abs(np.mean(np.concatenate(inside)) - 0.8) <= 0.1


def test_results_and_json_carry_nominal_raw_and_calibrated_coverage():
    from analytics.detectors import SERIES_DETECTORS

    series = monthly(trending_seasonal(seed=8))
    result = analyse_series(series, AnalysisParams(forecast=ForecastParams(horizon=12)))
    model = result.to_dict()["model"]
    assert model["interval"] == "calibrated" and model["level"] == 0.8
    back = model["backtest"]
    assert back["level"] == 0.8 and 0 <= back["coverage"] <= 1 and 0 <= back["calibrated_coverage"] <= 1
    assert back["calibration_factor"] > 0 and back["calibration_points"] == 66  # 3 folds x 2 origins, cut at n
    assert all("calibrated_coverage" in c and "calibration_factor" in c for c in model["candidates"])
    # the warehouse rows `grace analyse` writes
    tables = {t.name: t for d in SERIES_DETECTORS for t in d.tables}
    stored = result.forecast.backtest
    [first, *_] = tables["analytics_forecast"].rows(result, series.frame)
    assert first["level"] == 0.8 and first["backtest_coverage"] == stored.coverage
    assert first["backtest_calibrated_coverage"] == stored.calibrated_coverage is not None
    assert first["calibration_factor"] == stored.calibration_factor
    candidates = tables["analytics_forecast_candidate"].rows(result, series.frame)
    assert all(c["calibrated_coverage"] is not None and c["calibration_factor"] for c in candidates)


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
