"""mart_cluster_reach kept by each batch's changes (sql/etl/mart_reach_*.sql), checked against the mart filled
whole from media_cluster and cluster_spread, on quarterly simulated deliveries whose late records move first
sightings and add countries to clusters seen in earlier batches."""

from __future__ import annotations

import shutil

import pytest
from builders import TEST_KEY, simulated_quarters

from etl.pipeline import META_REACH_MART_KEPT, run_batch
from etl.sources import discover_batches
from grace.config import PseudonymKey
from grace.errors import WarehouseError
from warehouse import connect, ensure_schema, read_sql

KEY = PseudonymKey(TEST_KEY.encode(), "test")
STORED = "SELECT first_seen_date, first_seen_country, countries_bucket, days_bucket, clusters FROM mart_cluster_reach"


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    """Eight quarterly deliveries (2023-2024) from the real simulator."""
    out = simulated_quarters(tmp_path_factory.mktemp("reach_sim") / "sim", seed=5)
    found = discover_batches(out / "exports")
    assert len(found) == 8
    return found


@pytest.fixture(scope="module")
def all_but_last(batches, tmp_path_factory):
    """A warehouse holding the first seven deliveries."""
    path = tmp_path_factory.mktemp("reach_wh") / "warehouse.duckdb"
    con = connect(path)
    ensure_schema(con)
    for batch in batches[:-1]:
        run_batch(con, batch, KEY)
    con.close()
    return path


def mart_filled_whole(con) -> dict[tuple, int]:
    """The mart's cells computed afresh from every media cluster."""
    con.execute("CREATE OR REPLACE TEMP VIEW mart_reach_changes AS " + read_sql("etl/mart_reach_all_clusters.sql"))
    try:
        return cells(con.execute(read_sql("etl/mart_cluster_reach.sql")).fetchall())
    finally:
        con.execute("DROP VIEW mart_reach_changes")


def cells(rows) -> dict[tuple, int]:
    return {tuple(row[:4]): row[4] for row in rows}


def copy(path, tmp_path):
    target = tmp_path / "warehouse.duckdb"
    shutil.copy(path, target)
    return target


def test_the_reach_mart_kept_by_changes_equals_the_mart_filled_whole_after_every_batch(batches, tmp_path):
    con = connect(tmp_path / "warehouse.duckdb")
    ensure_schema(con)
    shrunk_cells = 0
    previous: dict[tuple, int] = {}
    for batch in batches:
        run_batch(con, batch, KEY)
        stored = cells(con.execute(STORED).fetchall())
        assert stored == mart_filled_whole(con), batch.path
        assert all(count > 0 for count in stored.values())
        # A cell that loses clusters shows a batch moved clusters seen before (not only added new ones).
        shrunk_cells += sum(1 for cell, count in previous.items() if stored.get(cell, 0) < count)
        previous = stored
    assert shrunk_cells > 0, "no batch moved a cluster of an earlier batch: the check above proved nothing"
    kept = con.execute("SELECT count(*) FROM warehouse_meta WHERE key = ?", [META_REACH_MART_KEPT]).fetchone()
    assert kept == (1,)
    con.close()


def test_a_warehouse_whose_reach_mart_was_never_filled_whole_gets_it_filled_by_its_next_batch(
    batches, all_but_last, tmp_path
):
    """As a warehouse built when every batch recomputed the mart, or one upgraded to a schema that added it."""
    con = connect(copy(all_but_last, tmp_path))
    con.execute("DELETE FROM mart_cluster_reach")
    con.execute("DELETE FROM warehouse_meta WHERE key = ?", [META_REACH_MART_KEPT])
    run_batch(con, batches[-1], KEY)
    assert cells(con.execute(STORED).fetchall()) == mart_filled_whole(con) != {}
    con.close()


def test_a_reach_mart_out_of_step_with_the_clusters_fails_the_batch_and_leaves_the_warehouse_as_it_was(
    batches, all_but_last, tmp_path
):
    con = connect(copy(all_but_last, tmp_path))
    con.execute("DELETE FROM mart_cluster_reach")  # the batch will take clusters out of cells that are gone
    before = con.execute("SELECT (SELECT count(*) FROM fact_referral), (SELECT count(*) FROM etl_batch)").fetchone()
    with pytest.raises(WarehouseError, match=r"mart_cluster_reach: .* fewer than 0 clusters"):
        run_batch(con, batches[-1], KEY)
    after = con.execute("SELECT (SELECT count(*) FROM fact_referral), (SELECT count(*) FROM etl_batch)").fetchone()
    assert after == before
    assert con.execute("SELECT count(*) FROM mart_cluster_reach").fetchone() == (0,)
    con.close()
