"""The warehouse schema: its DDL, its version, and refusing a warehouse of another version.

`ensure_schema()` applies the DDL in `sql/ddl/` idempotently and seeds the static dimensions (the
ETL's first step). `check_schema()` is what readers run: a warehouse built by another schema
version is refused with a message saying what to do, for reading as well as for writing.

A warehouse of an older version that a migration in `sql/migrations/` (`<from>_to_<to>.sql`) leads from
is upgraded in place, keeping every row, by `upgrade_schema()` (`grace warehouse upgrade`): the DDL
creates what is new, then each migration runs, all in one transaction. Any other version is refused.
"""

from __future__ import annotations

import duckdb

from grace import __version__
from grace.config import SQL_DIR
from grace.errors import WarehouseError
from warehouse.period_rollups import refresh_period_rollups
from warehouse.reference import EU27, INCIDENT_TYPES, INDUSTRY_CLASSIFICATIONS
from warehouse.sql_files import read_sql

SCHEMA_VERSION = "12"  # 2: pseudonyms and cluster ids stored as 128-bit integers; 3: annotation flags in the
#   rollups, backlog flows, repeat reporting, cross-border spread and the distinct-count mart; 4: every alert
#   of a run in analytics_alert, replaced published statistics in published_statistic_history; 5: the PDQ
#   quality of every file occurrence (fact_file_occurrence.pdq_quality), calibrated prediction intervals
#   (calibration factor and calibrated coverage) in the forecast tables; 6: media matching (perceptual
#   clusters, their merges and daily rollup, hash banks, their entries, changes and matches); 7: triage
#   (model registry, rule sets, scoring runs, scores, the daily tier rollup) and the content-classifier codes
#   and scores of every file occurrence (fact_file_occurrence.classifier_category, _confidence, _model, _version);
#   8: the triage model's weekly monitoring (analytics_model_monitor) and the subject of an alert
#   (analytics_alert.subject: a drift's feature); 9: the hub's differentially private releases (dp_release,
#   dp_release_cell; federation/hub.py); 10: weekly and monthly copies of the referral and file rollups
#   (warehouse/period_rollups.py); 11: the same of the perceptual rollup; 12: what each analysis run found,
#   counted on its analytics_run row (findings, change points, anomalies, emerging or vanishing entities)
MIGRATIONS_DIR = SQL_DIR / "migrations"
# Steps a migration's SQL cannot do alone: filling new tables by the code that keeps them afterwards.
_AFTER_STEP = {
    "9_to_10": lambda con: refresh_period_rollups(con, None, ("rollup_referral_daily", "rollup_file_daily")),
    "10_to_11": lambda con: refresh_period_rollups(con, None, ("rollup_perceptual_daily",)),
    "11_to_12": lambda con: con.execute(read_sql("analytics/run_counts.sql"), {"run_id": None}),
}
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
    if found == SCHEMA_VERSION:
        return
    if _migrations_from(found):
        raise WarehouseError(
            f"{where}: warehouse has schema version {found}, this code needs {SCHEMA_VERSION}; "
            "upgrade it in place, keeping every row: grace warehouse upgrade"
        )
    raise WarehouseError(
        f"{where}: warehouse has schema version {found}, this code needs {SCHEMA_VERSION}; "
        "rebuild it (grace demo --force, or reload the deliveries into a new file)"
    )


def _migrations_from(version: str) -> list:
    """The migration files from `version` to SCHEMA_VERSION, in order ([] when there is no such path)."""
    steps, current = [], version
    while current != SCHEMA_VERSION:
        found = sorted(MIGRATIONS_DIR.glob(f"{current}_to_*.sql"))
        if not found:
            return []
        steps.append(found[0])
        current = found[0].stem.split("_to_", 1)[1]
    return steps


def upgrade_schema(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """Upgrade an older warehouse in place, in one transaction: (version before, version after).

    A warehouse already at SCHEMA_VERSION is left as it is; one no migration leads from is refused."""
    found = schema_version(con)
    if found is None:
        raise WarehouseError("not a GRACE warehouse (schema missing)")
    if found == SCHEMA_VERSION:
        return found, found
    steps = _migrations_from(found)
    if not steps:
        check_schema(con)  # raises, with the rebuild advice
    con.execute("BEGIN TRANSACTION")
    try:
        _apply_ddl(con)
        for step in steps:
            con.execute(step.read_text(encoding="utf-8"))
            if step.stem in _AFTER_STEP:
                _AFTER_STEP[step.stem](con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return found, SCHEMA_VERSION


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every warehouse table that is missing and seed static dimensions (idempotent).

    A warehouse built by an incompatible schema version is refused rather than silently mixed.
    """
    if is_initialised(con):
        check_schema(con)
    _apply_ddl(con)
    con.executemany("INSERT OR IGNORE INTO dim_country VALUES (?, ?, ?, true)", [list(row) for row in EU27])
    con.executemany("INSERT OR IGNORE INTO dim_incident_type VALUES (?, ?)", [list(row) for row in INCIDENT_TYPES])
    con.executemany(
        "INSERT OR IGNORE INTO dim_category VALUES (?, 'industry_classification')",
        [[code] for code in INDUSTRY_CLASSIFICATIONS],
    )
    con.execute("INSERT OR IGNORE INTO dim_category VALUES (?, 'none')", [UNCLASSIFIED])


def _apply_ddl(con: duckdb.DuckDBPyConnection) -> None:
    """Every CREATE ... IF NOT EXISTS of `sql/ddl/`, and the version stamp."""
    for ddl in sorted((SQL_DIR / "ddl").glob("*.sql")):
        con.execute(ddl.read_text(encoding="utf-8"))
    con.execute(
        "INSERT OR REPLACE INTO warehouse_meta VALUES ('schema_version', ?), ('created_by', ?)",
        [SCHEMA_VERSION, f"grace {__version__}"],
    )


def is_initialised(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the warehouse has its schema (the meta table exists). Asked by every series the dashboard
    loads (`warehouse.grain.data_grain`): DuckDB's own catalogue function answers in less than half the time
    of `information_schema.tables`."""
    rows = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'warehouse_meta'").fetchall()
    return bool(rows and rows[0][0])
