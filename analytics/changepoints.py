"""Structural breaks (change points) with the levels either side, by ruptures.

Method (parameters in `ChangePointParams`):
1. Seasonal series are deseasonalised first (STL seasonal part removed), so a yearly peak is not a break.
2. Isolated spikes are neutralised by a Hampel filter (a point more than `outlier_threshold` robust
   standard deviations from the median of its 7-point neighbourhood is replaced by that median):
   a one-off spike is an anomaly, not two breaks.
3. Binary segmentation (ruptures' Binseg, scored a segment at a time: `binary_segmentation`;
   `search="pelt"` for ruptures' exact PELT) minimises the
   piecewise-linear least-squares cost (a line a + b t per segment): a new segment may change the
   level, the slope or both, and a steady trend needs no break. The cost is ruptures' "linear" model
   specialised to the design [1, t] (`LinearTrendCost`: O(1) per segment from prefix sums instead of
   a least-squares solve). In the simulations below binary segmentation found the same breaks as PELT
   (slightly better recall on weekly series) at a fraction of the time (about 5 ms against 70 ms for
   156 points; PELT is quadratic here because a large penalty prunes little).
4. Penalty per break = penalty_factor x sigma^2 x ln(n), sigma = Qn(first differences) / sqrt(2),
   a noise scale that level shifts and trends barely move. penalty_factor 3 would be BIC (three
   parameters per new segment); the default 8 was chosen by simulation (monthly 60 and weekly 156
   points, 25 seeds each, binary segmentation): no false breaks on white noise, trends, trending
   seasonal series or single spikes, 0-0.08 per series under AR(1) noise with phi = 0.4 (0.16-0.24
   with factor 7, 0.28 with 6); recall within +-2 periods of a level shift on a trending seasonal
   series: 68 % (60 points) and 96 % (156 points) at 3 noise SDs, 92-100 % at 4 SDs.
5. For each break: both segments' lines evaluated at the break give `level_before` and `level_after`
   (magnitude = after - before; the slopes either side are reported too). Confidence is a Chow-type
   test on the two neighbouring segments: the cost saved by splitting one line into two,
   (SS_one_line - SS_two_lines) / sigma^2, against chi-squared with 2 degrees of freedom (level and
   slope). It is computed after the search chose the break, so it is optimistic: use it to rank, not
   as a p-value. Breaks below `min_confidence` are dropped.
"""

from __future__ import annotations

import numpy as np
import ruptures as rpt
from ruptures.base import BaseCost
from ruptures.costs import NotEnoughPoints
from scipy.stats import chi2
from statsmodels.robust.scale import qn_scale

from analytics.results import ChangePoint, ChangePointParams, ChangePointResult
from analytics.seasonality import decompose
from analytics.series import RegularSeries

HAMPEL_HALF_WINDOW = 3


def detect_changepoints(
    series: RegularSeries,
    params: ChangePointParams = ChangePointParams(),
    seasonal: bool = False,
    seasonal_part: np.ndarray | None = None,
) -> ChangePointResult:
    """Structural breaks of a regular series (see the module docstring).

    `seasonal_part`: the series' seasonal component if already computed (else STL runs when `seasonal`).
    """
    y = series.y
    n = len(y)
    if not seasonal:
        seasonal_part = np.zeros(n)
    elif seasonal_part is None:
        seasonal_part = decompose(y, series.season_length, seasonal=True)["seasonal"].to_numpy()
    adjusted = y - seasonal_part
    if params.search not in ("binseg", "pelt"):
        raise ValueError(f"unknown change-point search {params.search!r}; use binseg or pelt")
    method = "PELT" if params.search == "pelt" else "binary segmentation"
    if n < 2 * params.min_size + 1:
        return ChangePointResult((), method, 0.0, 0.0, bool(seasonal))
    clean = hampel(adjusted, HAMPEL_HALF_WINDOW, params.outlier_threshold)
    sigma = noise_scale(clean)
    if sigma <= 1e-9 * max(1.0, float(np.max(np.abs(clean)))):
        return ChangePointResult((), method, 0.0, 0.0, bool(seasonal))
    penalty = params.penalty_factor * sigma**2 * np.log(n)
    t = np.arange(n, dtype=float)
    # the search runs in standardised units (cost and penalty divided by the variance) for numerical range
    scale = float(np.std(clean)) or 1.0
    cost = LinearTrendCost(params.min_size)
    standardised = (clean - clean.mean()) / scale
    if params.search == "pelt":
        pelt = rpt.Pelt(custom_cost=cost, min_size=params.min_size, jump=1).fit(standardised)
        breaks = pelt.predict(pen=penalty / scale**2)[:-1]
    else:
        breaks = binary_segmentation(cost.fit(standardised), max(params.min_size, cost.min_size), penalty / scale**2)
    bounds = [0, *breaks, n]
    found = []
    for k, b in enumerate(breaks):
        point = _describe(series, y, clean, t, bounds[k], b, bounds[k + 2], sigma)
        if point.confidence >= params.min_confidence:
            found.append(point)
    return ChangePointResult(tuple(found), method, float(penalty), float(sigma), bool(seasonal))


class LinearTrendCost(BaseCost):
    """Residual sum of squares of a least-squares line a + b t on a segment, in O(1) from prefix sums."""

    model = "linear_trend"

    def __init__(self, min_size: int = 3):
        self.min_size = max(3, min_size)
        self.signal: np.ndarray | None = None
        self.sums: np.ndarray | None = None

    def fit(self, signal) -> LinearTrendCost:
        y = np.asarray(signal, dtype=float).ravel()
        self.signal = y.reshape(-1, 1)  # ruptures reads the length from here
        t = np.arange(len(y), dtype=float) / max(1, len(y))
        terms = np.column_stack([np.ones_like(y), t, t * t, y, t * y, y * y])
        self.sums = np.vstack([np.zeros(6), np.cumsum(terms, axis=0)])
        return self

    def error(self, start: int, end: int) -> float:
        if end - start < self.min_size:
            raise NotEnoughPoints
        if self.sums is None:
            raise RuntimeError("LinearTrendCost.error() called before fit()")
        n, st, stt, sy, sty, syy = self.sums[end] - self.sums[start]
        det = n * stt - st * st
        explained = (stt * sy * sy - 2 * st * sy * sty + n * sty * sty) / det if det > 1e-15 else sy * sy / n
        return max(0.0, syy - explained)

    def errors(self, starts: np.ndarray | int, ends: np.ndarray | int) -> np.ndarray:
        """`error` of many segments at once: the same arithmetic, element by element, so the same values
        (segments of at least `min_size` points)."""
        if self.sums is None:
            raise RuntimeError("LinearTrendCost.errors() called before fit()")
        n, st, stt, sy, sty, syy = (self.sums[ends] - self.sums[starts]).T
        det = n * stt - st * st
        with np.errstate(divide="ignore", invalid="ignore"):
            explained = np.where(det > 1e-15, (stt * sy * sy - 2 * st * sy * sty + n * sty * sty) / det, sy * sy / n)
        rest = syy - explained
        return np.where(rest > 0.0, rest, 0.0)  # as max(0.0, rest)


def binary_segmentation(cost: LinearTrendCost, min_size: int, penalty: float) -> list[int]:
    """The breaks ruptures' `Binseg(jump=1).predict(pen=penalty)` finds with this cost, sorted (without
    the series' end): split the segment whose best break saves most, while that saving exceeds the
    penalty. Each segment's candidate breaks are scored at once (`LinearTrendCost.errors`) instead of one
    Python call each; ties go as in ruptures (the later break within a segment, the earlier segment
    among segments). Tests compare the two on thousands of series."""
    if cost.signal is None:
        raise RuntimeError("binary_segmentation() needs a fitted cost")
    n = len(cost.signal)
    best: dict[tuple[int, int], tuple[int | None, float]] = {}

    def best_split(start: int, end: int) -> tuple[int | None, float]:
        if (start, end) not in best:
            candidates = np.arange(start + min_size, end - min_size + 1)
            if len(candidates) == 0:
                best[start, end] = (None, 0.0)
            else:
                whole = cost.errors(start, end)
                gains = (whole - cost.errors(start, candidates)) - cost.errors(candidates, end)
                top = gains.max()
                best[start, end] = (int(candidates[np.flatnonzero(gains == top)[-1]]), float(top))
        return best[start, end]

    ends = [n]
    while True:
        splits = [best_split(start, end) for start, end in zip([0, *ends[:-1]], ends)]
        point, gain = max(splits, key=lambda split: split[1])
        if point is None or not gain > penalty:
            return ends[:-1]
        ends = sorted([*ends, point])


def hampel(y: np.ndarray, half_window: int = HAMPEL_HALF_WINDOW, threshold: float = 3.5) -> np.ndarray:
    """Replace points far from their neighbourhood median by that median."""
    y = np.asarray(y, dtype=float)
    n = len(y)
    if n < 3:
        return y.copy()
    padded = np.pad(y, half_window, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half_window + 1)
    medians = np.median(windows, axis=1)
    deviations = np.abs(y - medians)
    local = 1.4826 * np.median(np.abs(windows - medians[:, None]), axis=1)
    scale = np.maximum(local, noise_scale(y))
    out = y.copy()
    outliers = deviations > threshold * np.where(scale > 0, scale, np.inf)
    out[outliers] = medians[outliers]
    return out


def noise_scale(y: np.ndarray) -> float:
    """Robust noise standard deviation from first differences: Rousseeuw-Croux Qn / sqrt 2.

    Qn is as robust as the MAD (50 % breakdown) but far more efficient (its estimate varies about
    25 % less on 60 points), which matters because every penalty and anomaly score scales with it.
    Plain SD as a fallback when Qn is zero (mostly constant series)."""
    d = np.diff(np.asarray(y, dtype=float))
    if len(d) < 2:
        return 0.0
    scale = float(qn_scale(d)) / np.sqrt(2)
    if scale == 0:
        scale = float(np.std(d)) / np.sqrt(2)
    return float(scale)


def step_component(n: int, changepoints: tuple[ChangePoint, ...]) -> np.ndarray:
    """The level shifts alone: cumulative magnitudes from each break onwards (zero before the first)."""
    steps = np.zeros(n)
    for point in changepoints:
        steps[point.index :] += point.magnitude
    return steps


def _fit(t: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares line through (t, x): coefficients and residual sum of squares."""
    design = np.column_stack([np.ones_like(t), t - t[0]])
    coef, *_ = np.linalg.lstsq(design, x, rcond=None)
    resid = x - design @ coef
    return np.array([coef[0] - coef[1] * t[0], coef[1]]), float(resid @ resid)


def _describe(
    series: RegularSeries, y: np.ndarray, clean: np.ndarray, t: np.ndarray, start: int, b: int, end: int, sigma: float
) -> ChangePoint:
    before_coef, before_ss = _fit(t[start:b], clean[start:b])
    after_coef, after_ss = _fit(t[b:end], clean[b:end])
    _, joint_ss = _fit(t[start:end], clean[start:end])
    level_before = float(before_coef[0] + before_coef[1] * t[b])
    level_after = float(after_coef[0] + after_coef[1] * t[b])
    magnitude = level_after - level_before
    saved = max(0.0, joint_ss - before_ss - after_ss) / sigma**2
    confidence = float(chi2.cdf(saved, df=2))
    return ChangePoint(
        date=series.ds[b],
        index=int(b),
        level_before=level_before,
        level_after=level_after,
        magnitude=magnitude,
        relative_change=_relative(magnitude, level_before),
        direction="up" if magnitude >= 0 else "down",
        slope_before=float(before_coef[1]),
        slope_after=float(after_coef[1]),
        mean_before=float(np.mean(y[start:b])),
        mean_after=float(np.mean(y[b:end])),
        confidence=confidence,
    )


def _relative(change: float, base: float) -> float | None:
    return change / abs(base) if abs(base) > 1e-12 else None
