"""The ETL statement profile: statements are named by the `sql/` file they were read from, and the timed
connection carries the real pipeline through a batch."""

from __future__ import annotations

from builders import TEST_KEY, file_row, referral_row, write_delivery

from benchmarks.etl_statements import StatementNamer, TimedConnection, report
from etl.runner import run_batches
from etl.sources import discover_batches
from grace.config import PseudonymKey
from warehouse import connect, read_sql


def test_a_statement_is_named_by_the_sql_file_it_holds_or_by_its_first_words():
    namer = StatementNamer()
    built = "CREATE OR REPLACE TEMP TABLE loadable_files AS " + read_sql("etl/loadable_files.sql")
    assert namer(built) == "etl/loadable_files.sql"
    assert namer("DELETE FROM rollup_file_daily WHERE date_key IN (SELECT date_key FROM affected_dates)") == (
        "code: DELETE FROM rollup_file_daily WHERE date_key IN"
    )


def test_the_timed_connection_loads_a_batch_and_times_its_statements(tmp_path):
    referrals = [referral_row(n) for n in range(30)]
    files = [file_row(n, k) for n in range(30) for k in range(2)]
    write_delivery(tmp_path / "exports" / "2024-01", referrals, files)
    seconds: dict[str, float] = {}
    calls: dict[str, int] = {}
    con = connect(tmp_path / "warehouse.duckdb")
    try:
        timed = TimedConnection(con, StatementNamer(), seconds, calls)
        summary = run_batches(timed, discover_batches(tmp_path / "exports"), PseudonymKey(TEST_KEY.encode(), "test"))
        assert summary.ok
        assert con.execute("SELECT count(*) FROM fact_referral").fetchone() == (30,)
    finally:
        con.close()
    assert calls["etl/insert_fact_referral.sql"] == 1
    assert "etl/rollup_file_daily.sql" in seconds
    table = report(seconds, calls, wall=sum(seconds.values()) + 1.0, top=3)
    assert table.count("\n") == 5  # head, rule, three statements, outside SQL
    assert "| outside SQL (PDQ search, Python) | – | 1.0 |" in table
