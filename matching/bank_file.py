"""Reading one hash-bank file (CSV) into a staged table, validated as a whole.

A bank file has a header naming some of `md5`, `sha1`, `pdq` (at least one) and `category` (required
for a positive bank); any other column is refused by name. Hex is trimmed and lower-cased. The checks
(`sql/matching/bank_file_problems.sql`) run in one vectorised query; the first problem refuses the
whole file with an `InputFileError` naming the file, the data row (1 = the first row after the header)
and the field, never the value. The result is the temp table `stg_bank` (md5, sha1, pdq, category,
_row), which `matching.banks` loads in its transaction.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from grace.errors import InputFileError
from warehouse import read_sql

HASH_COLUMNS = ("md5", "sha1", "pdq")
BANK_COLUMNS = (*HASH_COLUMNS, "category")
# Category codes by scheme: codes only, never descriptions. `none` is the scheme of negative banks.
SCHEMES: dict[str, tuple[str, ...]] = {
    "industry": ("A1", "A2", "B1", "B2"),
    "vics": ("0", "1", "2", "3"),
    "none": (),
}


def read_bank_header(path: Path) -> list[str]:
    """The column names of the file's first line (UTF-8, optional BOM), lower-cased and trimmed."""
    try:
        with open(path, "rb") as handle:
            first_line = handle.readline()
    except OSError as error:
        raise InputFileError(path, f"cannot read ({error.strerror})") from error
    try:
        text = first_line.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputFileError(path, "header row is not valid UTF-8", row=0) from error
    names = next(csv.reader([text]), None)
    if not names or not any(n.strip() for n in names):
        raise InputFileError(path, "empty file: no header row", row=0)
    return [n.strip().lower() for n in names]


def check_header(path: Path, header: list[str], allowed: tuple[str, ...], *, need_category: bool) -> None:
    """Refuse unknown or repeated columns (by name), a header without a hash column, and a positive
    bank's file without `category`."""
    unknown = [n for n in header if n not in allowed]
    if unknown:
        raise InputFileError(
            path, f"unknown column(s) {', '.join(repr(n) for n in unknown)}; allowed: {', '.join(allowed)}", row=0
        )
    repeated = sorted({n for n in header if header.count(n) > 1})
    if repeated:
        raise InputFileError(path, f"column(s) named twice: {', '.join(repeated)}", row=0)
    if not set(header) & set(HASH_COLUMNS):
        raise InputFileError(path, f"no hash column: the header needs at least one of {', '.join(HASH_COLUMNS)}", row=0)
    if need_category and "category" not in header:
        raise InputFileError(path, "no category column: a positive bank needs a category code per hash", row=0)


def stage_text(con: duckdb.DuckDBPyConnection, path: Path, header: list[str], target: str, columns: tuple[str, ...]):
    """Read `path` (all text) into temp table `target` with `columns` (those missing from the file are NULL;
    values trimmed, lower-cased except `category`, empty as NULL) and `_row`. A row the CSV reader cannot
    parse refuses the file, naming its row."""
    con.execute("DROP TABLE IF EXISTS bank_rejects")
    con.execute("DROP TABLE IF EXISTS bank_rejects_scan")
    # The header names are checked against `columns` and still only bound as data, never spliced.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE bank_raw AS
        SELECT * FROM read_csv($path, columns = $columns, header = true, auto_detect = false,
                               quote = '"', escape = '"', store_rejects = true,
                               rejects_table = 'bank_rejects', rejects_scan = 'bank_rejects_scan')
        """,
        {"path": str(path), "columns": {f"c{i}": "VARCHAR" for i in range(len(header))}},
    )
    try:
        rejected = con.execute("SELECT min(line) FROM bank_rejects").fetchone()
        if rejected and rejected[0] is not None:
            raise InputFileError(
                path, "not a well-formed CSV row (column count or quoting); file refused", row=int(rejected[0]) - 1
            )
        position = {name: f"c{i}" for i, name in enumerate(header)}
        selected = []
        for name in columns:  # `name` is one of our constants; `c<i>` our own positional names
            if name not in position:
                selected.append(f"CAST(NULL AS VARCHAR) AS {name}")
            elif name == "category":
                selected.append(f"NULLIF(trim({position[name]}), '') AS {name}")
            else:
                selected.append(f"NULLIF(lower(trim({position[name]})), '') AS {name}")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {target} AS "
            f"SELECT {', '.join(selected)}, CAST(row_number() OVER (ORDER BY rowid) AS BIGINT) AS _row FROM bank_raw"
        )
    finally:
        for table in ("bank_raw", "bank_rejects", "bank_rejects_scan"):
            con.execute(f"DROP TABLE IF EXISTS {table}")


def stage_bank_file(con: duckdb.DuckDBPyConnection, path: Path, *, scheme: str, negative: bool) -> int:
    """Validate `path` as a bank file of `scheme` and stage it as `stg_bank`; returns its row count.

    Raises `InputFileError` (file, row, field) on the first problem; nothing in the warehouse changes.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "no such file")
    header = read_bank_header(path)
    check_header(path, header, BANK_COLUMNS, need_category=not negative)
    stage_text(con, path, header, "stg_bank", BANK_COLUMNS)
    problem = first_problem(con, header, categories=SCHEMES[scheme], category_required=not negative)
    if problem:
        con.execute("DROP TABLE stg_bank")
        row, field, reason = problem
        raise InputFileError(path, f"{reason}; file refused, nothing imported", row=row, field=field)
    counted = con.execute("SELECT count(*) FROM stg_bank").fetchone()
    rows = int(counted[0]) if counted else 0
    if rows == 0:
        con.execute("DROP TABLE stg_bank")
        raise InputFileError(
            path, "no rows after the header; file refused (an empty version would disable the whole bank)"
        )
    return rows


def first_problem(
    con: duckdb.DuckDBPyConnection, header: list[str], *, categories: tuple[str, ...], category_required: bool
) -> tuple[int, str, str] | None:
    """(row, field, reason) of the first problem in `stg_bank`, or None (`sql/matching/bank_file_problems.sql`)."""
    first_hash = next(c for c in HASH_COLUMNS if c in header)
    problem = con.execute(
        read_sql("matching/bank_file_problems.sql"),
        {"categories": list(categories), "category_required": category_required, "first_hash_column": first_hash},
    ).fetchone()
    return None if problem is None else (int(problem[0]), str(problem[1]), str(problem[2]))
