"""Series from a real warehouse (simulator -> ETL -> DuckDB) and `grace analyse` persisting its results."""

from __future__ import annotations

import shutil
from datetime import date

import numpy as np
import pandas as pd
import pytest
from builders import simulated_warehouse
from click.testing import CliRunner

from analytics.warehouse_series import METRICS, SeriesRequestError, dimensions_of, load_series
from etl.checks import contract_findings
from grace_cli import cli
from warehouse import connect

RESULT_TABLES = (
    "analytics_trend",
    "analytics_changepoint",
    "analytics_anomaly",
    "analytics_forecast",
    "analytics_forecast_candidate",
)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A small two-year warehouse built by the real simulator and ETL (module-scoped: built once)."""
    return simulated_warehouse(tmp_path_factory.mktemp("analytics_wh"))


@pytest.fixture(scope="module")
def con(built):
    connection = connect(built, read_only=True)
    yield connection
    connection.close()


@pytest.fixture
def warehouse_copy(built, tmp_path):
    target = tmp_path / "warehouse.duckdb"
    shutil.copy(built, target)
    return target


EXPECTED_PERIODS = {"month": 24, "quarter": 8, "year": 2, "week": 104, "day": 731}


@pytest.mark.parametrize("grain", list(EXPECTED_PERIODS))
def test_series_are_calendar_complete_with_explicit_zeros(con, grain):
    series = load_series(con, "referrals", grain)
    assert list(series.columns) == ["ds", "y"]
    assert len(series) == EXPECTED_PERIODS[grain]  # partial first/last ISO weeks dropped
    assert series["ds"].is_monotonic_increasing and series["ds"].is_unique
    assert series["y"].sum() > 0
    if grain == "week":
        assert (series["ds"].dt.day_of_week == 0).all()
    split = load_series(con, "referrals", grain, split="country", filters={"platform": ["no-such-platform"]})
    assert split.empty  # no entity has data in that selection
    one = load_series(con, "sextortion_referrals", grain, filters={"country": "MLT", "platform": "no-such-platform"})
    assert len(one) == EXPECTED_PERIODS[grain] and (one["y"] == 0).all()


def test_every_entity_of_a_split_has_every_period_and_zeros_where_it_had_no_data(con):
    panel = load_series(con, "files", "week", split="platform")
    counts = panel.groupby("entity")["ds"].count()
    assert (counts == EXPECTED_PERIODS["week"]).all() and len(counts) > 3
    assert (panel["y"] == 0).any()
    assert list(panel["entity"]) == sorted(panel["entity"])


@pytest.mark.parametrize(
    "metric,split",
    [
        ("referrals", "country"),
        ("files", "platform"),
        ("sextortion_referrals", "channel"),
        ("new_media_clusters", "category"),
        ("actionable_referrals", "incident_type"),
    ],
)
def test_per_entity_series_sum_to_the_total(con, metric, split):
    total = load_series(con, metric, "month").set_index("ds")["y"]
    parts = load_series(con, metric, "month", split=split).groupby("ds")["y"].sum()
    pd.testing.assert_series_equal(parts, total, check_names=False)


def test_filters_select_the_same_as_the_matching_split_entity(con):
    panel = load_series(con, "referrals", "quarter", split="country")
    country = panel["entity"].iloc[0]
    filtered = load_series(con, "referrals", "quarter", filters={"country": [country]})
    assert np.allclose(filtered["y"], panel.loc[panel["entity"] == country, "y"])


@pytest.mark.parametrize("metric", [m for m, d in METRICS.items() if d.unit == "share"])
def test_shares_are_within_zero_and_one(con, metric):
    dims = dimensions_of(metric)
    splits = ("platform",) if METRICS[metric].kind == "mix" else (None, "country", "platform", "annotation")
    splits = tuple(s for s in splits if s is None or s in dims)
    for split in splits:
        series = load_series(con, metric, "month", split=split)
        assert series["y"].between(0, 1).all()


def test_time_to_triage_is_a_mean_of_days_and_ratios_expose_their_parts(con):
    series = load_series(con, "time_to_triage_days", "year", parts=True)
    expected = con.execute(
        "SELECT sum(triage_days_sum) / sum(triaged) FROM rollup_referral_daily WHERE year(date_key) = 2023"
    ).fetchone()[0]
    assert series["y"].iloc[0] == pytest.approx(expected)
    assert {"numerator", "denominator"} <= set(series.columns)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"metric_name": "nope"}, "unknown metric 'nope'"),
        ({"metric_name": "referrals", "grain": "fortnight"}, "unknown grain 'fortnight'"),
        ({"metric_name": "referrals", "split": "category"}, "cannot split metric 'referrals' by 'category'"),
        ({"metric_name": "files", "split": "channel"}, "cannot split metric 'files' by 'channel'"),
        (
            {"metric_name": "files", "filters": {"incident_type": "X"}},
            "cannot filter metric 'files' by 'incident_type'",
        ),
        ({"metric_name": "referrals", "split": "country_iso3; DROP TABLE x"}, "cannot split"),
    ],
)
def test_bad_requests_are_clear_grace_errors(con, kwargs, message):
    with pytest.raises(SeriesRequestError, match=message.replace("(", r"\(")):
        load_series(con, **kwargs)


def test_grace_analyse_persists_one_run_per_invocation_and_keeps_the_contract(warehouse_copy):
    args = [
        "analyse",
        "--warehouse",
        str(warehouse_copy),
        "--metrics",
        "referrals,self_generated_share",
        "--grain",
        "month",
        "--quiet",
        "--jobs",
        "1",
    ]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "series analysed" in first.output
    con = connect(warehouse_copy, read_only=True)
    try:
        [(run_id, _version, series_count, skipped, parameters)] = con.execute(
            "SELECT run_id, code_version, series_count, skipped_count, parameters FROM analytics_run"
        ).fetchall()
        countries, platforms = con.execute(
            "SELECT count(DISTINCT country_iso3), count(DISTINCT platform_name) FROM rollup_referral_daily"
        ).fetchone()
        assert series_count + skipped == 2 * (1 + countries + platforms)
        assert '"grains": ["month"]' in parameters
        for table in RESULT_TABLES:
            count, runs = con.execute(f"SELECT count(*), count(DISTINCT run_id) FROM {table}").fetchone()
            assert count > 0 and runs == 1, table
        assert con.execute("SELECT count(*) FROM analytics_trend").fetchone()[0] == series_count
        # the total's forecast: 12 monthly points of one model
        forecast = con.execute(
            "SELECT count(*), count(DISTINCT model), min(date) FROM analytics_forecast "
            "WHERE series_id = 'referrals|month|none|total'"
        ).fetchone()
        assert forecast == (12, 1, date(2025, 1, 1))
        # its interval is calibrated on the backtest errors; raw and calibrated coverage are both stored
        stored = con.execute(
            "SELECT DISTINCT level, backtest_coverage, backtest_calibrated_coverage, calibration_factor "
            "FROM analytics_forecast WHERE series_id = 'referrals|month|none|total'"
        ).fetchall()
        assert len(stored) == 1 and stored[0][0] == 0.8
        assert all(value is not None for value in stored[0]) and stored[0][3] > 0
        uncalibrated = con.execute(
            "SELECT count(*) FROM analytics_forecast_candidate WHERE calibration_factor IS NULL"
        ).fetchone()[0]
        assert uncalibrated == 0
        # every forecast series keeps its candidates, exactly one chosen, with the MASE the forecast stored
        chosen = con.execute("""
            SELECT c.series_id, count(*) FILTER (WHERE c.chosen), any_value(c.mase) FILTER (WHERE c.chosen),
                   any_value(f.backtest_mase), count(*)
            FROM analytics_forecast_candidate c
            JOIN (SELECT DISTINCT series_id, backtest_mase FROM analytics_forecast) f USING (series_id)
            GROUP BY c.series_id
        """).fetchall()
        forecast_series = con.execute("SELECT count(DISTINCT series_id) FROM analytics_forecast").fetchone()[0]
        assert len(chosen) == forecast_series
        for series_id, chosen_count, mase, stored, _candidates in chosen:
            assert chosen_count == 1, series_id
            assert mase == stored or (mase != mase and stored != stored), series_id  # same value, NaN included
        assert max(row[4] for row in chosen) >= 3  # baselines and ETS at least
        assert contract_findings(con) == []
    finally:
        con.close()

    second = CliRunner().invoke(cli, args)
    assert second.exit_code == 0, second.output
    con = connect(warehouse_copy, read_only=True)
    try:
        runs = [r[0] for r in con.execute("SELECT run_id FROM analytics_run ORDER BY created_at").fetchall()]
        assert len(runs) == 2 and runs[0] == run_id and runs[1] != run_id
        # same warehouse, same parameters: the second run stores the same results
        for table in RESULT_TABLES:
            a, b = (
                con.execute(f"SELECT * EXCLUDE (run_id) FROM {table} WHERE run_id = ? ORDER BY ALL", [r]).fetchall()
                for r in runs
            )
            assert a == b, table
        assert contract_findings(con) == []
    finally:
        con.close()


def test_results_do_not_depend_on_the_number_of_worker_processes(warehouse_copy):
    from analytics.warehouse_run import run_analysis

    one = run_analysis(
        warehouse_copy, metrics=["sextortion_referrals"], grains=["quarter"], splits=[None, "country"], jobs=1
    )
    two = run_analysis(
        warehouse_copy,
        metrics=["sextortion_referrals"],
        grains=["quarter"],
        splits=[None, "country"],
        jobs=2,
        refit_all=True,  # else the second run reuses the first's analyses (analytics/reuse.py)
    )
    con = connect(warehouse_copy, read_only=True)
    try:
        for table in RESULT_TABLES:
            a, b = (
                con.execute(f"SELECT * EXCLUDE (run_id) FROM {table} WHERE run_id = ?", [r]).fetchall()
                for r in (one.run_id, two.run_id)
            )
            assert a == b, table
    finally:
        con.close()
    assert one.rows == two.rows and one.skipped == two.skipped


def test_grace_analyse_refuses_bad_metrics_and_missing_warehouses(tmp_path):
    result = CliRunner().invoke(cli, ["analyse", "--warehouse", str(tmp_path / "w.duckdb"), "--metrics", "nope"])
    assert result.exit_code != 0 and "unknown metric 'nope'" in result.output
    result = CliRunner().invoke(cli, ["analyse", "--warehouse", str(tmp_path / "missing.duckdb"), "--quiet"])
    assert result.exit_code != 0 and "does not exist" in result.output
