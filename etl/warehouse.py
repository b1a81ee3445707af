"""Opening the DuckDB warehouse and creating its schema.

`connect()` is the one way code opens the warehouse. The ETL opens it read-write (it is the
only writer); the dashboard and reports open it read-only. `ensure_schema()` applies the DDL
in `sql/ddl/` idempotently and seeds the static dimensions.
"""

from __future__ import annotations

import os
import time
from functools import lru_cache
from pathlib import Path

import duckdb

from etl.reference import EU27, INCIDENT_TYPES, INDUSTRY_CLASSIFICATIONS
from grace import __version__
from grace.config import SQL_DIR
from grace.errors import WarehouseError

SCHEMA_VERSION = "3"  # 2: pseudonyms and cluster ids stored as 128-bit integers; 3: annotation flags in the
#   rollups, backlog flows, repeat reporting, cross-border spread and the distinct-count mart
UNCLASSIFIED = "UNCLASSIFIED"


DEFAULT_MEMORY_LIMIT = "3GB"


DEFAULT_LOCK_WAIT_SECONDS = 30.0


def lock_wait_seconds() -> float:
    """`$GRACE_LOCK_WAIT_SECONDS`: how long to wait for another process's lock on the file."""
    value = os.environ.get("GRACE_LOCK_WAIT_SECONDS")
    if not value:
        return DEFAULT_LOCK_WAIT_SECONDS
    try:
        return max(0.0, float(value))
    except ValueError:
        raise WarehouseError(f"GRACE_LOCK_WAIT_SECONDS={value!r} is not a number of seconds") from None


def _open_waiting_for_lock(target: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open the file. A writer retries for up to `lock_wait_seconds()` while another process holds
    the lock (the dashboard's idle-closing reader); a reader fails at once, so a dashboard callback
    reports "warehouse unavailable" during a load instead of hanging."""
    deadline = time.monotonic() + (0.0 if read_only else lock_wait_seconds())
    while True:
        try:
            return duckdb.connect(target, read_only=read_only)
        except duckdb.IOException as error:
            first_line = str(error).splitlines()[0]
            if "lock" not in first_line.lower() or time.monotonic() >= deadline:
                raise WarehouseError(f"{target}: cannot open warehouse ({first_line})") from error
            time.sleep(0.25)


def connect(path: Path | str, read_only: bool = False, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file (`:memory:` for an in-memory one).

    Read-only opening of a missing file is an error naming the path, rather than DuckDB's
    generic message; read-write opening creates parent folders.
    """
    target = str(path)
    if target != ":memory:":
        file = Path(path)
        if read_only and not file.exists():
            raise WarehouseError(f"{file}: warehouse does not exist (run `grace demo` or `grace etl run` first)")
        if not read_only:
            file.parent.mkdir(parents=True, exist_ok=True)
    con = _open_waiting_for_lock(target, read_only)
    con.execute("SET enable_progress_bar = false")
    # Bounded memory: large batches spill to disk instead of growing past the machine's share.
    con.execute("SET memory_limit = ?", [os.environ.get("GRACE_DUCKDB_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)])
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


@lru_cache(maxsize=None)
def read_sql(relative: str) -> str:
    """Text of a SQL file under `sql/`, e.g. `read_sql('etl/check_files.sql')` (read once per process)."""
    path = SQL_DIR / relative
    if not path.is_file():
        raise FileNotFoundError(f"{path}: SQL file missing from the installation")
    return path.read_text(encoding="utf-8")


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every warehouse table that is missing and seed static dimensions (idempotent).

    A warehouse built by an incompatible schema version is refused rather than silently mixed.
    """
    if is_initialised(con):
        found = con.execute("SELECT value FROM warehouse_meta WHERE key = 'schema_version'").fetchall()
        if found and found[0][0] != SCHEMA_VERSION:
            raise WarehouseError(
                f"warehouse has schema version {found[0][0]}, this code needs {SCHEMA_VERSION}; "
                "rebuild it (grace demo --force, or reload the deliveries into a new file)"
            )
    for ddl in sorted((SQL_DIR / "ddl").glob("*.sql")):
        con.execute(ddl.read_text(encoding="utf-8"))
    con.execute(
        "INSERT OR REPLACE INTO warehouse_meta VALUES ('schema_version', ?), ('created_by', ?)",
        [SCHEMA_VERSION, f"grace {__version__}"],
    )
    con.executemany(
        "INSERT OR IGNORE INTO dim_country VALUES (?, ?, ?, true)", [list(row) for row in EU27]
    )
    con.executemany("INSERT OR IGNORE INTO dim_incident_type VALUES (?, ?)", [list(row) for row in INCIDENT_TYPES])
    con.executemany(
        "INSERT OR IGNORE INTO dim_category VALUES (?, 'industry_classification')",
        [[code] for code in INDUSTRY_CLASSIFICATIONS],
    )
    con.execute("INSERT OR IGNORE INTO dim_category VALUES (?, 'none')", [UNCLASSIFIED])


def is_initialised(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the warehouse has its schema (the meta table exists)."""
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'warehouse_meta'"
    ).fetchall()
    return bool(rows and rows[0][0])
