"""Keeping matches, suppression, `is_known` and the rollups consistent after hash banks change.

Every change goes the same way, inside the caller's transaction:
1. `snapshot_active(con)` — which media clusters have an active positive match now
   (`sql/matching/active_bank_matches.sql`, the one definition);
2. the change itself (entries added, disabled, enabled …);
3. matches found are put in the temp table `bank_found` and recorded once per (cluster, bank, entry,
   kind) (`record_found`);
4. `settle(con)` — suppression by negative banks is recomputed, the clusters whose active status flipped
   get `is_known` = legacy hash set OR active bank match, and (unless the ETL recomputes them itself)
   the rollups are recomputed for those clusters' dates.

Retro-matching (`retro_match`) finds matches of a bank's entries among the media clusters already in the
warehouse: MD5 and SHA1 by SQL join, PDQ with a `PdqIndex` over the bank's enabled entries (memory
bounded by the bank) through which the clusters' PDQ hashes stream in chunks.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pandas as pd

from matching.bank_matcher import BankMatcher
from warehouse import read_sql
from warehouse.period_rollups import PERIOD_ROLLUPS, refresh_period_rollups

CLUSTER_CHUNK = 1 << 18  # cluster PDQ hashes parsed and searched per step
FOUND_COLUMNS = "cluster_id UHUGEINT, bank_name VARCHAR, bank_version VARCHAR, entry_id BIGINT, match_kind VARCHAR, distance SMALLINT, category VARCHAR"
# The perceptual rollup (bank_matched_files) is written by the ETL's perceptual step; when its query exists it
# is recomputed here for the dates whose active matches changed, like rollup_file_daily (reads `affected_dates`).
PERCEPTUAL_ROLLUP = "etl/rollup_perceptual_daily.sql"


def now() -> datetime:
    """UTC now, naive (the warehouse's TIMESTAMP columns hold UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def active_bank_matches_sql() -> str:
    """The SELECT of active positive bank matches (cluster_id, bank_name, bank_version, entry_id,
    match_kind, distance, category): wrap it as `(<sql>) AS active` in a rollup query."""
    return read_sql("matching/active_bank_matches.sql")


def snapshot_active(con: duckdb.DuckDBPyConnection) -> None:
    """Temp table `bank_active_before`: the clusters with an active positive match before a change;
    and an empty `bank_found` for the change's matches."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE bank_active_before AS SELECT DISTINCT cluster_id FROM ("
        + active_bank_matches_sql()
        + ")"
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE bank_found ({FOUND_COLUMNS})")


def add_found(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> None:
    """Append matches (cluster_id as text or int, bank_name, bank_version, entry_id, match_kind, distance,
    category) to `bank_found`."""
    if not len(frame):
        return
    staged = frame[["bank_name", "bank_version", "entry_id", "match_kind", "distance", "category"]].copy()
    staged.insert(0, "cluster_id", frame["cluster_id"].astype(str).to_numpy(object))
    con.register("bank_found_frame", staged)
    try:
        con.execute(
            "INSERT INTO bank_found SELECT CAST(cluster_id AS UHUGEINT), bank_name, bank_version, entry_id, "
            "match_kind, CAST(distance AS SMALLINT), category FROM bank_found_frame"
        )
    finally:
        con.unregister("bank_found_frame")


def retro_match(con: duckdb.DuckDBPyConnection, bank: str, entry_id: int | None = None) -> None:
    """Find the matches of `bank`'s enabled entries (or of one entry) among every media cluster in the
    warehouse, into `bank_found`."""
    con.execute(
        "INSERT INTO bank_found BY NAME " + read_sql("matching/exact_found.sql"), {"bank": bank, "entry_id": entry_id}
    )
    matcher = BankMatcher.from_warehouse(con, bank=bank, entry_id=entry_id)
    if not matcher.has_pdq:
        return
    reader = con.sql(read_sql("matching/cluster_pdqs.sql")).to_arrow_reader(CLUSTER_CHUNK)
    found = []
    for batch in reader:  # the connection is busy streaming: matches are inserted after the last chunk
        clusters = batch.to_pandas()
        matches = matcher.match(pdq=clusters["pdq"].to_numpy(object))
        if len(matches):
            matches["cluster_id"] = clusters["cluster_id"].to_numpy(object)[matches["query_index"].to_numpy()]
            found.append(matches)
    if found:
        add_found(con, pd.concat(found, ignore_index=True))


def record_found(con: duckdb.DuckDBPyConnection, found_by: str, found_at: datetime) -> int:
    """Insert the matches of `bank_found` that bank_match does not hold yet; returns how many."""
    before = _count(con, "bank_match")
    con.execute(read_sql("matching/insert_found_matches.sql"), {"found_by": found_by, "found_at": found_at})
    return _count(con, "bank_match") - before


def settle(con: duckdb.DuckDBPyConnection, *, clusters: str | None = None, rollups: bool = True) -> dict:
    """Recompute suppression, then `is_known` of the clusters whose active status flipped since
    `snapshot_active` (plus the clusters in temp table `clusters`, if named), then — with `rollups` —
    rollup_file_daily for the dates of the clusters whose is_known changed and the perceptual rollup for
    the dates of the clusters whose active status changed. Returns counts."""
    con.execute(read_sql("matching/refresh_suppression.sql"))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE bank_active_now AS SELECT DISTINCT cluster_id FROM ("
        + active_bank_matches_sql()
        + ")"
    )
    extra = f" UNION SELECT cluster_id FROM {clusters}" if clusters else ""  # a temp table name from our code
    con.execute(
        "CREATE OR REPLACE TEMP TABLE bank_touched_clusters AS "
        "(SELECT cluster_id FROM bank_active_now EXCEPT SELECT cluster_id FROM bank_active_before) "
        "UNION (SELECT cluster_id FROM bank_active_before EXCEPT SELECT cluster_id FROM bank_active_now)" + extra
    )
    con.execute("CREATE OR REPLACE TEMP TABLE bank_known_changes AS " + read_sql("matching/known_changes.sql"))
    con.execute(read_sql("matching/apply_known_changes.sql"))
    result = {
        "active_changed_clusters": _count(con, "bank_touched_clusters"),
        "known_changed_clusters": _count(con, "bank_known_changes"),
        "file_rollup_dates": 0,
        "perceptual_rollup_dates": 0,
    }
    if rollups:
        result["file_rollup_dates"] = _recompute(
            con, "bank_known_changes", "etl/rollup_file_daily.sql", "rollup_file_daily", "affected_dates"
        )
        result["perceptual_rollup_dates"] = _recompute(
            con, "bank_touched_clusters", PERCEPTUAL_ROLLUP, "rollup_perceptual_daily", "perceptual_dates"
        )
    for table in ("bank_active_before", "bank_active_now", "bank_touched_clusters", "bank_known_changes", "bank_found"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return result


def _recompute(con: duckdb.DuckDBPyConnection, clusters: str, query: str, rollup: str, dates_table: str) -> int:
    """Recompute `rollup` for the incident dates of the files of the clusters in temp table `clusters`
    (the rollup query reads the dates from temp table `dates_table`, as in the ETL); returns how many dates.
    Table names are our own constants, never input."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE bank_dates_of AS SELECT cluster_id FROM {clusters}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {dates_table} AS " + read_sql("matching/cluster_dates.sql"))
    dates = _count(con, dates_table)
    if dates:
        con.execute(f"DELETE FROM {rollup} WHERE date_key IN (SELECT date_key FROM {dates_table})")
        con.execute(f"INSERT INTO {rollup} BY NAME " + read_sql(query))
        if rollup in PERIOD_ROLLUPS:
            refresh_period_rollups(con, dates_table, (rollup,))
    con.execute("DROP TABLE bank_dates_of")
    con.execute(f"DROP TABLE {dates_table}")
    return dates


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()  # `table`: one of our own table names
    return int(row[0]) if row else 0
