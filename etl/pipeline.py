"""Run one batch through validate → anonymise → deduplicate → load, in one transaction.

Everything happens in DuckDB: the source stages text tables, the contract's checks list
violations (quarantined with file, row, field and reason), SQL in `sql/etl/` anonymises,
deduplicates, clusters files and loads facts, dimensions and rollups. A failure anywhere
rolls the transaction back, so the warehouse is exactly as before; a batch whose checksum
was already loaded is skipped, so re-running changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone

import duckdb

from etl.contracts import load_contract, validation_sql
from etl.lineage import BatchReport, code_version
from etl.sources.base import BatchSource, create_staging_tables
from etl.warehouse import ensure_schema, read_sql
from grace.config import PseudonymKey
from grace.errors import GraceError

STAGES = ("stage", "validate", "anonymise", "deduplicate", "cluster", "load", "rollup")


class InjectedFailure(RuntimeError):
    """Raised by the fault-injection hook (tests prove a failed batch leaves no trace)."""


@dataclass(frozen=True)
class PipelineOptions:
    """How to run a batch. `fail_at` names a stage after which to fail on purpose (tests only)."""

    fail_at: str | None = None


def hmac_pads(key: PseudonymKey) -> dict[str, bytes]:
    """HMAC-SHA256 inner and outer pads for the key (RFC 2104), bound as SQL parameters."""
    secret = key.secret
    if len(secret) > 64:
        secret = hashlib.sha256(secret).digest()
    secret = secret.ljust(64, b"\x00")
    return {"ipad": bytes(b ^ 0x36 for b in secret), "opad": bytes(b ^ 0x5C for b in secret)}


def run_batch(
    con: duckdb.DuckDBPyConnection,
    source: BatchSource,
    key: PseudonymKey,
    options: PipelineOptions = PipelineOptions(),
) -> BatchReport:
    """Load one batch; returns its report (status `loaded`, `skipped` or raises on failure)."""
    ensure_schema(con)
    con.execute("SET TimeZone = 'UTC'")
    report = BatchReport(batch_id=source.batch_id, source_kind=source.kind, source_path=source.path)
    already = con.execute("SELECT status FROM etl_batch WHERE batch_id = ?", [source.batch_id]).fetchall()
    if already:
        report.status = "skipped"
        report.message = "already loaded (same checksum); nothing changed"
        return report
    started = datetime.now(timezone.utc).replace(tzinfo=None)
    clock = time.perf_counter()
    con.execute("BEGIN TRANSACTION")
    try:
        _run_stages(con, source, key, options, report)
        report.seconds = round(time.perf_counter() - clock, 3)
        _record_batch(con, source, report, started)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        _drop_temp_tables(con)
    report.status = "loaded"
    return report


def _run_stages(con, source: BatchSource, key: PseudonymKey, options: PipelineOptions, report: BatchReport) -> None:
    params = {**hmac_pads(key)}
    batch = {"batch_id": source.batch_id}

    @contextmanager
    def stage(name: str):
        started = time.perf_counter()
        yield
        report.stage_seconds[name] = round(time.perf_counter() - started, 3)
        if options.fail_at == name:
            raise InjectedFailure(f"injected failure after stage '{name}'")

    with stage("stage"):
        create_staging_tables(con)
        source.stage(con)
    with stage("validate"):
        _validate(con)
    with stage("anonymise"):
        con.execute("CREATE OR REPLACE TEMP TABLE anon_referrals AS " + read_sql("etl/anonymise_referrals.sql"), params)
        con.execute("CREATE OR REPLACE TEMP TABLE anon_files AS " + read_sql("etl/anonymise_files.sql"), params)
    with stage("deduplicate"):
        con.execute("CREATE OR REPLACE TEMP TABLE batch_referrals AS " + read_sql("etl/dedupe_referrals.sql"))
        con.execute("CREATE OR REPLACE TEMP TABLE batch_files AS " + read_sql("etl/dispose_files.sql"))
    with stage("cluster"):
        con.execute("CREATE OR REPLACE TEMP TABLE batch_clustered AS " + read_sql("etl/resolve_clusters.sql"))
        con.execute("CREATE OR REPLACE TEMP TABLE moved_first AS " + read_sql("etl/moved_first_sightings.sql"))
    with stage("load"):
        con.execute("INSERT INTO fact_referral BY NAME " + read_sql("etl/insert_fact_referral.sql"), batch)
        con.execute(read_sql("etl/unflag_moved_first_sightings.sql"))
        con.execute("CREATE OR REPLACE TEMP TABLE batch_occurrences AS " + read_sql("etl/insert_fact_file_occurrence.sql"), batch)
        con.execute("INSERT INTO fact_file_occurrence BY NAME SELECT * FROM batch_occurrences")
        con.execute("CREATE OR REPLACE TEMP TABLE batch_cluster_stats AS " + read_sql("etl/batch_cluster_stats.sql"))
        con.execute(read_sql("etl/update_cluster_reach_dates.sql"))
        con.execute("INSERT INTO cluster_reach BY NAME " + read_sql("etl/insert_cluster_reach.sql"))
        con.execute("INSERT INTO media_cluster BY NAME " + read_sql("etl/insert_new_media_clusters.sql"))
        con.execute(read_sql("etl/update_media_clusters.sql"))
        _quarantine(con, source, batch)
    with stage("rollup"):
        con.execute("CREATE OR REPLACE TEMP TABLE affected_dates AS " + read_sql("etl/affected_dates.sql"))
        con.execute(read_sql("etl/upsert_dimensions.sql"))
        for rollup in ("rollup_referral_daily", "rollup_file_daily"):
            con.execute(f"DELETE FROM {rollup} WHERE date_key IN (SELECT date_key FROM affected_dates)")
            con.execute(f"INSERT INTO {rollup} BY NAME " + read_sql(f"etl/{rollup}.sql"))
    _count(con, report)
    if not report.balanced:
        raise GraceError(f"{source.path}: row accounting does not balance ({report.as_dict()}); batch rolled back")


def _validate(con) -> None:
    """Collect every contract violation and parse reject into `problem_rows`."""
    contract = load_contract("case_export")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE problem_rows AS "
        "SELECT dataset, source_file, row_number, field, reason, detail FROM stg_rejects"
    )
    for dataset in ("referrals", "files"):
        con.execute(
            f"INSERT INTO problem_rows SELECT '{dataset}', _source_file, _row, field, reason, detail "
            f"FROM ({validation_sql(contract.dataset(dataset), 'stg_' + dataset)})"
        )


def _quarantine(con, source: BatchSource, batch: dict) -> None:
    """Write every problem, and every file that cannot be loaded, to the quarantine table."""
    con.execute(
        "INSERT INTO quarantine SELECT $batch_id, $kind, dataset, source_file, row_number, field, reason, detail "
        "FROM problem_rows ORDER BY dataset, source_file, row_number, field",
        {**batch, "kind": source.kind},
    )
    con.execute(
        "INSERT INTO quarantine SELECT $batch_id, $kind, 'files', _source_file, _row, 'report_id', disposition, "
        "CASE disposition WHEN 'orphan_file' THEN 'referral not in this delivery' ELSE 'referral was quarantined' END "
        "FROM batch_files WHERE disposition IN ('parent_quarantined', 'orphan_file') ORDER BY _source_file, _row",
        {**batch, "kind": source.kind},
    )


def _count(con, report: BatchReport) -> None:
    """Fill the report's row accounting from the batch's temp tables."""
    ref = con.execute(
        """
        SELECT (SELECT count(*) FROM stg_referrals)
               + (SELECT count(*) FROM stg_rejects WHERE dataset = 'referrals' AND row_number IS NOT NULL),
               (SELECT count(*) FROM batch_referrals WHERE is_new),
               (SELECT count(DISTINCT (source_file, row_number)) FROM problem_rows
                 WHERE dataset = 'referrals' AND row_number IS NOT NULL),
               (SELECT count(*) FROM batch_referrals WHERE NOT is_new)
        """
    ).fetchone()
    files = con.execute(
        """
        SELECT (SELECT count(*) FROM stg_files)
               + (SELECT count(*) FROM stg_rejects WHERE dataset = 'files' AND row_number IS NOT NULL),
               (SELECT count(*) FROM batch_clustered),
               (SELECT count(DISTINCT (source_file, row_number)) FROM problem_rows
                 WHERE dataset = 'files' AND row_number IS NOT NULL)
               + (SELECT count(*) FROM batch_files WHERE disposition IN ('parent_quarantined', 'orphan_file')),
               (SELECT count(*) FROM batch_files WHERE disposition = 'duplicate')
        """
    ).fetchone()
    (report.referrals_in, report.referrals_loaded, report.referrals_quarantined, report.referrals_duplicate) = ref
    (report.files_in, report.files_loaded, report.files_quarantined, report.files_duplicate) = files


def _record_batch(con, source: BatchSource, report: BatchReport, started: datetime) -> None:
    contract = load_contract("case_export")
    con.execute(
        "INSERT INTO etl_batch VALUES ($batch_id, $kind, $path, $checksum, 'loaded', $ri, $rl, $rq, $rd, "
        "$fi, $fl, $fq, $fd, $watermark, $started, $finished, $seconds, $stages, $code, $contract)",
        {
            "batch_id": source.batch_id, "kind": source.kind, "path": source.path, "checksum": source.checksum,
            "ri": report.referrals_in, "rl": report.referrals_loaded, "rq": report.referrals_quarantined,
            "rd": report.referrals_duplicate, "fi": report.files_in, "fl": report.files_loaded,
            "fq": report.files_quarantined, "fd": report.files_duplicate, "watermark": source.watermark,
            "started": started, "finished": datetime.now(timezone.utc).replace(tzinfo=None),
            "seconds": report.seconds, "stages": json.dumps(report.stage_seconds, sort_keys=True),
            "code": code_version(), "contract": f"{contract.id} {contract.version}",
        },
    )


def _drop_temp_tables(con) -> None:
    for name in ("stg_referrals", "stg_files", "stg_rejects", "problem_rows", "anon_referrals", "anon_files",
                 "batch_referrals", "batch_files", "batch_clustered", "moved_first", "batch_occurrences", "batch_cluster_stats",
                 "affected_dates"):
        try:
            con.execute(f"DROP TABLE IF EXISTS {name}")
        except duckdb.Error:
            pass
