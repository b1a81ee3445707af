"""Case-system exports: a delivery folder with `referrals.csv|parquet` and `files.csv|parquet`."""

from __future__ import annotations

from pathlib import Path

import duckdb

from etl.contracts import load_contract
from etl.sources.base import CASE_EXPORT, EXPORT_SUFFIXES, BatchSource, combined_checksum
from etl.sources.text_reader import read_header, read_text_table
from grace.errors import InputFileError


def find_export_file(folder: Path, dataset: str) -> Path | None:
    """`folder/<dataset>.csv` or `.parquet`, whichever exists (an error if both do)."""
    found = [folder / f"{dataset}{suffix}" for suffix in EXPORT_SUFFIXES if (folder / f"{dataset}{suffix}").is_file()]
    if len(found) > 1:
        raise InputFileError(folder, f"both {found[0].name} and {found[1].name} present; deliver one format per folder")
    return found[0] if found else None


def case_export_batch(folder: Path) -> BatchSource:
    """The batch for one delivery folder (files are optional: a referral may have none)."""
    referrals = find_export_file(folder, "referrals")
    if referrals is None:
        raise InputFileError(folder, "no referrals.csv or referrals.parquet in delivery folder")
    files = find_export_file(folder, "files")
    members = [p for p in (referrals, files) if p is not None]

    def stage(con: duckdb.DuckDBPyConnection) -> None:
        stage_export_file(con, referrals, "referrals")
        if files is not None:
            stage_export_file(con, files, "files")

    return BatchSource(
        kind=CASE_EXPORT,
        path=str(folder),
        checksum=combined_checksum(members),
        stage=stage,
        files=[str(p) for p in members],
    )


def stage_export_file(con: duckdb.DuckDBPyConnection, path: Path, dataset: str) -> None:
    """Append one export file to `stg_<dataset>`, reading every column as text."""
    expected = load_contract("case_export").dataset(dataset)
    if path.suffix.lower() == ".csv":
        present = read_header(path)
        _check_columns(path, present, expected.required_columns)
        read_text_table(con, path, present, "stg_read", dataset, header=True)
    else:
        present = _stage_parquet(con, path, dataset, expected.required_columns)
        if present is None:
            return
    select = ", ".join(
        f'CAST("{c}" AS VARCHAR) AS "{c}"' if c in present else f'NULL::VARCHAR AS "{c}"' for c in expected.column_names
    )
    con.execute(
        f"INSERT INTO stg_{dataset} SELECT {select}, $file AS _source_file, _row FROM stg_read",
        {"file": str(path)},
    )
    con.execute("DROP TABLE stg_read")


def _stage_parquet(con, path: Path, dataset: str, required: list[str]) -> list[str] | None:
    """Load a Parquet file into `stg_read`; an unreadable file is quarantined whole (returns None)."""
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE stg_read AS "
            "SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS _row "
            "FROM read_parquet($path, file_row_number = true)",
            {"path": str(path)},
        )
    except duckdb.Error as error:
        con.execute(
            "INSERT INTO stg_rejects VALUES ($dataset, $file, NULL, NULL, 'unreadable_file', $detail)",
            {"dataset": dataset, "file": str(path), "detail": str(error).splitlines()[0][:300]},
        )
        return None
    present = [row[0] for row in con.execute("DESCRIBE stg_read").fetchall() if row[0] != "_row"]
    _check_columns(path, present, required)
    return present


def _check_columns(path: Path, present: list[str], required: list[str]) -> None:
    missing = [c for c in required if c not in present]
    if missing:
        raise InputFileError(path, f"required column(s) missing from header: {', '.join(missing)}", row=0, field=missing[0])
