"""`WarehouseReader`: read-only access to one warehouse file through named queries (`sql_files.py`).

The warehouse is opened read-only and shared by the callbacks of a process: each `session()` is
a cursor on one connection, so DuckDB's buffer cache survives between requests (opening a
warehouse and re-reading its blocks per callback cost more than the queries themselves). The
connection closes after `$GRACE_READER_IDLE_SECONDS` (default 5) without a session, so a writer
(the ETL, `grace analyse`) gets the file lock between bursts of use; writers wait for it (see
`warehouse.connection.connect`). A warehouse file replaced on disk is reopened on the next idle session.
The connection runs under its own DuckDB memory limit, `GRACE_READER_MEMORY_LIMIT` (1 GB by default, a third
of the writers'): readers read rollups and marts, and the dashboard process stays small however large the
warehouse.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from grace.errors import WarehouseError
from grace.settings import query_timeout_seconds, reader_idle_seconds, reader_memory_limit, result_cache_bytes
from warehouse.connection import connect
from warehouse.result_cache import ResultCache
from warehouse.schema import check_schema
from warehouse.sql_files import load_query


class QueryTimeout(WarehouseError):
    """A dashboard's warehouse session ran longer than `GRACE_QUERY_TIMEOUT_SECONDS` and was interrupted."""


class Session:
    """One read-only connection, used for the queries of a single callback; results come from the
    reader's `ResultCache` when the same query with the same parameters ran on the same data version."""

    def __init__(self, con: duckdb.DuckDBPyConnection, cache: ResultCache | None = None, version: Hashable = None):
        self._con = con
        self._cache = cache
        self._version = version

    def run(self, name: str, **params: Any) -> pd.DataFrame:
        """Run a named query with its parameters; return the rows as a DataFrame."""
        query = load_query(name)
        bound = query.bind(params)
        if self._cache is None:
            return self._con.execute(query.sql, bound).df()
        key = self._cache.key(name, bound)
        found = self._cache.get(self._version, key)
        if found is not None:
            return found
        frame = self._con.execute(query.sql, bound).df()
        self._cache.put(self._version, key, frame)
        return frame

    def value(self, name: str, **params: Any) -> Any:
        """The first value of the first row of a named query (None without a row), without building a
        DataFrame: for the one-number checks made on every request, where DuckDB's conversion to pandas
        (~2-5 ms of CPU per query) would cost more than the query (~0.3 ms). Not cached."""
        query = load_query(name)
        row = self._con.execute(query.sql, query.bind(params)).fetchone()
        return None if row is None else row[0]


class SharedConnection:
    """One read-only connection per warehouse file, lent out as cursors and closed when idle."""

    def __init__(self, path: Path, idle_seconds: float, timeout_seconds: float | None = None):
        self.path = path
        self.idle_seconds = idle_seconds
        self.timeout_seconds = timeout_seconds
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._stamp: tuple[int, ...] | None = None
        self._active = 0
        self._last_release = 0.0
        self._timer: threading.Timer | None = None

    @property
    def is_open(self) -> bool:
        return self._con is not None

    @property
    def version(self) -> Hashable:
        """The data version of the open connection: the file's stamp when it was opened."""
        return self._stamp

    def _file_stamp(self) -> tuple[int, ...] | None:
        """Modification time and size of the file and of its write-ahead log (a commit may sit there)."""
        stamp: list[int] = []
        for file in (self.path, self.path.with_name(self.path.name + ".wal")):
            try:
                stat = file.stat()
            except FileNotFoundError:
                if file == self.path:
                    return None
                continue
            except OSError:
                return None
            stamp += [stat.st_ino, stat.st_mtime_ns, stat.st_size]
        return tuple(stamp)

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for one callback; the connection opens on first use.

        A query still running `timeout_seconds` after the cursor was lent out is interrupted and
        the session ends with `QueryTimeout`, so one request cannot hold a worker for minutes.
        """
        with self._lock:
            if self._con is not None and self._active == 0 and self._file_stamp() != self._stamp:
                self._close_locked()  # replaced or rewritten on disk since we opened it
            if self._con is None:
                con = connect(self.path, read_only=True, memory_limit=reader_memory_limit())
                try:
                    check_schema(con, self.path)  # a warehouse of another version is refused on read too
                except BaseException:
                    con.close()
                    raise
                self._con = con
                self._stamp = self._file_stamp()
            cursor = self._con.cursor()
            self._active += 1
        watchdog = None
        if self.timeout_seconds:
            watchdog = threading.Timer(self.timeout_seconds, cursor.interrupt)
            watchdog.daemon = True
            watchdog.start()
        try:
            yield cursor
        except duckdb.InterruptException:
            raise QueryTimeout(
                f"the warehouse query took longer than {self.timeout_seconds:g} s and was stopped "
                "(GRACE_QUERY_TIMEOUT_SECONDS); narrow the filters or choose a coarser grain"
            ) from None
        finally:
            if watchdog is not None:
                watchdog.cancel()
            cursor.close()
            with self._lock:
                self._active -= 1
                self._last_release = time.monotonic()
                if self.idle_seconds == 0 and self._active == 0:
                    self._close_locked()
                elif self._timer is None:
                    self._schedule_locked(self.idle_seconds)

    def _schedule_locked(self, delay: float) -> None:
        self._timer = threading.Timer(delay, self._close_if_idle)
        self._timer.daemon = True
        self._timer.start()

    def _close_if_idle(self) -> None:
        with self._lock:
            self._timer = None
            if self._con is None or self._active:
                return
            remaining = self._last_release + self.idle_seconds - time.monotonic()
            if remaining > 0:
                self._schedule_locked(remaining)
            else:
                self._close_locked()

    def _close_locked(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def close(self) -> None:
        """Close now if no cursor is lent out (a later session reopens it)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._active == 0:
                self._close_locked()


class WarehouseReader:
    """Read-only access to one warehouse file through named queries.

    One instance belongs to one Dash app (stored on it by `create_app`): the path, the parsed
    query texts and the shared, idle-closing connection described in the module docstring.
    """

    def __init__(
        self,
        path: Path | str,
        idle_seconds: float | None = None,
        timeout_seconds: float | None = None,
        cache_bytes: int | None = None,
    ):
        self.path = Path(path)
        self._shared = SharedConnection(
            self.path,
            reader_idle_seconds() if idle_seconds is None else idle_seconds,
            query_timeout_seconds() if timeout_seconds is None else timeout_seconds,
        )
        self.cache = ResultCache(result_cache_bytes() if cache_bytes is None else cache_bytes)

    def __repr__(self) -> str:
        return f"WarehouseReader({str(self.path)!r})"

    @property
    def is_open(self) -> bool:
        """Whether the shared connection is open right now."""
        return self._shared.is_open

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A cursor on the shared read-only connection, for the queries of one callback."""
        with self._shared.cursor() as cursor:
            yield Session(cursor, self.cache if self.cache.enabled else None, self._shared.version)

    def cursor(self):
        """A raw cursor on the shared connection (context manager), for readers such as
        `analytics.warehouse_series.load_series` that take a DuckDB connection."""
        return self._shared.cursor()

    def close(self) -> None:
        """Release the warehouse file now (e.g. before writing to it in the same process)."""
        self._shared.close()

    def run(self, name: str, **params: Any) -> pd.DataFrame:
        """Run one named query in its own session."""
        with self.session() as session:
            return session.run(name, **params)

    def value(self, name: str, **params: Any) -> Any:
        """The first value of one named query, in its own session (`Session.value`)."""
        with self.session() as session:
            return session.value(name, **params)

    def check(self) -> None:
        """Fail with a one-line `WarehouseError` unless the warehouse opens and has this code's schema."""
        # The readers' limit here too: DuckDB shares one instance per file in a process, and the limit is its.
        con = connect(self.path, read_only=True, memory_limit=reader_memory_limit())
        try:
            check_schema(con, self.path)
        finally:
            con.close()
