"""The oracle for tables the ETL keeps batch by batch: each daily rollup, and each table it keeps by a
batch's changes, computed afresh from the facts alone. Used after every ETL batch
(test_rollups_from_scratch.py) and on a replicated warehouse (test_benchmark_replicate_warehouse.py)."""

from __future__ import annotations

from builders import rollup_from_scratch

from warehouse import read_sql

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


def mart_cluster_reach_from_scratch(con) -> list[tuple]:
    """mart_cluster_reach filled whole from media_cluster and cluster_spread, by the ETL's SQL."""
    con.execute("CREATE OR REPLACE TEMP VIEW mart_reach_changes AS " + read_sql("etl/mart_reach_all_clusters.sql"))
    try:
        return con.execute("SELECT * FROM (" + read_sql("etl/mart_cluster_reach.sql") + ") ORDER BY ALL").fetchall()
    finally:
        con.execute("DROP VIEW mart_reach_changes")


def tables_unlike_their_recompute(con) -> list[str]:
    """Names of the rollups and kept tables whose stored rows differ from their recompute from the facts."""
    unlike = [
        rollup
        for rollup, (dates, every_date) in ROLLUPS.items()
        if con.execute(f"SELECT * FROM {rollup} ORDER BY ALL").fetchall()
        != rollup_from_scratch(con, rollup, dates, every_date)
    ]
    unlike += [
        table
        for table, (stored_sql, scratch_sql) in KEPT.items()
        if con.execute(stored_sql).fetchall() != con.execute(scratch_sql).fetchall()
    ]
    stored_reach = con.execute("SELECT * FROM mart_cluster_reach ORDER BY ALL").fetchall()
    if stored_reach != mart_cluster_reach_from_scratch(con):
        unlike.append("mart_cluster_reach")
    return unlike
