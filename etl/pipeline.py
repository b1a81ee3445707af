"""Run one batch through validate → anonymise → deduplicate → load, in one transaction.

Everything happens in DuckDB: the source stages text tables; one scan per staged table checks
every contract rule (violations are quarantined with file, row, field and reason) and
anonymises the row (`sql/etl/check_*.sql`); SQL in `sql/etl/` then deduplicates, clusters
files and loads facts, dimensions, rollups and the small metric tables (backlog flows, first
reports per account, cross-border spread, distinct counts per period), each recomputed for the
dates, clusters and accounts the batch touches. The big temp tables stay narrow: a small file
number instead of the path, 128-bit integer keys instead of hex text, and duplicate checks
that only rank the (rare) repeated keys. A failure anywhere rolls the transaction back, so the
warehouse is exactly as before; a batch whose checksum was already loaded is skipped, so
re-running changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from classification.scoring import Scorer, score_batch
from etl.contracts import load_contract, problems_sql
from etl.perceptual import MatchingParams, PerceptualBatch, cluster_pending, refresh_rollup
from etl.sources.base import BatchSource, create_staging_tables
from grace import settings
from grace.config import PseudonymKey
from grace.errors import GraceError, WarehouseError
from matching.bank_matcher import BankMatcher
from matching.banks import record_bank_matches
from matching.cluster_index import ClusterIndex
from warehouse import ensure_schema, is_monthly, read_sql
from warehouse.lineage import BatchReport, code_version
from warehouse.period_rollups import refresh_period_rollups

# warehouse_meta key: set (to when) once mart_cluster_reach was filled whole; batches then keep it by changes.
META_REACH_MART_KEPT = "mart_cluster_reach_kept_since"
STAGES = ("stage", "validate", "anonymise", "deduplicate", "cluster", "load", "match", "score", "rollup")


class InjectedFailure(RuntimeError):
    """Raised by the fault-injection hook (tests prove a failed batch leaves no trace)."""


@dataclass(frozen=True)
class PipelineOptions:
    """How to run a batch. `fail_at` names a stage after which to fail on purpose (tests only)."""

    fail_at: str | None = None


@dataclass
class Matching:
    """The near-duplicate index of the warehouse, its hash banks and the settings batches match with.

    Opened once per run (`etl.runner`) and handed to every batch: opening reads the index beside the
    warehouse (and catches it up) and indexes the banks' enabled entries, which a run should not repeat
    per batch (banks change only by `grace banks`, another writer).
    """

    index: ClusterIndex
    params: MatchingParams
    banks: BankMatcher

    @classmethod
    def open(cls, con: duckdb.DuckDBPyConnection, params: MatchingParams | None = None) -> Matching:
        ensure_schema(con)
        params = params or MatchingParams(radius=settings.pdq_radius(), min_quality=settings.pdq_min_quality())
        return cls(ClusterIndex.open(con, params.radius), params, BankMatcher.from_warehouse(con))


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
    matching: Matching | None = None,
    scorer: Scorer | None = None,
) -> BatchReport:
    """Load one batch; returns its report (status `loaded`, `skipped` or raises on failure).

    `matching`: the run's near-duplicate index (opened here when not given). Its in-memory index and
    journal learn the batch's hashes only after the commit, so a rolled-back batch leaves it as it was.
    `scorer`: the active triage model and rule set (loaded here when not given); without an active model
    the batch's referrals are not scored (`grace model score` scores them later).
    """
    ensure_schema(con)
    if is_monthly(con):
        raise WarehouseError(
            f"{source.path}: the warehouse is a hub's (merged differentially private monthly releases); "
            "referral deliveries load into an agency's warehouse"
        )
    con.execute("SET TimeZone = 'UTC'")
    report = BatchReport(batch_id=source.batch_id, source_kind=source.kind, source_path=source.path)
    already = con.execute("SELECT status FROM etl_batch WHERE batch_id = ?", [source.batch_id]).fetchall()
    if already:
        report.status = "skipped"
        report.message = "already loaded (same checksum); nothing changed"
        return report
    matching = matching or Matching.open(con)
    scorer = scorer or Scorer.active(con)
    started = datetime.now(UTC).replace(tzinfo=None)
    clock = time.perf_counter()
    con.execute("BEGIN TRANSACTION")
    try:
        perceptual = _run_stages(con, source, key, options, report, matching, scorer)
        report.seconds = round(time.perf_counter() - clock, 3)
        _record_batch(con, source, report, started)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        _drop_temp_tables(con)
    perceptual.commit_to(matching.index)
    report.status = "loaded"
    return report


def _run_stages(
    con,
    source: BatchSource,
    key: PseudonymKey,
    options: PipelineOptions,
    report: BatchReport,
    matching: Matching,
    scorer: Scorer,
) -> PerceptualBatch:
    params = {**hmac_pads(key)}
    batch = {"batch_id": source.batch_id}

    @contextmanager
    def stage(name: str):
        started = time.perf_counter()
        yield
        report.stage_seconds[name] = round(time.perf_counter() - started, 3)
        if options.fail_at == name:
            raise InjectedFailure(f"injected failure after stage '{name}'")

    def table(name: str, sql_file: str, parameters: dict | None = None) -> None:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS " + read_sql(f"etl/{sql_file}.sql"), parameters or {})

    with stage("stage"):
        create_staging_tables(con)
        source.stage(con)
        report.ignored_columns = [
            f"{Path(file).name}: {name}"
            for file, name in con.execute(
                "SELECT source_file, name FROM stg_ignored_columns ORDER BY source_file, name"
            ).fetchall()
        ]
    with stage("validate"):
        # One scan per staged table both checks every contract rule and anonymises the row;
        # rows with problems stay in the checked tables (marked) and are quarantined later.
        _define_checked_inputs(con)
        table("checked_referrals", "check_referrals", params)
    with stage("anonymise"):
        table("keys_loaded_before", "keys_loaded_before")
        table("checked_files", "check_files")
        _collect_problems(con)
    with stage("deduplicate"):
        table("referral_later_copies", "referral_later_copies")
        con.execute("CREATE OR REPLACE TEMP VIEW new_referrals AS " + read_sql("etl/new_referrals.sql"))
        table("file_later_copies", "file_later_copies")
    with stage("cluster"):
        table("loadable_files", "loadable_files")
        table("loading_referrals", "loading_referrals")
        table("irregular_ordinals", "irregular_ordinals")
        table("borrowed_md5", "borrowed_md5")
        table("clusters_by_md5", "clusters_by_md5")
        table("clusters_by_sha1", "clusters_by_sha1")
        table("batch_clustered", "resolve_clusters")
        table("batch_cluster_stats", "batch_cluster_stats")
        table("moved_first", "moved_first_sightings")
        table("batch_reach", "batch_reach")
        table("reach_before", "reach_before")
        table("batch_reach_counts", "batch_reach_counts")
    with stage("load"):
        con.execute("INSERT INTO fact_referral BY NAME " + read_sql("etl/insert_fact_referral.sql"), batch)
        con.execute(read_sql("etl/unflag_moved_first_sightings.sql"))
        con.execute(
            "INSERT INTO fact_file_occurrence BY NAME " + read_sql("etl/insert_fact_file_occurrence.sql"), batch
        )
        con.execute(read_sql("etl/update_cluster_reach_dates.sql"))
        con.execute("INSERT INTO cluster_reach BY NAME " + read_sql("etl/insert_cluster_reach.sql"))
        con.execute("INSERT INTO media_cluster BY NAME " + read_sql("etl/insert_new_media_clusters.sql"))
        con.execute(read_sql("etl/update_media_clusters.sql"))
        _quarantine(con, source, batch)
    with stage("match"):
        perceptual = cluster_pending(con, matching.index, source.batch_id, matching.params, in_batch=True)
        report.matching = perceptual.as_dict()
        candidates = con.execute(read_sql("etl/batch_bank_candidates.sql"), batch).df()
        report.matching["bank_matches"] = record_bank_matches(con, matching.banks, candidates, source.batch_id)
    with stage("score"):
        report.scored = score_batch(con, scorer, source.batch_id)
    with stage("rollup"):
        _refresh_account_first_reports(con, table)
        table("affected_dates", "affected_dates")
        _add_bank_known_dates(con, table, batch)
        con.execute(read_sql("etl/insert_calendar_days.sql"))
        con.execute(read_sql("etl/upsert_dimensions.sql"))
        for rollup in ("rollup_referral_daily", "rollup_file_daily"):
            _replace_rows(con, rollup, "affected_dates")
        refresh_period_rollups(con, "affected_dates", ("rollup_referral_daily", "rollup_file_daily"))
        table("affected_flow_dates", "affected_flow_dates")
        _replace_rows(con, "rollup_backlog_daily", "affected_flow_dates")
        _refresh_cluster_spread(con, table)
        _refresh_distinct_mart(con, table, batch)
        refresh_rollup(con, with_batch_dates=True, batch_id=source.batch_id)
    _count(con, report)
    if not report.balanced:
        raise GraceError(f"{source.path}: row accounting does not balance ({report.as_dict()}); batch rolled back")
    return perceptual


def _replace_rows(con, rollup: str, dates: str) -> None:
    """Recompute a daily rollup for the dates listed in the temp table `dates` (delete, insert)."""
    con.execute(f"DELETE FROM {rollup} WHERE date_key IN (SELECT date_key FROM {dates})")
    con.execute(f"INSERT INTO {rollup} BY NAME " + read_sql(f"etl/{rollup}.sql"))


def _add_bank_known_dates(con, table, batch: dict) -> None:
    """Add to `affected_dates` every date an older media cluster was seen on when this batch found it a bank
    match (its is_known may have changed, and the file rollup counts known files by day). Rare: only older
    clusters the batch placed — a first usable PDQ — can get one; the facts are read only then."""
    table("bank_known_changed", "bank_known_changed", batch)
    if con.execute("SELECT count(*) FROM bank_known_changed").fetchone()[0]:
        con.execute("INSERT INTO affected_dates " + read_sql("etl/bank_known_dates.sql"))


def _refresh_account_first_reports(con, table) -> None:
    """Keep each account's first report current; `account_moves` lists the ones moved earlier."""
    table("batch_account_first", "batch_account_first")
    table("account_moves", "account_moves")
    con.execute(read_sql("etl/update_account_first_report.sql"))
    table("batch_new_accounts", "batch_new_accounts")
    con.execute("INSERT INTO account_first_report BY NAME SELECT * FROM batch_new_accounts")


def _refresh_cluster_spread(con, table) -> None:
    """Recompute the second-country day of every cluster this batch saw, its daily counts and the reach mart."""
    table("batch_cluster_spread", "batch_cluster_spread")
    table("affected_spread_dates", "affected_spread_dates")
    table("mart_reach_before", "mart_reach_before")  # read before cluster_spread changes
    con.execute("DELETE FROM cluster_spread WHERE cluster_id IN (SELECT DISTINCT cluster_id FROM batch_reach)")
    con.execute(
        "INSERT INTO cluster_spread BY NAME SELECT * FROM batch_cluster_spread ORDER BY reached_date, cluster_id"
    )
    _replace_rows(con, "rollup_cluster_spread_daily", "affected_spread_dates")
    _refresh_cluster_reach_mart(con, table)


def _refresh_cluster_reach_mart(con, table) -> None:
    """Move this batch's clusters between the cells of mart_cluster_reach: out of the cells they were counted
    in before the batch (`mart_reach_before`), into the ones they are in now. Late records that move a first
    sighting or add a country move their cluster; the work grows with the batch, not with the warehouse.

    A warehouse whose mart this code has not yet filled whole (new, or built when every batch recomputed it)
    is filled whole once, and `warehouse_meta` records it. A cell driven below zero means the mart and
    media_cluster disagree: the batch fails and rolls back rather than store a wrong count."""
    kept = con.execute("SELECT count(*) FROM warehouse_meta WHERE key = ?", [META_REACH_MART_KEPT]).fetchone()
    if not kept or not kept[0]:
        con.execute("CREATE OR REPLACE TEMP VIEW mart_reach_changes AS " + read_sql("etl/mart_reach_all_clusters.sql"))
        con.execute("DELETE FROM mart_cluster_reach")
        con.execute("INSERT INTO mart_cluster_reach BY NAME " + read_sql("etl/mart_cluster_reach.sql"))
        con.execute("DROP VIEW mart_reach_changes")
        con.execute(
            "INSERT INTO warehouse_meta (key, value) VALUES (?, ?)",
            [META_REACH_MART_KEPT, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")],
        )
        return
    con.execute(
        "CREATE OR REPLACE TEMP TABLE mart_reach_changes AS SELECT * FROM mart_reach_before UNION ALL "
        + read_sql("etl/mart_reach_after.sql")
    )
    table("mart_reach_delta", "mart_cluster_reach")
    con.execute(read_sql("etl/mart_cluster_reach_merge.sql"))
    negative = con.execute("SELECT count(*) FROM mart_cluster_reach WHERE clusters < 0").fetchone()
    if negative and negative[0]:
        raise WarehouseError(
            f"mart_cluster_reach: {negative[0]} cell(s) would count fewer than 0 clusters, so the mart does not "
            "match media_cluster; batch rolled back. Delete the warehouse_meta row "
            f"'{META_REACH_MART_KEPT}' to have the next batch fill the mart whole."
        )


def _refresh_distinct_mart(con, table, batch: dict) -> None:
    """Add the accounts and media clusters this batch brings into each period's cells (distinct counts)."""
    table("mart_batch_items", "mart_batch_items")
    table("mart_distinct_increments", "mart_distinct_increments", batch)
    con.execute(read_sql("etl/update_mart_distinct_period.sql"))
    con.execute("INSERT INTO mart_distinct_period BY NAME " + read_sql("etl/insert_mart_distinct_period.sql"))


def _define_checked_inputs(con) -> None:
    """Number the batch's source files and define the views the checking scans read.

    The big temp tables carry a small file number (`_file`) instead of the path; the paths
    live in `batch_source_files`, numbered in path order so (_file, _row) sorts like
    (path, row). `checked_<dataset>_input` adds `_file` and `problems` (NULL for a valid row,
    else the list of contract violations) to the staged columns.
    """
    staged = con.execute(
        "SELECT DISTINCT 'referrals', _source_file FROM stg_referrals "
        "UNION ALL SELECT DISTINCT 'files', _source_file FROM stg_files"
    ).fetchall()
    paths = sorted({path for _, path in staged if path is not None})
    number = {path: n for n, path in enumerate(paths, 1)}
    con.execute("CREATE OR REPLACE TEMP TABLE batch_source_files (_file INTEGER, path VARCHAR)")
    if paths:
        con.executemany("INSERT INTO batch_source_files VALUES (?, ?)", [[n, p] for p, n in number.items()])
    contract = load_contract("case_export")
    for dataset in ("referrals", "files"):
        # The file number comes from a join on the path (data), never from a path spliced into the SQL.
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW checked_{dataset}_input AS "
            f"SELECT CAST(numbered._file AS INTEGER) AS _file, CAST(_row AS BIGINT) AS _row, "
            f"{problems_sql(contract.dataset(dataset))} AS problems, staged.* EXCLUDE (_source_file, _row) "
            f"FROM stg_{dataset} AS staged LEFT JOIN batch_source_files AS numbered ON numbered.path = _source_file"
        )


def _collect_problems(con) -> None:
    """Every contract violation and parse reject, as (dataset, file, row, item, field, reason, detail); `item`
    tells the files of one referral package apart (they share their line's row number), 0 elsewhere."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE problem_rows AS "
        "SELECT dataset, source_file, row_number, 0 AS item, field, reason, detail FROM stg_rejects"
    )
    for dataset, item in (("referrals", "0"), ("files", "_item")):
        con.execute(
            f"INSERT INTO problem_rows SELECT '{dataset}', s.path, c._row, c.item, c.p.field, c.p.reason, c.p.detail "
            f"FROM (SELECT _file, _row, {item} AS item, unnest(problems) AS p FROM checked_{dataset} "
            "WHERE problems IS NOT NULL) AS c "
            "JOIN batch_source_files AS s USING (_file)"
        )


def _quarantine(con, source: BatchSource, batch: dict) -> None:
    """Write every problem, and every file that cannot be loaded, to the quarantine table."""
    con.execute(
        "INSERT INTO quarantine SELECT $batch_id, $kind, dataset, source_file, row_number, field, reason, detail "
        "FROM problem_rows ORDER BY dataset, source_file, row_number, item, field",
        {**batch, "kind": source.kind},
    )
    con.execute(
        "INSERT INTO quarantine SELECT $batch_id, $kind, 'files', s.path, f._row, 'report_id', f.disposition, "
        "CASE f.disposition WHEN 'orphan_file' THEN 'referral not in this delivery' ELSE 'referral was quarantined' END "
        "FROM (SELECT _file, _row, _item, "
        "      CASE WHEN parent IS NULL THEN 'orphan_file' ELSE 'parent_quarantined' END AS disposition "
        "      FROM checked_files WHERE problems IS NULL AND (parent IS NULL OR parent = 'quarantined')) AS f "
        "JOIN batch_source_files AS s USING (_file) ORDER BY s.path, f._row, f._item",
        {**batch, "kind": source.kind},
    )


def _count(con, report: BatchReport) -> None:
    """Fill the report's row accounting from the batch's temp tables."""
    ref = con.execute(
        """
        SELECT (SELECT count(*) FROM stg_referrals)
               + (SELECT count(*) FROM stg_rejects WHERE dataset = 'referrals' AND row_number IS NOT NULL),
               (SELECT count(*) FROM new_referrals),
               (SELECT count(DISTINCT (source_file, row_number)) FROM problem_rows
                 WHERE dataset = 'referrals' AND row_number IS NOT NULL),
               (SELECT count(*) FROM checked_referrals WHERE problems IS NULL) - (SELECT count(*) FROM new_referrals)
        """
    ).fetchone()
    files = con.execute(
        """
        WITH valid AS (SELECT parent FROM checked_files WHERE problems IS NULL)
        SELECT (SELECT count(*) FROM stg_files)
               + (SELECT count(*) FROM stg_rejects WHERE dataset = 'files' AND row_number IS NOT NULL),
               (SELECT count(*) FROM batch_clustered),
               (SELECT count(DISTINCT (source_file, row_number, item)) FROM problem_rows
                 WHERE dataset = 'files' AND row_number IS NOT NULL)
               + (SELECT count(*) FROM valid WHERE parent IS NULL OR parent = 'quarantined'),
               (SELECT count(*) FROM valid WHERE parent IN ('new', 'loaded')) - (SELECT count(*) FROM batch_clustered)
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
            "batch_id": source.batch_id,
            "kind": source.kind,
            "path": source.path,
            "checksum": source.checksum,
            "ri": report.referrals_in,
            "rl": report.referrals_loaded,
            "rq": report.referrals_quarantined,
            "rd": report.referrals_duplicate,
            "fi": report.files_in,
            "fl": report.files_loaded,
            "fq": report.files_quarantined,
            "fd": report.files_duplicate,
            "watermark": source.watermark,
            "started": started,
            "finished": datetime.now(UTC).replace(tzinfo=None),
            "seconds": report.seconds,
            "stages": json.dumps(report.stage_seconds, sort_keys=True),
            "code": code_version(),
            "contract": f"{contract.id} {contract.version}",
        },
    )


def _drop_temp_tables(con) -> None:
    views_or_tables = (
        "new_referrals",
        "checked_referrals_input",
        "checked_files_input",
        "stg_referrals",
        "stg_files",
        "mart_reach_changes",
    )
    for name in views_or_tables:
        for kind in ("VIEW", "TABLE"):
            with suppress(duckdb.Error):
                con.execute(f"DROP {kind} IF EXISTS {name}")
    for name in (
        "stg_rejects",
        "stg_ignored_columns",
        "batch_source_files",
        "problem_rows",
        "checked_referrals",
        "checked_files",
        "referral_later_copies",
        "keys_loaded_before",
        "file_later_copies",
        "loadable_files",
        "loading_referrals",
        "irregular_ordinals",
        "borrowed_md5",
        "clusters_by_md5",
        "clusters_by_sha1",
        "batch_clustered",
        "batch_cluster_stats",
        "moved_first",
        "batch_reach",
        "reach_before",
        "batch_reach_counts",
        "affected_dates",
        "bank_known_changed",
        "batch_account_first",
        "account_moves",
        "batch_new_accounts",
        "affected_flow_dates",
        "batch_cluster_spread",
        "affected_spread_dates",
        "mart_reach_before",
        "mart_reach_delta",
        "mart_batch_items",
        "mart_distinct_increments",
        "affected_perceptual",
        "perceptual_dates",
        "previous_perceptual",
        "merged_perceptual",
        "moved_members",
        "perceptual_cells",
        "perceptual_reopened",
        "previous_quality",
    ):
        with suppress(duckdb.Error):
            con.execute(f"DROP TABLE IF EXISTS {name}")
