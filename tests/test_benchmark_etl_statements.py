"""The ETL statement profile: statements are named by the `sql/` file they were read from, and the timed
connection carries the real pipeline through a batch."""

from __future__ import annotations

import numpy as np
from builders import TEST_KEY, file_row, referral_row, write_delivery

from benchmarks.etl_statements import StatementNamer, TimedConnection, relay, report, report_matching, run_rolled_back
from etl.pipeline import Matching
from etl.runner import run_batches
from etl.sources import discover_batches
from grace.config import PseudonymKey
from matching.cluster_index import ClusterIndex
from matching.index import PdqIndex, plan_substrings
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


def test_the_matching_parts_are_listed_by_name_with_their_seconds():
    table = report_matching({"match.search": 12.34, "match.union_find": 0.5})
    assert table.splitlines()[2:] == ["| match.search | 12.3 |", "| match.union_find | 0.5 |"]


def test_a_rolled_back_profile_runs_every_stage_and_leaves_the_warehouse_and_its_index_as_they_were(tmp_path):
    key = PseudonymKey(TEST_KEY.encode(), "test")
    write_delivery(
        tmp_path / "first" / "2024-01", [referral_row(n) for n in range(20)], [file_row(n, 0) for n in range(20)]
    )
    write_delivery(
        tmp_path / "second" / "2024-02",
        [referral_row(n) for n in range(20, 50)],
        [file_row(n, k) for n in range(20, 50) for k in range(2)],
    )
    warehouse = tmp_path / "warehouse.duckdb"
    con = connect(warehouse)
    try:
        assert run_batches(con, discover_batches(tmp_path / "first"), key).ok
        before = con.execute("SELECT count(*) FROM fact_referral").fetchone()
        index_files = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*.npy"))
        seconds: dict[str, float] = {}
        calls: dict[str, int] = {}
        timed = TimedConnection(con, StatementNamer(), seconds, calls)
        assert run_rolled_back(timed, discover_batches(tmp_path / "second"), key, Matching.open(con)) == 1
        assert calls["etl/insert_fact_referral.sql"] == 1 and "etl/rollup_file_daily.sql" in seconds
        assert con.execute("SELECT count(*) FROM fact_referral").fetchone() == before == (20,)
        assert con.execute("SELECT count(*) FROM etl_batch").fetchone() == (1,)
        assert sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*.npy")) == index_files
        assert run_batches(con, discover_batches(tmp_path / "second"), key).ok  # still loadable, once
    finally:
        con.close()


def test_an_index_relaid_as_one_segment_of_k_tables_finds_the_same_matches():
    rng = np.random.default_rng(3)
    hashes = rng.integers(0, 2**63, size=(5000, 4), dtype=np.int64).view(np.uint64)
    index = PdqIndex(buffer_size=256)
    for start in range(0, 5000, 250):  # added as batches are: several segments and a buffer
        index.add(np.arange(start, start + 250) * 3, hashes[start : start + 250])
    queries = hashes[::50] ^ np.array([0xFF, 0, 0, 1], dtype=np.uint64)  # 9 bits off each indexed hash
    expected = index.search(queries)
    assert len(index.segments) > 1 and len(expected.id) >= 100
    for tables in (12, 0):
        cluster = ClusterIndex(index, None)
        relay(cluster, tables)
        assert [len(segment.sub_length) for segment in cluster.index.segments] == [
            tables or len(plan_substrings(5000, index.radius)[1])
        ]
        assert cluster.index.substrings is None  # a batch's own segments are planned as usual
        found = cluster.index.search(queries)
        assert all(np.array_equal(a, b) for a, b in zip(found, expected))
