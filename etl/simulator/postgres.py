"""Load simulated rows into PostgreSQL, as an agency case system would hold them.

Schema `case_system`, tables `referrals` and `files`: `id bigserial` primary key, every
contract column as TEXT (so malformed values survive), `updated_at` defaulting to now().
Rows are appended with COPY in delivery order, so a later run (a later period) adds rows with
higher ids. The load is one transaction; the ETL reads it incrementally, in commit order
(`etl.sources.case_database`).
"""

from __future__ import annotations

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from etl.simulator.contract import contract_columns
from grace.errors import ConfigError

SCHEMA = "case_system"
TABLES = ("referrals", "files")


def connection_kwargs(url: str) -> dict:
    """psycopg connection parameters from an SQLAlchemy URL (postgresql[+psycopg]://...)."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise ConfigError(f"--to-postgres: not a database URL: {url!r}") from error
    if parsed.get_backend_name() != "postgresql":
        raise ConfigError(f"--to-postgres: need a postgresql:// URL, got {parsed.get_backend_name()}://")
    params = {
        "host": parsed.host,
        "port": parsed.port,
        "user": parsed.username,
        "password": parsed.password,
        "dbname": parsed.database,
    }
    return {key: value for key, value in params.items() if value is not None}


def safe_url(url: str) -> str:
    """The URL without its password (for the manifest and messages)."""
    return make_url(url).render_as_string(hide_password=True)


def create_tables(connection: psycopg.Connection) -> None:
    """Create the schema and tables if missing, and add contract columns a table made by an older
    simulator lacks (e.g. files.pdq_quality); never drops anything."""
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCHEMA)))
        for table in TABLES:
            columns = sql.SQL(", ").join(
                sql.SQL("{} TEXT").format(sql.Identifier(name)) for name in contract_columns(table)
            )
            cursor.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {}.{} (id BIGSERIAL PRIMARY KEY, {}, "
                    "updated_at TIMESTAMPTZ DEFAULT now())"
                ).format(sql.Identifier(SCHEMA), sql.Identifier(table), columns)
            )
            cursor.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
                (SCHEMA, table),
            )
            present = {row[0] for row in cursor.fetchall()}
            for name in (c for c in contract_columns(table) if c not in present):  # only then: ALTER locks the table
                cursor.execute(
                    sql.SQL("ALTER TABLE {}.{} ADD COLUMN {} TEXT").format(
                        sql.Identifier(SCHEMA), sql.Identifier(table), sql.Identifier(name)
                    )
                )


class PostgresSink:
    """Appends delivery tables to the case-system database inside one transaction."""

    def __init__(self, url: str):
        self.url = url
        try:
            self.connection = psycopg.connect(**connection_kwargs(url))
        except psycopg.OperationalError as error:
            message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise ConfigError(f"--to-postgres {safe_url(url)}: cannot connect: {message}") from error
        create_tables(self.connection)
        self.rows = dict.fromkeys(TABLES, 0)

    def append(self, table: str, csv_data: bytes, rows: int) -> None:
        """COPY one CSV block (with header) into `table`."""
        columns = sql.SQL(", ").join(sql.Identifier(name) for name in contract_columns(table))
        statement = sql.SQL("COPY {}.{} ({}) FROM STDIN (FORMAT csv, HEADER true)").format(
            sql.Identifier(SCHEMA), sql.Identifier(table), columns
        )
        with self.connection.cursor() as cursor, cursor.copy(statement) as copy:
            copy.write(csv_data)
        self.rows[table] += rows

    def commit(self) -> None:
        self.connection.commit()
        self.connection.close()

    def abort(self) -> None:
        self.connection.rollback()
        self.connection.close()
