"""Compile the analysis kernels (the ETS search, LOWESS) ahead of the first analysis, into Numba's on-disk cache.

They are compiled the first time they run and kept beside their sources (`analytics/__pycache__/*.nbc`); a
fresh clone has none, and compiling them costs about 8 s of CPU. `grace analyse` calls `compile_kernels` in
its main process before forking its workers, so they inherit the compiled code instead of each compiling it
again; setup calls it once (`grace compile`) so that even the first analysis loads it from the cache.
"""

from __future__ import annotations

import warnings

import numpy as np


def compile_kernels() -> None:
    """Fit each kernel once on a short seasonal series, compiling or loading it from the cache."""
    from analytics.ets import auto_ets, forms
    from analytics.lowess import robust_lowess

    y = 10.0 + np.arange(30.0) % 12
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        auto_ets(y, 12, True, forms(y, 12, True))
        robust_lowess(y, 0.5, iterations=1, delta=0.0)
