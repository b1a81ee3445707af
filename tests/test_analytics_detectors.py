"""Detectors on synthetic series with known structure: trend, growth, seasonality, change points,
anomalies, attribution and emerging / vanishing entities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.anomalies import detect_anomalies
from analytics.attribution import attribute
from analytics.changepoints import detect_changepoints
from analytics.emerging import classify_entities, lists
from analytics.results import EmergingParams
from analytics.seasonality import seasonality, seasonality_and_parts
from analytics.series import RegularPanel, RegularSeries
from analytics.trend import mann_kendall, rolling_growth, year_on_year

FREQ_ALIAS = {"D": "D", "W": "W-MON", "M": "MS", "Q": "QS"}


def regular(y, freq="M", start="2019-01-01") -> RegularSeries:
    ds = pd.date_range(start, periods=len(y), freq=FREQ_ALIAS[freq])
    return RegularSeries(pd.DataFrame({"ds": ds, "y": np.asarray(y, dtype=float)}), freq)


def panel(columns: dict[str, np.ndarray], freq="M") -> RegularPanel:
    n = len(next(iter(columns.values())))
    ds = pd.date_range("2019-01-01", periods=n, freq=FREQ_ALIAS[freq])
    long = pd.concat(
        [pd.DataFrame({"ds": ds, "entity": name, "y": np.asarray(v, dtype=float)}) for name, v in columns.items()],
        ignore_index=True,
    )
    return RegularPanel(long, freq)


def seasonal_trending(n=60, seed=0, noise=8.0, slope=2.0, amplitude=40.0, m=12):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 300 + slope * t + amplitude * np.sin(2 * np.pi * t / m) + rng.normal(0, noise, n)


def full_analysis(series: RegularSeries):
    verdict, parts = seasonality_and_parts(series.y, series.season_length)
    breaks = detect_changepoints(series, seasonal=verdict.seasonal, seasonal_part=parts["seasonal"].to_numpy())
    return breaks.changepoints, detect_anomalies(
        series, seasonal=verdict.seasonal, changepoints=breaks.changepoints, parts=parts
    )


# --- trend ------------------------------------------------------------------------------------


def test_a_linear_trend_is_increasing_with_about_the_right_slope():
    rng = np.random.default_rng(1)
    trend = mann_kendall(regular(100 + 1.5 * np.arange(48) + rng.normal(0, 5, 48)))
    assert trend.direction == "increasing" and trend.p_value < 0.01
    assert trend.slope == pytest.approx(1.5, rel=0.15)
    assert trend.unit == "per month" and trend.slope_per_year == pytest.approx(12 * trend.slope)


def test_a_falling_series_is_decreasing_with_a_negative_slope():
    rng = np.random.default_rng(2)
    trend = mann_kendall(regular(500 - 3 * np.arange(40) + rng.normal(0, 10, 40)))
    assert trend.direction == "decreasing" and trend.slope < 0


@pytest.mark.parametrize("seed", range(5))
def test_white_noise_has_no_trend(seed):
    rng = np.random.default_rng(seed)
    assert mann_kendall(regular(200 + rng.normal(0, 10, 60))).direction == "no trend"


def test_a_seasonal_series_is_tested_season_by_season_with_the_slope_per_period():
    series = regular(seasonal_trending(slope=2.0))
    verdict = seasonality(series)
    assert verdict.seasonal and verdict.seasonal_strength > 0.5
    trend = mann_kendall(series, seasonal=verdict.seasonal)
    assert trend.test == "seasonal Mann-Kendall" and trend.direction == "increasing"
    assert trend.slope == pytest.approx(2.0, rel=0.15)


def test_white_noise_is_not_called_seasonal():
    rng = np.random.default_rng(3)
    assert not seasonality(regular(100 + rng.normal(0, 10, 60))).seasonal


# --- growth -----------------------------------------------------------------------------------


def test_year_on_year_growth_has_an_interval_around_the_true_growth():
    rng = np.random.default_rng(4)
    y = np.r_[np.full(12, 1000.0), np.full(12, 1300.0)] + rng.normal(0, 20, 24)
    growth = year_on_year(regular(y))
    assert growth.window == growth.lag == 12
    assert growth.lower < growth.growth < growth.upper
    assert growth.lower < 0.30 < growth.upper
    assert growth.upper - growth.lower < 0.1


def test_growth_from_a_zero_base_is_undefined_not_infinite():
    table = rolling_growth(regular(np.r_[np.zeros(6), np.full(6, 5.0)]), window=3)
    assert np.isnan(table["growth"].iloc[0]) and table["growth"].iloc[-1] == 0


# --- change points ----------------------------------------------------------------------------


def test_a_level_shift_is_found_within_two_periods_with_its_levels_either_side():
    y = seasonal_trending(seed=5, slope=1.0)
    y[30:] -= 120  # e.g. a platform switching on end-to-end encryption
    breaks, _ = full_analysis(regular(y))
    assert len(breaks) == 1
    point = breaks[0]
    assert abs(point.index - 30) <= 2
    assert point.direction == "down" and point.magnitude == pytest.approx(-120, abs=30)
    assert point.level_before > point.level_after and point.confidence > 0.99
    assert point.date == pd.Timestamp("2019-01-01") + pd.DateOffset(months=point.index)


def test_a_steady_trend_and_a_single_spike_make_no_change_point():
    y = seasonal_trending(seed=6)
    y[25] += 200
    breaks, _ = full_analysis(regular(y))
    assert breaks == ()


def test_a_weekly_level_shift_is_found_within_two_weeks():
    rng = np.random.default_rng(7)
    y = 1000 + rng.normal(0, 30, 150)
    y[90:] += 150
    breaks, _ = full_analysis(regular(y, freq="W"))
    assert [abs(b.index - 90) <= 2 for b in breaks] == [True]


# --- anomalies --------------------------------------------------------------------------------


def test_an_injected_spike_is_found_and_the_seasonal_peak_is_not_flagged():
    y = seasonal_trending(seed=8, amplitude=80)
    y[40] += 100  # ~12 noise SDs; the seasonal peaks are +80 every year
    _, anomalies = full_analysis(regular(y))
    assert [a.index for a in anomalies] == [40]
    spike = anomalies[0]
    assert spike.direction == "spike" and spike.score > 5
    assert spike.magnitude == pytest.approx(100, abs=4 * 8)  # within 4 noise SDs of the injected excess
    peaks = [i for i in range(60) if i % 12 == 3]  # sin peaks at t = 3 (mod 12)
    assert not any(a.index in peaks for a in anomalies)


def test_a_dip_is_reported_as_a_dip():
    y = seasonal_trending(seed=9)
    y[33] -= 90
    _, anomalies = full_analysis(regular(y))
    assert [(a.index, a.direction) for a in anomalies] == [(33, "dip")]


def test_a_level_shift_is_not_reported_as_a_run_of_anomalies():
    y = seasonal_trending(seed=10, slope=0.5)
    y[36:] += 150
    breaks, anomalies = full_analysis(regular(y))
    assert len(breaks) == 1 and anomalies == ()


def test_the_platform_behind_a_spike_is_named_with_its_share_of_the_excess():
    rng = np.random.default_rng(11)
    columns = {name: base + rng.normal(0, np.sqrt(base), 48) for name, base in (("P1", 400), ("P2", 300), ("P3", 100))}
    columns["P2"][30] += 400
    data = panel(columns)
    total = data.total()
    anomalies = attribute(data, detect_anomalies(total))
    assert [a.index for a in anomalies] == [30]
    top = anomalies[0].attribution[0]
    assert top.entity == "P2" and top.share > 0.8
    assert sum(c.excess for c in anomalies[0].attribution) == pytest.approx(
        anomalies[0].value - anomalies[0].expected, rel=0.2
    )


# --- emerging / vanishing ---------------------------------------------------------------------


def test_emerging_vanishing_and_dropping_entities_are_told_apart():
    rng = np.random.default_rng(12)
    n = 36

    def steady(base):
        return base + rng.normal(0, np.sqrt(base), n)

    columns = {
        "steady": steady(1000),
        "newcomer": np.r_[np.full(n - 3, 2.0), [40.0, 55.0, 70.0]],  # from a low base, accelerating
        "gone": np.r_[steady(200)[: n - 3], [1.0, 0.0, 0.0]],  # collapses to near zero
        "big_drop": np.r_[steady(5000)[: n - 3], [1500.0, 1400.0, 1300.0]],  # -70 %, still large
        "one_off": np.r_[np.full(n - 3, 2.0), [0.0, 90.0, 0.0]],  # a single spike, not sustained
    }
    statuses = {s.entity: s for s in classify_entities(panel(columns), EmergingParams())}
    named = lists(list(statuses.values()))
    assert named["emerging"] == ("newcomer",)
    assert named["vanishing"] == ("gone",)
    assert named["dropping"] == ("big_drop",)
    assert statuses["steady"].status == "stable" and statuses["one_off"].status != "emerging"
    assert statuses["big_drop"].recent_mean > 1000


def test_vanishing_thresholds_are_parameters():
    n = 24
    columns = {"a": np.r_[np.full(n - 3, 100.0), [4.0, 4.0, 4.0]], "b": np.full(n, 1000.0)}  # a: 0.4 % of the panel
    default = {s.entity: s.status for s in classify_entities(panel(columns))}
    strict = {
        s.entity: s.status
        for s in classify_entities(panel(columns), EmergingParams(near_zero_share=0.001, near_zero_level=1.0))
    }
    assert default["a"] == "vanishing" and strict["a"] == "dropping"


def test_the_material_level_is_monthly_so_a_weekly_panel_finds_the_same_newcomer():
    weeks = 60
    steady = np.full(weeks, 200.0)
    newcomer = np.where(np.arange(weeks) < weeks - 8, 0.0, 2.0)  # ~8.7 a month: material, from nothing
    weekly = {s.entity: s.status for s in classify_entities(panel({"Big": steady, "New": newcomer}, freq="W"))}
    assert weekly["New"] == "emerging"
    tiny = np.where(np.arange(weeks) < weeks - 8, 0.0, 0.5)  # ~2.2 a month: below the 5-a-month level
    weekly = {s.entity: s.status for s in classify_entities(panel({"Big": steady, "New": tiny}, freq="W"))}
    assert weekly["New"] == "stable"
