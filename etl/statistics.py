"""Published statistics: validate a CSV file against its contract and load it, all or nothing.

A statistics file (`data_contracts/published_statistics.yaml`) is small and authoritative, so
it is never loaded in part: the whole file is validated first, in an in-memory DuckDB, against
the contract (every column read as text, header exactly the contract's columns in order, plus
the contract's rules and a no-repeated-figure check). The first problem refuses the file with
an `InputFileError` naming file, data row and field; the warehouse is not even opened. A valid
file is loaded into `published_statistic` and logged in `import_log` in one transaction, with
an import id derived from the file's checksum, so importing the same content again is a no-op. A
corrected file replaces the figures it repeats (same source, period, country, platform and metric):
readers see only the current figures, and the replaced ones move to `published_statistic_history`
with the import that replaced them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from etl.contracts import (
    INVALID_CODE,
    INVALID_FORMAT,
    MISSING_REQUIRED,
    OUT_OF_RANGE,
    TOO_LONG,
    WRONG_TYPE,
    Dataset,
    load_contract,
    validation_sql,
)
from etl.sources.base import file_checksum
from etl.sources.text_reader import read_header, read_text_table
from grace.errors import InputFileError
from warehouse import ensure_schema, read_sql

CONTRACT = "published_statistics"
DATASET = "statistics"
IMPORT_DATASET = "published_statistics"
PERIOD_FORMS = {
    "year": "YYYY",
    "quarter": "YYYY-Qn",
    "month": "YYYY-MM",
    "week": "YYYY-Www (an ISO week of that year)",
    "day": "YYYY-MM-DD (a real date)",
}
_MAX_SHOWN = 40


@dataclass(frozen=True)
class StatisticsImport:
    """What one `import_statistics` call did: `status` is `loaded` or `already_imported`."""

    import_id: str
    path: Path
    rows: int
    status: str
    imported_at: datetime

    @property
    def loaded(self) -> bool:
        return self.status == "loaded"


def statistics_dataset() -> Dataset:
    """The contract's `statistics` dataset (columns, checks, rules)."""
    return load_contract(CONTRACT).dataset(DATASET)


def import_id_for(checksum: str) -> str:
    """The import id of a file's content: the same bytes always give the same id."""
    return "s-" + hashlib.sha256(f"{IMPORT_DATASET}\x1f{checksum}".encode()).hexdigest()[:20]


@dataclass(frozen=True)
class ValidatedStatistics:
    """A statistics file that passed validation: its typed rows and content identity."""

    path: Path
    checksum: str
    import_id: str
    rows: pa.Table


def validate_statistics_file(path: Path) -> ValidatedStatistics:
    """Validate the whole file; return its typed rows, or raise `InputFileError` on the first problem.

    Touches no warehouse: validation runs in a private in-memory DuckDB.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "no such file")
    checksum = file_checksum(path)
    import_id = import_id_for(checksum)
    return ValidatedStatistics(path, checksum, import_id, _validated_rows(path, import_id))


def import_statistics(con: duckdb.DuckDBPyConnection, path: Path) -> StatisticsImport:
    """Validate `path` and load it into the warehouse `con` in one transaction (idempotent)."""
    return load_statistics(con, validate_statistics_file(path))


def load_statistics(con: duckdb.DuckDBPyConnection, validated: ValidatedStatistics) -> StatisticsImport:
    """Load a validated file into `published_statistic` + `import_log` in one transaction.

    Content already imported (same checksum) is not loaded again: status `already_imported`.
    """
    path, import_id, rows = validated.path, validated.import_id, validated.rows
    ensure_schema(con)
    con.execute("BEGIN TRANSACTION")
    try:
        found = con.execute(read_sql("etl/statistics_import_lookup.sql"), {"import_id": import_id}).fetchall()
        if found:
            earlier = found[0]
            con.execute("ROLLBACK")
            return StatisticsImport(import_id, path, int(earlier[2]), "already_imported", earlier[3])
        imported_at = datetime.now(UTC).replace(tzinfo=None)
        con.register("statistics_import", rows)
        try:
            con.execute(read_sql("etl/statistics_supersede.sql"), {"import_id": import_id, "imported_at": imported_at})
            con.execute(read_sql("etl/statistics_delete_superseded.sql"))
            con.execute(read_sql("etl/statistics_insert.sql"))
        finally:
            con.unregister("statistics_import")
        con.execute(
            read_sql("etl/statistics_log_import.sql"),
            {
                "import_id": import_id,
                "dataset": IMPORT_DATASET,
                "source_path": str(path.resolve()),
                "checksum": validated.checksum,
                "rows_loaded": rows.num_rows,
                "imported_at": imported_at,
            },
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return StatisticsImport(import_id, path, rows.num_rows, "loaded", imported_at)


def _validated_rows(path: Path, import_id: str) -> pa.Table:
    """Stage the file in a private in-memory DuckDB, refuse it on any problem, else return typed rows."""
    dataset = statistics_dataset()
    _check_header(path, dataset.column_names)
    con = duckdb.connect(":memory:")
    try:
        con.execute(
            "CREATE TEMP TABLE stg_rejects (dataset VARCHAR, source_file VARCHAR, row_number BIGINT, "
            "field VARCHAR, reason VARCHAR, detail VARCHAR)"
        )
        try:
            read_text_table(con, path, dataset.column_names, "stg_read", DATASET, header=True)
        except duckdb.Error as error:
            raise InputFileError(path, f"cannot be read as CSV ({str(error).splitlines()[0][:200]})") from error
        con.execute(
            "CREATE TEMP TABLE stg_statistics AS SELECT *, $file AS _source_file FROM stg_read", {"file": str(path)}
        )
        con.execute(
            "CREATE TEMP TABLE statistics_problems AS SELECT row_number, field, reason, detail FROM stg_rejects"
        )
        con.execute(
            "INSERT INTO statistics_problems SELECT _row, field, reason, detail FROM ("
            + validation_sql(dataset, "stg_statistics")
            + ")"
        )
        con.execute(
            "INSERT INTO statistics_problems SELECT _row, field, reason, detail FROM ("
            + read_sql("etl/statistics_duplicate_rows.sql")
            + ")"
        )
        _refuse_on_first_problem(con, path, dataset)
        if con.execute("SELECT count(*) FROM stg_statistics").fetchall() == [(0,)]:
            raise InputFileError(path, "no data rows below the header")
        return con.sql(read_sql("etl/statistics_typed_rows.sql"), params={"import_id": import_id}).to_arrow_table()
    finally:
        con.close()


def _check_header(path: Path, expected: list[str]) -> None:
    found = read_header(path)
    if found == expected:
        return
    for position, name in enumerate(expected):
        if position >= len(found):
            problem, field = f"column {position + 1} '{name}' is missing", name
            break
        if found[position] != name:
            problem, field = f"column {position + 1} is '{found[position]}', expected '{name}'", name
            break
    else:
        problem, field = f"unexpected extra column {len(expected) + 1} '{found[len(expected)]}'", found[len(expected)]
    raise InputFileError(path, f"header must be exactly {','.join(expected)}: {problem}", field=field)


def _refuse_on_first_problem(con: duckdb.DuckDBPyConnection, path: Path, dataset: Dataset) -> None:
    found = con.execute(read_sql("etl/statistics_first_problem.sql"), {"fields": dataset.column_names}).fetchall()
    if not found:
        return
    row, field, reason, detail, problems, bad_rows = found[0]
    values = {}
    if row is not None:
        cursor = con.execute(read_sql("etl/statistics_row.sql"), {"row": row})
        records = cursor.fetchall()
        if records:
            values = dict(zip([d[0] for d in cursor.description], records[0]))
    message = _describe(dataset, field, reason, detail, values)
    if problems > 1:
        message += f" (file refused: {problems} problems in {bad_rows} row(s); this is the first)"
    else:
        message += " (file refused)"
    raise InputFileError(path, message, row=row, field=field)


def _shown(value) -> str:
    if value is None or str(value).strip() == "":
        return "empty value"
    text = str(value)
    return repr(text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "...")


def _describe(dataset: Dataset, field: str | None, reason: str, detail: str | None, values: dict) -> str:
    """A short, human explanation of one problem."""
    value = values.get(field) if field else None
    shown = _shown(value)
    try:
        spec = dataset.field(field) if field else None
    except KeyError:
        spec = None
    options = spec.options if spec else {}
    if reason == MISSING_REQUIRED:
        return "required value is empty"
    if reason == INVALID_CODE:
        return f"{shown} is not one of {', '.join(map(str, options.get('enum', [])))}"
    if reason == INVALID_FORMAT:
        if field == "period":
            return (
                f"{shown} is not a period (expected {', '.join(PERIOD_FORMS[k].split(' ')[0] for k in PERIOD_FORMS)})"
            )
        return f"{shown} does not have the expected format ({options.get('pattern', '')})"
    if reason == OUT_OF_RANGE:
        bounds = [
            f"{word} {options[key]}" for key, word in (("minimum", "minimum"), ("maximum", "maximum")) if key in options
        ]
        return f"{shown} is out of range ({', '.join(bounds)})"
    if reason == TOO_LONG:
        return f"value is longer than {options.get('maxLength')} characters"
    if reason == WRONG_TYPE:
        return f"{shown} is not a finite {spec.logical_type if spec else 'value'}"
    if reason == "inconsistent" and field == "period":
        period_type = str(values.get("period_type") or "").strip()
        return f"{shown} does not match period_type '{period_type}' (expected {PERIOD_FORMS.get(period_type, '?')})"
    if reason == "duplicate":
        return f"repeats the figure of {detail} (same period, period_type, country_iso3, platform, metric and source)"
    if reason == "malformed_row":
        return f"row cannot be parsed as CSV ({str(detail or 'malformed').lower()})"
    if reason == "invalid_encoding":
        return "text is not valid UTF-8"
    return f"{reason} ({detail})" if detail else reason
