"""`grace analyse` skips series unchanged since the latest run (analytics/reuse.py): a second run on the same
warehouse reuses every series and stores the same results; a series whose data changed is refitted; a
changed parameter, `--refit-all` or a tampered file of kept analyses refits every series."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from builders import simulated_warehouse
from click.testing import CliRunner

from analytics.reuse import CACHE_SUFFIX, code_fingerprint, series_key
from analytics.warehouse_run import run_analysis
from grace_cli import cli
from warehouse import connect
from warehouse.period_rollups import refresh_period_rollups

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from compare_analysis_runs import compare_runs

METRICS = ["referrals", "self_generated_share"]
GRAINS = ["month"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return simulated_warehouse(tmp_path_factory.mktemp("reuse_wh"))


@pytest.fixture
def warehouse_copy(built, tmp_path):
    target = tmp_path / "warehouse.duckdb"
    shutil.copy(built, target)
    return target


def _run(path, **kwargs):
    return run_analysis(path, metrics=METRICS, grains=GRAINS, jobs=1, **kwargs)


def _differences(path, first: str, second: str) -> dict:
    con = connect(path, read_only=True)
    try:
        return compare_runs(con, first, con, second, tolerance=0.0)
    finally:
        con.close()


def _reuse_record(path, run_id: str) -> dict:
    con = connect(path, read_only=True)
    try:
        (parameters,) = con.execute("SELECT parameters FROM analytics_run WHERE run_id = ?", [run_id]).fetchone()
    finally:
        con.close()
    return json.loads(parameters)["reuse"]


def test_a_second_run_on_an_unchanged_warehouse_reuses_every_series_and_stores_the_same_results(warehouse_copy):
    first = _run(warehouse_copy)
    assert first.reused_count == 0 and first.series_count > 0
    second = _run(warehouse_copy)
    assert second.reused_count == first.series_count + first.skipped_count
    assert second.reused_from == first.run_id
    assert (second.series_count, second.skipped_count, second.rows) == (
        first.series_count,
        first.skipped_count,
        first.rows,
    )
    # every analytics table of the run, bit for bit, except "new since the previous run": the second
    # run's alerts were all seen by the first, exactly as a refitted second run would say
    differences = _differences(warehouse_copy, first.run_id, second.run_id)
    assert set(differences) <= {"analytics_alert"}
    con = connect(warehouse_copy, read_only=True)
    try:
        new = dict(
            con.execute("SELECT run_id, count(*) FILTER (WHERE is_new) FROM analytics_alert GROUP BY run_id").fetchall()
        )
    finally:
        con.close()
    assert new.get(first.run_id, 0) > 0 and new.get(second.run_id, 0) == 0
    record = _reuse_record(warehouse_copy, second.run_id)
    assert record["reused"] == second.reused_count and record["refitted"] == 0
    assert record["from_run"] == first.run_id
    # only the latest run's analyses are kept beside the warehouse
    kept = sorted(p.name for p in Path(str(warehouse_copy) + CACHE_SUFFIX).iterdir())
    assert kept == [f"{second.run_id}.pkl"]


def test_refit_all_gives_the_same_results_as_reusing(warehouse_copy):
    first = _run(warehouse_copy)
    reused = _run(warehouse_copy)
    refitted = _run(warehouse_copy, refit_all=True)
    assert reused.reused_count > 0 and refitted.reused_count == 0
    assert _reuse_record(warehouse_copy, refitted.run_id)["refit_all"] is True
    assert _differences(warehouse_copy, reused.run_id, refitted.run_id) == {}
    assert first.rows == refitted.rows


def test_a_series_whose_data_changed_is_refitted_and_the_others_are_reused(warehouse_copy):
    first = _run(warehouse_copy)
    con = connect(warehouse_copy)
    try:
        country, platform = con.execute(
            "SELECT country_iso3, platform_name FROM rollup_referral_daily "
            "WHERE referrals > 0 ORDER BY date_key DESC, country_iso3, platform_name LIMIT 1"
        ).fetchone()
        con.execute(
            "UPDATE rollup_referral_daily SET referrals = referrals + 40 WHERE rowid = ("
            "SELECT min(rowid) FROM rollup_referral_daily WHERE referrals > 0 AND country_iso3 = ? "
            "AND platform_name = ? AND date_key = (SELECT max(date_key) FROM rollup_referral_daily "
            "WHERE referrals > 0 AND country_iso3 = ? AND platform_name = ?))",
            [country, platform, country, platform],
        )
        # as the ETL would: the weekly and monthly copies follow the changed day
        con.execute(
            "CREATE TEMP TABLE changed_day AS SELECT max(date_key) AS date_key FROM rollup_referral_daily "
            "WHERE referrals > 0 AND country_iso3 = ? AND platform_name = ?",
            [country, platform],
        )
        refresh_period_rollups(con, "changed_day")
    finally:
        con.close()
    second = _run(warehouse_copy)
    # referrals: the total, that country and that platform changed; every self-generated share is the
    # same (its rollup did not change)
    changed = {
        "referrals|month|none|total",
        f"referrals|month|country|{country}",
        f"referrals|month|platform|{platform}",
    }
    assert second.reused_count == first.series_count + first.skipped_count - len(changed)
    con = connect(warehouse_copy, read_only=True)
    try:
        totals = {
            (run_id, series_id): total
            for run_id, series_id, total in con.execute(
                "SELECT run_id, series_id, total FROM analytics_trend WHERE metric = 'referrals'"
            ).fetchall()
        }
    finally:
        con.close()
    for series_id in changed:
        assert totals[(second.run_id, series_id)] == totals[(first.run_id, series_id)] + 40, series_id
    unchanged = {s for (_, s) in totals} - changed
    assert unchanged and all(totals[(second.run_id, s)] == totals[(first.run_id, s)] for s in unchanged)


def test_grace_analyse_refit_all_and_the_reuse_count_on_the_command_line(warehouse_copy):
    base = ["analyse", "--warehouse", str(warehouse_copy), "--metrics", "referrals", "--grain", "month"]
    base += ["--quiet", "--jobs", "1"]
    first = CliRunner().invoke(cli, base)
    assert first.exit_code == 0, first.output
    second = CliRunner().invoke(cli, base)
    assert second.exit_code == 0, second.output
    assert "unchanged since run" in second.output and "reused, not refitted" in second.output
    third = CliRunner().invoke(cli, [*base, "--refit-all"])
    assert third.exit_code == 0, third.output
    assert "every series refitted: --refit-all" in third.output


def test_a_changed_parameter_or_a_tampered_file_refits_every_series(warehouse_copy):
    from analytics.results import AnalysisParams, TrendParams

    first = _run(warehouse_copy)
    other = _run(warehouse_copy, params=AnalysisParams(trend=TrendParams(alpha=0.1)))
    assert other.reused_count == 0
    cache = Path(str(warehouse_copy) + CACHE_SUFFIX) / f"{other.run_id}.pkl"
    cache.write_bytes(cache.read_bytes() + b"\0")
    tampered = _run(warehouse_copy, params=AnalysisParams(trend=TrendParams(alpha=0.1)))
    assert tampered.reused_count == 0 and "checksum" in (tampered.reuse_note or "")
    assert first.run_id != other.run_id


def test_the_key_changes_with_values_dates_parameters_and_code():
    import numpy as np
    import pandas as pd

    from analytics.results import AlertParams, AnalysisParams, TrendParams

    ds = pd.date_range("2023-01-01", periods=24, freq="MS")
    y = np.arange(24, dtype=float)
    params, code = AnalysisParams(), code_fingerprint()
    key = series_key("m|month|none|total", ds, y, params, code)
    assert key == series_key("m|month|none|total", ds, y.copy(), params, code)
    assert key != series_key("m|month|none|total", ds, y + np.eye(1, 24, 5).ravel(), params, code)
    assert key != series_key("m|month|none|total", ds + pd.DateOffset(months=1), y, params, code)
    assert key != series_key("m|month|none|BEL", ds, y, params, code)
    assert key != series_key("m|month|none|total", ds, y, AnalysisParams(trend=TrendParams(alpha=0.1)), code)
    assert key != series_key("m|month|none|total", ds, y, params, "another code")
    # the alert thresholds only mark alerts, on every run: they are not part of the key
    assert key == series_key("m|month|none|total", ds, y, AnalysisParams(alerts=AlertParams(min_relative=0.5)), code)


def test_a_code_change_or_an_unreadable_file_refits_every_series_and_says_why(warehouse_copy, monkeypatch):
    import hashlib

    import analytics.warehouse_run as warehouse_run

    first = _run(warehouse_copy)
    monkeypatch.setattr(warehouse_run, "code_fingerprint", lambda: "another version of the analysis code")
    changed = _run(warehouse_copy)
    assert changed.reused_count == 0 and "code" in (changed.reuse_note or "")
    monkeypatch.undo()
    # a file whose checksum the run row records but that does not unpickle: refit, not fail
    again = _run(warehouse_copy)
    assert again.reused_count == 0  # the run before it had another fingerprint
    cache = Path(str(warehouse_copy) + CACHE_SUFFIX) / f"{again.run_id}.pkl"
    garbage = b"not a pickle"
    cache.write_bytes(garbage)
    con = connect(warehouse_copy)
    try:
        (parameters,) = con.execute("SELECT parameters FROM analytics_run WHERE run_id = ?", [again.run_id]).fetchone()
        record = json.loads(parameters)
        record["reuse"]["cache_sha256"] = hashlib.sha256(garbage).hexdigest()
        con.execute("UPDATE analytics_run SET parameters = ? WHERE run_id = ?", [json.dumps(record), again.run_id])
    finally:
        con.close()
    unreadable = _run(warehouse_copy)
    assert unreadable.reused_count == 0 and "cannot be read" in (unreadable.reuse_note or "")
    assert unreadable.rows == first.rows
