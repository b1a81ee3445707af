"""How many OpenMP threads the gradient-boosted triage model may use (`GRACE_MODEL_THREADS`, default 1).

scikit-learn's histogram gradient boosting parallelises with OpenMP, whose idle threads spin while they
wait for work. On a machine whose cores are busy with something else (the dashboard, DuckDB, the analysis
workers, other jobs on a shared host) the spinning threads fight for the cores: measured here on 2 shared
cores, training the demo's first model took 6.0 s with one thread and 34.4 s with two, and explaining
20,000 referrals 3.6 s against 38.4 s. One thread is the default for that reason. On a quiet machine two
threads are faster (the same 20,000 explanations: 1.9 s against 2.4 s, predictions for 77,581 referrals 1.1 s
against 1.4-1.9 s), so a dedicated node may set `GRACE_MODEL_THREADS=2`; with the cores busy (three other
processes spinning on 2 cores) two threads took 13.7 s against 4.1 s for one.
"""

from __future__ import annotations

from threadpoolctl import threadpool_limits

from grace.settings import model_threads


def booster_threads() -> threadpool_limits:
    """A context manager limiting OpenMP to `GRACE_MODEL_THREADS` threads while the booster works."""
    return threadpool_limits(limits=model_threads(), user_api="openmp")
