"""The detector registry (`analytics.detectors`): every alert a run stores is in `analytics_alert`, and a new
detector is one registration — its results reach `SeriesAnalysis`, its own table, the alerts and the
findings without touching the runner, the alert query or the narrative."""

from __future__ import annotations

import dataclasses
import shutil

import dashboard_warehouse as synthetic
import numpy as np
import pandas as pd
import pytest

from analytics import detectors
from analytics.analyse import analyse_series
from analytics.detectors import ResultTable, SeriesDetector
from analytics.kinds import FindingKind
from analytics.results import AnalysisParams, ForecastParams
from analytics.series import RegularSeries
from warehouse import connect, ensure_schema


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    root = tmp_path_factory.mktemp("detectors")
    return synthetic.build(root / "plain.duckdb")


def _stored(path, sql, params=()):
    con = connect(path, read_only=True)
    try:
        return con.execute(sql, list(params)).df()
    finally:
        con.close()


def test_the_alert_table_holds_exactly_the_alerts_of_the_detectors_tables(plain, tmp_path):
    from analytics.warehouse_run import run_analysis

    path = tmp_path / "warehouse.duckdb"
    shutil.copy(plain, path)
    run = run_analysis(path, metrics=["referrals"], grains=["month"])
    expected = _stored(
        path,
        """
        SELECT 'anomaly' AS kind, series_id, date, direction, expected AS before, value AS after FROM analytics_anomaly
        WHERE run_id = $1
        UNION ALL
        SELECT 'changepoint', series_id, date, direction, level_before, level_after FROM analytics_changepoint
        WHERE run_id = $1
        UNION ALL
        SELECT status, series_id, recent_start, CASE WHEN status = 'emerging' THEN 'up' ELSE 'down' END,
               baseline_mean, recent_mean
        FROM analytics_entity_status WHERE run_id = $1 AND status IN ('emerging', 'vanishing')
        ORDER BY ALL""",
        [run.run_id],
    )
    stored = _stored(
        path,
        "SELECT kind, series_id, date, direction, before, after FROM analytics_alert WHERE run_id = ? ORDER BY ALL",
        [run.run_id],
    )
    assert len(expected) > 0
    pd.testing.assert_frame_equal(stored, expected, check_names=False)
    keys = _stored(path, "SELECT alert_key, series_id, kind, date FROM analytics_alert WHERE run_id = ?", [run.run_id])
    assert (keys["alert_key"] == keys["series_id"] + "|" + keys["kind"] + "|" + keys["date"].astype(str)).all()


# --- a new detector, registered once ---------------------------------------------------------


def _last_point_jumps(series, params, found):
    """A toy rule: the series' highest period, against the series' median (every series has one)."""
    top = int(np.argmax(series.y))
    return {"last_jump": (series.ds[top], float(series.y[top]), float(np.median(series.y)))}


def _jump_rows(result, frame):
    found = result.detections["last_jump"]
    return [] if found is None else [{"date": found[0].date(), "value": found[1], "median": found[2]}]


def _jump_alert(row):
    return {
        "kind": "last_jump",
        "date": row["date"],
        "direction": "up",
        "before": row["median"],
        "after": row["value"],
        "relative": row["value"] / row["median"] - 1 if row["median"] else None,
        "strength": None,
    }


def _jump_findings(tables, reach):
    from analytics.narrative import Finding

    return [
        Finding(
            "last_jump",
            r["series_id"],
            r["metric"],
            r["grain"],
            r["split_by"],
            r["entity"],
            r["date"],
            None,
            f"Highest period of {r['metric']}",
            {},
            0.5,
            0.5,
            reach(r["metric"], r["grain"], r["split_by"], r["entity"]),
        )
        for r in tables.get("analytics_last_jump", [])
    ]


JUMP = SeriesDetector(
    "last_jump",
    _last_point_jumps,
    (ResultTable("analytics_last_jump", _jump_rows, _jump_alert),),
    findings=_jump_findings,
)


@pytest.fixture
def registered(monkeypatch):
    from analytics import kinds

    kind = FindingKind("last_jump", "Highest period", 0.5, "last_jump", "analytics_last_jump", True)
    monkeypatch.setattr(detectors, "SERIES_DETECTORS", (*detectors.SERIES_DETECTORS, JUMP))
    monkeypatch.setattr(kinds, "KINDS", {**kinds.KINDS, "last_jump": kind})
    monkeypatch.setattr(kinds, "KIND_RANK", {**kinds.KIND_RANK, "last_jump": len(kinds.KIND_RANK)})
    import analytics.narrative as narrative

    monkeypatch.setattr(narrative, "KINDS", kinds.KINDS)
    monkeypatch.setattr(narrative, "KIND_RANK", kinds.KIND_RANK)


def test_a_registered_detector_runs_after_the_built_in_ones_and_its_result_is_kept(registered):
    y = np.r_[np.full(23, 10.0) + np.arange(23) % 3, 40.0]
    series = RegularSeries(pd.DataFrame({"ds": pd.date_range("2022-01-01", periods=24, freq="MS"), "y": y}), "M")
    result = analyse_series(series, dataclasses.replace(AnalysisParams(), forecast=ForecastParams(horizon=0)))
    assert result.detections["last_jump"][1:] == (40.0, 11.0)
    assert "last_jump" in result.to_dict()["detections"]


def test_a_registered_detector_reaches_its_table_the_alerts_and_the_findings(registered, plain, tmp_path):
    from analytics.warehouse_run import run_analysis

    path = tmp_path / "warehouse.duckdb"
    shutil.copy(plain, path)
    con = connect(path)  # the table a new detector declares in sql/ddl/002_analytics.sql
    con.execute(
        "CREATE TABLE analytics_last_jump (run_id VARCHAR, series_id VARCHAR, metric VARCHAR, grain VARCHAR, "
        "split_by VARCHAR, entity VARCHAR, date DATE, value DOUBLE, median DOUBLE)"
    )
    con.close()
    run = run_analysis(path, metrics=["referrals"], grains=["month"])
    own = _stored(path, "SELECT series_id, date FROM analytics_last_jump WHERE run_id = ? ORDER BY ALL", [run.run_id])
    alerts = _stored(
        path,
        "SELECT series_id, date FROM analytics_alert WHERE run_id = ? AND kind = 'last_jump' ORDER BY ALL",
        [run.run_id],
    )
    findings = _stored(path, "SELECT count(*) AS n FROM analytics_finding WHERE kind = 'last_jump'")
    assert run.rows["analytics_last_jump"] == len(own)
    pd.testing.assert_frame_equal(alerts, own)
    assert len(own) == run.series_count  # one per series
    assert 1 <= findings["n"].iloc[0] <= len(own)  # deduplicated per subject, like every kind


# --- warehouses analysed before analytics_alert existed --------------------------------------


CALIBRATION_COLUMNS = {
    "analytics_forecast": ("backtest_calibrated_coverage", "calibration_factor"),
    "analytics_forecast_candidate": ("calibrated_coverage", "calibration_factor"),
}


def _as_version_3(path):
    """What a schema-3 warehouse looks like: no analytics_alert, forecast tables without the calibrated
    intervals' columns, version 3."""
    con = connect(path)
    con.execute("DROP TABLE analytics_alert")
    for table, columns in CALIBRATION_COLUMNS.items():
        for column in columns:
            con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    con.execute("UPDATE warehouse_meta SET value = '3' WHERE key = 'schema_version'")
    con.close()


def test_an_older_warehouse_is_refused_with_the_upgrade_command_and_upgraded_keeping_its_alerts(plain, tmp_path):
    from click.testing import CliRunner

    from analytics.warehouse_run import run_analysis
    from grace.errors import WarehouseError
    from grace_cli import cli
    from warehouse import SCHEMA_VERSION, WarehouseReader

    path = tmp_path / "warehouse.duckdb"
    shutil.copy(plain, path)
    run = run_analysis(path, metrics=["referrals"], grains=["month"])
    query = "SELECT * EXCLUDE (material, is_new) FROM analytics_alert ORDER BY ALL"
    written = _stored(path, query)
    _as_version_3(path)

    with pytest.raises(WarehouseError, match="grace warehouse upgrade"):
        WarehouseReader(path).run(
            "analytics_alerts",
            **synthetic.every_alert(run_id="", kinds=[], sort_by="importance", limit=10),
        )
    result = CliRunner().invoke(cli, ["warehouse", "upgrade", "--warehouse", str(path)])
    assert result.exit_code == 0, result.output
    assert f"from schema version 3 to {SCHEMA_VERSION}" in result.output
    assert run.rows["analytics_alert"] == len(written) > 0
    pd.testing.assert_frame_equal(_stored(path, query), written)
    unknown = _stored(path, "SELECT count(*) AS n FROM analytics_alert WHERE material IS NULL AND is_new IS NULL")
    assert unknown["n"].iloc[0] == len(written)  # schema 3 never assessed them: shown as needing attention
    for table, columns in CALIBRATION_COLUMNS.items():  # back, empty for the earlier run's rows
        counts = _stored(path, f"SELECT count(*) AS n, {', '.join(f'count({c})' for c in columns)} FROM {table}")
        assert counts.iloc[0].tolist() == [counts["n"].iloc[0]] + [0] * len(columns) and counts["n"].iloc[0] > 0
    fresh = tmp_path / "fresh.duckdb"
    con = connect(fresh)
    ensure_schema(con)
    con.close()
    layout = (
        "SELECT table_name, ordinal_position, column_name, data_type FROM information_schema.columns "
        "WHERE table_name IN ('analytics_forecast', 'analytics_forecast_candidate') ORDER BY table_name, ordinal_position"
    )
    pd.testing.assert_frame_equal(_stored(path, layout), _stored(fresh, layout))  # the writer's column order too

    again = CliRunner().invoke(cli, ["warehouse", "upgrade", "--warehouse", str(path)])
    assert f"already at schema version {SCHEMA_VERSION}" in again.output
    pd.testing.assert_frame_equal(_stored(path, query), written)


def test_an_upgrade_that_fails_leaves_the_warehouse_as_it_was(plain, tmp_path, monkeypatch):
    from grace.errors import WarehouseError
    from warehouse import schema, upgrade_schema

    path = tmp_path / "warehouse.duckdb"
    shutil.copy(plain, path)
    _as_version_3(path)
    broken = tmp_path / "migrations"
    broken.mkdir()
    (broken / "3_to_4.sql").write_text("CREATE TABLE upgrade_marker (x INTEGER); SELECT * FROM no_such_table;")
    for later in schema.MIGRATIONS_DIR.glob("*_to_*.sql"):  # every later step as it is
        if later.name != "3_to_4.sql":
            shutil.copy(later, broken / later.name)
    monkeypatch.setattr(schema, "MIGRATIONS_DIR", broken)
    con = connect(path)
    try:
        with pytest.raises(Exception, match="no_such_table"):
            upgrade_schema(con)
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert "upgrade_marker" not in tables and "analytics_alert" not in tables
        assert schema.schema_version(con) == "3"
        monkeypatch.setattr(schema, "MIGRATIONS_DIR", tmp_path / "none")
        with pytest.raises(WarehouseError, match="rebuild it"):
            upgrade_schema(con)
    finally:
        con.close()


RUN_COUNTS = """
SELECT r.run_id,
       (SELECT count(*) FROM analytics_finding AS f WHERE f.run_id = r.run_id) AS finding_count,
       (SELECT count(*) FROM analytics_changepoint AS x WHERE x.run_id = r.run_id) AS changepoint_count,
       (SELECT count(*) FROM analytics_anomaly AS x WHERE x.run_id = r.run_id) AS anomaly_count,
       (SELECT count(*) FROM analytics_entity_status AS x
        WHERE x.run_id = r.run_id AND x.status IN ('emerging', 'vanishing')) AS emerging_or_vanishing_count
FROM analytics_run AS r ORDER BY r.run_id
"""
STORED_COUNTS = (
    "SELECT run_id, finding_count, changepoint_count, anomaly_count, emerging_or_vanishing_count "
    "FROM analytics_run ORDER BY run_id"
)


def test_each_run_stores_what_it_found_and_an_upgrade_counts_it_for_the_runs_before(plain, tmp_path):
    from analytics.warehouse_run import run_analysis
    from warehouse import WarehouseReader, schema, upgrade_schema

    path = tmp_path / "warehouse.duckdb"
    shutil.copy(plain, path)
    run_analysis(path, metrics=["referrals"], grains=["month"])
    latest = run_analysis(path, metrics=["referrals", "files"], grains=["month"])
    counted = _stored(path, RUN_COUNTS)
    assert len(counted) == 2 and counted["finding_count"].min() > 0 and counted["changepoint_count"].sum() > 0
    pd.testing.assert_frame_equal(_stored(path, STORED_COUNTS), counted, check_dtype=False)
    shown = WarehouseReader(path).run("analytics_latest_run", run_id="").iloc[0]
    mine = counted.set_index("run_id").loc[latest.run_id]
    assert (shown["findings"], shown["changepoints"], shown["anomalies"], shown["emerging_or_vanishing"]) == tuple(mine)

    con = connect(path)  # as schema 11 left it: no counts on the run rows
    try:
        for column in counted.columns[1:]:
            con.execute(f"ALTER TABLE analytics_run DROP COLUMN {column}")
        con.execute("UPDATE warehouse_meta SET value = '11' WHERE key = 'schema_version'")
        assert upgrade_schema(con) == ("11", schema.SCHEMA_VERSION)
    finally:
        con.close()
    pd.testing.assert_frame_equal(_stored(path, STORED_COUNTS), counted, check_dtype=False)
