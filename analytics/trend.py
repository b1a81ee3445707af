"""Long-term trend (Mann-Kendall with Sen's slope) and growth with confidence intervals.

- Trend: pymannkendall. Seasonal series use the seasonal Mann-Kendall test (Hirsch et al. 1982:
  each season compared with itself, so a December peak is not a trend) with the seasonal Sen's
  slope; other series the Hamed-Rao variance-corrected test (robust to serial correlation) or the
  original test. The slope is always reported per period of the series' frequency.
- Growth: the sum over the last `window` periods against the same-length window `lag` periods
  earlier (year on year: window = lag = one year of periods). Its interval comes from the spread of
  every lag-difference y[t] - y[t-lag] in the series (robust MAD scale), assuming the differences
  in a window are independent: se = sqrt(window) * s_d / previous, normal approximation. Growth from
  a zero base is undefined (null).
- Speed: pymannkendall 1.4's Mann-Kendall score S and its Sen's slope estimator loop over the series
  in Python (~4 ms and ~1 ms on 7 years of weeks); `_vectorised_mk_score` and
  `_vectorised_sens_estimator` compute the same S and the same pairwise slopes over every pair at
  once (the pairs' indices cached per length) and are installed in their place (`_install`). S counts
  pairs and each slope is the same division, so the results agree exactly
  (tests/test_analytics_speed.py), and every test of the library that uses them gets them faster.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import pandas as pd
import pymannkendall as mk

from analytics.normal import two_sided_z
from analytics.results import GrowthResult, TrendParams, TrendResult
from analytics.series import FREQ_NAMES, RegularSeries

MIN_TREND_POINTS = 4


@functools.lru_cache(maxsize=64)
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair i < j of n points, in the order i, then j (as the library's loops visit them), and
    j - i; read-only, shared by every series of that length."""
    i, j = np.triu_indices(n, 1)
    arrays = (i, j, j - i)
    for a in arrays:
        a.flags.writeable = False
    return arrays


def _vectorised_mk_score(x: np.ndarray, n: int) -> np.float64:
    """The Mann-Kendall score S = sum over i < j of sign(x_j - x_i), as pymannkendall's `__mk_score`
    returns it (a float64 holding an integer), counted over every pair at once. `x` holds no NaN (the
    library drops missing values first)."""
    i, j, _ = _pairs(n)
    x = np.asarray(x)[:n]
    later, earlier = x[j], x[i]
    return np.float64(np.count_nonzero(later > earlier) - np.count_nonzero(later < earlier))


def _vectorised_sens_estimator(x: np.ndarray) -> np.ndarray:
    """Every pairwise slope (x_j - x_i) / (j - i), i < j, in the order pymannkendall's
    `__sens_estimator` loop writes them: the same divisions, so the same values (NaN where x is)."""
    i, j, gap = _pairs(len(x))
    x = np.asarray(x)
    return (x[j] - x[i]) / gap


def _install(name: str, replacement: Callable) -> Callable | None:
    """Install `replacement` as pymannkendall's private `name` (only in the 1.4 series, whose loops it
    replaces); returns the library's own function (None when not replaced)."""
    module = getattr(mk, "pymannkendall", None)
    if module is None or not str(getattr(mk, "__version__", "")).startswith("1.4."):
        return None
    library = module.__dict__.get(name)
    if library is None or library is replacement:
        return None
    module.__dict__[name] = replacement
    return library


# the library's own functions, kept for tests/test_analytics_speed.py
LIBRARY_MK_SCORE = _install("__mk_score", _vectorised_mk_score)
LIBRARY_SENS_ESTIMATOR = _install("__sens_estimator", _vectorised_sens_estimator)
# "recent" growth window per frequency: 4 weeks of days, a quarter of weeks/months, one quarter, one year
RECENT_WINDOW = {"D": 28, "W": 13, "M": 3, "Q": 1, "Y": 1}


def mann_kendall(series: RegularSeries, params: TrendParams = TrendParams(), seasonal: bool = False) -> TrendResult:
    """Direction ("increasing" | "decreasing" | "no trend"), Sen's slope per period and p-value."""
    series.require(MIN_TREND_POINTS, "a trend test")
    y = series.y
    m = series.season_length
    if np.ptp(y) == 0:
        return _result(series, "no trend", 0.0, 1.0, "constant series", 0.0, 0.0, params)
    if seasonal and m >= 2 and series.n >= 2 * m:
        test = mk.seasonal_test(y, period=m, alpha=params.alpha)
        slope = float(test.slope) / m  # pymannkendall's seasonal slope is per season cycle
        name = "seasonal Mann-Kendall"
    elif params.autocorrelation == "hamed_rao" and series.n >= 10:
        test = mk.hamed_rao_modification_test(y, alpha=params.alpha)
        slope, name = float(test.slope), "Mann-Kendall (Hamed-Rao)"
    elif params.autocorrelation in ("hamed_rao", "none"):
        test = mk.original_test(y, alpha=params.alpha)
        slope, name = float(test.slope), "Mann-Kendall"
    else:
        raise ValueError(f"unknown autocorrelation correction {params.autocorrelation!r}")
    p_value = float(test.p) if np.isfinite(test.p) else 1.0
    direction = test.trend if test.trend in ("increasing", "decreasing") and p_value < params.alpha else "no trend"
    return _result(series, direction, slope, p_value, name, float(test.Tau), float(test.z), params)


def smallest_p_value(n: int) -> float:
    """The smallest two-sided p-value the Mann-Kendall test (original variance, no ties) gives on `n`
    points: that of a strictly monotone series. It bounds what the test can ever call a trend, so on a
    short series it says whether running the test means anything (on 4 points it is 0.089: never
    significant at 0.05)."""
    return float(mk.original_test(np.arange(n, dtype=float)).p)


def _result(
    series: RegularSeries,
    direction: str,
    slope: float,
    p_value: float,
    test: str,
    tau: float,
    z: float,
    params: TrendParams,
) -> TrendResult:
    level = float(np.median(np.abs(series.y)))
    return TrendResult(
        direction=direction,
        slope=slope,
        p_value=p_value,
        test=test,
        tau=tau,
        z=z,
        unit=f"per {FREQ_NAMES[series.freq]}",
        slope_per_year=slope * series.periods_per_year,
        relative_slope=slope / level if level > 0 else None,
        n=series.n,
        alpha=params.alpha,
    )


def rolling_growth(series: RegularSeries, window: int, lag: int | None = None, level: float = 0.9) -> pd.DataFrame:
    """Growth of every `window`-period sum over the one `lag` periods earlier, with a CI.

    Columns: ds (last period of the window), current, previous, growth, lower, upper.
    """
    lag = window if lag is None else lag
    y = series.y
    n = len(y)
    columns = ["ds", "current", "previous", "growth", "lower", "upper"]
    if window < 1 or lag < 1 or n < window + lag:
        return pd.DataFrame(columns=columns)
    sums = pd.Series(y).rolling(window).sum().to_numpy()
    current = sums[window + lag - 1 :]
    previous = sums[window - 1 : n - lag]
    spread = _difference_scale(y, lag)
    z = two_sided_z(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.where(previous > 0, current / previous - 1.0, np.nan)
        half = np.where(previous > 0, z * np.sqrt(window) * spread / previous, np.nan)
    return pd.DataFrame(
        {
            "ds": series.ds[window + lag - 1 :],
            "current": current,
            "previous": previous,
            "growth": growth,
            "lower": growth - half,
            "upper": growth + half,
        }
    )[columns]


def growth(series: RegularSeries, window: int, lag: int | None = None, level: float = 0.9) -> GrowthResult | None:
    """The latest growth of `rolling_growth`, or None when the series is too short.

    Computed for the last window only (two sums), not by building the whole rolling table: the same
    numbers, at a fraction of the cost when every series of a warehouse is analysed."""
    lag = window if lag is None else lag
    y = series.y
    n = len(y)
    if window < 1 or lag < 1 or n < window + lag:
        return None
    current = float(np.sum(y[n - window :]))
    previous = float(np.sum(y[n - lag - window : n - lag]))
    value = lower = upper = None
    if previous > 0:
        value = current / previous - 1.0
        half = two_sided_z(level) * np.sqrt(window) * _difference_scale(y, lag) / previous
        lower, upper = value - half, value + half
    return GrowthResult(
        date=series.ds[-1],
        window=window,
        lag=lag,
        current=current,
        previous=previous,
        growth=value,
        lower=lower,
        upper=upper,
        level=level,
    )


def year_on_year(series: RegularSeries, level: float = 0.9) -> GrowthResult | None:
    """The last year of periods against the year before (None with less than two years)."""
    return growth(series, series.periods_per_year, series.periods_per_year, level)


def recent_growth(series: RegularSeries, level: float = 0.9) -> GrowthResult | None:
    """The last few periods (RECENT_WINDOW) against the same number just before."""
    return growth(series, RECENT_WINDOW[series.freq], None, level)


def growth_summary(series: RegularSeries, level: float = 0.9) -> dict[str, GrowthResult | None]:
    return {"year_on_year": year_on_year(series, level), "recent": recent_growth(series, level)}


def _difference_scale(y: np.ndarray, lag: int) -> float:
    """Robust standard deviation of y[t] - y[t-lag] (MAD x 1.4826; falls back to the plain SD)."""
    if len(y) <= lag:
        return 0.0
    d = y[lag:] - y[:-lag]
    scale = 1.4826 * np.median(np.abs(d - np.median(d)))
    if scale == 0 and len(d) > 1:
        scale = float(np.std(d, ddof=1))
    return float(scale)
