"""The auth store's SQLite file: where it lives, how it is opened, its SQL.

Users and the audit log share one SQLite file, `$GRACE_HOME/auth/auth.sqlite` (directory mode
0700, file 0600), so a user-admin action and its audit row commit in one transaction. SQLite
(stdlib, transactional, WAL for concurrent readers) is enough for a few hundred users and the
audit volume of a dashboard; the DuckDB warehouse stays read-only for the dashboard.
Statements live in `sql/auth/`, one per file, with bound parameters.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from grace.config import grace_home
from warehouse import read_sql

BUSY_TIMEOUT_MS = 5000
# Columns added to a table after stores were made: (table, column, statement in sql/auth/). `schema.sql`
# creates new stores with them; `open_store` adds them to older ones, once, in a write transaction.
COLUMN_UPGRADES = (("auth_user", "agency_code", "upgrade_user_agency"),)


def default_store_path() -> Path:
    """`$GRACE_HOME/auth/auth.sqlite`."""
    return grace_home() / "auth" / "auth.sqlite"


def auth_sql(name: str) -> str:
    """Text of `sql/auth/<name>.sql` (read once per process by the one SQL loader)."""
    return read_sql(f"auth/{name}.sql")


def utc_now() -> str:
    """Now in UTC as ISO 8601 with microseconds and `Z` (text that sorts as time)."""
    return utc_text(datetime.now(UTC))


def utc_text(moment: datetime) -> str:
    """A timezone-aware datetime as the store's UTC text."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _prepare_file(path: Path) -> None:
    """Create the directory (0700) and an empty file (0600) before SQLite opens it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        os.close(fd)


def open_store(path: Path | str | None = None, create: bool = True) -> sqlite3.Connection:
    """Open the store; with `create`, make the file and its schema when missing (idempotent).

    Autocommit mode (`isolation_level=None`): every write goes through `transaction()`, which
    takes the write lock up front (`BEGIN IMMEDIATE`) so the audit chain cannot fork.
    """
    path = Path(path) if path is not None else default_store_path()
    if create:
        _prepare_file(path)
    con = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    con.row_factory = sqlite3.Row
    con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if create:
        con.execute("PRAGMA journal_mode = WAL")
        con.executescript(auth_sql("schema"))
        upgrade_columns(con)
    return con


def _columns(con: sqlite3.Connection, table: str) -> set[str]:
    return {row["name"] for row in con.execute(f"PRAGMA table_info({table})")}


def upgrade_columns(con: sqlite3.Connection) -> list[str]:
    """Add the columns of `COLUMN_UPGRADES` that an older store lacks; returns what was added.

    Checked again inside the write transaction, so two processes opening an old store at once add a
    column once."""
    missing = [item for item in COLUMN_UPGRADES if item[1] not in _columns(con, item[0])]
    if not missing:
        return []
    added = []
    with transaction(con):
        for table, column, statement in missing:
            if column not in _columns(con, table):
                con.execute(auth_sql(statement))
                added.append(f"{table}.{column}")
    return added


@contextmanager
def connection(path: Path) -> Iterator[sqlite3.Connection]:
    """A short-lived connection to an existing store (one per operation, safe across threads)."""
    con = open_store(path, create=False)
    try:
        yield con
    finally:
        con.close()


# Writers of one process take turns here before asking SQLite for its write lock: SQLite's busy handler
# sleeps and retries, and with dozens of threads writing audit rows at once one of them can be starved past
# the busy timeout ("database is locked", a 500 for the user). Other processes still meet at SQLite's lock.
_PROCESS_WRITE_LOCK = threading.Lock()


@contextmanager
def transaction(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: committed on success, rolled back on any error."""
    with _PROCESS_WRITE_LOCK:
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
