"""Opening the DuckDB warehouse file.

`connect()` is the one way code opens the warehouse. The ETL and `grace analyse` open it
read-write (waiting for another process's lock); the dashboard and reports open it read-only
(failing at once while a writer holds it).
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from grace import settings
from grace.errors import WarehouseError


def _open_waiting_for_lock(target: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open the file. A writer retries for up to `lock_wait_seconds()` while another process holds
    the lock (the dashboard's idle-closing reader; `GRACE_LOCK_WAIT_SECONDS`); a reader fails at once, so a dashboard callback
    reports "warehouse unavailable" during a load instead of hanging."""
    deadline = time.monotonic() + (0.0 if read_only else settings.lock_wait_seconds())
    while True:
        try:
            return duckdb.connect(target, read_only=read_only)
        except duckdb.IOException as error:
            first_line = str(error).splitlines()[0]
            if "lock" not in first_line.lower() or time.monotonic() >= deadline:
                raise WarehouseError(f"{target}: cannot open warehouse ({first_line})") from error
            time.sleep(0.25)


def connect(
    path: Path | str, read_only: bool = False, threads: int | None = None, memory_limit: str | None = None
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file (`:memory:` for an in-memory one).

    Read-only opening of a missing file is an error naming the path, rather than DuckDB's
    generic message; read-write opening creates parent folders. `memory_limit`: DuckDB's (e.g. "1GB";
    default `GRACE_DUCKDB_MEMORY_LIMIT`).
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
    con.execute("SET memory_limit = ?", [memory_limit or settings.duckdb_memory_limit()])
    threads = threads or settings.duckdb_threads()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con
