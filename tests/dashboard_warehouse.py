"""A small synthetic warehouse for the dashboard page tests (Overview, Trend explorer).

Rows are written into the real schema (`ensure_schema`) with `insert`, which names the columns it
is given and fills every other NOT NULL column with a neutral value (0, false, ''), so the
fixture keeps working while other parts of the schema grow columns.

The data: 1 Jan 2023 - 15 Jun 2024, nine countries (weights 1-9) x two platforms (weights 1, 2),
one rollup row per day, country and platform:
- referrals = 1 + country weight x platform weight, plus 5 a day on each platform for Sweden
  from 1 Mar 2024 (so Sweden is the top mover of Mar-May 2024 vs Dec 2023-Feb 2024);
- actionable = country weight; files = 2 x country weight; ChatApp referrals come by the 'chat'
  channel, PhotoShare ones by 'social'; PhotoShare referrals carry the sextortion annotation;
- the file rollup mirrors files, category A1 for ChatApp and B1 for PhotoShare, 1 new cluster a row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from warehouse import connect, ensure_schema
from warehouse.period_rollups import refresh_period_rollups

COUNTRIES = ("AUT", "BEL", "DEU", "FRA", "ITA", "NLD", "POL", "ESP", "SWE")
PLATFORMS = ("ChatApp", "PhotoShare")
FIRST_DAY, LAST_DAY = "2023-01-01", "2024-06-15"
GROWTH_COUNTRY, GROWTH_FROM, GROWTH_PER_DAY = "SWE", "2024-03-01", 5
MEDIA_CLUSTERS = 2500
QUARANTINED = (1200, 34)  # referrals, files


def _neutral(data_type: str) -> str:
    kind = data_type.upper()
    if kind.startswith("BOOL"):
        return "false"
    if kind.startswith(("VARCHAR", "TEXT")):
        return "''"
    if kind.startswith("DATE"):
        return "DATE '2000-01-01'"
    if kind.startswith("TIMESTAMP"):
        return "TIMESTAMP '2000-01-01 00:00:00'"
    if kind.endswith("[]"):
        return "[]"
    return "0"


def every_alert(**changes: Any) -> dict[str, Any]:
    """Parameters of the `analytics_alerts` named query that list every alert of the latest run (no filter,
    no scope, nothing reviewed), with `changes` applied."""
    return {
        "run_id": "",
        "metrics": [],
        "kinds": [],
        "countries": [],
        "platforms": [],
        "scope_countries": None,
        "show": "all",
        "reviewed_keys": [],
        "start": None,
        "end": None,
        "sort_by": "importance",
        "limit": 10_000,
        **changes,
    }


def refresh_alerts(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Rebuild `analytics_alert` for one run from its alerting tables, as `grace analyse` writes it (for
    fixtures that add synthetic anomalies or change points to a run)."""
    from analytics.alerting import mark_alerts
    from analytics.detectors import ALERT_TABLE, alert_rows, alert_sources
    from analytics.results import AlertParams

    tables = {}
    for name in (table.name for table in alert_sources()):
        cursor = con.execute(f"SELECT * FROM {name} WHERE run_id = ?", [run_id])
        columns = [d[0] for d in cursor.description]
        tables[name] = [dict(zip(columns, row)) for row in cursor.fetchall()]
    con.execute(f"DELETE FROM {ALERT_TABLE} WHERE run_id = ?", [run_id])
    rows = pd.DataFrame(mark_alerts(alert_rows(tables), AlertParams(), frozenset()))
    if not rows.empty:
        con.register("alert_rows", rows)
        listed = ", ".join(rows.columns)
        con.execute(f"INSERT INTO {ALERT_TABLE} ({listed}) SELECT {listed} FROM alert_rows")
        con.unregister("alert_rows")


def insert(con: duckdb.DuckDBPyConnection, table: str, select_sql: str, params: dict[str, Any] | None = None) -> None:
    """INSERT the rows of `select_sql` into `table` by column name; other columns get neutral values."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE insert_rows AS {select_sql}", params or {})
    given = {
        name
        for (name,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'insert_rows'"
        ).fetchall()
    }
    columns = con.execute(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_name = ? AND table_schema = 'main' ORDER BY ordinal_position",
        [table],
    ).fetchall()
    unknown = given - {name for name, _, _ in columns}
    if unknown:
        raise ValueError(f"{table}: no column(s) {', '.join(sorted(unknown))}")
    values = [
        name if name in given else ("NULL" if nullable == "YES" else _neutral(kind)) for name, kind, nullable in columns
    ]
    con.execute(f"INSERT INTO {table} SELECT {', '.join(values)} FROM insert_rows")
    con.execute("DROP TABLE insert_rows")


def build(path: Path) -> Path:
    """Write the synthetic warehouse described above to `path`."""
    con = connect(path)
    ensure_schema(con)
    params = {
        "countries": list(COUNTRIES),
        "platforms": list(PLATFORMS),
        "first": FIRST_DAY,
        "last": LAST_DAY,
        "growth_country": GROWTH_COUNTRY,
        "growth_from": GROWTH_FROM,
        "growth": GROWTH_PER_DAY,
    }
    insert(
        con,
        "rollup_referral_daily",
        """
        SELECT CAST(t.d AS DATE) AS date_key, c.country AS country_iso3, p.platform AS platform_name,
               CASE WHEN p.weight = 1 THEN 'chat' ELSE 'social' END AS channel,
               'IT_CP' AS incident_type_code,
               p.weight = 2 AS has_sextortion,
               1 + c.weight * p.weight
                 + CASE WHEN c.country = $growth_country AND t.d >= CAST($growth_from AS DATE) THEN $growth ELSE 0 END
                 AS referrals,
               c.weight AS actionable,
               2 * c.weight AS files,
               CASE WHEN p.weight = 2 THEN 1 + c.weight * p.weight ELSE 0 END AS with_sextortion
        FROM range(CAST($first AS DATE), CAST($last AS DATE) + INTERVAL 1 DAY, INTERVAL 1 DAY) AS t(d),
             (SELECT unnest($countries) AS country, generate_subscripts($countries, 1) AS weight) AS c,
             (SELECT unnest($platforms) AS platform, generate_subscripts($platforms, 1) AS weight) AS p
    """,
        params,
    )
    insert(
        con,
        "rollup_file_daily",
        """
        SELECT date_key, country_iso3, platform_name,
               CASE WHEN channel = 'chat' THEN 'A1' ELSE 'B1' END AS category_code,
               files, 1 AS new_clusters
        FROM rollup_referral_daily
    """,
    )
    refresh_period_rollups(con, None)
    insert(
        con,
        "media_cluster",
        """
        SELECT CAST(i AS UHUGEINT) AS cluster_id, DATE '2023-01-01' AS first_seen_date, 'AUT' AS first_seen_country
        FROM range($n) AS t(i)
    """,
        {"n": MEDIA_CLUSTERS},
    )
    insert(
        con,
        "etl_batch",
        """
        SELECT 'batch-1' AS batch_id, 'case_export' AS source_kind, 'loaded' AS status,
               $rq AS referrals_quarantined, $fq AS files_quarantined,
               TIMESTAMP '2024-06-16 01:00:00' AS started_at, TIMESTAMP '2024-06-16 01:02:03' AS finished_at
    """,
        {"rq": QUARANTINED[0], "fq": QUARANTINED[1]},
    )
    con.close()
    return path


def add_analysis(path: Path) -> None:
    """One `grace analyse`-like run: a change point and an anomaly in the EU total of monthly
    referrals, a change point in Sweden's, and two ranked findings (synthetic rows)."""
    con = connect(path)
    insert(
        con,
        "analytics_run",
        """
        SELECT 'run-1' AS run_id, TIMESTAMP '2024-06-16 04:00:00' AS created_at, 'test' AS code_version,
               '{}' AS parameters, 21 AS series_count, 0 AS skipped_count, 1.5 AS seconds
    """,
    )
    insert(
        con,
        "analytics_changepoint",
        """
        SELECT 'run-1' AS run_id, 'referrals|month|none|total' AS series_id, 'referrals' AS metric, 'month' AS grain,
               'none' AS split_by, 'total' AS entity, DATE '2024-03-01' AS date, 100.0 AS level_before,
               110.0 AS level_after, 10.0 AS magnitude, 0.1 AS relative_change, 'up' AS direction, 0.9 AS confidence
        UNION ALL
        SELECT 'run-1', 'referrals|month|country|SWE', 'referrals', 'month', 'country', 'SWE', DATE '2024-03-01',
               19.0, 24.0, 5.0, 0.26, 'up', 0.95
    """,
    )
    insert(
        con,
        "analytics_anomaly",
        """
        SELECT 'run-1' AS run_id, 'referrals|month|none|total' AS series_id, 'referrals' AS metric, 'month' AS grain,
               'none' AS split_by, 'total' AS entity, DATE '2023-07-01' AS date, 5000.0 AS value, 4000.0 AS expected,
               1000.0 AS magnitude, 0.25 AS relative, 'up' AS direction, 4.2 AS score
    """,
    )
    insert(
        con,
        "analytics_finding",
        """
        SELECT 'run-1' AS run_id, 1 AS rank, 0.9 AS score, 'changepoint' AS kind,
               'referrals|month|country|SWE' AS series_id, 'referrals' AS metric, 'month' AS grain,
               'country' AS split_by, 'SWE' AS entity, DATE '2024-03-01' AS date,
               'A structural break in referrals in SWE in 2024-03' AS headline, '{}' AS numbers,
               'changepoint' AS detector, 'analytics_changepoint' AS source_table, '{}' AS parameters
        UNION ALL
        SELECT 'run-1', 2, 0.5, 'anomaly', 'referrals|month|none|total', 'referrals', 'month', 'none', 'total',
               DATE '2023-07-01', 'Spike in referrals in Jul 2023', '{}', 'anomaly', 'analytics_anomaly', '{}'
    """,
    )
    refresh_alerts(con, "run-1")
    con.close()
