"""Import a hash set of known material (CSV form) into the warehouse.

The file is validated as a whole against `data_contracts/hash_set.yaml`; one bad row refuses
the file (error names row and field) and leaves the warehouse unchanged. Clusters already
loaded whose hashes appear in the set become known, and the file rollup is recomputed so
known-material shares stay consistent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from etl.contracts import load_contract, validation_sql
from etl.sources.base import file_checksum
from etl.sources.text_reader import read_header, read_text_table
from grace.errors import InputFileError
from warehouse import ensure_schema, read_sql
from warehouse.period_rollups import refresh_period_rollups

HASH_SET_COLUMNS = ["md5", "sha1", "category"]


def import_hash_set(con: duckdb.DuckDBPyConnection, path: Path, name: str | None = None) -> dict:
    """Load `path` into `hash_set_entry`; returns {'status', 'rows', 'import_id'}."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "no such file")
    ensure_schema(con)
    import_id = "hs-" + file_checksum(path)[:20]
    if con.execute("SELECT 1 FROM import_log WHERE import_id = ?", [import_id]).fetchall():
        return {"status": "skipped", "rows": 0, "import_id": import_id}
    header = read_header(path)
    if header != HASH_SET_COLUMNS:
        raise InputFileError(
            path, f"header must be exactly {','.join(HASH_SET_COLUMNS)}, found {','.join(header)}", row=0
        )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE stg_rejects (dataset VARCHAR, source_file VARCHAR, row_number BIGINT, "
        "field VARCHAR, reason VARCHAR, detail VARCHAR)"
    )
    read_text_table(con, path, HASH_SET_COLUMNS, "stg_hash_set", "entries", header=True)
    con.execute("ALTER TABLE stg_hash_set ADD COLUMN _source_file VARCHAR")
    first = (
        con.execute("SELECT row_number, field, reason FROM stg_rejects ORDER BY row_number LIMIT 1").fetchone()
        or con.execute(
            f"SELECT _row, field, reason FROM ({validation_sql(load_contract('hash_set').dataset('entries'), 'stg_hash_set')}) "
            "ORDER BY _row, field LIMIT 1"
        ).fetchone()
    )
    if first:
        raise InputFileError(path, f"{first[2]}; file refused, nothing imported", row=first[0], field=first[1])
    label = name or path.stem
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "INSERT INTO hash_set_entry SELECT NULLIF(lower(trim(md5)), ''), NULLIF(lower(trim(sha1)), ''), "
            "trim(category), $name FROM stg_hash_set ORDER BY _row",
            {"name": label},
        )
        counted = con.execute("SELECT count(*) FROM stg_hash_set").fetchone()
        if counted is None:
            raise RuntimeError("count(*) of stg_hash_set returned no row")
        rows = counted[0]
        con.execute(read_sql("etl/refresh_known_clusters.sql"))
        con.execute("CREATE OR REPLACE TEMP TABLE affected_dates AS SELECT DISTINCT date_key FROM rollup_file_daily")
        con.execute("DELETE FROM rollup_file_daily")
        con.execute("INSERT INTO rollup_file_daily BY NAME " + read_sql("etl/rollup_file_daily.sql"))
        refresh_period_rollups(con, "affected_dates")
        con.execute(
            "INSERT INTO import_log VALUES (?, 'hash_set', ?, ?, ?, ?)",
            [import_id, str(path), file_checksum(path), rows, datetime.now(UTC).replace(tzinfo=None)],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute("DROP TABLE IF EXISTS stg_hash_set")
        con.execute("DROP TABLE IF EXISTS affected_dates")
    return {"status": "loaded", "rows": int(rows), "import_id": import_id}
