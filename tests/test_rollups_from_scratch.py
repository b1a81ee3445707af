"""Every daily rollup and every table the ETL keeps batch by batch (first reports, media clusters, reach,
spread, perceptual clusters, the distinct-count mart) equals the same rows recomputed from scratch from the
facts, after every batch: quarterly simulated deliveries whose late records move first sightings and
accounts' first reports across batches, with the simulator's industry hash lists as banks, so batches also
find bank matches (known material) for clusters they place."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import TEST_KEY, rollup_from_scratch, simulated_quarters

from etl.pipeline import run_batch
from etl.sources import discover_batches
from grace.config import PseudonymKey
from matching.banks import import_bank
from warehouse import connect, ensure_schema

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


# Tables the ETL keeps by each batch's changes (not whole recomputes), each with the same rows computed
# from the facts alone: (the stored rows, the rows from scratch), both in one order.
KEPT = {
    "account_first_report": (
        "SELECT account_pseudonym, referral_key, incident_date FROM account_first_report ORDER BY ALL",
        """SELECT account_pseudonym, arg_min(referral_key, (incident_date, referral_key)), min(incident_date)
           FROM fact_referral WHERE account_pseudonym IS NOT NULL GROUP BY 1 ORDER BY ALL""",
    ),
    "media_cluster": (
        """SELECT cluster_id, first_seen_date, first_seen_country, first_seen_agency, last_seen_date, occurrences,
                  referral_count, country_count, agency_count FROM media_cluster ORDER BY ALL""",
        """SELECT cluster_id, min(incident_date),
                  any_value(country_iso3) FILTER (WHERE is_first_sighting),
                  any_value(agency_code) FILTER (WHERE is_first_sighting), max(incident_date), count(*),
                  count(DISTINCT referral_key), count(DISTINCT country_iso3), count(DISTINCT agency_code)
           FROM fact_file_occurrence GROUP BY 1 ORDER BY ALL""",
    ),
    "first sightings": (  # one flagged occurrence per cluster, on its first-seen day
        "SELECT cluster_id, first_seen_date, 1 FROM media_cluster ORDER BY ALL",
        """SELECT cluster_id, min(incident_date) FILTER (WHERE is_first_sighting), count(*) FILTER (WHERE is_first_sighting)
           FROM fact_file_occurrence GROUP BY 1 ORDER BY ALL""",
    ),
    "cluster_reach": (
        "SELECT cluster_id, country_iso3, agency_code, first_seen_date FROM cluster_reach ORDER BY ALL",
        """SELECT cluster_id, country_iso3, agency_code, min(incident_date)
           FROM fact_file_occurrence GROUP BY ALL ORDER BY ALL""",
    ),
    "cluster_spread": (  # the day a cluster's second country was reached, and that country (ties by code)
        "SELECT cluster_id, reached_date, country_iso3 FROM cluster_spread ORDER BY ALL",
        """WITH per_country AS (
               SELECT cluster_id, country_iso3, min(incident_date) AS first_day
               FROM fact_file_occurrence GROUP BY ALL
           )
           SELECT cluster_id, first_day, country_iso3
           FROM per_country
           QUALIFY row_number() OVER (PARTITION BY cluster_id ORDER BY first_day, country_iso3) = 2
           ORDER BY ALL""",
    ),
    "perceptual_cluster": (  # members counted; the first sighting of any member by (date, referral, ordinal)
        """SELECT perceptual_id, variants, first_seen_date, first_seen_country, first_seen_platform,
                  first_referral_key, first_file_ordinal FROM perceptual_cluster ORDER BY ALL""",
        """SELECT m.perceptual_id, count(*), min(o.incident_date),
                  arg_min(o.country_iso3, (o.incident_date, o.referral_key, o.file_ordinal)),
                  arg_min(o.platform_name, (o.incident_date, o.referral_key, o.file_ordinal)),
                  arg_min(o.referral_key, (o.incident_date, o.referral_key, o.file_ordinal)),
                  arg_min(o.file_ordinal, (o.incident_date, o.referral_key, o.file_ordinal))
           FROM perceptual_member AS m
           JOIN fact_file_occurrence AS o ON o.cluster_id = m.cluster_id AND o.is_first_sighting
           GROUP BY 1 ORDER BY ALL""",
    ),
    "mart_distinct_period": (  # distinct accounts and clusters per grain, period and cell ('*' = all)
        """SELECT grain, period_start, country_iso3, platform_name, accounts, clusters FROM mart_distinct_period
           WHERE accounts > 0 OR clusters > 0 ORDER BY ALL""",
        """WITH items AS (
               SELECT incident_date, country_iso3, platform_name, account_pseudonym AS account, NULL AS cluster
               FROM fact_referral
               UNION ALL
               SELECT incident_date, country_iso3, platform_name, NULL, cluster_id FROM fact_file_occurrence
           ),
           cells AS (
               SELECT g.grain, CAST(date_trunc(g.grain, incident_date) AS DATE) AS period_start,
                      coalesce(country_iso3, '*') AS country_iso3, coalesce(platform_name, '*') AS platform_name,
                      count(DISTINCT account) AS accounts, count(DISTINCT cluster) AS clusters
               FROM items
               CROSS JOIN (VALUES ('day'), ('week'), ('month'), ('quarter'), ('year')) AS g (grain)
               GROUP BY GROUPING SETS ((g.grain, period_start, country_iso3), (g.grain, period_start, platform_name),
                                       (g.grain, period_start))
           )
           SELECT * FROM cells WHERE accounts > 0 OR clusters > 0 ORDER BY ALL""",
    ),
}


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
            for rollup in ROLLUPS:
                stored = con.execute(f"SELECT * FROM {rollup} ORDER BY ALL").fetchall()
                assert stored == rollup_from_scratch(con, rollup, *ROLLUPS[rollup]), (
                    f"{rollup} after {Path(batch.path).name}"
                )
            for table, (stored_sql, scratch_sql) in KEPT.items():
                stored = con.execute(stored_sql).fetchall()
                assert stored == con.execute(scratch_sql).fetchall(), f"{table} after {Path(batch.path).name}"
        # The batches did what the rollups must follow: late records, known material found by batches.
        assert con.execute(OLDER_CLUSTERS_MATCHED_BY_LATER_BATCHES).fetchone()[0] > 0
        assert con.execute(FIRST_SIGHTINGS_MOVED_BY_LATER_BATCHES).fetchone()[0] > 0
    finally:
        con.close()
