"""`grace analyse`: every detector and forecast over the series of the warehouse, persisted.

For each chosen metric and grain, the EU total and one series per country and per platform are
read with `analytics.warehouse_series.load_series` (the warehouse is opened read-only for that), each
series goes through `analytics.analyse.analyse_series` (seasonality, Mann-Kendall trend and growth,
change points, anomalies, backtested forecast), and the results are written to the `analytics_*`
tables of the same warehouse (`sql/ddl/002_analytics.sql`) in one transaction — the only moment the
warehouse is opened read-write.

When a triage model is active, its weekly monitoring (feature and score drift, calibration, the
latest full quarter's reliability curve) is stored in `analytics_model_monitor` with the run, and its
drifted weeks of the latest 13 weeks become `drift` alerts (`analytics.model_monitoring`).

Series with too few periods, or without a single non-zero value, are skipped and counted. Work can
be spread over several processes (`jobs`); results are collected in the fixed order of the series
(metric, grain, split, entity), so the stored rows do not depend on `jobs`. The run id is new on
every run; everything else depends only on the warehouse contents and the parameters.

A series whose data, parameters and analysis code are unchanged since the latest completed run is not
analysed again: that run's analysis of it is stored under the new run (`analytics.reuse`, which states
the rule; `refit_all` turns it off). The run row records how many series were reused.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from analytics import detectors
from analytics.alerting import mark_alerts, previous_alert_keys
from analytics.detectors import ALERT_TABLE, alert_rows
from analytics.model_monitoring import ALERT_WEEKS, MONITOR_TABLE, drift_alerts, monitoring_rows
from analytics.results import AnalysisParams, SeriesAnalysis, jsonable
from analytics.reuse import (
    Outcome,
    Previous,
    code_fingerprint,
    commit_cache,
    discard_cache,
    load_previous,
    prepare_cache,
    series_key,
)
from analytics.series import RegularSeries
from analytics.warehouse_series import GRAIN_FREQ, grain_name, load_series, metric
from classification.monitoring import DriftParams
from grace.errors import GraceError, WarehouseError
from grace.progress import ProgressCallback, no_progress
from grace.vocabulary import FORECAST_HORIZON, NO_SPLIT, TOTAL, SeriesId
from warehouse.grain import MONTHLY, RELEASED_METRICS, grains_within, is_monthly
from warehouse.sql_files import read_sql

# Every indicator group of the design, 17 metrics: about 1,300 series (EU total, 27 countries and 13
# platforms, monthly and weekly) on the default demo warehouse, the volume benchmarks/analytics.py times.
DEFAULT_METRICS = (
    "referrals",
    "actionable_referrals",
    "backlog",
    "time_to_triage_days",
    "files",  # operations
    "sextortion_referrals",
    "solicitation_referrals",  # harm indicators
    "new_media_clusters",
    "known_material_share",
    "self_generated_share",  # production
    "generative_ai_share",
    "viral_files",
    "reshares_per_cluster",
    "multi_country_clusters",
    "platform_share",  # dissemination
    "reported_accounts",
    "repeat_reporting_share",
)  # consumption
DEFAULT_GRAINS = ("month", "week")
DEFAULT_SPLITS = (None, "country", "platform")
HORIZON = FORECAST_HORIZON  # one year ahead per grain (two for yearly series)


@dataclass(frozen=True)
class SeriesJob:
    """One series to analyse: its identity and values."""

    metric: str
    grain: str
    split_by: str
    entity: str
    frame: pd.DataFrame  # ds, y

    @property
    def series_id(self) -> str:
        return SeriesId(self.metric, self.grain, self.split_by, self.entity).text


@dataclass
class RunSummary:
    run_id: str
    series_count: int
    skipped_count: int
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    narrowed: list[str] = field(default_factory=list)  # metrics or grains the warehouse cannot answer, left out
    reused_count: int = 0  # series (analysed or skipped) taken unchanged from `reused_from` instead of refitted
    reused_from: str | None = None  # the earlier run they came from
    reuse_note: str | None = None  # why nothing could be reused, when that is so (and not --refit-all)


def collect_series(
    con, metrics: Sequence[str], grains: Sequence[str], splits: Sequence[str | None] = DEFAULT_SPLITS
) -> list[SeriesJob]:
    """Every series to analyse, in a fixed order: metric, grain, split (total first), entity.

    A split a metric does not support is left out (e.g. cross-border clusters have no platform split;
    the platform mix only exists split by platform), so `--metrics all` covers every series there is."""
    jobs = []
    for name in metrics:
        for grain in grains:
            for split in (s for s in splits if _splittable(name, s)):
                table = load_series(con, name, grain, split=split)
                if split is None:
                    jobs.append(SeriesJob(name, grain, NO_SPLIT, TOTAL, table[["ds", "y"]]))
                    continue
                for entity, part in table.groupby("entity", sort=True):
                    jobs.append(SeriesJob(name, grain, split, str(entity), part[["ds", "y"]].reset_index(drop=True)))
    return jobs


def _splittable(name: str, split: str | None) -> bool:
    """Whether `load_series` serves metric `name` with this split (None: the unsplit total)."""
    from analytics.warehouse_series import dimensions_of

    if metric(name).kind == "mix":  # a share of the selection's total: meaningful per platform only
        return split == "platform"
    return split is None or split in dimensions_of(name)


def analyse_job(job: SeriesJob, params: AnalysisParams) -> tuple[SeriesAnalysis | None, str | None]:
    """(analysis, None) or (None, reason skipped). Pure: same job and parameters, same result."""
    from analytics.analyse import MIN_POINTS, analyse_series, with_horizon
    from analytics.forecast import min_points

    y = job.frame["y"].to_numpy(dtype=float)
    if len(y) < MIN_POINTS:
        return None, f"{len(y)} period(s); at least {MIN_POINTS} needed"
    if not (y != 0).any():
        return None, "no non-zero value"
    horizon = min(params.forecast.horizon, len(y))
    if len(y) < min_points(horizon):
        horizon = 0
    series = RegularSeries(job.frame.reset_index(drop=True), GRAIN_FREQ[job.grain], name=job.series_id)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # e.g. pymannkendall on a near-constant series; results carry NaN/None
        return analyse_series(series, with_horizon(params, horizon)), None


def _analyse_chunk(jobs: list[SeriesJob], params: AnalysisParams):
    from analytics.forecast import single_threaded

    with single_threaded():  # once per chunk: entering the limit costs milliseconds
        return [analyse_job(job, params) for job in jobs]


def result_rows(run_id: str, job: SeriesJob, result: SeriesAnalysis) -> dict[str, list[dict]]:
    """The rows one analysed series contributes to each analytics table."""
    key = {
        "run_id": run_id,
        "series_id": job.series_id,
        "metric": job.metric,
        "grain": job.grain,
        "split_by": job.split_by,
        "entity": job.entity,
    }
    rows: dict[str, list[dict]] = {name: [] for name in detectors.series_tables()}
    for detector in detectors.SERIES_DETECTORS:
        for table in detector.tables:
            if table.rows is not None:
                rows[table.name].extend({**key, **row} for row in table.rows(result, job.frame))
    return rows


def run_analysis(
    warehouse: Path | str,
    metrics: Iterable[str] = DEFAULT_METRICS,
    grains: Iterable[str] = DEFAULT_GRAINS,
    splits: Sequence[str | None] = DEFAULT_SPLITS,
    params: AnalysisParams | None = None,
    jobs: int = 1,
    progress: ProgressCallback = no_progress,
    drift: DriftParams | None = None,
    reviews: pd.DataFrame | None = None,
    refit_all: bool = False,
) -> RunSummary:
    """Analyse every series of the warehouse and persist the results as one new run.

    `drift`: the active triage model's drift threshold (default: `GRACE_DRIFT_PSI`); `reviews`: the
    analysts' reviewed labels of referrals (referral_key, label, reviewed_at) for the calibration on
    reviewed labels, when there are any; `refit_all`: analyse every series again, even those unchanged
    since the latest run (`analytics.reuse`)."""
    from classification.registry import RegistryError
    from grace import __version__
    from grace.settings import drift_psi
    from warehouse import connect, is_initialised

    started = time.perf_counter()
    metrics = list(dict.fromkeys(metric(m).name for m in metrics))
    grains = list(dict.fromkeys(grain_name(g) for g in grains))
    if not metrics or not grains:
        raise GraceError("choose at least one metric and one grain")
    params = params or AnalysisParams()
    drift = drift or DriftParams(threshold=drift_psi())
    monitoring_skipped: list[tuple[str, str]] = []
    narrowed: list[str] = []

    con = connect(warehouse, read_only=True)
    try:
        if not is_initialised(con):
            raise WarehouseError(f"{warehouse}: not a GRACE warehouse (schema missing)")
        metrics, grains, narrowed = _within_warehouse(con, metrics, grains)
        todo = collect_series(con, metrics, grains, splits)
        previous = previous_alert_keys(con)
        latest = con.execute(
            "SELECT run_id, parameters FROM analytics_run ORDER BY created_at DESC, run_id DESC LIMIT 1"
        ).fetchone()
    finally:
        con.close()

    monitoring: list[tuple[str | None, list[dict]]] = []

    def monitor() -> None:
        """The triage model's monitoring, read-only; run by `_analyse_all` while the workers analyse."""
        progress("monitoring the triage model", 0, 1)
        connection = connect(warehouse, read_only=True)
        try:
            monitoring.append(monitoring_rows(connection, drift, reviews))
        except RegistryError as error:  # e.g. the model directory did not move with the warehouse
            monitoring.append((None, []))
            monitoring_skipped.append(("triage model monitoring", str(error)))
        finally:
            connection.close()
        progress("monitoring the triage model", 1, 1)

    per_grain = {g: _with_grain_horizon(params, g) for g in grains}
    fingerprint = code_fingerprint()
    keys = [
        series_key(job.series_id, job.frame["ds"], job.frame["y"], per_grain[job.grain], fingerprint) for job in todo
    ]
    before = Previous(note="--refit-all") if refit_all else load_previous(warehouse, latest, fingerprint)
    found: list[Outcome | None] = [before.outcome(job.series_id, key) for job, key in zip(todo, keys)]
    fresh = [job for job, outcome in zip(todo, found) if outcome is None]
    computed = _analyse_all(
        fresh, per_grain, jobs, progress, done=len(todo) - len(fresh), total=len(todo), meanwhile=monitor
    )
    [(model_version, monitored)] = monitoring
    results: list[Outcome] = []
    for job, outcome in zip(todo, found):
        if outcome is None:
            outcome = next(computed)
        elif outcome[0] is not None:  # the stored analysis, with this run's parameters (alert thresholds)
            outcome = (dataclasses.replace(outcome[0], parameters=per_grain[job.grain]), None)
        results.append(outcome)
    reused = len(todo) - len(fresh)
    total = len(todo)

    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]
    tables: dict[str, list[dict]] = {name: [] for name in detectors.series_tables()}
    skipped: list[tuple[str, str]] = []
    for job, (result, reason) in zip(todo, results):
        if result is None:
            if reason is None:  # `analyse_job` gives a reason with every skip
                raise RuntimeError(f"series {job.series_id} was skipped without a reason")
            skipped.append((job.series_id, reason))
            continue
        for name, rows in result_rows(run_id, job, result).items():
            tables[name].extend(rows)
    from analytics.warehouse_derived import derived_tables  # statuses, attribution, reconciliation, backlog, findings

    tables.update(derived_tables(warehouse, run_id, todo, [r for r, _ in results], per_grain, tables))
    tables[MONITOR_TABLE] = [{"run_id": run_id, **row} for row in monitored]
    drifted = [{"run_id": run_id, **row} for row in drift_alerts(monitored, drift)]
    tables[ALERT_TABLE] = mark_alerts(alert_rows(tables) + drifted, params.alerts, previous)
    analysed = total - len(skipped)
    skipped.extend(monitoring_skipped)  # listed with the skipped series, not counted as one
    prepared = prepare_cache(
        warehouse, run_id, {job.series_id: (key, outcome) for job, key, outcome in zip(todo, keys, results)}
    )
    parameters = {
        "metrics": metrics,
        "grains": grains,
        "splits": [s or NO_SPLIT for s in splits],
        "horizons": {g: per_grain[g].forecast.horizon for g in grains},
        "jobs": jobs,
        "narrowed": narrowed,
        "analysis": params.to_dict(),
        "model_monitoring": {
            "model_version": model_version,
            "drift_psi": drift.threshold,
            "min_week": drift.min_week,
            "alert_weeks": ALERT_WEEKS,
            "reviewed_labels": reviews is not None,
            "skipped": monitoring_skipped[0][1] if monitoring_skipped else None,
        },
        "reuse": {
            "reused": reused,
            "refitted": total - reused,
            "from_run": before.run_id if reused else None,
            "refit_all": refit_all,
            "note": None if reused else before.note,
            "code_fingerprint": fingerprint,
            "cache_sha256": prepared[1] if prepared else None,
        },
    }
    seconds = time.perf_counter() - started
    try:
        _write(warehouse, run_id, __version__, parameters, analysed, total - analysed, seconds, tables)
    except BaseException:
        discard_cache(prepared)
        raise
    commit_cache(prepared, run_id)
    return RunSummary(
        run_id=run_id,
        series_count=analysed,
        skipped_count=total - analysed,
        seconds=time.perf_counter() - started,
        rows={k: len(v) for k, v in tables.items()},
        skipped=skipped,
        narrowed=narrowed,
        reused_count=reused,
        reused_from=before.run_id if reused else None,
        reuse_note=None if reused or refit_all else before.note,
    )


def _analyse_all(
    todo: list[SeriesJob],
    per_grain: dict[str, AnalysisParams],
    jobs: int,
    progress: ProgressCallback,
    done: int,
    total: int,
    meanwhile: Callable[[], None] = lambda: None,
) -> Iterator[Outcome]:
    """The analysis of each job, in the jobs' order (spread over `jobs` worker processes when there are
    several); progress counts from `done` (the series reused) to `total`. `meanwhile` runs in this process:
    while the workers analyse (after they have forked, with one BLAS thread), or first when there are none."""
    from analytics.forecast import single_threaded

    results: list[Outcome] = []
    if jobs > 1 and len(todo) > 1:
        chunks = _chunks(todo, max(1, min(25, len(todo) // (4 * jobs) or 1)))
        import analytics.analyse  # noqa: F401  imported once here, inherited by forked workers
        from analytics.warmup import compile_kernels

        compile_kernels()  # before the workers fork, so they inherit the compiled kernels

        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(_analyse_chunk, chunk, per_grain[chunk[0].grain]) for chunk in chunks]
            with single_threaded():  # the workers have forked (one per submission up to `jobs`)
                meanwhile()
            progress("analysing series", done, total)
            for future in futures:  # in submission order: deterministic
                results.extend(future.result())
                progress("analysing series", done + len(results), total)
        return iter(results)
    meanwhile()
    progress("analysing series", done, total)
    if todo:
        with single_threaded():
            for i, job in enumerate(todo, 1):
                results.append(analyse_job(job, per_grain[job.grain]))
                progress("analysing series", done + i, total)
    return iter(results)


def _within_warehouse(con, metrics: list[str], grains: list[str]) -> tuple[list[str], list[str], list[str]]:
    """The metrics and grains the warehouse can answer, and what was left out and why: a hub's warehouse of
    monthly releases (`warehouse/grain.py`) has no grain finer than a month and only the released metrics.
    Refuses (`GraceError`) when nothing asked for is left."""
    if not is_monthly(con):
        return metrics, grains, []
    kept_grains, finer = grains_within(grains, MONTHLY)
    kept_metrics = [name for name in metrics if name in RELEASED_METRICS]
    dropped = [name for name in metrics if name not in RELEASED_METRICS]
    narrowed = []
    if finer:
        narrowed.append(f"grains {', '.join(finer)} left out: the warehouse holds monthly releases only")
    if dropped:
        narrowed.append(f"{len(dropped)} metrics left out: the releases carry only {', '.join(RELEASED_METRICS)}")
    if not kept_grains or not kept_metrics:
        raise GraceError(
            "nothing to analyse: this warehouse holds monthly differentially private releases "
            f"({', '.join(RELEASED_METRICS)} by month, quarter or year); " + "; ".join(narrowed)
        )
    return kept_metrics, kept_grains, narrowed


def _with_grain_horizon(params: AnalysisParams, grain: str) -> AnalysisParams:
    from analytics.analyse import with_horizon

    return with_horizon(params, HORIZON[grain])


def _chunks(items: list, size: int) -> list[list]:
    """Consecutive chunks that never mix grains (each chunk is analysed with one grain's parameters)."""
    out: list[list] = []
    for item in items:
        if out and len(out[-1]) < size and out[-1][0].grain == item.grain:
            out[-1].append(item)
        else:
            out.append([item])
    return out


def _columns(con, table: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND table_schema = 'main' "
            "ORDER BY ordinal_position",
            [table],
        ).fetchall()
    ]


def _write(warehouse, run_id, version, parameters, analysed, skipped, seconds, tables) -> None:
    """One transaction: the run row and every result row, or nothing."""
    from warehouse import connect, ensure_schema

    con = connect(warehouse)
    try:
        ensure_schema(con)  # creates the analytics tables in warehouses built before they existed
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(
                "INSERT INTO analytics_run (run_id, created_at, code_version, parameters, series_count, skipped_count, "
                "seconds) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    run_id,
                    datetime.now(UTC).replace(tzinfo=None),
                    version,
                    json.dumps(jsonable(parameters), sort_keys=True),
                    analysed,
                    skipped,
                    float(seconds),
                ],
            )
            for name, rows in tables.items():
                if not rows:
                    continue
                columns = _columns(con, name)
                frame = pd.DataFrame(rows, columns=columns)
                con.register("analytics_rows", frame)
                try:
                    listed = ", ".join(f'"{c}"' for c in columns)
                    con.execute(f'INSERT INTO "{name}" ({listed}) SELECT {listed} FROM analytics_rows')
                finally:
                    con.unregister("analytics_rows")
            con.execute(read_sql("analytics/run_counts.sql"), {"run_id": run_id})
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.close()
