"""Weekly and monthly rollups beside the daily ones, kept in step with them.

`rollup_referral_daily`, `rollup_file_daily` and `rollup_perceptual_daily` hold one row per day × dimensions. A question about whole
weeks or months (a monthly trend, a year's totals) summed those rows per request; at 10 M referrals that
is millions of rows. The weekly and monthly tables hold the same columns with `date_key` = the period's
first day, so the same question reads fewer rows (at 10 M referrals: 1.98 M daily referral rows, 0.73 M
weekly, 0.30 M monthly).

Every writer of a daily rollup (the ETL batch, a hash-set or hash-bank refresh, the perceptual matching
after a batch or a rebuild, the hub's merge of DP releases) calls `refresh_period_rollups` in its own
transaction, for the dates it rewrote and the daily rollups it rewrote them in: the weeks and months
holding them are recomputed from the daily rows (delete, insert). So the period tables never hold
a count the daily ones do not, and a failed write leaves both as they were.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from warehouse.sql_files import read_sql

# daily rollup -> the SQL that sums it per period, and its period tables by grain (our own constants)
PERIOD_ROLLUPS: dict[str, tuple[str, dict[str, str]]] = {
    "rollup_referral_daily": (
        "warehouse/period_rollup_referral.sql",
        {"week": "rollup_referral_weekly", "month": "rollup_referral_monthly"},
    ),
    "rollup_file_daily": (
        "warehouse/period_rollup_file.sql",
        {"week": "rollup_file_weekly", "month": "rollup_file_monthly"},
    ),
    "rollup_perceptual_daily": (
        "warehouse/period_rollup_perceptual.sql",
        {"week": "rollup_perceptual_weekly", "month": "rollup_perceptual_monthly"},
    ),
}


def period_table(daily: str, grain: str) -> str:
    """The table holding `daily`'s rows summed per `grain` ('week' or 'month')."""
    return PERIOD_ROLLUPS[daily][1][grain]


def refresh_period_rollups(
    con: duckdb.DuckDBPyConnection, dates: str | None = "affected_dates", daily: Iterable[str] | None = None
) -> int:
    """Recompute the weekly and monthly rows of every period holding a date of temp table `dates`
    (column `date_key`); when `dates` is None, rebuild the period tables whole from the daily rollups.
    `daily` names the daily rollups whose copies to refresh (default: every one in `PERIOD_ROLLUPS`).
    Returns how many periods were written.

    Runs inside the caller's transaction. `dates` is a temp table name from our code, never input."""
    chosen = list(PERIOD_ROLLUPS) if daily is None else list(daily)
    unknown = sorted(set(chosen) - set(PERIOD_ROLLUPS))
    if unknown:
        raise ValueError(f"no weekly or monthly copies are kept of {', '.join(unknown)}")
    source = (
        f"SELECT date_key FROM {dates}"
        if dates
        else " UNION ".join(f"SELECT date_key FROM {table}" for table in chosen)
    )
    con.execute("CREATE OR REPLACE TEMP TABLE period_rollup_dates AS " + source)
    con.execute("CREATE OR REPLACE TEMP TABLE period_rollup_todo AS " + read_sql("warehouse/period_rollup_todo.sql"))
    try:
        for query, tables in (PERIOD_ROLLUPS[table] for table in chosen):
            for grain, table in tables.items():
                if dates:
                    con.execute(
                        f"DELETE FROM {table} WHERE date_key IN "
                        "(SELECT period_start FROM period_rollup_todo WHERE grain = $grain)",
                        {"grain": grain},
                    )
                else:
                    con.execute(f"DELETE FROM {table}")
                con.execute(f"INSERT INTO {table} BY NAME " + read_sql(query), {"grain": grain})
        row = con.execute("SELECT count(*) FROM period_rollup_todo").fetchone()
        return int(row[0]) if row else 0
    finally:
        con.execute("DROP TABLE IF EXISTS period_rollup_todo")
        con.execute("DROP TABLE IF EXISTS period_rollup_dates")
