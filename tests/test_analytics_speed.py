"""The speed-ups of `grace analyse` keep the results: cheaper STL and LOWESS stay close to the full
fits, the latest growth equals the rolling table's last row, BLAS runs single-threaded, and the
default run covers at least 1,000 series of the demo warehouse."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from statsmodels.nonparametric.smoothers_lowess import lowess
from statsmodels.tsa.seasonal import STL

from analytics.seasonality import ROBUST_ITERATIONS, SEASONAL_WINDOW, decompose, robust_trend, trend_window
from analytics.series import RegularSeries
from analytics.trend import growth, rolling_growth

REPO = Path(__file__).resolve().parents[1]


def seasonal_series(n: int, m: int, seed: int, noise: float = 5.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 200 + 0.4 * t + 30 * np.sin(2 * np.pi * t / m) + rng.normal(0, noise, n)
    y[n // 3] += 8 * noise  # one spike, so the robust weights matter
    return y


@pytest.mark.parametrize("n, m", [(84, 12), (364, 52), (110, 52), (36, 4)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stl_with_interpolating_jumps_stays_within_a_tenth_of_the_noise_of_the_full_fit(n, m, seed):
    y = seasonal_series(n, m, seed)
    fast = decompose(y, m, seasonal=True)
    full = STL(y, period=m, robust=True, seasonal=SEASONAL_WINDOW, seasonal_deg=0).fit(outer_iter=ROBUST_ITERATIONS)
    assert np.max(np.abs(fast["trend"].to_numpy() - full.trend)) < 0.1 * 5.0
    assert np.max(np.abs(fast["seasonal"].to_numpy() - full.seasonal)) < 0.1 * 5.0


@pytest.mark.parametrize("n, m", [(84, 12), (364, 52), (30, 1)])
def test_the_lowess_trend_with_delta_stays_within_a_tenth_of_the_noise_of_the_exact_one(n, m):
    y = seasonal_series(n, max(m, 2), seed=3) if m > 1 else np.random.default_rng(3).normal(50, 5.0, n)
    exact = lowess(
        y, np.arange(n, dtype=float), frac=min(1.0, trend_window(n, m, False) / n), it=3, return_sorted=False
    )
    assert np.max(np.abs(robust_trend(y, m) - exact)) < 0.1 * 5.0


@pytest.mark.parametrize("freq, alias, n", [("M", "MS", 84), ("W", "W-MON", 364), ("M", "MS", 13)])
@pytest.mark.parametrize("window, lag", [(12, 12), (3, None), (13, None), (52, 52)])
def test_the_latest_growth_is_the_last_row_of_the_rolling_growth_table(freq, alias, n, window, lag):
    rng = np.random.default_rng(n + window)
    y = rng.poisson(20, n).astype(float)
    y[: n // 2] = np.where(rng.random(n // 2) < 0.3, 0.0, y[: n // 2])  # zero bases happen
    series = RegularSeries(pd.DataFrame({"ds": pd.date_range("2019-01-01", periods=n, freq=alias), "y": y}), freq)
    latest, table = growth(series, window, lag), rolling_growth(series, window, lag)
    if table.empty:
        assert latest is None
        return
    last = table.iloc[-1]
    assert latest.date == last["ds"]
    assert latest.current == pytest.approx(last["current"]) and latest.previous == pytest.approx(last["previous"])
    if np.isnan(last["growth"]):
        assert latest.growth is None and latest.lower is None and latest.upper is None
    else:
        assert (latest.growth, latest.lower, latest.upper) == pytest.approx(
            (last["growth"], last["lower"], last["upper"])
        )


def test_a_growth_from_a_zero_base_is_undefined():
    y = np.r_[np.zeros(12), np.full(12, 5.0)]
    series = RegularSeries(pd.DataFrame({"ds": pd.date_range("2020-01-01", periods=24, freq="MS"), "y": y}), "M")
    result = growth(series, 12)
    assert result.previous == 0 and result.current == 60 and result.growth is None


def test_single_threaded_limits_blas_to_one_thread_nests_and_restores_the_limit():
    from threadpoolctl import threadpool_info

    from analytics.forecast import single_threaded

    before = {i["filepath"]: i["num_threads"] for i in threadpool_info()}
    with single_threaded():
        assert all(i["num_threads"] == 1 for i in threadpool_info())
        with single_threaded():  # nested: already limited, stays limited
            assert all(i["num_threads"] == 1 for i in threadpool_info())
        assert all(i["num_threads"] == 1 for i in threadpool_info())
    after = {i["filepath"]: i["num_threads"] for i in threadpool_info()}
    assert {k: v for k, v in after.items() if k in before} == before


def test_splits_a_metric_does_not_have_are_left_out_of_a_run():
    from analytics.warehouse_run import _splittable

    assert (
        _splittable("referrals", None) and _splittable("referrals", "country") and _splittable("referrals", "platform")
    )
    assert _splittable("platform_share", "platform")
    assert not _splittable("platform_share", None) and not _splittable("platform_share", "country")
    assert _splittable("multi_country_clusters", "country") and not _splittable("multi_country_clusters", "platform")


def test_the_default_metrics_cover_at_least_1000_series_of_the_demo_warehouse():
    from analytics.warehouse_run import DEFAULT_GRAINS, DEFAULT_METRICS, DEFAULT_SPLITS, _splittable
    from analytics.warehouse_series import METRICS
    from etl.simulator.world import PLATFORMS
    from warehouse.reference import EU27_ISO3

    assert set(DEFAULT_METRICS) <= set(METRICS)
    entities = {None: 1, "country": len(EU27_ISO3), "platform": len(PLATFORMS)}
    per_grain = sum(entities[split] for name in DEFAULT_METRICS for split in DEFAULT_SPLITS if _splittable(name, split))
    assert per_grain * len(DEFAULT_GRAINS) >= 1000
    groups = {METRICS[name].group for name in DEFAULT_METRICS}
    assert {"production", "dissemination", "consumption", "operations"} <= groups


def test_grace_analyse_help_names_every_default_metric():
    from analytics.warehouse_run import DEFAULT_METRICS
    from grace_cli import cli

    result = CliRunner().invoke(cli, ["analyse", "--help"], terminal_width=400)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert all(name in text for name in DEFAULT_METRICS), text


def test_the_analytics_benchmark_explains_itself():
    out = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "analytics.py"), "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "default Prophet" in out.stdout and "--prophet-sample" in out.stdout and "--write" in out.stdout


@pytest.mark.parametrize("name", ["__mk_score", "__sens_estimator"])
def test_the_vectorised_pymannkendall_internals_equal_the_library_loops_exactly(name):
    import pymannkendall as mk

    from analytics import trend

    library, ours = {
        "__mk_score": (trend.LIBRARY_MK_SCORE, trend._vectorised_mk_score),
        "__sens_estimator": (trend.LIBRARY_SENS_ESTIMATOR, trend._vectorised_sens_estimator),
    }[name]
    assert library is not None  # installed in place of pymannkendall 1.4's loop
    assert mk.pymannkendall.__dict__[name] is ours
    rng = np.random.default_rng(3)
    for trial in range(200):
        n = int(rng.integers(2, 400))
        # ties (few distinct values), integers, floats, negative values
        x = rng.integers(-3, 3 if trial % 2 else 1000, n).astype(float) + (
            0.5 * rng.normal(size=n) if trial % 3 == 0 else 0
        )
        if name == "__mk_score":
            expected, found = library(x, n), ours(x, n)
            assert expected == found and type(expected) is type(found), (n, expected, found)
            continue
        if trial % 7 == 0:
            x[rng.integers(0, n)] = np.nan  # seasonal columns are padded with NaN
        expected, found = library(x), ours(x)
        assert expected.dtype == found.dtype and np.array_equal(expected, found, equal_nan=True), (trial, n)


@pytest.mark.parametrize("seasonal", [False, True])
def test_the_trend_test_gives_the_same_result_with_the_library_loop(seasonal, monkeypatch):
    import pymannkendall as mk

    from analytics.results import TrendParams
    from analytics.trend import LIBRARY_MK_SCORE, LIBRARY_SENS_ESTIMATOR, mann_kendall

    rng = np.random.default_rng(4)
    y = np.round(seasonal_series(120, 12, 5) + rng.normal(0, 3, 120))
    series = RegularSeries(pd.DataFrame({"ds": pd.date_range("2015-01-01", periods=120, freq="MS"), "y": y}), "M")
    fast = mann_kendall(series, TrendParams(), seasonal)
    monkeypatch.setitem(mk.pymannkendall.__dict__, "__mk_score", LIBRARY_MK_SCORE)
    monkeypatch.setitem(mk.pymannkendall.__dict__, "__sens_estimator", LIBRARY_SENS_ESTIMATOR)
    assert mann_kendall(series, TrendParams(), seasonal) == fast
