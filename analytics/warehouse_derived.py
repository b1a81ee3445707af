"""Results `grace analyse` derives from the per-series analyses, stored in the same run.

`analytics.warehouse_run` analyses each series on its own. Some results need several series at once
and are derived here, after every series is analysed and before the one write transaction:

- **entity statuses** (`analytics_entity_status`): every split panel (metric x grain x country or
  platform) classified emerging / vanishing / dropping / rising / stable by `analytics.emerging`,
  with the windows compared and the parameters;
- **attribution** (`analytics_attribution`): each anomaly of a total, split into the countries' and
  the platforms' excess over their usual share (`analytics.attribution`);
- **reconciled forecasts** (`analytics_forecast_reconciled`): the total's and the countries' base
  forecasts made coherent (total = sum of countries) by MinT with a shrunk error covariance from
  the backtests (`analytics.reconcile`), or structural WLS when the backtest errors do not line up;
- **backlog projection** (`analytics_backlog`): the total's referral forecast (reconciled when
  available) against a capacity equal to the recent mean triage rate (`analytics.capacity`),
  starting from the warehouse's current `backlog` stock;
- **findings** (`analytics_finding`): the ranked narrative of everything above (`analytics.narrative`).

Only count metrics form panels and hierarchies: shares and means do not add up across entities.
Everything is deterministic: fixed orders (metric, grain, split, entity) and seeded simulations.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from analytics.attribution import attribute
from analytics.capacity import days_in_period, project_backlog
from analytics.emerging import classify_entities, windows
from analytics.reconcile import reconcile, summing_matrix
from analytics.results import AnalysisParams, SeriesAnalysis, jsonable
from analytics.series import RegularPanel
from analytics.warehouse_series import GRAIN_FREQ, load_series, metric
from grace.errors import GraceError
from grace.vocabulary import NO_SPLIT, SeriesId

DERIVED_TABLES = (
    "analytics_entity_status",
    "analytics_attribution",
    "analytics_forecast_reconciled",
    "analytics_backlog",
    "analytics_finding",
)
RECONCILE_SPLIT = "country"  # the hierarchy: total = sum of countries
RECONCILE_METHOD = "mint_shrink"
BACKLOG_METRIC = "referrals"
CAPACITY_METRIC = "triaged_referrals"
STOCK_METRIC = "backlog"  # the warehouse's own open-queue stock, when it has one


@dataclass(frozen=True)
class CapacityInputs:
    """The recent triage rate and open queue the backlog projection starts from (one grain)."""

    capacity_per_day: float
    initial_backlog: float
    capacity_source: str
    initial_source: str
    window_start: pd.Timestamp
    window_end: pd.Timestamp
    periods: int
    days: float


def derived_tables(
    warehouse: Path | str,
    run_id: str,
    jobs: Sequence,
    results: Sequence[SeriesAnalysis | None],
    params_by_grain: dict[str, AnalysisParams],
    tables: dict[str, list[dict]],
) -> dict[str, list[dict]]:
    """Rows of every derived table for one run.

    jobs: the run's `SeriesJob`s (metric, grain, split_by, entity, frame) in their fixed order;
    results: the analysis of each job (None when skipped); tables: the per-series rows already built
    (trend, change points, anomalies, forecasts), which the findings read.
    """
    from analytics.narrative import build_findings, finding_rows

    out: dict[str, list[dict]] = {name: [] for name in DERIVED_TABLES}
    groups = _groups(jobs, results)
    for (name, grain), members in groups.items():
        if metric(name).unit != "count":
            continue
        params = params_by_grain[grain]
        total = members.get(NO_SPLIT, [])
        for split, entries in members.items():
            if split == NO_SPLIT or not entries:
                continue
            panel = _panel(entries, grain, f"{name}|{grain}|{split}")
            out["analytics_entity_status"].extend(status_rows(run_id, name, grain, split, panel, params))
            for job, result in total:
                if result is not None and result.anomalies:
                    out["analytics_attribution"].extend(attribution_rows(run_id, job, result, split, panel))
        if total and members.get(RECONCILE_SPLIT):
            out["analytics_forecast_reconciled"].extend(
                reconciled_rows(run_id, name, grain, total[0], members[RECONCILE_SPLIT])
            )
    out["analytics_backlog"] = backlog_rows(warehouse, run_id, groups, out["analytics_forecast_reconciled"])
    everything = {**tables, **out}
    first = next(iter(params_by_grain.values()), AnalysisParams())
    out["analytics_finding"] = finding_rows(
        run_id, build_findings(everything, first.growth_level, first.anomalies.threshold)
    )
    return out


def _groups(jobs, results) -> dict[tuple[str, str], dict[str, list]]:
    """(metric, grain) -> split -> [(job, result)], keeping the jobs' order."""
    groups: dict[tuple[str, str], dict[str, list]] = {}
    for job, result in zip(jobs, results):
        groups.setdefault((job.metric, job.grain), {}).setdefault(job.split_by, []).append((job, result))
    return groups


def _panel(entries, grain: str, name: str) -> RegularPanel:
    """The long frame (ds, entity, y) of a split's series, stacked in the jobs' order."""
    frames = [job.frame for job, _ in entries]
    frame = pd.DataFrame(
        {
            "ds": pd.concat([f["ds"] for f in frames], ignore_index=True),
            "entity": pd.Series(np.repeat([job.entity for job, _ in entries], [len(f) for f in frames]), dtype="str"),
            "y": pd.concat([f["y"] for f in frames], ignore_index=True),
        }
    )
    return RegularPanel(frame, GRAIN_FREQ[grain], name=name)


def _key(run_id: str, name: str, grain: str, split: str, entity: str) -> dict:
    return {
        "run_id": run_id,
        "series_id": SeriesId(name, grain, split, entity).text,
        "metric": name,
        "grain": grain,
        "split_by": split,
        "entity": entity,
    }


def status_rows(
    run_id: str, name: str, grain: str, split: str, panel: RegularPanel, params: AnalysisParams
) -> list[dict]:
    """One row per entity of the panel: its status and the two windows it was judged on."""
    ds = pd.DatetimeIndex(sorted(panel.frame["ds"].unique()))
    n = len(ds)
    if n < 2:
        return []
    recent_n, baseline_n = windows(panel.freq, params.emerging, n)
    first_baseline = n - recent_n - baseline_n
    used = {**params.emerging.to_dict(), "recent_periods": recent_n, "baseline_periods": baseline_n}
    text = json.dumps(jsonable(used), sort_keys=True)
    rows = []
    for s in classify_entities(panel, params.emerging):
        rows.append(
            {
                **_key(run_id, name, grain, split, s.entity),
                "status": s.status,
                "baseline_start": ds[first_baseline].date(),
                "baseline_end": ds[n - recent_n - 1].date(),
                "recent_start": ds[n - recent_n].date(),
                "recent_end": ds[n - 1].date(),
                "baseline_mean": s.baseline_mean,
                "recent_mean": s.recent_mean,
                "growth": None if s.ratio is None else s.ratio - 1.0,
                "baseline_share": s.baseline_share,
                "recent_share": s.recent_share,
                "parameters": text,
            }
        )
    return rows


def attribution_rows(run_id: str, job, result: SeriesAnalysis, split: str, panel: RegularPanel) -> list[dict]:
    """The largest contributors (in the anomaly's direction) to each anomaly of a total, by `split`."""
    rows = []
    for anomaly in attribute(panel, result.anomalies):
        for rank, c in enumerate(anomaly.attribution, 1):
            rows.append(
                {
                    "run_id": run_id,
                    "series_id": job.series_id,
                    "metric": job.metric,
                    "grain": job.grain,
                    "date": anomaly.date.date(),
                    "by_dimension": split,
                    "rank": rank,
                    "contributor": c.entity,
                    "value": c.value,
                    "expected": c.expected,
                    "excess": c.excess,
                    "share": c.share,
                }
            )
    return rows


def reconciled_rows(run_id: str, name: str, grain: str, total_entry, country_entries) -> list[dict]:
    """Total and country forecasts reconciled so the total equals the sum of the countries.

    Countries without a forecast (skipped: all zero) are left out; they contribute zero either way.
    """
    total_job, total_result = total_entry
    if total_result is None or total_result.forecast is None:
        return []
    bottom = [
        (job, r)
        for job, r in country_entries
        if r is not None and r.forecast is not None and len(r.forecast.forecast) == len(total_result.forecast.forecast)
    ]
    if not bottom:
        return []
    nodes = [(total_job, total_result), *bottom]
    S, _ = summing_matrix([job.entity for job, _ in bottom], {total_job.entity: [job.entity for job, _ in bottom]})
    base = np.vstack([[p.yhat for p in r.forecast.forecast] for _, r in nodes])
    lower = np.vstack([[p.yhat_lower for p in r.forecast.forecast] for _, r in nodes])
    upper = np.vstack([[p.yhat_upper for p in r.forecast.forecast] for _, r in nodes])
    errors = [r.forecast.backtest.errors for _, r in nodes]
    method = RECONCILE_METHOD
    if any(e is None for e in errors) or len({np.shape(e) for e in errors}) != 1 or np.size(errors[0]) < 2:
        method, stacked = "wls_struct", None  # needs no errors
    else:
        stacked = np.column_stack([np.asarray(e, dtype=float).ravel() for e in errors])
        if not np.isfinite(stacked).all():
            method, stacked = "wls_struct", None
    coherent = reconcile(base, S, method, stacked)
    shift = coherent - base
    rows = []
    for i, (job, r) in enumerate(nodes):
        for j, point in enumerate(r.forecast.forecast):
            rows.append(
                {
                    **_key(run_id, name, grain, job.split_by, job.entity),
                    "date": point.date.date(),
                    "base_yhat": base[i, j],
                    "yhat": coherent[i, j],
                    "yhat_lower": lower[i, j] + shift[i, j],
                    "yhat_upper": upper[i, j] + shift[i, j],
                    "level": r.forecast.level,
                    "hierarchy": f"total = sum of {RECONCILE_SPLIT} ({len(bottom)})",
                    "method": method,
                }
            )
    return rows


def capacity_inputs(con, grain: str, recent_periods: int) -> CapacityInputs | None:
    """The recent triage rate and the open queue, over the last `recent_periods` whole periods.

    Capacity = referrals triaged per day by triage date (`sql/queries/analytics_triage_rate.sql`
    on the backlog rollup); the start = the warehouse's `backlog` stock at the end of the last
    period. A warehouse without the backlog rollup falls back to the triaged referrals of those
    periods (by incident date) and, as the start, the referrals of those periods not yet triaged.
    """
    from warehouse import is_monthly, load_query

    if is_monthly(con):  # a hub's monthly releases carry no triage flows: no backlog projection
        return None
    triaged = load_series(con, CAPACITY_METRIC, grain)
    if triaged.empty or len(triaged) < recent_periods:
        return None
    window = pd.DatetimeIndex(triaged["ds"].iloc[-recent_periods:])
    days_each = days_in_period(window, GRAIN_FREQ[grain])
    days = float(days_each.sum())
    first_day, last_day = window[0].date(), (window[-1] + pd.Timedelta(days=days_each[-1] - 1)).date()
    try:
        query = load_query("analytics_triage_rate")
        done = float(con.execute(query.sql, query.bind({"first_day": first_day, "last_day": last_day})).fetchone()[0])
        start = max(0.0, float(load_series(con, STOCK_METRIC, grain).set_index("ds")["y"].loc[window[-1]]))
        capacity_source, start_source = (
            "referrals triaged per day (by triage date)",
            "backlog stock at the window's end",
        )
    except (GraceError, duckdb.Error, KeyError):  # a warehouse built before the backlog rollup existed
        done = float(triaged["y"].iloc[-recent_periods:].sum())
        received = float(load_series(con, BACKLOG_METRIC, grain)["y"].iloc[-recent_periods:].sum())
        start = max(0.0, received - done)
        capacity_source = "referrals triaged per day (by incident date)"
        start_source = "referrals of the window not yet triaged"
    return CapacityInputs(
        capacity_per_day=done / days,
        initial_backlog=start,
        capacity_source=capacity_source,
        initial_source=start_source,
        window_start=pd.Timestamp(first_day),
        window_end=pd.Timestamp(last_day),
        periods=recent_periods,
        days=days,
    )


def backlog_rows(warehouse: Path | str, run_id: str, groups, reconciled: list[dict], seed: int = 0) -> list[dict]:
    """The total's referral backlog per grain, from its forecast and the recent triage rate."""
    from analytics.emerging import RECENT_PERIODS
    from warehouse import connect

    wanted = [
        (grain, members[NO_SPLIT][0])
        for (name, grain), members in groups.items()
        if name == BACKLOG_METRIC and members.get(NO_SPLIT)
    ]
    wanted = [(grain, (job, r)) for grain, (job, r) in wanted if r is not None and r.forecast is not None]
    if not wanted:
        return []
    con = connect(warehouse, read_only=True)
    try:
        inputs = {grain: capacity_inputs(con, grain, RECENT_PERIODS[GRAIN_FREQ[grain]]) for grain, _ in wanted}
    finally:
        con.close()
    rows = []
    for grain, (job, result) in wanted:
        found = inputs[grain]
        if found is None:
            continue
        mine = [r for r in reconciled if r["series_id"] == job.series_id]
        if mine:
            arrivals = pd.DataFrame(mine)[["date", "yhat", "yhat_lower", "yhat_upper"]]
            source = f"reconciled forecast ({mine[0]['method']})"
        else:
            arrivals = result.forecast.frame()
            source = f"base forecast ({result.forecast.model})"
        arrivals = arrivals.assign(
            yhat=arrivals["yhat"].clip(lower=0),
            yhat_lower=arrivals["yhat_lower"].clip(lower=0),
            yhat_upper=arrivals["yhat_upper"].clip(lower=0),
        )
        level = float(result.forecast.level)
        projection = project_backlog(
            arrivals, GRAIN_FREQ[grain], found.capacity_per_day, found.initial_backlog, level=level, seed=seed
        )
        parameters = json.dumps(
            jsonable(
                {
                    "capacity": "recent mean triage rate",
                    "capacity_source": found.capacity_source,
                    "window_start": found.window_start,
                    "window_end": found.window_end,
                    "window_periods": found.periods,
                    "window_days": found.days,
                    "initial_backlog": found.initial_source,
                    "paths": 2000,
                    "seed": seed,
                }
            ),
            sort_keys=True,
        )
        for p in projection.itertuples(index=False):
            rows.append(
                {
                    "run_id": run_id,
                    "series_id": job.series_id,
                    "metric": job.metric,
                    "grain": grain,
                    "date": pd.Timestamp(p.date).date(),
                    "arrivals": p.arrivals,
                    "capacity": p.capacity,
                    "backlog": p.backlog,
                    "backlog_lower": p.backlog_lower,
                    "backlog_upper": p.backlog_upper,
                    "p_growing": p.p_growing,
                    "level": level,
                    "capacity_per_day": found.capacity_per_day,
                    "initial_backlog": found.initial_backlog,
                    "arrivals_source": source,
                    "parameters": parameters,
                }
            )
    return rows
