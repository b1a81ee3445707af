"""Fewer points on long lines, keeping their extremes: the rule behind the dashboard's daily lines.

Seven years of daily values are 2,557 points per line, and a line chart of a dozen countries then sends
megabytes of JSON for a chart a few hundred pixels wide. A line longer than `MAX_POINTS_PER_LINE` is cut
into `MAX_POINTS_PER_LINE // 2` buckets of consecutive points (equal counts, in time order); from each
bucket the point with the smallest and the one with the largest value are kept (one point when they
coincide), and the first and last points of the line always. So every peak and every trough a reader
could see stays on the chart, at its own date and value — only points between them go. The figure says
how many points it shows; CSV exports always hold every point (they are built from the data, not the
figure).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_POINTS_PER_LINE = 800


def keep_extremes(values: pd.Series, max_points: int = MAX_POINTS_PER_LINE) -> np.ndarray:
    """Positions (0-based, ascending) of the points of `values` to draw: all of them when there are at most
    `max_points`, else the minimum and maximum of each bucket plus the first and last point."""
    n = len(values)
    if n <= max_points:
        return np.arange(n)
    buckets = max(1, max_points // 2)
    frame = pd.DataFrame({"y": values.to_numpy(dtype=float), "bucket": np.arange(n) * buckets // n})
    filled = frame.assign(y=frame["y"].fillna(0.0))  # a missing value is neither extreme nor lost: drawn as a gap
    grouped = filled.groupby("bucket", sort=True)["y"]
    keep = np.concatenate([grouped.idxmin().to_numpy(), grouped.idxmax().to_numpy(), [0, n - 1]])
    return np.unique(keep)
