"""Every daily rollup and every table the ETL keeps batch by batch (first reports, media clusters, reach,
spread, perceptual clusters, the distinct-count and reach marts; the oracle is tests/from_scratch.py) equals
the same rows recomputed from scratch from the facts, after every batch: quarterly simulated deliveries whose
late records move first sightings and accounts' first reports across batches, with the simulator's industry
hash lists as banks, so batches also find bank matches (known material) for clusters they place."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import TEST_KEY, simulated_quarters
from from_scratch import tables_unlike_their_recompute

from etl.pipeline import run_batch
from etl.sources import discover_batches
from grace.config import PseudonymKey
from matching.banks import import_bank
from warehouse import connect, ensure_schema

KEY = PseudonymKey(TEST_KEY.encode(), "test")

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


# Media clusters whose first sighting is no longer in the first batch that saw them: a later batch's late
# record moved it earlier.
FIRST_SIGHTINGS_MOVED_BY_LATER_BATCHES = """
SELECT count(*)
FROM (
    SELECT o.cluster_id
    FROM fact_file_occurrence AS o
    JOIN etl_batch AS b USING (batch_id)
    GROUP BY o.cluster_id
    HAVING min(b.started_at) FILTER (WHERE o.is_first_sighting) > min(b.started_at)
)
"""


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    out = simulated_quarters(tmp_path_factory.mktemp("scratch_sim") / "sim", seed=9)
    batches = discover_batches(out / "exports")
    assert len(batches) == 8
    return out, batches


@pytest.mark.parametrize("order", ["as delivered", "latest first"])
def test_every_rollup_and_table_kept_by_the_batches_equals_its_recompute_from_scratch_after_every_batch(
    simulated, tmp_path, order
):
    out, batches = simulated
    batches = batches if order == "as delivered" else batches[::-1]
    con = connect(tmp_path / "warehouse.duckdb")
    try:
        ensure_schema(con)
        for name, file in (("industry-pdq", "industry_list_pdq.csv"), ("industry-exact", "industry_list.csv")):
            import_bank(con, out / "hashsets" / file, name, scheme="industry", version="sim", source="simulator")
        for batch in batches:
            assert run_batch(con, batch, KEY).status == "loaded"
            assert tables_unlike_their_recompute(con) == [], f"after {Path(batch.path).name}"
        # The batches did what the rollups must follow: late records, known material found by batches.
        assert con.execute(OLDER_CLUSTERS_MATCHED_BY_LATER_BATCHES).fetchone()[0] > 0
        assert con.execute(FIRST_SIGHTINGS_MOVED_BY_LATER_BATCHES).fetchone()[0] > 0
    finally:
        con.close()
