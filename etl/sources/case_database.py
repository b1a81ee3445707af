"""Case database: incremental extraction from an agency's case system over SQLAlchemy.

The case system (PostgreSQL) holds schema `case_system` (configurable) with tables `referrals`
and `files`: `id bigserial primary key`, the case-export contract's columns (text), and
`updated_at`. GRACE reads it and never writes to it: every transaction is opened READ ONLY.

Extraction is incremental and commit-safe. An id watermark alone is not: ids are handed out when
a row is inserted but become visible when its transaction commits, so a referral whose
transaction commits after a later id was extracted would be skipped for ever. The window of rows
to read is therefore bounded by PostgreSQL's commit order, not by ids: every extraction plans in
one REPEATABLE READ snapshot and records that snapshot's xmin (`pg_snapshot_xmin`: every
transaction older than it had finished, so each row it wrote was visible and is now loaded). The
next extraction reads every row written by a transaction not older than that xmin (the row's
`xmin` system column, widened from 32 to 64 bits against the snapshot), plus every row above the
highest id loaded. A transaction still in flight at planning (the late commit) is never older
than the recorded xmin, so its rows are read next time whatever their ids; a row written in a
savepoint carries a subtransaction id, younger than its transaction, so it is read too (which is
why the rule is the xmin and not the snapshot's list of running transactions, which lists no
subtransactions). Rows read a second time (written by a transaction that finished after the
oldest one still running at the snapshot, or updated since they were loaded) are already in the
warehouse: the pipeline counts them as duplicates by referral key (keeping the first version), so
nothing is loaded twice. An overlap of N ids would be a guess
(a transaction may stay open while any number of ids are handed out); the xmin is exact, costs a
sequential read of `referrals` when planning, and needs no privilege beyond SELECT.

`case_database_batches()` splits the window into chunks of `chunk_size` referrals (in id order),
one `BatchSource` each. A chunk's checksum is its id range, size and the fingerprint of its
rows' ids and versions (`xmin`), so the same rows planned again are the same batch and are left
out as loaded: a re-run with nothing new plans nothing (or, while the window is held open, only
duplicates), and a retry after a failed chunk resumes at that chunk. Chunks load in order (a chunk whose predecessor is not in the warehouse refuses to
stage), and only the last one records the snapshot xmin in `etl_batch.watermark`
(`<last id> xmin=<xmin>`; other chunks `<last id>`): the window never moves past rows that were
not loaded. Should the database's transaction counter be behind the recorded xmin (the database
was restored into another cluster), everything is read again. A warehouse loaded before xmins
were recorded has ids only: its first run reads the whole database once, loads any referral the
id watermark missed and counts the rest as duplicates. While some transaction on the server stays
open (in any database: transaction ids are server-wide), the window is held open behind it: the
rows written since are read again by later runs (unchanged chunks are left out as loaded, changed
ones load as duplicates) until it ends.

Staging streams each chunk out of PostgreSQL with `COPY (query) TO STDOUT` (CSV, inside the same
read-only transaction), parses the stream with Arrow's incremental CSV reader in blocks of
`block_bytes` (every contract column as text) and inserts each Arrow record batch into
`stg_referrals` / `stg_files` in one statement: nothing is held whole in memory and no Python
code touches individual rows. `_source_file` names the table (`postgresql:case_system.referrals`)
and `_row` is the row's `id` in the case database, so a quarantined row points at the exact row.

Limitation: files are extracted with their referral, so a file added to a referral in a later
transaction, after the referral was loaded, is not picked up.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from etl.contracts import load_contract
from etl.sources.base import CASE_DATABASE, BatchSource
from grace.errors import GraceError
from warehouse import read_sql

DEFAULT_SCHEMA = "case_system"
DEFAULT_CHUNK_SIZE = 50_000
DEFAULT_BLOCK_BYTES = 8 << 20
CONNECT_TIMEOUT_SECONDS = 10
DATASETS = ("referrals", "files")

# Query-string keys of a database URL that carry secrets (libpq accepts them there too).
SECRET_QUERY_KEYS = frozenset({"password", "sslpassword", "passfile", "sslkey"})
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_USERINFO_PASSWORD = re.compile(r"(?<=://)([^/@:]*):[^/@]*@")
_KEYWORD_PASSWORD = re.compile(r"(?i)\b(password|sslpassword)\s*=\s*('[^']*'|\S+)")


class CaseDatabaseError(GraceError):
    """The case database cannot be reached, read, or does not look like a case system."""


def redact_url(url: str) -> str:
    """`url` with its password (and any secret query parameter) removed, for messages and lineage."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return _KEYWORD_PASSWORD.sub(r"\1=***", _USERINFO_PASSWORD.sub(r"\1@", url))
    query = {key: value for key, value in parsed.query.items() if key.lower() not in SECRET_QUERY_KEYS}
    safe = URL.create(
        parsed.drivername,
        username=parsed.username,
        password=None,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=query,
    )
    return safe.render_as_string(hide_password=False)


def source_path(url: str, schema: str = DEFAULT_SCHEMA) -> str:
    """The `etl_batch.source_path` of a case database: the redacted URL (plus `#schema` if not default)."""
    safe = redact_url(url)
    return safe if schema == DEFAULT_SCHEMA else f"{safe}#{schema}"


@dataclass(frozen=True)
class Watermark:
    """Where the next extraction from one case database starts (see the module docstring).

    `snapshot_xmin`: the snapshot xmin of the latest complete extraction; every row written by an
    older transaction is loaded. None before the first complete extraction, and for a warehouse
    loaded before snapshot xmins were recorded: everything is read (loaded rows count as
    duplicates). `last_id`: the highest referral id loaded; rows above it are always read.
    """

    snapshot_xmin: int | None = None
    last_id: int | None = None

    def window(self, next_xid: int) -> dict[str, int]:
        """Bounds of the rows to read, as SQL parameters: written by a transaction not older than
        `since`, or above id `after`.

        A recorded xmin beyond the database's next transaction id cannot come from this
        database's history (it was restored into another cluster, or the URL names another
        database): then everything is read again, which loads nothing twice and skips nothing.
        """
        since = self.snapshot_xmin
        if since is None or since > next_xid:
            since = 0
        return {
            "since": since,
            # With nothing loaded `since` is 0, which reads every row whatever `after` is.
            "after": 0 if self.last_id is None else self.last_id,
        }


@dataclass(frozen=True)
class _Chunk:
    """One planned chunk: referral ids `first_id..last_id` in the window, and their fingerprint."""

    first_id: int
    last_id: int
    row_count: int
    fingerprint: str


def last_watermark(con: duckdb.DuckDBPyConnection, path: str) -> Watermark:
    """The watermark of the database at `path` in the warehouse (empty when nothing was loaded)."""
    rows = _lineage_rows(con, "etl/extract_case_db_watermark.sql", path)
    if not rows:
        return Watermark()
    last_id, snapshot_xmin = rows[0]
    return Watermark(
        snapshot_xmin=None if snapshot_xmin is None else int(snapshot_xmin),
        last_id=None if last_id is None else int(last_id),
    )


def loaded_batch_ids(con: duckdb.DuckDBPyConnection, path: str) -> set[str]:
    """Ids of the batches already loaded from the database at `path`."""
    return {row[0] for row in _lineage_rows(con, "etl/extract_case_db_loaded_batches.sql", path)}


def _lineage_rows(con: duckdb.DuckDBPyConnection, sql_file: str, path: str) -> list[tuple]:
    """Rows of a warehouse lineage query about one case database ([] for a new warehouse)."""
    # (Not warehouse.is_initialised: its fetchone() leaves a pending result on DuckDB 2.)
    if con.execute(read_sql("etl/extract_case_db_has_lineage.sql")).fetchall() != [(True,)]:
        return []
    return con.execute(read_sql(sql_file), {"kind": CASE_DATABASE, "path": path}).fetchall()


def case_database_batches(
    url: str,
    con: duckdb.DuckDBPyConnection,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    schema: str = DEFAULT_SCHEMA,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
) -> list[BatchSource]:
    """One batch per chunk of at most `chunk_size` referrals not yet loaded from the database at `url`.

    `con` is the warehouse (read for the watermark and the loaded batches only). Chunks already
    loaded (same rows, same checksum) are left out, so the list is empty when everything is
    loaded. Raises `CaseDatabaseError` (message names the URL without its password) when the
    URL is bad, the database unreachable, or its tables do not match the case-export contract.
    """
    if chunk_size < 1:
        raise CaseDatabaseError(f"chunk size must be at least 1 (got {chunk_size})")
    if block_bytes < 1024:
        raise CaseDatabaseError(f"block size must be at least 1024 bytes (got {block_bytes})")
    database = CaseDatabase(url, schema)
    path = source_path(url, schema)
    watermark = last_watermark(con, path)
    # Planning reads one snapshot: its xmin is recorded with the last chunk, the window and the
    # chunks are computed in it.
    with database.transaction() as conn:
        columns = database.check_tables(conn)
        snapshot_xmin, next_xid = database.snapshot(conn)
        window = watermark.window(next_xid)
        rows = database.query(conn, "extract_case_db_chunks.sql", {**window, "chunk_size": chunk_size}).fetchall()
    chunks = [_Chunk(int(first), int(last), int(count), str(fingerprint)) for first, last, count, fingerprint in rows]
    loaded = loaded_batch_ids(con, path)
    batches, previous = [], None
    for number, chunk in enumerate(chunks, start=1):
        final_xmin = snapshot_xmin if number == len(chunks) else None
        batch = _chunk_batch(database, path, columns, window, chunk, previous, final_xmin, block_bytes)
        if batch.batch_id not in loaded:
            batches.append(batch)
        previous = batch.batch_id
    return batches


def _chunk_batch(
    database: CaseDatabase,
    path: str,
    columns: dict[str, list[str]],
    window: dict[str, int],
    chunk: _Chunk,
    previous: str | None,
    final_xmin: int | None,
    block_bytes: int,
) -> BatchSource:
    """The batch for `chunk` (referrals and their files), which follows batch `previous`.

    The checksum names the exact rows (the fingerprint of their ids and versions), not the
    window: the same rows planned again, by a later run, are the same batch and are not loaded
    twice. Only the last chunk of a plan (`final_xmin` set) records the snapshot xmin, so the
    window moves on only once every chunk of the plan is loaded.
    """
    digest = hashlib.sha256(
        f"{path}\x1f{chunk.first_id}\x1f{chunk.last_id}\x1f{chunk.row_count}\x1f{chunk.fingerprint}".encode()
    ).hexdigest()
    labels = {dataset: f"postgresql:{database.schema}.{dataset}" for dataset in columns}

    def stage(con: duckdb.DuckDBPyConnection) -> None:
        # Chunks load in order: were an earlier chunk to fail and the last one to load, the
        # window would move past the failed chunk's rows and they would never be loaded.
        if previous is not None and previous not in loaded_batch_ids(con, path):
            raise CaseDatabaseError(
                f"{database.safe_url}: referrals {chunk.first_id}..{chunk.last_id} not loaded: the chunk before "
                f"them ({previous}) is not in the warehouse (an earlier chunk failed?); run the extraction again"
            )
        bounds = {**window, "first_id": chunk.first_id, "last_id": chunk.last_id}
        # One REPEATABLE READ snapshot for both tables: files always match their referrals.
        with database.transaction() as conn:
            for dataset in DATASETS:
                if dataset in columns:
                    _stage_query(
                        con,
                        database,
                        conn,
                        f"extract_case_db_{dataset}.sql",
                        bounds,
                        dataset,
                        columns[dataset],
                        labels[dataset],
                        block_bytes,
                    )

    watermark = str(chunk.last_id) if final_xmin is None else f"{chunk.last_id} xmin={final_xmin}"
    return BatchSource(
        kind=CASE_DATABASE,
        path=path,
        checksum=digest,
        stage=stage,
        files=list(labels.values()),
        watermark=watermark,
    )


def _stage_query(
    con: duckdb.DuckDBPyConnection,
    database: CaseDatabase,
    conn: Connection,
    sql_file: str,
    params: dict,
    dataset: str,
    present: list[str],
    label: str,
    block_bytes: int,
) -> None:
    """Stream one extraction query into `stg_<dataset>`, one Arrow record batch at a time."""
    expected = load_contract("case_export").dataset(dataset).column_names
    wanted = ["id", *(c for c in expected if c in present)]
    select = ", ".join(f'"{c}"' if c in present else f'NULL::VARCHAR AS "{c}"' for c in expected)
    insert = (
        f"INSERT INTO stg_{dataset} SELECT {select}, $label AS _source_file, id AS _row, 0 AS _item FROM case_db_slice"
    )
    read_options = pacsv.ReadOptions(block_size=block_bytes)
    parse_options = pacsv.ParseOptions(newlines_in_values=True)
    # COPY writes NULL as an unquoted empty field and '' as "": keep that distinction, and
    # never read words such as NA or NULL as missing values.
    convert_options = pacsv.ConvertOptions(
        column_types={c: (pa.int64() if c == "id" else pa.string()) for c in wanted},
        include_columns=wanted,
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
    statement, bound = database.copy_statement(conn, sql_file, params)
    driver = conn.connection.driver_connection
    if driver is None:
        raise CaseDatabaseError(f"{database.safe_url}: cannot read {database.schema}.{dataset} (connection closed)")
    try:
        with driver.cursor() as cursor, cursor.copy(statement, bound) as copy:
            stream = io.BufferedReader(_CopyStream(copy, min(block_bytes, 1 << 20)), buffer_size=block_bytes)
            reader = pacsv.open_csv(stream, read_options, parse_options, convert_options)
            for batch in reader:
                con.register("case_db_slice", pa.Table.from_batches([batch]))
                try:
                    con.execute(insert, {"label": label})
                finally:
                    con.unregister("case_db_slice")
    except psycopg.Error as error:
        raise database.error(f"cannot read {database.schema}.{dataset}", error) from error
    except pa.ArrowException as error:
        raise database.error(f"cannot parse rows of {database.schema}.{dataset}", error) from error


class _CopyStream(io.RawIOBase):
    """A read-only file over a `COPY ... TO STDOUT`, for Arrow's CSV reader.

    PostgreSQL sends one message per row; they are joined into pieces of about `piece_bytes`
    so the reader is fed large buffers rather than one small read per row.
    """

    def __init__(self, copy, piece_bytes: int) -> None:
        super().__init__()
        self._messages = iter(copy)
        self._piece_bytes = piece_bytes
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self._pending:
            parts, size = [], 0
            for message in self._messages:
                parts.append(message)
                size += len(message)
                if size >= self._piece_bytes:
                    break
            self._pending = memoryview(b"".join(parts))
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


class CaseDatabase:
    """A read-only handle on one case database (SQLAlchemy engine, no connection pooling)."""

    def __init__(self, url: str, schema: str = DEFAULT_SCHEMA) -> None:
        self.safe_url = redact_url(url)
        self._secrets = _secrets_of(url)
        if not _SCHEMA_NAME.match(schema or ""):
            raise CaseDatabaseError(f"{self.safe_url}: '{schema}' is not a valid schema name")
        self.schema = schema
        self.engine = self._engine(url)

    def _engine(self, url: str) -> Engine:
        try:
            parsed = make_url(url)
        except ArgumentError as error:
            raise CaseDatabaseError(
                f"{self.safe_url}: not a database URL (expected postgresql://user@host:port/database)"
            ) from error
        if parsed.get_backend_name() != "postgresql":
            raise CaseDatabaseError(f"{self.safe_url}: only PostgreSQL case databases are supported")
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        if parsed.get_driver_name() != "psycopg":
            raise CaseDatabaseError(
                f"{self.safe_url}: driver '{parsed.get_driver_name()}' is not supported (use postgresql:// or postgresql+psycopg://)"
            )
        connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        try:
            return create_engine(parsed, poolclass=NullPool, connect_args=connect_args)
        except (NoSuchModuleError, ImportError, ArgumentError) as error:
            raise CaseDatabaseError(
                f"{self.safe_url}: cannot use this database driver ({_first_line(error)})"
            ) from error

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A READ ONLY, REPEATABLE READ transaction with `search_path` set to the case schema."""
        try:
            conn = self.engine.connect()
        except SQLAlchemyError as error:
            raise self.error("cannot connect to case database", error) from error
        try:
            conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin():
                self.query(conn, "extract_case_db_read_only.sql", {})
                self.query(conn, "extract_case_db_search_path.sql", {"schema": self.schema})
                yield conn
        except SQLAlchemyError as error:
            raise self.error("case database transaction failed", error) from error
        finally:
            conn.close()

    def query(self, conn: Connection, sql_file: str, params: dict):
        """Run one query from `sql/etl/`, values bound as parameters."""
        try:
            return conn.execute(text(read_sql(f"etl/{sql_file}")), params)
        except SQLAlchemyError as error:
            raise self.error(f"query {sql_file} failed", error) from error

    def snapshot(self, conn: Connection) -> tuple[int, int]:
        """(snapshot xmin, next transaction id) of the transaction's snapshot, as 64-bit ids."""
        row = self.query(conn, "extract_case_db_snapshot.sql", {}).one()
        return int(row.snapshot_xmin), int(row.next_xid)

    def copy_statement(self, conn: Connection, sql_file: str, params: dict) -> tuple[str, dict]:
        """`COPY (<query from sql/etl/>) TO STDOUT` as CSV, with its parameters for the driver to bind."""
        compiled = text(read_sql(f"etl/{sql_file}")).bindparams(**params).compile(dialect=conn.dialect)
        return f"COPY (\n{compiled}\n) TO STDOUT (FORMAT csv, HEADER true, ENCODING 'UTF8')", dict(compiled.params)

    def check_tables(self, conn: Connection) -> dict[str, list[str]]:
        """The columns of `referrals` (required) and `files` (optional), checked against the contract."""
        columns: dict[str, list[str]] = {}
        for table, column in self.query(conn, "extract_case_db_columns.sql", {"schema": self.schema}):
            columns.setdefault(table, []).append(column)
        if "referrals" not in columns:
            raise CaseDatabaseError(
                f"{self.safe_url}: no table {self.schema}.referrals (is this a case-system database?)"
            )
        contract = load_contract("case_export")
        for dataset, present in columns.items():
            missing = [c for c in ["id", *contract.dataset(dataset).required_columns] if c not in present]
            if missing:
                raise CaseDatabaseError(
                    f"{self.safe_url}: table {self.schema}.{dataset} lacks required column(s) {', '.join(missing)}"
                )
        return columns

    def error(self, what: str, error: BaseException) -> CaseDatabaseError:
        """A one-line error naming the URL (never the password)."""
        cause = getattr(error, "orig", None) or error
        detail = _first_line(cause)
        for secret in self._secrets:
            detail = detail.replace(secret, "***")
        return CaseDatabaseError(f"{self.safe_url}: {what} ({detail})")


def _secrets_of(url: str) -> list[str]:
    """Secret strings of a URL, to scrub from driver messages."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return [m.group(2) for m in _KEYWORD_PASSWORD.finditer(url)]
    found = [parsed.password] if parsed.password else []
    found += [str(v) for k, v in parsed.query.items() if k.lower() in SECRET_QUERY_KEYS and v]
    return [s for s in found if s]


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0][:300] if lines else type(error).__name__
