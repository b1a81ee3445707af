"""`grace analyse` also stores entity statuses, attribution, reconciled forecasts, the backlog projection and
ranked findings — checked on a small real warehouse (simulator -> ETL -> DuckDB), with the named queries and
`grace findings` reading them back."""

from __future__ import annotations

import json
import shutil
from datetime import date

import dashboard_warehouse as synthetic
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from analytics.emerging import classify_entities
from analytics.results import AnalysisParams, Anomaly
from analytics.series import RegularPanel
from analytics.warehouse_series import load_series
from etl.checks import contract_findings
from grace_cli import cli
from warehouse import WarehouseReader, connect, ensure_schema

DERIVED = (
    "analytics_entity_status",
    "analytics_attribution",
    "analytics_forecast_reconciled",
    "analytics_backlog",
    "analytics_finding",
)


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    """A two-year warehouse analysed once (referrals, monthly: total, countries, platforms): (path, summary)."""
    from builders import TEST_KEY

    from analytics.warehouse_run import run_analysis
    from etl.runner import run_batches
    from etl.simulator import SimulationConfig, simulate
    from etl.sources import discover_batches
    from grace.config import PseudonymKey

    root = tmp_path_factory.mktemp("persisted_wh")
    simulate(
        SimulationConfig(
            out=root / "sim", seed=7, scale=0.002, start=date(2023, 1, 1), end=date(2024, 12, 31), delivery="year"
        )
    )
    path = root / "warehouse.duckdb"
    con = connect(path)
    ensure_schema(con)
    summary = run_batches(con, discover_batches(root / "sim" / "exports"), PseudonymKey(TEST_KEY.encode(), "test"))
    assert summary.ok, summary.failures
    con.close()
    shutil.copy(path, root / "raw.duckdb")
    run = run_analysis(path, metrics=["referrals"], grains=["month"], jobs=1)
    return path, run


@pytest.fixture
def con(analysed):
    connection = connect(analysed[0], read_only=True)
    yield connection
    connection.close()


def rows(con, table, run_id):
    return con.execute(f"SELECT * FROM {table} WHERE run_id = ? ORDER BY ALL", [run_id]).df()


def test_every_derived_table_is_written_in_the_run_and_keeps_the_contract(analysed, con):
    _, run = analysed
    for table in ("analytics_entity_status", "analytics_forecast_reconciled", "analytics_backlog", "analytics_finding"):
        assert run.rows[table] > 0, table
        assert (
            con.execute(f"SELECT count(*) FROM {table} WHERE run_id = ?", [run.run_id]).fetchone()[0] == run.rows[table]
        )
    assert [f for f in contract_findings(con) if f.table.startswith("analytics_")] == []


def test_stored_entity_statuses_match_a_fresh_classification_of_the_panel(analysed, con):
    run_id = analysed[1].run_id
    stored = rows(con, "analytics_entity_status", run_id)
    panel_frame = load_series(con, "referrals", "month", split="platform")
    fresh = {s.entity: s for s in classify_entities(RegularPanel(panel_frame, "M"), AnalysisParams().emerging)}
    mine = stored[stored["split_by"] == "platform"].set_index("entity")
    assert set(mine.index) == set(fresh)
    for entity, status in fresh.items():
        assert mine.loc[entity, "status"] == status.status
        assert mine.loc[entity, "recent_mean"] == pytest.approx(status.recent_mean)
        assert mine.loc[entity, "baseline_mean"] == pytest.approx(status.baseline_mean)
    assert (mine["recent_start"] == pd.Timestamp(2024, 10, 1)).all() and (
        mine["recent_end"] == pd.Timestamp(2024, 12, 1)
    ).all()
    assert json.loads(mine["parameters"].iloc[0])["recent_periods"] == 3
    assert {"emerging", "vanishing"} & set(mine["status"])  # the simulator injects both


def test_reconciled_forecasts_add_up_and_keep_the_base_forecast_next_to_them(analysed, con):
    run_id = analysed[1].run_id
    rec = rows(con, "analytics_forecast_reconciled", run_id)
    rec = rec[rec["metric"] == "referrals"]
    total = rec[rec["split_by"] == "none"].set_index("date")["yhat"]
    countries = rec[rec["split_by"] == "country"].groupby("date")["yhat"].sum()
    assert len(total) == 12
    np.testing.assert_allclose(total.to_numpy(), countries.loc[total.index].to_numpy(), rtol=1e-9)
    base = (
        con.execute(
            "SELECT date, yhat FROM analytics_forecast WHERE run_id = ? AND series_id = "
            "'referrals|month|none|total' ORDER BY date",
            [run_id],
        )
        .df()
        .set_index("date")["yhat"]
    )
    np.testing.assert_allclose(rec[rec["split_by"] == "none"].set_index("date")["base_yhat"].loc[base.index], base)
    assert set(rec["method"]) == {"mint_shrink"}


def test_the_backlog_starts_from_the_backlog_stock_at_the_recent_triage_rate(analysed, con):
    run_id = analysed[1].run_id
    backlog = rows(con, "analytics_backlog", run_id)
    assert len(backlog) == 12 and set(backlog["series_id"]) == {"referrals|month|none|total"}
    triaged = con.execute(
        "SELECT sum(triaged) FROM rollup_backlog_daily WHERE date_key BETWEEN DATE '2024-10-01' AND DATE '2024-12-31'"
    ).fetchone()[0]
    open_now = con.execute(
        "SELECT sum(received) - sum(triaged) FROM rollup_backlog_daily WHERE date_key <= DATE '2024-12-31'"
    ).fetchone()[0]
    assert backlog["capacity_per_day"].iloc[0] == pytest.approx(triaged / 92)  # October to December
    assert backlog["initial_backlog"].iloc[0] == pytest.approx(open_now) and open_now > 0
    assert (backlog["backlog_lower"] <= backlog["backlog"] + 1e-9).all()
    assert (backlog["backlog"] <= backlog["backlog_upper"] + 1e-9).all()
    assert backlog["arrivals_source"].iloc[0] == "reconciled forecast (mint_shrink)"
    assert json.loads(backlog["parameters"].iloc[0])["capacity_source"] == "referrals triaged per day (by triage date)"


def test_findings_are_ranked_and_each_points_at_the_row_it_states(analysed, con):
    run_id = analysed[1].run_id
    found = con.execute("SELECT * FROM analytics_finding WHERE run_id = ? ORDER BY rank", [run_id]).df()
    assert list(found["rank"]) == list(range(1, len(found) + 1))
    assert found["score"].is_monotonic_decreasing
    assert {"growth", "changepoint", "emerging", "vanishing", "forecast", "backlog"} <= set(found["kind"])
    for row in found.itertuples():
        table = row.source_table
        assert table.startswith("analytics_")
        if table in ("analytics_changepoint", "analytics_anomaly"):
            hits = con.execute(
                f"SELECT count(*) FROM {table} WHERE run_id = ? AND series_id = ? AND date = ?",
                [run_id, row.series_id, row.date],
            ).fetchone()[0]
        elif table == "analytics_entity_status":
            hits = con.execute(
                f"SELECT count(*) FROM {table} WHERE run_id = ? AND series_id = ? AND recent_start = ?",
                [run_id, row.series_id, row.date],
            ).fetchone()[0]
        else:
            hits = con.execute(
                f"SELECT count(*) FROM {table} WHERE run_id = ? AND series_id = ?", [run_id, row.series_id]
            ).fetchone()[0]
        assert hits >= 1, row
        assert row.metric == "referrals" and "referrals" in row.headline.lower()
    # the total's break outranks every single entity's break of the same metric
    breaks = found[(found["kind"] == "changepoint") & (found["metric"] == "referrals")]
    if (breaks["split_by"] == "none").any():
        assert breaks["split_by"].iloc[0] == "none"


def test_a_second_run_stores_the_same_derived_rows(analysed, tmp_path):
    from analytics.warehouse_run import run_analysis

    path = tmp_path / "warehouse.duckdb"
    shutil.copy(analysed[0].parent / "raw.duckdb", path)
    one = run_analysis(path, metrics=["referrals"], grains=["month"], splits=[None, "country"], jobs=1)
    two = run_analysis(path, metrics=["referrals"], grains=["month"], splits=[None, "country"], jobs=2)
    con = connect(path, read_only=True)
    try:
        for table in DERIVED:
            a, b = (
                con.execute(f"SELECT * EXCLUDE (run_id) FROM {table} WHERE run_id = ? ORDER BY ALL", [r]).fetchall()
                for r in (one.run_id, two.run_id)
            )
            assert a == b, table
    finally:
        con.close()


def test_attribution_rows_name_the_entity_behind_a_spike_of_the_total():
    from analytics.warehouse_derived import attribution_rows

    ds = pd.date_range("2024-01-01", periods=12, freq="MS")
    frame = pd.concat(
        [
            pd.DataFrame({"ds": ds, "entity": "A", "y": 100.0}),
            pd.DataFrame({"ds": ds, "entity": "B", "y": [50.0] * 6 + [350.0] + [50.0] * 5}),
        ]
    )
    panel = RegularPanel(frame, "M")
    spike = Anomaly(
        date=ds[6], index=6, value=450.0, expected=150.0, magnitude=300.0, relative=2.0, direction="spike", score=9.0
    )

    class Job:
        series_id, metric, grain = "files|month|none|total", "files", "month"

    class Result:
        anomalies = (spike,)

    [top] = attribution_rows("r", Job, Result, "platform", panel)
    assert (top["contributor"], top["rank"], top["by_dimension"]) == ("B", 1, "platform")
    assert top["share"] == pytest.approx(1.0) and top["excess"] == pytest.approx(300.0)


# --- reading results back ----------------------------------------------------------------------


def test_the_named_analytics_queries_read_the_latest_run(analysed):
    reader = WarehouseReader(analysed[0])
    run_id = analysed[1].run_id
    latest = reader.run("analytics_latest_run", run_id="")
    assert latest["run_id"].tolist() == [run_id]
    assert latest["findings"].iloc[0] == analysed[1].rows["analytics_finding"]
    assert reader.run("analytics_latest_run", run_id="no-such-run").empty

    every_finding = {
        "run_id": run_id,
        "metrics": [],
        "kinds": [],
        "countries": [],
        "platforms": [],
        "scope_countries": None,
        "start": None,
        "end": None,
        "limit": 1000,
    }
    every = reader.run("analytics_findings", **every_finding)
    assert every["rank"].is_monotonic_increasing and len(every) == analysed[1].rows["analytics_finding"]
    top = reader.run(
        "analytics_findings",
        run_id=run_id,
        metrics=[],
        kinds=[],
        countries=[],
        platforms=[],
        scope_countries=None,
        start=None,
        end=None,
        limit=3,
    )
    assert top["rank"].tolist() == [1, 2, 3]
    one_country = every.loc[every["split_by"] == "country", "entity"].iloc[0]
    mine = reader.run(
        "analytics_findings",
        run_id=run_id,
        metrics=["referrals"],
        kinds=[],
        countries=[one_country],
        platforms=[],
        scope_countries=None,
        start=None,
        end=None,
        limit=1000,
    )
    assert set(mine["entity"]) == {one_country} and set(mine["metric"]) == {"referrals"}
    assert reader.run(
        "analytics_findings",
        run_id=run_id,
        metrics=["files"],
        kinds=[],
        countries=[],
        platforms=[],
        scope_countries=None,
        start=None,
        end=None,
        limit=1000,
    ).empty
    dated = every["date"].fillna(every["end_date"])
    first, last = dated.min(), dated.max()
    middle = (first + (last - first) / 2).date().isoformat()
    since = reader.run("analytics_findings", **dict(every_finding, start=middle))
    expected = every[dated >= pd.Timestamp(middle)]
    assert 0 < len(since) < len(every)
    assert since["rank"].tolist() == expected["rank"].tolist()  # dated on or after the start, ranks kept

    alerts = reader.run(
        "analytics_alerts",
        **synthetic.every_alert(run_id=run_id, kinds=[], sort_by="date", limit=1000),
    )
    assert set(alerts["kind"]) <= {"anomaly", "changepoint", "emerging", "vanishing"}
    assert {"emerging", "vanishing"} <= set(alerts["kind"])
    assert alerts["date"].is_monotonic_decreasing
    by_size = reader.run(
        "analytics_alerts",
        **synthetic.every_alert(run_id=run_id, kinds=["changepoint"], sort_by="magnitude", limit=1000),
    )
    assert by_size["relative"].abs().is_monotonic_decreasing and set(by_size["kind"]) == {"changepoint"}

    forecast = reader.run("analytics_forecast", run_id="", series_id="referrals|month|none|total")
    assert len(forecast) == 12 and forecast["model"].nunique() == 1
    assert forecast["reconciled_yhat"].notna().all() and (forecast["yhat_lower"] <= forecast["yhat_upper"]).all()
    backlog = reader.run("analytics_backlog", run_id="", grain="month")
    assert len(backlog) == 12 and (backlog["capacity_per_day"] > 0).all()


def test_grace_findings_prints_the_latest_runs_ranked_findings_as_json(analysed):
    result = CliRunner().invoke(cli, ["findings", "--warehouse", str(analysed[0]), "--limit", "5", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert [f["rank"] for f in out["findings"]] == [1, 2, 3, 4, 5]
    assert out["run"]["findings"] == analysed[1].rows["analytics_finding"]
    first = out["findings"][0]
    assert {"headline", "score", "kind", "series_id", "detector", "source_table", "numbers"} <= set(first)
    assert "score_parts" in first["numbers"]
    text = CliRunner().invoke(cli, ["findings", "--warehouse", str(analysed[0]), "--limit", "2"])
    assert text.exit_code == 0 and f"   1. [{first['kind']}] {first['headline']}" in text.output


def test_grace_findings_on_a_warehouse_never_analysed_is_a_one_line_error(analysed, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(analysed[0].parent / "raw.duckdb", path)
    result = CliRunner().invoke(cli, ["findings", "--warehouse", str(path)])
    assert result.exit_code != 0 and "no analysis run" in result.output and "grace analyse" in result.output
