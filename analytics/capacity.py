"""Capacity planning: project the triage backlog from forecast arrivals and analyst capacity.

backlog[t] = max(0, backlog[t-1] + arrivals[t] - capacity[t]), capacity[t] = triaged per day x days
in the period. Arrivals are simulated (seeded) from each period's forecast as a normal distribution
whose spread matches the forecast interval (sd = (upper - lower) / (2 z)), truncated at zero.
Periods are drawn independently, which understates the spread when errors persist from one period
to the next; the backlog quantiles are reported at the forecast's interval level.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm


def days_in_period(dates: pd.DatetimeIndex, freq: str) -> np.ndarray:
    alias = {"D": "D", "W": "W-SUN", "M": "M", "Q": "Q-DEC", "Y": "Y-DEC"}[freq]
    periods = pd.DatetimeIndex(dates).to_period(alias)
    return np.array([(p.end_time.normalize() - p.start_time).days + 1 for p in periods], dtype=float)


def project_backlog(
    forecast: pd.DataFrame,
    freq: str,
    capacity_per_day: float,
    initial_backlog: float = 0.0,
    level: float = 0.8,
    paths: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Backlog at the end of each forecast period: median and interval, and the chance it grows.

    `forecast` has columns date, yhat, yhat_lower, yhat_upper (as `ForecastResult.frame()`).
    """
    if capacity_per_day < 0:
        raise ValueError("capacity must not be negative")
    dates = pd.DatetimeIndex(forecast["date"])
    mean = forecast["yhat"].to_numpy(dtype=float)
    z = norm.ppf(0.5 + level / 2)
    sd = np.maximum(
        0.0, (forecast["yhat_upper"].to_numpy(dtype=float) - forecast["yhat_lower"].to_numpy(dtype=float)) / (2 * z)
    )
    capacity = capacity_per_day * days_in_period(dates, freq)
    rng = np.random.default_rng(seed)
    arrivals = np.maximum(0.0, rng.normal(mean, sd, size=(paths, len(mean))))
    backlog = np.empty_like(arrivals)
    current = np.full(paths, float(initial_backlog))
    for t in range(len(mean)):
        current = np.maximum(0.0, current + arrivals[:, t] - capacity[t])
        backlog[:, t] = current
    low, mid, high = np.quantile(backlog, [0.5 - level / 2, 0.5, 0.5 + level / 2], axis=0)
    return pd.DataFrame(
        {
            "date": dates,
            "arrivals": mean,
            "capacity": capacity,
            "backlog": mid,
            "backlog_lower": low,
            "backlog_upper": high,
            "p_growing": (backlog > initial_backlog).mean(axis=0),
        }
    )
