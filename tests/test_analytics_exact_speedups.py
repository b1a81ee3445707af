"""The faster LOWESS, Kruskal-Wallis test and binary segmentation give statsmodels', SciPy's and
ruptures' results bit for bit, so these speed-ups of `grace analyse` change no result."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import ruptures as rpt
from scipy.stats import kruskal
from statsmodels.nonparametric.smoothers_lowess import lowess

from analytics.changepoints import LinearTrendCost, binary_segmentation
from analytics.lowess import robust_lowess
from analytics.seasonality import _kruskal_p, robust_trend


def statsmodels_lowess(y: np.ndarray, frac: float, iterations: int, delta: float) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lowess(y, np.arange(len(y), dtype=float), frac=frac, it=iterations, delta=delta, return_sorted=False)


def series_of(kind: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Noise, small counts, a random walk, mostly zeros, a constant: with and without a spike."""
    y = [
        lambda: rng.normal(100, 10, n),
        lambda: rng.poisson(5, n).astype(float),
        lambda: np.cumsum(rng.normal(0, 1, n)),
        lambda: np.where(rng.random(n) < 0.7, 0.0, rng.integers(1, 4, n).astype(float)),
        lambda: np.full(n, 7.0),
    ][kind % 5]()
    if kind % 3 == 0:
        y[rng.integers(0, n)] += 80
    return y


@pytest.mark.parametrize("seed", range(6))
def test_the_compiled_lowess_equals_statsmodels_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    for trial in range(60):
        n = int(rng.integers(4, 420))
        y = series_of(trial, n, rng)
        frac = float(rng.choice([min(1.0, 15 / n), min(1.0, 78 / n), 0.5, 1.0]))  # 0.5 of 400: windows > 128
        delta = float(rng.choice([0.0, 0.01 * n, 0.05 * n]))
        iterations = int(rng.choice([0, 1, 3]))
        ours, theirs = robust_lowess(y, frac, iterations, delta), statsmodels_lowess(y, frac, iterations, delta)
        assert np.array_equal(ours, theirs), (seed, trial, n, frac, delta, iterations)


def test_the_trend_of_a_series_with_missing_values_still_comes_from_statsmodels():
    y = np.arange(30.0)
    y[5] = np.nan
    smooth = statsmodels_lowess(y, 15 / 30, 3, 0.3)
    assert np.array_equal(robust_trend(y, 1), np.where(np.isfinite(smooth), smooth, np.median(y)), equal_nan=True)


def test_lowess_refuses_a_fraction_outside_zero_to_one():
    with pytest.raises(ValueError, match="frac"):
        robust_lowess(np.arange(10.0), 1.5, 3, 0.0)


@pytest.mark.parametrize("season", [4, 7, 12, 52])
def test_the_kruskal_wallis_p_value_equals_scipys_bit_for_bit(season):
    rng = np.random.default_rng(season)
    for trial in range(150):
        n = int(rng.integers(2 * season + 1, 8 * season + 30))
        y = rng.normal(size=n) if trial % 2 else rng.poisson(3, n).astype(float)  # ties: small counts
        if trial % 5 == 0:
            y = np.round(y, 1)
        groups = [y[i::season] for i in range(season)]
        assert _kruskal_p(groups) == float(kruskal(*groups).pvalue), (season, trial)


def test_a_constant_series_has_no_kruskal_wallis_p_value():
    assert _kruskal_p([np.full(5, 3.0), np.full(4, 3.0)]) is None


@pytest.mark.parametrize("seed", range(4))
def test_binary_segmentation_finds_the_breaks_ruptures_binseg_finds(seed):
    rng = np.random.default_rng(seed)
    for trial in range(80):
        n = int(rng.integers(7, 400))
        y = rng.normal(0, 1, n) + (trial % 3) * 0.02 * np.arange(n)
        for _ in range(int(rng.integers(0, 4))):  # level shifts
            y[rng.integers(0, n) :] += rng.normal(0, 4)
        if trial % 5 == 0:
            y = np.round(y)  # ties between candidate gains
        y = (y - y.mean()) / (y.std() or 1.0)
        penalty = float(rng.choice([0.5, 3.0, 8.0, 20.0])) * np.log(n) / 4
        min_size = int(rng.choice([3, 4, 6]))
        if n < 2 * min_size + 1:
            continue
        theirs = rpt.Binseg(custom_cost=LinearTrendCost(min_size), min_size=min_size, jump=1).fit(y)
        cost = LinearTrendCost(min_size).fit(y)
        ours = binary_segmentation(cost, max(min_size, cost.min_size), penalty)
        assert ours == theirs.predict(pen=penalty)[:-1], (seed, trial)


def test_the_cost_of_many_segments_at_once_equals_the_cost_of_each():
    rng = np.random.default_rng(1)
    cost = LinearTrendCost(3).fit(rng.normal(size=120))
    starts, ends = np.array([0, 5, 40, 100]), np.array([3, 60, 120, 120])
    assert cost.errors(starts, ends).tolist() == [cost.error(int(s), int(e)) for s, e in zip(starts, ends)]
