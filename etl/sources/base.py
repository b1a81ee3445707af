"""What a batch source is, the staging tables it fills, and how deliveries are discovered."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from etl.contracts import load_contract
from grace.checksums import file_checksum

CASE_EXPORT = "case_export"
REFERRAL_PACKAGE = "referral_package"
CASE_DATABASE = "case_database"

EXPORT_SUFFIXES = (".csv", ".parquet")
PACKAGE_SUFFIXES = (".jsonl", ".json", ".ndjson")


@dataclass
class BatchSource:
    """One unit of loading: a delivery folder, a package file, or a range of a case database.

    `stage(con)` fills the staging tables; `checksum` identifies the content, so the same
    delivery loaded twice is recognised and skipped.
    """

    kind: str
    path: str
    checksum: str
    stage: Callable[[duckdb.DuckDBPyConnection], None]
    files: list[str] = field(default_factory=list)
    watermark: str | None = None

    @property
    def batch_id(self) -> str:
        return "b-" + hashlib.sha256(f"{self.kind}\x1f{self.checksum}".encode()).hexdigest()[:20]


def combined_checksum(paths: list[Path]) -> str:
    """Checksum of several files: their names (relative order) and contents."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\x00" + file_checksum(path).encode() + b"\x00")
    return digest.hexdigest()


def create_staging_tables(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create the empty temp staging tables for one batch."""
    contract = load_contract("case_export")
    for dataset in ("referrals", "files"):
        columns = ", ".join(f'"{name}" VARCHAR' for name in contract.dataset(dataset).column_names)
        # _item: a file's place in its referral package's line (0 elsewhere), so (file, row, item) names one row
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE stg_{dataset} ({columns}, _source_file VARCHAR, _row BIGINT, _item INTEGER)"
        )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE stg_rejects (dataset VARCHAR, source_file VARCHAR, row_number BIGINT, "
        "field VARCHAR, reason VARCHAR, detail VARCHAR)"
    )
    # Columns a delivery has beyond its contract: not read, and listed in the batch report.
    con.execute("CREATE OR REPLACE TEMP TABLE stg_ignored_columns (dataset VARCHAR, source_file VARCHAR, name VARCHAR)")


def staged_columns(dataset) -> list[str]:
    """The columns of a contract dataset the pipeline reads: every column with a check or that
    is kept, pseudonymised, banded or coarsened. Columns dropped unchecked need not be staged."""
    from etl.contracts import field_checks

    return [f.name for f in dataset.fields if f.anonymise != "drop" or field_checks(f)]
