"""`grace import statistics FILE.csv`: contract-checked, all-or-nothing, idempotent import.

All figures here are synthetic (the source column says so); no real statistics are invented.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from etl.contracts import load_contract
from grace.config import CONTRACTS_DIR
from grace_cli import cli
from warehouse import connect

HEADER = "period,period_type,country_iso3,platform,metric,value,source,note"
SOURCE = "Synthetic test figures (not real data)"
GOOD_ROWS = [
    f"2023,year,DEU,,cybertipline_reports,1200,{SOURCE},",
    f"2023,year,,,cybertipline_reports,15000,{SOURCE},total over all countries",
    f'2023-Q2,quarter,NLD,ExampleChat,esp_reports,310.5,{SOURCE},"rate, per 100,000 accounts"',
    f"2023-05,month,BEL,,cybertipline_reports,42,{SOURCE},",
    f"2020-W53,week,AUT,,cybertipline_reports,7,{SOURCE},",
    f"2024-02-29,day,IRL,,cybertipline_reports,0,{SOURCE},",
]


def write_csv(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def run(*args: str):
    return CliRunner().invoke(cli, ["import", "statistics", *args])


def warehouse_state(path: Path) -> tuple:
    """Everything an import could change, or None when the warehouse file does not exist."""
    if not path.exists():
        return None
    con = connect(path, read_only=True)
    try:
        return (
            con.execute("SELECT * FROM published_statistic ORDER BY ALL").fetchall(),
            con.execute("SELECT * FROM import_log ORDER BY ALL").fetchall(),
        )
    finally:
        con.close()


@pytest.fixture
def warehouse(tmp_path) -> Path:
    return tmp_path / "warehouse.duckdb"


def test_a_valid_file_is_loaded_with_a_one_line_summary(tmp_path, warehouse):
    csv = write_csv(tmp_path / "stats.csv", GOOD_ROWS)
    result = run(str(csv), "--warehouse", str(warehouse))
    assert result.exit_code == 0, result.output
    assert result.output.count("\n") == 1
    assert "loaded 6 published statistic row(s)" in result.output
    rows, log = warehouse_state(warehouse)
    assert len(rows) == 6 and len(log) == 1
    con = connect(warehouse, read_only=True)
    try:
        typed = con.execute(
            "SELECT period, period_type, country_iso3, platform, metric, value, source, note, import_id "
            "FROM published_statistic WHERE period = '2023-Q2'"
        ).fetchone()
        total = con.execute("SELECT country_iso3, note FROM published_statistic WHERE value = 15000").fetchone()
        logged = con.execute("SELECT import_id, dataset, checksum, rows_loaded FROM import_log").fetchone()
    finally:
        con.close()
    assert typed[:8] == (
        "2023-Q2",
        "quarter",
        "NLD",
        "ExampleChat",
        "esp_reports",
        310.5,
        SOURCE,
        "rate, per 100,000 accounts",
    )
    assert total == (None, "total over all countries")
    assert logged[0] == typed[8]
    assert logged[1:] == ("published_statistics", hashlib.sha256(csv.read_bytes()).hexdigest(), 6)


def test_importing_the_same_file_again_changes_nothing(tmp_path, warehouse):
    csv = write_csv(tmp_path / "stats.csv", GOOD_ROWS)
    assert run(str(csv), "--warehouse", str(warehouse)).exit_code == 0
    before = warehouse_state(warehouse)
    again = run(str(csv), "--warehouse", str(warehouse))
    assert again.exit_code == 0, again.output
    assert "already imported" in again.output and "nothing changed" in again.output
    assert warehouse_state(warehouse) == before


def test_the_shipped_example_files_behave_as_their_names_say(warehouse):
    examples = CONTRACTS_DIR / "examples"
    assert run(str(examples / "published_statistics_valid.csv"), "--warehouse", str(warehouse)).exit_code == 0
    refused = run(str(examples / "published_statistics_invalid.csv"), "--warehouse", str(warehouse))
    assert refused.exit_code != 0
    assert "row 2, field 'period'" in refused.output


@pytest.mark.parametrize(
    ("bad_row", "field", "words"),
    [
        (f"2023-05,year,ESP,,cybertipline_reports,1,{SOURCE},", "period", "does not match period_type 'year'"),
        (f"2023-Q5,quarter,ESP,,cybertipline_reports,1,{SOURCE},", "period", "is not a period"),
        (f"2023-W07,month,ESP,,cybertipline_reports,1,{SOURCE},", "period", "does not match period_type 'month'"),
        (f"2021-W53,week,ESP,,cybertipline_reports,1,{SOURCE},", "period", "does not match period_type 'week'"),
        (f"2023-02-30,day,ESP,,cybertipline_reports,1,{SOURCE},", "period", "does not match period_type 'day'"),
        (f",year,ESP,,cybertipline_reports,1,{SOURCE},", "period", "required value is empty"),
        (f"2023,decade,ESP,,cybertipline_reports,1,{SOURCE},", "period_type", "is not one of year, quarter"),
        (f"2023,year,Germany,,cybertipline_reports,1,{SOURCE},", "country_iso3", "'Germany'"),
        (f"2023,year,ESP,{'P' * 65},cybertipline_reports,1,{SOURCE},", "platform", "longer than 64"),
        (f"2023,year,ESP,,Reports Total,1,{SOURCE},", "metric", "'Reports Total'"),
        (f"2023,year,ESP,,,1,{SOURCE},", "metric", "required value is empty"),
        (f"2023,year,ESP,,cybertipline_reports,-3,{SOURCE},", "value", "out of range (minimum 0)"),
        (f'2023,year,ESP,,cybertipline_reports,"1,200",{SOURCE},', "value", "is not a finite number"),
        (f"2023,year,ESP,,cybertipline_reports,NaN,{SOURCE},", "value", "is not a finite number"),
        (f"2023,year,ESP,,cybertipline_reports,inf,{SOURCE},", "value", "is not a finite number"),
        (f"2023,year,ESP,,cybertipline_reports,,{SOURCE},", "value", "required value is empty"),
        ("2023,year,ESP,,cybertipline_reports,1,,", "source", "required value is empty"),
        (f"2023,year,ESP,,cybertipline_reports,1,{SOURCE},{'n' * 501}", "note", "longer than 500"),
        (f"2023,year,DEU,,cybertipline_reports,1200,{SOURCE},", "metric", "repeats the figure of row 1"),
        (f"2023,year,ESP,,cybertipline_reports,1,{SOURCE},,surplus", None, "cannot be parsed"),
    ],
)
def test_an_invalid_row_refuses_the_whole_file_naming_row_and_field(tmp_path, warehouse, bad_row, field, words):
    csv = write_csv(tmp_path / "stats.csv", [GOOD_ROWS[0], GOOD_ROWS[1], bad_row, GOOD_ROWS[2]])
    result = run(str(csv), "--warehouse", str(warehouse))
    assert result.exit_code != 0
    message = result.output.strip()
    assert "\n" not in message
    assert message.startswith(f"error: {csv}, row 3")
    if field is not None:
        assert f"row 3, field '{field}'" in message
    assert words in message
    assert "Traceback" not in result.output


def test_a_refused_file_leaves_an_existing_warehouse_unchanged(tmp_path, warehouse):
    assert run(str(write_csv(tmp_path / "first.csv", GOOD_ROWS[:3])), "--warehouse", str(warehouse)).exit_code == 0
    before = warehouse_state(warehouse)
    bad = write_csv(tmp_path / "second.csv", [*GOOD_ROWS[3:], f"2023,year,DEU,,cybertipline_reports,-1,{SOURCE},"])
    result = run(str(bad), "--warehouse", str(warehouse))
    assert result.exit_code != 0
    assert "row 4, field 'value'" in result.output
    assert warehouse_state(warehouse) == before


def test_a_refused_file_does_not_create_a_warehouse(tmp_path, warehouse):
    bad = write_csv(tmp_path / "bad.csv", [f"2023,yearly,DEU,,cybertipline_reports,1,{SOURCE},"])
    assert run(str(bad), "--warehouse", str(warehouse)).exit_code != 0
    assert not warehouse.exists()


@pytest.mark.parametrize(
    ("header", "words"),
    [
        (
            "period,period_type,country,platform,metric,value,source,note",
            "column 3 is 'country', expected 'country_iso3'",
        ),
        ("period,period_type,country_iso3,platform,metric,value,source", "column 8 'note' is missing"),
        (
            "period,period_type,country_iso3,platform,metric,value,source,note,extra",
            "unexpected extra column 9 'extra'",
        ),
        ("period_type,period,country_iso3,platform,metric,value,source,note", "column 1 is 'period_type'"),
    ],
)
def test_a_header_with_the_wrong_columns_is_refused(tmp_path, warehouse, header, words):
    csv = write_csv(tmp_path / "stats.csv", [], header=header)
    csv.write_text(csv.read_text() + GOOD_ROWS[0] + "\n")
    result = run(str(csv), "--warehouse", str(warehouse))
    assert result.exit_code != 0
    assert str(csv) in result.output
    assert "header must be exactly " + HEADER in result.output
    assert words in result.output
    assert not warehouse.exists()


def test_an_empty_or_missing_file_is_refused(tmp_path, warehouse):
    header_only = write_csv(tmp_path / "header_only.csv", [])
    result = run(str(header_only), "--warehouse", str(warehouse))
    assert result.exit_code != 0 and "no data rows" in result.output
    missing = run(str(tmp_path / "missing.csv"), "--warehouse", str(warehouse))
    assert missing.exit_code != 0 and "no such file" in missing.output
    assert not warehouse.exists()


def test_the_contract_declares_exactly_the_statistics_columns():
    dataset = load_contract("published_statistics").dataset("statistics")
    assert ",".join(dataset.column_names) == HEADER
    assert dataset.required_columns == ["period", "period_type", "metric", "value", "source"]


def test_a_corrected_file_replaces_the_figures_it_repeats_and_keeps_the_old_ones_as_history(tmp_path, warehouse):
    first = write_csv(tmp_path / "stats.csv", GOOD_ROWS)
    assert run(str(first), "--warehouse", str(warehouse)).exit_code == 0
    corrected = write_csv(
        tmp_path / "stats-corrected.csv",
        [
            f"2023,year,DEU,,cybertipline_reports,1250,{SOURCE},corrected",  # same key as a first-file row
            f"2023,year,,,cybertipline_reports,15100,{SOURCE},",  # the total (no country, no platform)
            f"2024,year,DEU,,cybertipline_reports,1400,{SOURCE},",  # new
        ],
    )
    result = run(str(corrected), "--warehouse", str(warehouse))
    assert result.exit_code == 0, result.output
    con = connect(warehouse, read_only=True)
    try:
        current = con.execute(
            "SELECT period, country_iso3, value FROM published_statistic WHERE metric = 'cybertipline_reports' "
            "AND period_type = 'year' ORDER BY period, country_iso3 NULLS FIRST"
        ).fetchall()
        history = con.execute(
            "SELECT period, country_iso3, value, superseded_by FROM published_statistic_history ORDER BY value"
        ).fetchall()
        imports = con.execute("SELECT import_id FROM import_log ORDER BY imported_at").fetchall()
        total = con.execute("SELECT count(*) FROM published_statistic").fetchone()[0]
    finally:
        con.close()
    assert current == [("2023", None, 15100.0), ("2023", "DEU", 1250.0), ("2024", "DEU", 1400.0)]
    assert [(p, c, v) for p, c, v, _ in history] == [("2023", "DEU", 1200.0), ("2023", None, 15000.0)]
    assert {by for *_, by in history} == {imports[1][0]} and len(imports) == 2
    assert total == len(GOOD_ROWS) + 1  # two replaced, one added
