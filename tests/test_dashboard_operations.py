"""Operations & data quality page: its callbacks as plain functions, on warehouses built by the real ETL.

Expected values are recomputed from the lineage and fact tables directly (not through the page's
named queries), so a wrong query or figure fails.
"""

from __future__ import annotations

import shutil

import pytest
from builders import simulated_warehouse

from dashboards.callbacks import operations
from dashboards.charts import charts_for_page
from dashboards.figures.operations import quarantine_fields_figure, row_accounting_figure
from dashboards.state import ViewState
from grace.scope import Scope
from warehouse import WarehouseReader, connect


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Two years of a tiny simulated EU through the real ETL (exports, packages, the known-hash set)."""
    return simulated_warehouse(tmp_path_factory.mktemp("operations_wh"), packages=True, hash_set=True)


@pytest.fixture
def reader(built):
    return WarehouseReader(built)


def truth(path, sql: str, params=None) -> list[tuple]:
    con = connect(path, read_only=True)
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


@pytest.fixture
def tampered(built, tmp_path):
    """A copy of the warehouse where one batch's counts were changed after loading."""
    path = tmp_path / "tampered.duckdb"
    shutil.copy(built, path)
    con = connect(path)
    first = con.execute("SELECT batch_id FROM etl_batch ORDER BY started_at, batch_id LIMIT 1").fetchall()[0][0]
    con.execute(
        "UPDATE etl_batch SET referrals_in = referrals_in + 5, files_quarantined = files_quarantined + 2, "
        "files_loaded = files_loaded - 2 "
        "WHERE batch_id = $b",
        {"b": first},
    )
    con.close()
    return path, first


def bar_totals(figure) -> list[int]:
    """Per batch, the height of the stacked bars."""
    bars = [trace for trace in figure.data if trace.type == "bar"]
    return [sum(values) for values in zip(*(trace.y for trace in bars))]


# --- row accounting ----------------------------------------------------------------------------


def test_every_batch_of_a_real_etl_run_balances_and_the_page_says_so(reader, built):
    view = operations.update_lineage(reader, ViewState())
    ((batches, referrals_in, loaded, quarantined, duplicate, files_in),) = truth(
        built,
        "SELECT count(*), sum(referrals_in), sum(referrals_loaded), sum(referrals_quarantined), "
        "sum(referrals_duplicate), sum(files_in) FROM etl_batch",
    )
    ((facts,),) = truth(built, "SELECT count(*) FROM fact_referral")
    assert batches == 4 and loaded == facts and quarantined > 0 and duplicate > 0
    assert view.accounting_ok is True and view.accounting_problems == [] and view.status == ""
    assert view.accounting_text.startswith(
        f"✓ Row accounting balances in all 4 batches: {referrals_in:,} referrals read = {loaded:,} loaded "
        f"+ {quarantined:,} quarantined + {duplicate:,} duplicate; {files_in:,} files read"
    )
    ((records,),) = truth(built, "SELECT count(DISTINCT (dataset, source_file, row_number)) FROM quarantine")
    assert view.accounting_text.endswith(f"The quarantine table holds all {records:,} quarantined records.")
    assert {row["referrals_check"] for row in view.batch_rows} == {"✓"}
    assert {row["files_check"] for row in view.batch_rows} == {"✓"}


def test_a_batch_whose_counts_do_not_add_up_is_named_with_its_gap(tampered):
    path, batch_id = tampered
    view = operations.update_lineage(WarehouseReader(path), ViewState())
    assert view.accounting_ok is False
    assert view.accounting_text.startswith("Row accounting does NOT balance in 2 check(s) over 4 batches.")
    assert view.accounting_problems[0].startswith(f"Batch #1 ({batch_id}): 5 referrals unaccounted for (read ")
    assert "files reported quarantined but the quarantine table holds" in view.accounting_problems[1]
    oldest = view.batch_rows[-1]  # the table lists the newest batch first
    assert oldest["batch_id"] == batch_id and oldest["referrals_check"] == "✗ +5" and oldest["files_check"] == "✓"


def test_the_accounting_chart_stacks_loaded_quarantined_and_duplicate_under_the_rows_read(reader, built):
    view = operations.draw_chart(operations.ACCOUNTING_CHART, reader, ViewState())
    names = [trace.name for trace in view.figure.data]
    assert names == ["Loaded", "Duplicate", "Quarantined", "Read (in)"]
    read = list(view.figure.data[-1].y)
    assert read == [r for (r,) in truth(built, "SELECT referrals_in FROM etl_batch ORDER BY started_at, batch_id")]
    assert bar_totals(view.figure) == read
    assert list(view.figure.data[0].x) == ["#1", "#2", "#3", "#4"]


def test_a_tampered_batch_shows_its_marker_above_its_stack(tampered):
    path, _ = tampered
    figure = operations.draw_chart(operations.ACCOUNTING_CHART, WarehouseReader(path), ViewState()).figure
    assert figure.data[-1].y[0] == bar_totals(figure)[0] + 5


def test_choosing_files_draws_the_files_accounting_instead(reader, built):
    referrals = operations.draw_chart(operations.ACCOUNTING_CHART, reader, ViewState())
    files = operations.draw_chart(operations.ACCOUNTING_CHART, reader, ViewState(metric="files"))
    assert list(files.figure.data[-1].y) == [
        f for (f,) in truth(built, "SELECT files_in FROM etl_batch ORDER BY started_at, batch_id")
    ]
    assert list(files.figure.data[-1].y) != list(referrals.figure.data[-1].y)
    assert files.figure.layout.title.text == "Row accounting per ETL batch (files)"


# --- quarantine --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["referrals", "files"])
def test_quarantine_reasons_per_batch_count_each_record_once_per_reason(reader, built, kind):
    figure = operations.draw_chart(operations.QUARANTINE_TIME_CHART, reader, ViewState(metric=kind)).figure
    expected = dict(
        truth(
            built,
            "SELECT reason, count(*) FROM (SELECT DISTINCT batch_id, reason, source_file, "
            "row_number FROM quarantine WHERE dataset = $d) GROUP BY reason",
            {"d": kind},
        )
    )
    assert expected, "the simulator injects malformed records"
    assert {trace.name: sum(trace.y) for trace in figure.data} == expected
    assert all(len(trace.x) == 4 for trace in figure.data)  # every batch keeps its place


def test_the_referral_and_file_quarantine_charts_differ(reader):
    referrals = operations.draw_chart(operations.QUARANTINE_FIELDS_CHART, reader, ViewState()).figure
    files = operations.draw_chart(operations.QUARANTINE_FIELDS_CHART, reader, ViewState(metric="files")).figure
    assert {t.name for t in referrals.data} == {"referrals"} and {t.name for t in files.data} == {"files"}
    assert "report_id · parent_quarantined" in list(files.data[0].y)


def test_quarantine_by_field_lists_the_largest_first_and_folds_the_tail():
    import pandas as pd

    fields = pd.DataFrame(
        {
            "dataset": ["referrals"] * 20,
            "field": [f"f{i:02d}" for i in range(20)],
            "reason": ["wrong_type"] * 20,
            "records": list(range(40, 20, -1)),
        }
    )
    figure = quarantine_fields_figure(fields)
    labels = list(figure.layout.yaxis.categoryarray)
    assert labels[0] == "f00 · wrong_type" and len(labels) == 15
    assert labels[-1] == "6 other field/reason pairs"
    assert sum(sum(trace.x) for trace in figure.data) == sum(range(40, 20, -1))


# --- throughput, freshness, analytics runs, imports ----------------------------------------------


def test_throughput_is_referrals_read_per_second_of_batch_time(reader, built):
    figure = operations.draw_chart(operations.THROUGHPUT_CHART, reader, ViewState()).figure
    expected = truth(
        built,
        "SELECT source_kind, round(referrals_in / duration_seconds, 1) FROM etl_batch "
        "ORDER BY source_kind, started_at, batch_id",
    )
    drawn = [(trace.name, y) for trace in figure.data for y in trace.y]
    assert drawn == expected
    assert [trace.name for trace in figure.data] == ["case_export", "referral_package"]


def test_freshness_names_each_source_kind_with_its_last_batch(reader, built):
    rows = operations.update_lineage(reader, ViewState()).freshness_rows
    expected = truth(
        built,
        "SELECT source_kind, count(*), strftime(max(finished_at), '%Y-%m-%d %H:%M UTC') "
        "FROM etl_batch GROUP BY 1 ORDER BY 1",
    )
    assert [(r["source_kind"], r["batches"], r["last_batch"]) for r in rows] == expected
    ((latest,),) = truth(built, "SELECT strftime(max(incident_date), '%Y-%m-%d') FROM fact_referral")
    assert {r["latest_incident"] for r in rows} == {latest}


def test_reference_imports_are_listed_and_a_missing_analytics_run_is_said(reader):
    view = operations.update_lineage(reader, ViewState())
    assert [(r["dataset"], r["source"]) for r in view.import_rows] == [("hash_set", "known_hashes.csv")]
    assert view.import_rows[0]["rows_loaded"] > 0
    assert view.analytics_rows == [] and "No `grace analyse` run" in view.analytics_note


def test_analytics_runs_are_listed_newest_first(built, tmp_path):
    path = tmp_path / "with_runs.duckdb"
    shutil.copy(built, path)
    con = connect(path)
    con.execute(
        "INSERT INTO analytics_run (run_id, created_at, code_version, parameters, series_count, "
        "skipped_count, seconds) VALUES ('run-a', TIMESTAMP '2025-01-01 10:00', 'v1', '{}', 40, 2, 12.5), "
        "('run-b', TIMESTAMP '2025-02-01 10:00', 'v1', '{}', 41, 0, 11.0)"
    )
    con.close()
    view = operations.update_lineage(WarehouseReader(path), ViewState())
    listed = [(r["run_id"], r["series"], r["skipped"]) for r in view.analytics_rows]
    assert listed == [("run-b", 41, 0), ("run-a", 40, 2)]
    assert view.analytics_note == ""


def test_stage_seconds_are_listed_slowest_first():
    assert operations.stage_text('{"load": 0.08, "validate": 0.14, "stage": 0.2}') == (
        "stage 0.20 s · validate 0.14 s · load 0.08 s"
    )
    assert operations.stage_text("not json") == "not json"


# --- errors, scope, registry -------------------------------------------------------------------


def test_an_unknown_record_kind_gives_a_message_instead_of_an_error(reader):
    state = ViewState.from_query("metric=accounts")
    view = operations.update_lineage(reader, state)
    assert view.status == "Invalid view: metric: 'accounts' is not one of referrals, files on this page"
    chart = operations.draw_chart(operations.ACCOUNTING_CHART, reader, state)
    assert "not one of referrals, files" in chart.note and not chart.figure.data


def test_a_user_limited_to_one_country_sees_no_lineage(reader):
    view = operations.update_lineage(reader, ViewState().within(Scope.of_countries(["POL"])))
    assert view.batch_rows == [] and view.status == operations.SCOPED_MESSAGE
    chart = operations.draw_chart(operations.THROUGHPUT_CHART, reader, ViewState().within(Scope.of_countries(["POL"])))
    assert not chart.figure.data and chart.note == operations.SCOPED_MESSAGE


def test_an_unreadable_warehouse_gives_a_message_instead_of_an_error(tmp_path):
    missing = WarehouseReader(tmp_path / "gone.duckdb")
    view = operations.update_lineage(missing, ViewState())
    assert view.status.startswith("Warehouse unavailable:") and "does not exist" in view.status
    assert "does not exist" in operations.draw_chart(operations.ACCOUNTING_CHART, missing, ViewState()).note


def test_an_empty_warehouse_says_no_batch_was_loaded(fresh_db, tmp_path):
    fresh_db.close()
    reader = WarehouseReader(tmp_path / "warehouse.duckdb")
    view = operations.update_lineage(reader, ViewState())
    assert view.accounting_text == "No ETL batch has been loaded yet." and view.batch_rows == []
    figure = operations.draw_chart(operations.ACCOUNTING_CHART, reader, ViewState()).figure
    assert "No ETL batch" in figure.layout.annotations[0].text


def test_every_operations_chart_is_registered_for_export():
    assert [chart.chart_id for chart in charts_for_page("/operations")] == [
        "operations-row-accounting",
        "operations-quarantine-reasons",
        "operations-quarantine-fields",
        "operations-throughput",
    ]


def test_the_accounting_figure_builder_names_missing_columns():
    import pandas as pd

    with pytest.raises(ValueError, match="referrals_gap"):
        row_accounting_figure(
            pd.DataFrame(
                columns=[
                    "batch_id",
                    "source_kind",
                    "source",
                    "started_at",
                    "duration_seconds",
                    "referrals_in",
                    "referrals_loaded",
                    "referrals_quarantined",
                    "referrals_duplicate",
                ]
            )
        )
