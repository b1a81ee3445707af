"""Every daily rollup the ETL keeps batch by batch equals the same rollup recomputed from scratch from the
facts, after every batch: quarterly simulated deliveries whose late records move first sightings and
accounts' first reports across batches, with the simulator's industry hash lists as banks, so batches
also find bank matches (known material) for clusters they place."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import TEST_KEY, simulated_quarters

from etl.pipeline import run_batch
from etl.sources import discover_batches
from grace.config import PseudonymKey
from matching.banks import import_bank
from warehouse import connect, ensure_schema, read_sql

KEY = PseudonymKey(TEST_KEY.encode(), "test")

# rollup -> (the temp table of dates its SQL recomputes, every date it can hold)
ROLLUPS = {
    "rollup_referral_daily": ("affected_dates", "SELECT DISTINCT incident_date FROM fact_referral"),
    "rollup_file_daily": ("affected_dates", "SELECT DISTINCT incident_date FROM fact_file_occurrence"),
    "rollup_backlog_daily": (
        "affected_flow_dates",
        "SELECT received_date FROM fact_referral UNION SELECT triaged_date FROM fact_referral",
    ),
    "rollup_cluster_spread_daily": ("affected_spread_dates", "SELECT DISTINCT reached_date FROM cluster_spread"),
    "rollup_perceptual_daily": ("perceptual_dates", "SELECT DISTINCT incident_date FROM fact_file_occurrence"),
}


# Bank matches a batch found for a media cluster that an earlier batch had loaded (it brought the cluster's first
# usable PDQ): the earlier days' file rollup must follow, as the cluster is known material now.
OLDER_CLUSTERS_MATCHED_BY_LATER_BATCHES = """
WITH first_loaded AS (
    SELECT o.cluster_id, min(b.started_at) AS started_at
    FROM fact_file_occurrence AS o
    JOIN fact_referral AS r USING (referral_key)
    JOIN etl_batch AS b ON b.batch_id = r.batch_id
    GROUP BY o.cluster_id
)
SELECT count(*)
FROM bank_match AS m
JOIN etl_batch AS b ON b.batch_id = m.found_by
JOIN first_loaded AS f USING (cluster_id)
WHERE f.started_at < b.started_at
"""


def from_scratch(con, rollup: str) -> list[tuple]:
    """`rollup`'s rows computed afresh by its ETL SQL over every date."""
    dates, every_date = ROLLUPS[rollup]
    con.execute(f"CREATE OR REPLACE TEMP TABLE {dates} AS SELECT * FROM ({every_date}) AS d(date_key)")
    try:
        return con.execute(read_sql(f"etl/{rollup}.sql")).fetchall()
    finally:
        con.execute(f"DROP TABLE {dates}")


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    out = simulated_quarters(tmp_path_factory.mktemp("scratch_sim") / "sim", seed=9)
    batches = discover_batches(out / "exports")
    assert len(batches) == 8
    return out, batches


def test_every_daily_rollup_kept_by_the_batches_equals_its_recompute_from_scratch_after_every_batch(
    simulated, tmp_path
):
    out, batches = simulated
    con = connect(tmp_path / "warehouse.duckdb")
    try:
        ensure_schema(con)
        for name, file in (("industry-pdq", "industry_list_pdq.csv"), ("industry-exact", "industry_list.csv")):
            import_bank(con, out / "hashsets" / file, name, scheme="industry", version="sim", source="simulator")
        for batch in batches:
            assert run_batch(con, batch, KEY).status == "loaded"
            for rollup in ROLLUPS:
                stored = con.execute(f"SELECT * FROM {rollup} ORDER BY ALL").fetchall()
                assert stored == from_scratch(con, rollup), f"{rollup} after {Path(batch.path).name}"
        # The batches did what the rollups must follow: late records, known material found by batches.
        assert con.execute(OLDER_CLUSTERS_MATCHED_BY_LATER_BATCHES).fetchone()[0] > 0
        assert con.execute("SELECT count(DISTINCT incident_date) FROM fact_referral").fetchone()[0] > 600
    finally:
        con.close()
