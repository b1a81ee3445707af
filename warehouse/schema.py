"""The warehouse schema: its DDL, its version, and refusing a warehouse of another version.

`ensure_schema()` applies the DDL in `sql/ddl/` idempotently and seeds the static dimensions (the
ETL's first step). `check_schema()` is what readers run: a warehouse built by another schema
version is refused with a message saying how to rebuild it, for reading as well as for writing.
"""

from __future__ import annotations

import duckdb

from grace import __version__
from grace.config import SQL_DIR
from grace.errors import WarehouseError
from warehouse.reference import EU27, INCIDENT_TYPES, INDUSTRY_CLASSIFICATIONS

SCHEMA_VERSION = "3"  # 2: pseudonyms and cluster ids stored as 128-bit integers; 3: annotation flags in the
#   rollups, backlog flows, repeat reporting, cross-border spread and the distinct-count mart
UNCLASSIFIED = "UNCLASSIFIED"


def schema_version(con: duckdb.DuckDBPyConnection) -> str | None:
    """The schema version a warehouse was built with (None: no schema yet)."""
    if not is_initialised(con):
        return None
    found = con.execute("SELECT value FROM warehouse_meta WHERE key = 'schema_version'").fetchall()
    return found[0][0] if found else None


def check_schema(con: duckdb.DuckDBPyConnection, where: object = "warehouse") -> None:
    """Refuse a warehouse without the schema or with another schema version (`WarehouseError`)."""
    found = schema_version(con)
    if found is None:
        raise WarehouseError(f"{where}: not a GRACE warehouse (schema missing)")
    if found != SCHEMA_VERSION:
        raise WarehouseError(
            f"{where}: warehouse has schema version {found}, this code needs {SCHEMA_VERSION}; "
            "rebuild it (grace demo --force, or reload the deliveries into a new file)"
        )


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every warehouse table that is missing and seed static dimensions (idempotent).

    A warehouse built by an incompatible schema version is refused rather than silently mixed.
    """
    if is_initialised(con):
        check_schema(con)
    for ddl in sorted((SQL_DIR / "ddl").glob("*.sql")):
        con.execute(ddl.read_text(encoding="utf-8"))
    con.execute(
        "INSERT OR REPLACE INTO warehouse_meta VALUES ('schema_version', ?), ('created_by', ?)",
        [SCHEMA_VERSION, f"grace {__version__}"],
    )
    con.executemany("INSERT OR IGNORE INTO dim_country VALUES (?, ?, ?, true)", [list(row) for row in EU27])
    con.executemany("INSERT OR IGNORE INTO dim_incident_type VALUES (?, ?)", [list(row) for row in INCIDENT_TYPES])
    con.executemany(
        "INSERT OR IGNORE INTO dim_category VALUES (?, 'industry_classification')",
        [[code] for code in INDUSTRY_CLASSIFICATIONS],
    )
    con.execute("INSERT OR IGNORE INTO dim_category VALUES (?, 'none')", [UNCLASSIFIED])


def is_initialised(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the warehouse has its schema (the meta table exists)."""
    rows = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'warehouse_meta'").fetchall()
    return bool(rows and rows[0][0])
