"""Read delimited text into a temp table without losing a single line silently.

DuckDB's CSV reader stores rows it cannot parse (bad encoding, wrong column count, broken
quotes) in a rejects table instead of failing; we turn those into `stg_rejects` rows and
give every parsed row its 1-based data-row number in the file, so quarantine entries point
at the exact row. Parsing runs vectorised in DuckDB.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import duckdb

_counter = itertools.count()

# DuckDB reject error types mapped to quarantine reasons.
ENCODING_ERRORS = ("INVALID ENCODING",)


def read_text_table(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    columns: list[str],
    target: str,
    dataset: str,
    header: bool,
    delimiter: str = ",",
    quote: str = '"',
) -> None:
    """Read `path` into temp table `target` (all VARCHAR, plus `_row`); rejects go to stg_rejects.

    `columns` are the file's columns in file order. `_row` counts data rows from 1 (the header
    excluded), including rows that were rejected, so numbers match what a person sees.
    """
    n = next(_counter)
    rejects, scans = f"rej_{n}", f"rejscan_{n}"
    # The column names come from the delivered file: they are bound as data, never spliced into the SQL.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE raw_{n} AS
        SELECT * FROM read_csv($path, columns = $columns, auto_detect = false, header = $header,
                               delim = $delim, quote = $quote, escape = $quote,
                               store_rejects = true, rejects_table = '{rejects}', rejects_scan = '{scans}')
        """,
        {
            "path": str(path),
            "columns": dict.fromkeys(columns, "VARCHAR"),
            "header": header,
            "delim": delimiter,
            "quote": quote,
        },
    )
    offset = 1 if header else 0
    con.execute(
        f"""
        INSERT INTO stg_rejects
        SELECT $dataset, $file, min(line) - {offset},
               CASE WHEN bool_or(error_type::VARCHAR IN ('INVALID ENCODING')) THEN first(column_name) END,
               CASE WHEN bool_or(error_type::VARCHAR IN ('INVALID ENCODING')) THEN 'invalid_encoding' ELSE 'malformed_row' END,
               string_agg(DISTINCT error_type::VARCHAR, '; ')
        FROM {rejects} GROUP BY line ORDER BY line
        """,
        {"dataset": dataset, "file": str(path)},
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {target} AS
        WITH rejected AS (
            SELECT line - {offset} AS data_row, row_number() OVER (ORDER BY line) AS i
            FROM (SELECT DISTINCT line FROM {rejects})
        ),
        steps AS (
            SELECT data_row - i AS accepted_before, max(i) AS i FROM rejected GROUP BY 1
        ),
        numbered AS (SELECT *, rowid - (SELECT min(rowid) FROM raw_{n}) + 1 AS k FROM raw_{n})
        SELECT numbered.* EXCLUDE (k), numbered.k + coalesce(steps.i, 0) AS _row
        FROM numbered ASOF LEFT JOIN steps ON numbered.k > steps.accepted_before
        ORDER BY _row
        """
    )
    con.execute(f"DROP TABLE raw_{n}")
    con.execute(f"DROP TABLE IF EXISTS {rejects}")
    con.execute(f"DROP TABLE IF EXISTS {scans}")


def read_header(path: Path, delimiter: str = ",") -> list[str]:
    """Column names from a CSV file's first line (UTF-8, optional BOM)."""
    import csv

    from grace.errors import InputFileError

    with open(path, "rb") as handle:
        first_line = handle.readline()
    try:
        text = first_line.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputFileError(path, "header row is not valid UTF-8", row=0) from error
    first = next(csv.reader([text], delimiter=delimiter), None)
    if not first:
        raise InputFileError(path, "empty file: no header row", row=0)
    return [name.strip() for name in first]
