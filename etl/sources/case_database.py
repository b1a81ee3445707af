"""Case database: incremental extraction from an agency's case system over SQLAlchemy.

The case system (PostgreSQL) holds schema `case_system` (configurable) with tables `referrals`
and `files`: `id bigserial primary key`, the case-export contract's columns (text), and
`updated_at`. GRACE reads it and never writes to it: every transaction is opened READ ONLY.

Extraction is incremental on `referrals.id`. The warehouse remembers, in `etl_batch.watermark`,
the highest referral id loaded from each database (identified by its URL with the password
removed). `case_database_batches()` plans the referrals above that watermark into chunks of
`chunk_size` ids, one `BatchSource` each; `run_batch` commits every chunk together with its
watermark, so a failed chunk is retried from where the last good one ended and a re-run only
picks up rows inserted since. Chunks must load in order: a chunk whose predecessor is not in the
warehouse refuses to stage, so the watermark never jumps over rows that were not loaded.

Staging streams each chunk out of PostgreSQL with `COPY (query) TO STDOUT` (CSV, inside the same
read-only transaction), parses the stream with Arrow's incremental CSV reader in blocks of
`block_bytes` (every contract column as text) and inserts each Arrow record batch into
`stg_referrals` / `stg_files` in one statement: nothing is held whole in memory and no Python
code touches individual rows. `_source_file` names the table (`postgresql:case_system.referrals`)
and `_row` is the row's `id` in the case database, so a quarantined row points at the exact row.

Limitation (inherent to id watermarks): a referral whose transaction commits after a later id
was already extracted is not picked up; files added to a referral after it was loaded neither.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager

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
_MIN_BIGINT = -(2**63)


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


def last_watermark(con: duckdb.DuckDBPyConnection, path: str) -> int | None:
    """Highest referral id already loaded from the database at `path` (None when nothing yet)."""
    # (Not warehouse.is_initialised: its fetchone() leaves a pending result on DuckDB 2.)
    if con.execute(read_sql("etl/extract_case_db_has_lineage.sql")).fetchall() != [(True,)]:
        return None
    rows = con.execute(read_sql("etl/extract_case_db_watermark.sql"), {"kind": CASE_DATABASE, "path": path}).fetchall()
    return None if not rows or rows[0][0] is None else int(rows[0][0])


def case_database_batches(
    url: str,
    con: duckdb.DuckDBPyConnection,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    schema: str = DEFAULT_SCHEMA,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
) -> list[BatchSource]:
    """One batch per chunk of at most `chunk_size` referrals not yet loaded from the database at `url`.

    `con` is the warehouse (read for the watermark only). The list is empty when everything is
    loaded. Raises `CaseDatabaseError` (message names the URL without its password) when the
    URL is bad, the database unreachable, or its tables do not match the case-export contract.
    """
    if chunk_size < 1:
        raise CaseDatabaseError(f"chunk size must be at least 1 (got {chunk_size})")
    if block_bytes < 1024:
        raise CaseDatabaseError(f"block size must be at least 1024 bytes (got {block_bytes})")
    database = CaseDatabase(url, schema)
    path = source_path(url, schema)
    after = last_watermark(con, path)
    with database.transaction() as conn:
        columns = database.check_tables(conn)
        chunks = database.query(
            conn,
            "extract_case_db_chunks.sql",
            {"after": _MIN_BIGINT if after is None else after, "chunk_size": chunk_size},
        ).fetchall()
    batches, previous = [], after
    for first, last, count in chunks:
        batches.append(_chunk_batch(database, path, columns, previous, int(first), int(last), int(count), block_bytes))
        previous = int(last)
    return batches


def _chunk_batch(
    database: CaseDatabase,
    path: str,
    columns: dict[str, list[str]],
    previous: int | None,
    first_id: int,
    last_id: int,
    row_count: int,
    block_bytes: int,
) -> BatchSource:
    """The batch for referrals `first_id..last_id` (and their files), which follows watermark `previous`."""
    digest = hashlib.sha256(f"{path}\x1f{first_id}\x1f{last_id}\x1f{row_count}".encode()).hexdigest()
    labels = {dataset: f"postgresql:{database.schema}.{dataset}" for dataset in columns}

    def stage(con: duckdb.DuckDBPyConnection) -> None:
        # Chunks load in order: were an earlier chunk to fail and this one to load, the
        # watermark would jump over the failed chunk's rows and they would never be loaded.
        current = last_watermark(con, path)
        if current != previous:
            raise CaseDatabaseError(
                f"{database.safe_url}: referrals {first_id}..{last_id} not loaded: the warehouse watermark is "
                f"{current} but this chunk follows {previous} (an earlier chunk failed?); run the extraction again"
            )
        bounds = {"first_id": first_id, "last_id": last_id}
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

    return BatchSource(
        kind=CASE_DATABASE,
        path=path,
        checksum=digest,
        stage=stage,
        files=list(labels.values()),
        watermark=str(last_id),
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
    insert = f"INSERT INTO stg_{dataset} SELECT {select}, $label AS _source_file, id AS _row FROM case_db_slice"
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
