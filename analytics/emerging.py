"""Emerging, vanishing, dropping and rising entities of a panel (rules and thresholds in `EmergingParams`).

Each entity's mean over the last `recent_periods` is compared with its mean over the
`baseline_periods` just before, and with the panel's totals over the same windows:

- emerging  — accelerating from a low base: recent >= growth_factor x baseline, baseline share of the
  panel <= max_base_share, recent mean >= min_level, and at least half of the recent periods above
  growth_factor x baseline (sustained, not a one-off spike);
- vanishing — collapsing to near zero: baseline mean >= min_level, recent <= vanish_fraction x baseline,
  and recent mean <= near_zero_level or recent share of the panel <= near_zero_share;
- dropping  — recent <= (1 - drop_fraction) x baseline but not vanishing: a large drop that leaves a
  large volume is a drop, not a vanishing;
- rising    — recent >= (1 + rise_fraction) x baseline with a material baseline, not emerging;
- stable    — anything else.

`min_level` is a monthly volume: it is scaled to the panel's period length (5 a month is about 1.15
a week), so the same entity is "material" whether it is analysed by day, week, month or year.
"""

from __future__ import annotations

import numpy as np

from analytics.results import EmergingParams, EntityStatus
from analytics.series import RegularPanel

RECENT_PERIODS = {"D": 28, "W": 8, "M": 3, "Q": 2, "Y": 1}
BASELINE_PERIODS = {"D": 91, "W": 26, "M": 12, "Q": 4, "Y": 2}
PERIOD_MONTHS = {"D": 12 / 365.25, "W": 7 * 12 / 365.25, "M": 1.0, "Q": 3.0, "Y": 12.0}


def level_per_period(freq: str, monthly_level: float) -> float:
    """A monthly volume expressed per period of `freq`."""
    return monthly_level * PERIOD_MONTHS[freq]


def windows(freq: str, params: EmergingParams, n: int) -> tuple[int, int]:
    """(recent, baseline) window lengths, the baseline shortened to fit the series."""
    recent = params.recent_periods or RECENT_PERIODS[freq]
    baseline = params.baseline_periods or BASELINE_PERIODS[freq]
    recent = max(1, min(recent, n - 1))
    return recent, max(1, min(baseline, n - recent))


def classify_entities(panel: RegularPanel, params: EmergingParams = EmergingParams()) -> list[EntityStatus]:
    """One status per entity (sorted by entity name)."""
    wide = panel.wide()
    values = wide.to_numpy(dtype=float)
    n = len(values)
    recent_n, baseline_n = windows(panel.freq, params, n)
    recent = values[n - recent_n :]
    baseline = values[n - recent_n - baseline_n : n - recent_n]
    recent_mean, baseline_mean = recent.mean(axis=0), baseline.mean(axis=0)
    recent_total, baseline_total = recent_mean.sum(), baseline_mean.sum()
    min_level = level_per_period(panel.freq, params.min_level)
    out = []
    for j, entity in enumerate(wide.columns):
        r, b = float(recent_mean[j]), float(baseline_mean[j])
        base_share = b / baseline_total if baseline_total > 0 else None
        recent_share = r / recent_total if recent_total > 0 else None
        status = _status(r, b, base_share, recent_share, recent[:, j], params, min_level)
        out.append(
            EntityStatus(
                entity=str(entity),
                status=status,
                baseline_mean=b,
                recent_mean=r,
                ratio=r / b if b > 0 else None,
                baseline_share=base_share,
                recent_share=recent_share,
            )
        )
    return out


def _status(
    r: float, b: float, base_share, recent_share, recent_values: np.ndarray, p: EmergingParams, min_level: float
) -> str:
    low_base = base_share is None or base_share <= p.max_base_share
    threshold = p.growth_factor * b
    sustained = np.mean(recent_values > threshold) >= 0.5 if threshold > 0 else np.mean(recent_values > 0) >= 0.5
    if r >= min_level and r >= threshold and low_base and sustained:
        return "emerging"
    material = b >= min_level
    near_zero = r <= p.near_zero_level or (recent_share is not None and recent_share <= p.near_zero_share)
    if material and r <= p.vanish_fraction * b and near_zero:
        return "vanishing"
    if material and r <= (1 - p.drop_fraction) * b:
        return "dropping"
    if material and r >= (1 + p.rise_fraction) * b:
        return "rising"
    return "stable"


def lists(statuses: list[EntityStatus]) -> dict[str, tuple[str, ...]]:
    """Entity names per status, the largest recent volume first (ties by name)."""
    out: dict[str, tuple[str, ...]] = {}
    for status in ("emerging", "vanishing", "dropping", "rising"):
        chosen = [s for s in statuses if s.status == status]
        key = (
            (lambda s: (-s.baseline_mean, s.entity))
            if status == "vanishing"
            else (lambda s: (-s.recent_mean, s.entity))
        )
        out[status] = tuple(s.entity for s in sorted(chosen, key=key))
    return out
