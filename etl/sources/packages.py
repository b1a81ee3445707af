"""Referral packages: NCMEC-style JSON objects, one per line (JSON Lines).

Lines are read as text first (bad encoding or a truncated line is quarantined, never
dropped), checked with `json_valid`, then flattened by `sql/etl/flatten_package_*.sql`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from etl.sources.base import REFERRAL_PACKAGE, BatchSource, file_checksum
from etl.sources.text_reader import read_text_table
from warehouse import read_sql

# JSON text never contains a raw unit separator, so each line is one column.
LINE_DELIMITER = "\x1f"


def package_batch(path: Path) -> BatchSource:
    """The batch for one JSON Lines file of referral packages."""

    def stage(con: duckdb.DuckDBPyConnection) -> None:
        stage_package_file(con, path)

    return BatchSource(
        kind=REFERRAL_PACKAGE, path=str(path), checksum=file_checksum(path), stage=stage, files=[str(path)]
    )


def stage_package_file(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Append the packages of one file to the staging tables."""
    read_text_table(con, path, ["line"], "pkg_read", "referrals", header=False, delimiter=LINE_DELIMITER, quote="")
    con.execute(
        "INSERT INTO stg_rejects SELECT 'referrals', $file, _row, NULL, 'malformed_json', 'line is not a JSON object' "
        "FROM pkg_read WHERE NULLIF(trim(line), '') IS NOT NULL "
        "AND (NOT json_valid(line) OR json_type(line::JSON) <> 'OBJECT')",
        {"file": str(path)},
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE pkg_lines AS SELECT line, _row FROM pkg_read "
        "WHERE json_valid(line) AND json_type(line::JSON) = 'OBJECT'"
    )
    params = {"source_file": str(path)}
    con.execute("INSERT INTO stg_referrals " + read_sql("etl/flatten_package_referrals.sql"), params)
    con.execute("INSERT INTO stg_files " + read_sql("etl/flatten_package_files.sql"), params)
    con.execute("DROP TABLE pkg_read")
    con.execute("DROP TABLE pkg_lines")
