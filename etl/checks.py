"""Checks that the built warehouse keeps its promises.

`contract_findings` compares the DuckDB schema with `data_contracts/warehouse.yaml` (tables,
columns, types, NOT NULL, uniqueness, and that media clusters have the ids the ETL finds them by);
`identifier_findings` scans every text column for things that look like direct identifiers (e-mail
addresses, IP addresses, phone numbers, URLs). Both return findings instead of raising, so
`grace warehouse check` can list them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from etl.contracts import load_contract
from etl.identifiers import IDENTIFIER_PATTERNS
from warehouse import read_sql

# Lineage columns name where data came from (file paths, a case database's host); network
# addresses there describe infrastructure, not people, so only e-mail and phone are checked.
INFRASTRUCTURE_COLUMNS = {
    ("etl_batch", "source_path"): {"ipv4", "ipv6", "url"},
    ("import_log", "source_path"): {"ipv4", "ipv6", "url"},
    ("quarantine", "source_file"): {"ipv4", "ipv6", "url"},
}


@dataclass(frozen=True)
class Finding:
    """One problem found in the warehouse."""

    check: str
    table: str
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.table + (f".{self.column}" if self.column else "")
        return f"[{self.check}] {where}: {self.message}"


def _one_row(con: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> tuple[Any, ...]:
    """The single row of an aggregate query (`fetchone` is typed to allow no row at all)."""
    row = con.execute(sql, params).fetchone()
    if row is None:
        raise RuntimeError(f"aggregate query returned no row: {sql}")
    return row


def contract_findings(con: duckdb.DuckDBPyConnection) -> list[Finding]:
    """Differences between the warehouse schema and its contract, plus uniqueness violations."""
    contract = load_contract("warehouse")
    actual: dict[str, dict[str, tuple[str, bool]]] = {}
    for table, column, dtype, nullable in con.execute(
        "SELECT table_name, column_name, data_type, is_nullable = 'YES' FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_catalog = current_database() ORDER BY table_name, ordinal_position"
    ).fetchall():
        actual.setdefault(table, {})[column] = (dtype, nullable)
    findings: list[Finding] = []
    declared = {d.name for d in contract.datasets}
    for table in sorted(set(actual) - declared):
        findings.append(Finding("contract", table, None, "table exists but is not in data_contracts/warehouse.yaml"))
    for dataset in contract.datasets:
        columns = actual.get(dataset.name)
        if columns is None:
            findings.append(Finding("contract", dataset.name, None, "table declared in the contract is missing"))
            continue
        for extra in sorted(set(columns) - set(dataset.column_names)):
            findings.append(Finding("contract", dataset.name, extra, "column exists but is not in the contract"))
        for field in dataset.fields:
            if field.name not in columns:
                findings.append(
                    Finding("contract", dataset.name, field.name, "column declared in the contract is missing")
                )
                continue
            dtype, nullable = columns[field.name]
            if field.physical_type and dtype != field.physical_type:
                findings.append(
                    Finding("contract", dataset.name, field.name, f"type {dtype}, contract says {field.physical_type}")
                )
            if field.required and nullable:
                findings.append(Finding("contract", dataset.name, field.name, "nullable, contract says required"))
            if not field.required and not nullable:
                findings.append(Finding("contract", dataset.name, field.name, "NOT NULL, contract says optional"))
            if field.unique:
                total, distinct = _one_row(
                    con, f'SELECT count(*), count(DISTINCT "{field.name}") FROM "{dataset.name}"'
                )
                if total != distinct:
                    findings.append(
                        Finding("unique", dataset.name, field.name, f"{total - distinct} repeated value(s)")
                    )
    findings.extend(_row_key_findings(con, actual))
    findings.extend(_cluster_id_findings(con, actual))
    return findings


def _cluster_id_findings(con: duckdb.DuckDBPyConnection, actual: dict[str, dict]) -> list[Finding]:
    """Media clusters whose id is not their MD5 (the ETL finds a cluster by its MD5 through its id)."""
    if not {"cluster_id", "md5"} <= set(actual.get("media_cluster", {})):
        return []  # reported above as a contract difference
    (unlike,) = _one_row(con, read_sql("etl/cluster_ids_unlike_md5.sql"))
    if not unlike:
        return []
    return [
        Finding(
            "key",
            "media_cluster",
            "cluster_id",
            f"{unlike} cluster(s) with an MD5 whose id is not that MD5 as a number: the ETL looks a file's MD5 "
            "up by id, so a later file with one of these MD5s would start a second cluster; reload the warehouse",
        )
    ]


# Keys of several columns (the contract's `unique` is per column), with what a repeat means.
ROW_KEYS = {
    "fact_file_occurrence": (
        ("referral_key", "file_ordinal"),
        "a referral's file loaded more than once: warehouses that loaded referral packages with several files "
        "before 2026-12-07 hold each such file n times; reload them",
    ),
}


def _row_key_findings(con: duckdb.DuckDBPyConnection, actual: dict[str, dict]) -> list[Finding]:
    """Repeated `ROW_KEYS` (names from this module, never from data)."""
    findings = []
    for table, (columns, meaning) in ROW_KEYS.items():
        if table not in actual or not set(columns) <= set(actual[table]):
            continue  # reported above as a contract difference
        key = ", ".join(f'"{column}"' for column in columns)
        (repeated,) = _one_row(
            con, f'SELECT count(*) FROM (SELECT 1 FROM "{table}" GROUP BY {key} HAVING count(*) > 1)'
        )
        if repeated:
            findings.append(Finding("unique", table, "+".join(columns), f"{repeated} repeated key(s): {meaning}"))
    return findings


def identifier_findings(con: duckdb.DuckDBPyConnection) -> list[Finding]:
    """Text values in any table that look like e-mails, IPs, phone numbers or URLs."""
    text_columns: dict[str, list[str]] = {}
    for table, column in con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_catalog = current_database() AND data_type = 'VARCHAR' ORDER BY table_name, ordinal_position"
    ).fetchall():
        text_columns.setdefault(table, []).append(column)
    findings: list[Finding] = []
    for table, columns in text_columns.items():
        pairs = [
            (c, kind)
            for c in columns
            for kind in IDENTIFIER_PATTERNS
            if kind not in INFRASTRUCTURE_COLUMNS.get((table, c), set())
        ]
        if not pairs:
            continue
        counts = ", ".join(f'count(*) FILTER (WHERE regexp_matches("{c}", $p_{kind}))' for c, kind in pairs)
        params = {f"p_{kind}": pattern for kind, pattern in IDENTIFIER_PATTERNS.items()}
        row = _one_row(con, f'SELECT {counts} FROM "{table}"', params)
        for (column, kind), hits in zip(pairs, row):
            if hits:
                findings.append(Finding("identifier", table, column, f"{hits} value(s) look like a {kind}"))
    return findings


def warehouse_stats(con: duckdb.DuckDBPyConnection) -> dict:
    """Headline counts and the row count of every table."""
    tables = {
        name: _one_row(con, f'SELECT count(*) FROM "{name}"')[0]
        for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_catalog = current_database() ORDER BY table_name"
        ).fetchall()
    }
    quarantined = _one_row(
        con, "SELECT count(*) FROM (SELECT DISTINCT batch_id, dataset, source_file, row_number FROM quarantine)"
    )[0]
    return {
        "referrals": int(tables.get("fact_referral", 0)),
        "files": int(tables.get("fact_file_occurrence", 0)),
        "media_clusters": int(tables.get("media_cluster", 0)),
        "quarantined": int(quarantined),
        "tables": {name: int(count) for name, count in tables.items()},
    }
