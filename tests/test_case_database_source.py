"""Case-database source: incremental, read-only extraction from a real PostgreSQL case system.

Each test creates its own database (random name) on the server at 127.0.0.1:5432, builds the
case-system tables the simulator writes (`case_system.referrals` / `files`: id, the contract's
columns as text, updated_at), fills them with synthetic metadata and drops the database after.
"""

from __future__ import annotations

import json
import uuid

import pytest
from click.testing import CliRunner

from etl.contracts import load_contract
from etl.pipeline import InjectedFailure, PipelineOptions, run_batch
from etl.sources.base import create_staging_tables
from etl.sources.case_database import (
    CaseDatabase,
    CaseDatabaseError,
    Watermark,
    case_database_batches,
    last_watermark,
    redact_url,
)
from grace.config import PseudonymKey
from grace.errors import GraceError
from grace_cli import cli
from warehouse import connect

psycopg = pytest.importorskip("psycopg")

pytestmark = pytest.mark.postgres

SERVER = "postgresql://postgres@127.0.0.1:5432"
PASSWORD = "not-a-real-secret-7f3a"
KEY = PseudonymKey(secret=b"test-only-pseudonym-key-0123456789", origin="test")
SOURCE_REFERRALS = "postgresql:case_system.referrals"
SOURCE_FILES = "postgresql:case_system.files"


def _server_available() -> bool:
    try:
        psycopg.connect(f"{SERVER}/postgres", connect_timeout=3).close()
        return True
    except psycopg.Error:
        return False


@pytest.fixture(scope="module")
def server():
    if not _server_available():
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
    return SERVER


def _case_system_ddl() -> list[str]:
    """The simulator's tables: id, every contract column as TEXT (contract order), updated_at."""
    contract = load_contract("case_export")
    statements = ["CREATE SCHEMA case_system"]
    for dataset in ("referrals", "files"):
        columns = ", ".join(f"{name} TEXT" for name in contract.dataset(dataset).column_names)
        statements.append(
            f"CREATE TABLE case_system.{dataset} (id bigserial PRIMARY KEY, {columns}, "
            "updated_at timestamptz DEFAULT now())"
        )
    return statements


@pytest.fixture
def case_db(server):
    """A fresh case-system database; yields its URL (with a password trust auth ignores)."""
    name = f"grace_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        with psycopg.connect(f"{server}/{name}", autocommit=True) as db:
            for statement in _case_system_ddl():
                db.execute(statement)
        yield f"postgresql://postgres:{PASSWORD}@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _plain(url: str) -> str:
    return url.replace(f":{PASSWORD}", "")


def add_referrals(url: str, first: int, count: int, files_each: int = 2) -> None:
    """Insert `count` synthetic, valid referrals numbered from `first`, each with `files_each` files."""
    with psycopg.connect(_plain(url), autocommit=True) as db:
        insert_referrals(db, first, count, files_each)


def insert_referrals(db, first: int, count: int, files_each: int = 2) -> None:
    """The inserts of `add_referrals` on an open connection (inside its transaction, if one is open)."""
    db.execute(
        """
        INSERT INTO case_system.referrals (report_id, esp_name, esp_service, incident_type, incident_datetime,
            reported_screen_name, reporting_country, receiving_agency, is_actionable, is_escalated,
            bundle_size, received_date, status)
        SELECT 'CT-2024-' || lpad(n::text, 8, '0'), 'ExampleChat', 'chat', 'IT_CP',
               '2024-03-01T10:00:00+00:00', 'account_' || n, 'DEU', 'AGY-DEU', 'true', 'false',
               '1', '2024-03-02', 'received'
        FROM generate_series(%(first)s::int, %(last)s::int) AS n
        ORDER BY n
        """,
        {"first": first, "last": first + count - 1},
    )
    db.execute(
        """
        INSERT INTO case_system.files (report_id, file_id, md5, industry_classification)
        SELECT 'CT-2024-' || lpad(n::text, 8, '0'), 'F-' || n || '-' || k, md5(n::text || '/' || k::text), 'B1'
        FROM generate_series(%(first)s::int, %(last)s::int) AS n, generate_series(1, %(each)s::int) AS k
        ORDER BY n, k
        """,
        {"first": first, "last": first + count - 1, "each": files_each},
    )


def case_db_fingerprint(url: str) -> tuple:
    """Row counts and a content hash of both case-system tables."""
    with psycopg.connect(_plain(url)) as db:
        return tuple(
            db.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM case_system.{table} AS t"
            ).fetchone()
            for table in ("referrals", "files")
        )


def load_all(url: str, warehouse, **kwargs) -> list:
    return [run_batch(warehouse, batch, KEY) for batch in case_database_batches(url, warehouse, **kwargs)]


@pytest.fixture
def warehouse(tmp_path):
    con = connect(tmp_path / "warehouse.duckdb")
    yield con
    con.close()


def test_incremental_extraction_picks_up_only_rows_inserted_since_the_last_load(case_db, warehouse):
    add_referrals(case_db, 1, 5)
    first = load_all(case_db, warehouse)
    assert [r.referrals_loaded for r in first] == [5]
    assert [r.files_loaded for r in first] == [10]

    add_referrals(case_db, 6, 3)
    second = load_all(case_db, warehouse)
    # Usually exactly the 3 new rows; more only when a transaction anywhere on the server was in
    # flight during the first run (the lookback then re-reads, and those rows count as duplicates).
    assert [r.referrals_loaded for r in second] == [3]
    assert [r.referrals_in - r.referrals_duplicate for r in second] == [3]
    assert warehouse.execute("SELECT count(*) FROM fact_referral").fetchone()[0] == 8
    assert warehouse.execute("SELECT count(*) FROM fact_file_occurrence").fetchone()[0] == 16

    watermarks = warehouse.execute(
        "SELECT watermark FROM etl_batch WHERE source_kind = 'case_database' ORDER BY started_at"
    ).fetchall()
    with psycopg.connect(_plain(case_db)) as db:
        ids = [row[0] for row in db.execute("SELECT id FROM case_system.referrals ORDER BY id").fetchall()]
    assert [w.split(" xmin=")[0] for (w,) in watermarks] == [str(ids[4]), str(ids[7])]
    assert all(" xmin=" in w for (w,) in watermarks)
    assert sum(r.referrals_loaded + r.files_loaded for r in load_all(case_db, warehouse)) == 0


def test_malformed_rows_are_quarantined_with_the_database_id_as_row_number(case_db, warehouse):
    add_referrals(case_db, 1, 4)
    with psycopg.connect(_plain(case_db), autocommit=True) as db:
        bad_referral = db.execute(
            "UPDATE case_system.referrals SET incident_type = 'IT_UNKNOWN' "
            "WHERE report_id = 'CT-2024-00000002' RETURNING id"
        ).fetchone()[0]
        bad_file = db.execute(
            "UPDATE case_system.files SET md5 = 'not-a-hash' WHERE file_id = 'F-3-1' RETURNING id"
        ).fetchone()[0]
    (report,) = load_all(case_db, warehouse)
    assert (report.referrals_loaded, report.referrals_quarantined) == (3, 1)
    rows = warehouse.execute(
        "SELECT dataset, source_file, row_number, field, reason FROM quarantine ORDER BY dataset, row_number, reason"
    ).fetchall()
    assert ("referrals", SOURCE_REFERRALS, bad_referral, "incident_type", "invalid_code") in rows
    assert ("files", SOURCE_FILES, bad_file, "md5", "invalid_format") in rows
    with psycopg.connect(_plain(case_db)) as db:
        orphaned = {
            row[0] for row in db.execute("SELECT id FROM case_system.files WHERE report_id = 'CT-2024-00000002'")
        }
    assert {r[2] for r in rows if r[4] == "parent_quarantined"} == orphaned


def test_row_accounting_balances_for_every_chunk(case_db, warehouse):
    add_referrals(case_db, 1, 12, files_each=3)
    with psycopg.connect(_plain(case_db), autocommit=True) as db:
        db.execute(
            "UPDATE case_system.referrals SET received_date = 'yesterday-ish' WHERE report_id = 'CT-2024-00000004'"
        )
        # The same referral delivered twice (a re-sent row): its second copy is a duplicate.
        db.execute(
            "INSERT INTO case_system.referrals (report_id, esp_name, esp_service, incident_type, incident_datetime, "
            "reporting_country, receiving_agency, is_actionable, is_escalated, received_date, status) "
            "SELECT report_id, esp_name, esp_service, incident_type, incident_datetime, reporting_country, "
            "receiving_agency, is_actionable, is_escalated, received_date, status "
            "FROM case_system.referrals WHERE report_id = 'CT-2024-00000011'"
        )
    reports = load_all(case_db, warehouse, chunk_size=5)
    assert all(r.balanced for r in reports)
    totals = warehouse.execute(
        "SELECT sum(referrals_in), sum(referrals_loaded), sum(referrals_quarantined), sum(referrals_duplicate), "
        "sum(files_in), sum(files_loaded), sum(files_quarantined), sum(files_duplicate) FROM etl_batch"
    ).fetchone()
    referrals_in, loaded, quarantined, duplicate, files_in, files_loaded, files_quarantined, files_duplicate = totals
    assert (referrals_in, loaded, quarantined, duplicate) == (13, 11, 1, 1)
    assert referrals_in == loaded + quarantined + duplicate
    assert files_in == files_loaded + files_quarantined + files_duplicate
    assert warehouse.execute("SELECT count(*) FROM fact_referral").fetchone()[0] == 11


def test_new_referrals_are_split_into_chunks_of_the_requested_size(case_db, warehouse):
    add_referrals(case_db, 1, 23)
    batches = case_database_batches(case_db, warehouse, chunk_size=10)
    assert len(batches) == 3
    assert len({b.batch_id for b in batches}) == 3
    with psycopg.connect(_plain(case_db)) as db:
        ids = [row[0] for row in db.execute("SELECT id FROM case_system.referrals ORDER BY id").fetchall()]
    # Only the last chunk records the snapshot xmin: the window moves on once every chunk is loaded.
    assert [b.watermark.split(" xmin=")[0] for b in batches] == [str(ids[9]), str(ids[19]), str(ids[22])]
    assert [" xmin=" in b.watermark for b in batches] == [False, False, True]
    reports = [run_batch(warehouse, b, KEY) for b in batches]
    assert [r.referrals_in for r in reports] == [10, 10, 3]
    assert [r.files_in for r in reports] == [20, 20, 6]
    # Planning the same rows again gives the same batches, recognised as already loaded.
    assert case_database_batches(case_db, warehouse, chunk_size=10) == []


def test_a_failed_chunk_stops_later_chunks_so_no_rows_are_skipped(case_db, warehouse):
    add_referrals(case_db, 1, 15)
    first, second, third = case_database_batches(case_db, warehouse, chunk_size=5)
    run_batch(warehouse, first, KEY)
    with pytest.raises(InjectedFailure):
        run_batch(warehouse, second, KEY, PipelineOptions(fail_at="load"))
    with pytest.raises(CaseDatabaseError, match="an earlier chunk failed"):
        run_batch(warehouse, third, KEY)
    assert warehouse.execute("SELECT count(*) FROM fact_referral").fetchone()[0] == 5
    retried = load_all(case_db, warehouse, chunk_size=5)
    assert [r.referrals_loaded for r in retried] == [5, 5]
    assert warehouse.execute("SELECT count(*) FROM fact_referral").fetchone()[0] == 15


def test_streaming_in_small_blocks_stages_every_row(case_db, warehouse):
    add_referrals(case_db, 1, 9, files_each=3)
    (report,) = load_all(case_db, warehouse, block_bytes=1024)
    assert (report.referrals_in, report.referrals_loaded, report.files_in, report.files_loaded) == (9, 9, 27, 27)


def test_text_values_reach_staging_exactly_as_stored(case_db, warehouse):
    add_referrals(case_db, 1, 3)
    awkward = 'Line one\nline "two", with commas;\r\nthree — ünïcødé'
    with psycopg.connect(_plain(case_db), autocommit=True) as db:
        db.execute(
            "UPDATE case_system.referrals SET additional_info = %s, reported_display_name = 'NA', "
            "reported_email = '', reported_phone = NULL, unit = 'NULL' WHERE report_id = 'CT-2024-00000002'",
            [awkward],
        )
        (db_id,) = db.execute("SELECT id FROM case_system.referrals WHERE report_id = 'CT-2024-00000002'").fetchone()
    (batch,) = case_database_batches(case_db, warehouse, block_bytes=1024)
    create_staging_tables(warehouse)
    batch.stage(warehouse)
    staged = warehouse.execute(
        "SELECT additional_info, reported_display_name, reported_email, reported_phone, unit, _source_file "
        "FROM stg_referrals WHERE _row = ?",
        [db_id],
    ).fetchall()
    assert staged == [(awkward, "NA", "", None, "NULL", SOURCE_REFERRALS)]
    assert warehouse.execute("SELECT count(*), count(DISTINCT _row) FROM stg_files").fetchall() == [(6, 6)]


def test_the_password_never_appears_in_lineage_or_quarantine(case_db, warehouse):
    add_referrals(case_db, 1, 3)
    with psycopg.connect(_plain(case_db), autocommit=True) as db:
        db.execute("UPDATE case_system.referrals SET status = 'lost' WHERE report_id = 'CT-2024-00000001'")
    load_all(case_db, warehouse)
    (path,) = warehouse.execute("SELECT DISTINCT source_path FROM etl_batch").fetchone()
    assert PASSWORD not in path
    assert path == _plain(case_db)
    stored = warehouse.execute(
        "SELECT string_agg(concat_ws(' ', source_file, field, reason, detail), ' ') FROM quarantine"
    ).fetchone()[0]
    assert stored and PASSWORD not in stored


def test_a_password_in_the_query_string_is_removed_too():
    url = f"postgresql://postgres@127.0.0.1/cases?password={PASSWORD}&sslmode=disable"
    assert PASSWORD not in redact_url(url)
    assert "sslmode=disable" in redact_url(url)
    assert PASSWORD not in redact_url(f"host=127.0.0.1 password={PASSWORD} dbname=cases")


def test_the_case_database_is_not_modified_by_extraction(case_db, warehouse):
    add_referrals(case_db, 1, 6)
    with psycopg.connect(_plain(case_db), autocommit=True) as db:
        db.execute("UPDATE case_system.files SET md5 = 'XYZ' WHERE file_id = 'F-2-2'")
    before = case_db_fingerprint(case_db)
    load_all(case_db, warehouse, chunk_size=4)
    assert case_db_fingerprint(case_db) == before


def test_extraction_transactions_refuse_writes(case_db):
    from sqlalchemy import text

    database = CaseDatabase(case_db)
    with pytest.raises(CaseDatabaseError, match="read-only transaction"), database.transaction() as conn:
        conn.execute(text("INSERT INTO referrals (report_id) VALUES ('CT-2024-99999999')"))
    assert case_db_fingerprint(case_db)[0][0] == 0


def test_an_unreachable_database_is_a_one_line_error_naming_the_url_without_password(warehouse):
    url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/cases"
    with pytest.raises(GraceError) as caught:
        case_database_batches(url, warehouse)
    message = str(caught.value)
    assert "postgresql://postgres@127.0.0.1:1/cases" in message
    assert PASSWORD not in message
    assert "\n" not in message


def test_a_malformed_url_is_refused_without_echoing_the_password(warehouse):
    with pytest.raises(CaseDatabaseError) as caught:
        case_database_batches(f"not a url :{PASSWORD}@", warehouse)
    assert "not a database URL" in str(caught.value)
    with pytest.raises(CaseDatabaseError, match="only PostgreSQL"):
        case_database_batches("sqlite:///cases.db", warehouse)


def test_a_database_without_the_case_system_tables_is_refused(server, warehouse):
    with pytest.raises(CaseDatabaseError, match=r"no table case_system\.referrals"):
        case_database_batches(f"{server}/postgres", warehouse)


def test_a_missing_database_is_refused_with_its_url(server, warehouse):
    url = f"{server}/grace_no_such_db_{uuid.uuid4().hex[:8]}"
    with pytest.raises(CaseDatabaseError) as caught:
        case_database_batches(url, warehouse)
    assert url in str(caught.value)


def etl_run_from_db(url: str, warehouse_path) -> list[dict]:
    """`grace etl run --from-db URL` as an operator runs it; the reports of the batches it loaded."""
    result = CliRunner().invoke(
        cli, ["etl", "run", "--from-db", url, "--warehouse", str(warehouse_path), "--json", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["batches"]


def referral_ids_in_warehouse(warehouse_path) -> list[tuple[str, int]]:
    """(referral key, copies) of every referral in the warehouse."""
    con = connect(warehouse_path)
    try:
        return con.execute(
            "SELECT CAST(referral_key AS VARCHAR), count(*) FROM fact_referral GROUP BY ALL ORDER BY 1"
        ).fetchall()
    finally:
        con.close()


@pytest.fixture
def late_commit(case_db, tmp_path):
    """A referral whose transaction commits after a later id was extracted.

    Transaction A inserts a referral (the lower id) and stays open; transaction B inserts
    another (the higher id) and commits; the extraction runs; then A commits. Yields the
    warehouse path and the reports of the run after A committed.
    """
    warehouse_path = tmp_path / "late.duckdb"
    with psycopg.connect(_plain(case_db)) as early, psycopg.connect(_plain(case_db)) as later:
        insert_referrals(early, 1, 1)
        insert_referrals(later, 2, 1)
        later.commit()
        before = etl_run_from_db(case_db, warehouse_path)
        early.commit()
    after = etl_run_from_db(case_db, warehouse_path)
    return warehouse_path, before, after


def test_a_referral_committed_after_a_later_id_was_extracted_is_loaded_exactly_once(case_db, late_commit):
    warehouse_path, before, after = late_commit
    with psycopg.connect(_plain(case_db)) as db:
        ids = dict(db.execute("SELECT report_id, id FROM case_system.referrals").fetchall())
    assert ids["CT-2024-00000001"] < ids["CT-2024-00000002"]
    assert sum(r["referrals_loaded"] for r in before) == 1
    assert sum(r["referrals_loaded"] for r in after) == 1
    assert sum(r["files_loaded"] for r in before + after) == 4
    copies = referral_ids_in_warehouse(warehouse_path)
    assert len(copies) == 2
    assert all(n == 1 for _, n in copies)


def test_row_accounting_balances_when_the_lookback_re_reads_loaded_referrals(late_commit):
    _, before, after = late_commit
    for report in before + after:
        assert report["referrals_in"] == (
            report["referrals_loaded"] + report["referrals_quarantined"] + report["referrals_duplicate"]
        )
        assert report["files_in"] == report["files_loaded"] + report["files_quarantined"] + report["files_duplicate"]


def test_re_running_after_the_late_commit_loads_nothing_new(case_db, late_commit):
    warehouse_path, _, _ = late_commit
    copies = referral_ids_in_warehouse(warehouse_path)
    again = etl_run_from_db(case_db, warehouse_path)
    assert sum(r["referrals_loaded"] + r["files_loaded"] for r in again) == 0
    assert referral_ids_in_warehouse(warehouse_path) == copies


def test_a_referral_written_in_a_savepoint_of_a_long_transaction_is_not_lost(case_db, tmp_path):
    warehouse_path = tmp_path / "savepoint.duckdb"
    with psycopg.connect(_plain(case_db)) as early, psycopg.connect(_plain(case_db)) as later:
        early.execute("SELECT pg_current_xact_id()")  # the transaction holds an id before the savepoint
        with early.transaction():  # a savepoint: its rows carry a subtransaction id
            insert_referrals(early, 1, 1)
        insert_referrals(later, 2, 1)
        later.commit()
        etl_run_from_db(case_db, warehouse_path)
        early.commit()
    etl_run_from_db(case_db, warehouse_path)
    assert [n for _, n in referral_ids_in_warehouse(warehouse_path)] == [1, 1]


def test_an_id_only_watermark_from_before_snapshot_xmins_reads_the_whole_database_again(case_db, warehouse):
    add_referrals(case_db, 1, 4)
    load_all(case_db, warehouse)
    path = _plain(case_db)
    recorded = last_watermark(warehouse, path)
    assert recorded.snapshot_xmin is not None
    # A warehouse loaded before snapshot xmins were recorded has only ids in its watermarks.
    warehouse.execute("UPDATE etl_batch SET watermark = regexp_extract(watermark, '^[0-9]+')")
    legacy = last_watermark(warehouse, path)
    assert legacy == Watermark(snapshot_xmin=None, last_id=recorded.last_id)
    assert legacy.window(next_xid=recorded.snapshot_xmin + 10) == {"since": 0, "after": recorded.last_id}


def test_the_window_starts_at_the_recorded_snapshot_xmin():
    assert Watermark(snapshot_xmin=900, last_id=7).window(next_xid=1000) == {"since": 900, "after": 7}
    assert Watermark().window(next_xid=1000) == {"since": 0, "after": 0}


def test_a_recorded_xmin_ahead_of_the_database_reads_everything_again():
    # Restored into another cluster, or the URL names another database: no xmin of ours can be trusted.
    assert Watermark(snapshot_xmin=5000, last_id=7).window(next_xid=1000) == {"since": 0, "after": 7}
