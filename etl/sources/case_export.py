"""Case-system exports: a delivery folder with `referrals.csv|parquet` and `files.csv|parquet`."""

from __future__ import annotations

from pathlib import Path

import duckdb

from etl.contracts import load_contract
from etl.sources.base import CASE_EXPORT, EXPORT_SUFFIXES, BatchSource, combined_checksum, staged_columns
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
        _note_ignored(con, path, dataset, present, expected.column_names)
        read_text_table(con, path, present, "stg_read", dataset, header=True)
        select = ", ".join(
            f'CAST("{c}" AS VARCHAR) AS "{c}"' if c in present else f'NULL::VARCHAR AS "{c}"'
            for c in expected.column_names
        )
        con.execute(
            f"INSERT INTO stg_{dataset} SELECT {select}, $file AS _source_file, _row, 0 AS _item FROM stg_read",
            {"file": str(path)},
        )
        con.execute("DROP TABLE stg_read")
    else:
        _stage_parquet(con, path, dataset, expected)


def _stage_parquet(con, path: Path, dataset: str, expected) -> None:
    """Append a Parquet file to `stg_<dataset>` in one statement; an unreadable file is
    quarantined whole.

    Columns the contract drops without checking anything (free text, contact details) are
    never read from Parquet: nothing downstream looks at them, so they stay NULL in staging.
    A file whose footer reads but whose data pages are corrupt fails the batch (rolled back).
    """
    # The footer is read on a separate cursor: a failed statement would abort the batch's
    # transaction, and an unreadable file must be quarantined, not fail the batch.
    probe = con.cursor()
    try:
        present = [
            row[0]
            for row in probe.execute("DESCRIBE SELECT * FROM read_parquet($path)", {"path": str(path)}).fetchall()
        ]
    except duckdb.Error as error:
        _reject_file(con, path, dataset, error)
        return
    finally:
        probe.close()
    _check_columns(path, present, expected.required_columns)
    _note_ignored(con, path, dataset, present, expected.column_names)
    wanted = set(staged_columns(expected))
    select = ", ".join(
        f'CAST("{c}" AS VARCHAR) AS "{c}"' if c in present and c in wanted else f'NULL::VARCHAR AS "{c}"'
        for c in expected.column_names
    )
    con.execute(
        f"INSERT INTO stg_{dataset} SELECT {select}, $file AS _source_file, file_row_number + 1 AS _row, 0 AS _item "
        "FROM read_parquet($path, file_row_number = true)",
        {"path": str(path), "file": str(path)},
    )


def _note_ignored(con, path: Path, dataset: str, present: list[str], known: list[str]) -> None:
    """Record the file's columns that the contract does not know (they are not read)."""
    extra = [name for name in present if name not in set(known)]
    if extra:
        con.executemany("INSERT INTO stg_ignored_columns VALUES (?, ?, ?)", [[dataset, str(path), n] for n in extra])


def _reject_file(con, path: Path, dataset: str, error: duckdb.Error) -> None:
    con.execute(
        "INSERT INTO stg_rejects VALUES ($dataset, $file, NULL, NULL, 'unreadable_file', $detail)",
        {"dataset": dataset, "file": str(path), "detail": str(error).splitlines()[0][:300]},
    )


def _check_columns(path: Path, present: list[str], required: list[str]) -> None:
    missing = [c for c in required if c not in present]
    if missing:
        raise InputFileError(
            path, f"required column(s) missing from header: {', '.join(missing)}", row=0, field=missing[0]
        )
