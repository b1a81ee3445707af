"""The standard normal's two-sided quantile, computed once per level.

SciPy's `norm.ppf` costs about 0.2 ms a call (argument checks), and the forecasts of one `grace analyse`
run ask for the same 80 % level tens of thousands of times (every model's interval at every backtest
origin). The value is the same float `norm.ppf` returns.
"""

from __future__ import annotations

from functools import lru_cache

from scipy.stats import norm


@lru_cache(maxsize=256)
def two_sided_z(level: float) -> float:
    """z such that a normal interval mean ± z sd holds `level` of the distribution: Φ⁻¹(0.5 + level / 2)."""
    return float(norm.ppf(0.5 + level / 2))
