"""Data contracts: every contract parses, the shipped examples behave as documented when run
through the real ETL, and hash sets are validated as a whole."""

from __future__ import annotations

import shutil

import pytest
from builders import file_row, referral_row, write_delivery
from click.testing import CliRunner

from etl.contracts import contract_names, load_contract
from etl.pipeline import run_batch
from etl.sources import discover_batches
from grace.config import CONTRACTS_DIR
from grace.errors import InputFileError
from grace_cli import cli

EXAMPLES = CONTRACTS_DIR / "examples"


@pytest.mark.parametrize("name", contract_names())
def test_every_contract_parses_and_declares_its_fields(name):
    contract = load_contract(name)
    assert contract.version and contract.datasets
    assert all(dataset.fields for dataset in contract.datasets)


def example_delivery(tmp_path, kind: str):
    folder = tmp_path / kind
    folder.mkdir()
    shutil.copy(EXAMPLES / f"case_export_referrals_{kind}.csv", folder / "referrals.csv")
    shutil.copy(EXAMPLES / f"case_export_files_{kind}.csv", folder / "files.csv")
    return folder


def test_the_valid_case_export_example_loads_without_quarantine(fresh_db, key, tmp_path):
    [report] = [run_batch(fresh_db, b, key) for b in discover_batches(example_delivery(tmp_path, "valid"))]
    assert report.referrals_quarantined == report.files_quarantined == 0
    assert report.referrals_loaded == report.referrals_in > 0


def test_the_invalid_case_export_example_quarantines_one_reason_per_bad_row(fresh_db, key, tmp_path):
    [report] = [run_batch(fresh_db, b, key) for b in discover_batches(example_delivery(tmp_path, "invalid"))]
    rows = fresh_db.execute(
        "SELECT dataset, row_number, field, reason FROM quarantine WHERE reason NOT IN ('parent_quarantined', 'orphan_file') "
        "ORDER BY dataset DESC, row_number"
    ).fetchall()
    assert rows == [
        ("referrals", 3, "incident_datetime", "invalid_datetime"),
        ("referrals", 4, "received_date", "invalid_date"),
        ("referrals", 5, "esp_name", "missing_required"),
        ("referrals", 6, "is_actionable", "wrong_type"),
        ("referrals", 7, "victim_age", "wrong_type"),
        ("referrals", 8, "bundle_size", "out_of_range"),
        ("referrals", 9, "incident_type", "invalid_code"),
        ("referrals", 10, "reporting_country", "invalid_code"),
        ("referrals", 11, "receiving_agency", "invalid_format"),
        ("referrals", 12, "report_id", "invalid_format"),
        ("referrals", 13, "triaged_date", "inconsistent"),
        ("files", 3, "md5", "invalid_format"),
        ("files", 4, "sha1", "invalid_format"),
        ("files", 5, "industry_classification", "invalid_code"),
        ("files", 7, "file_id", "missing_required"),
        ("files", 8, "md5", "missing_required"),
        ("files", 9, "file_annotations", "invalid_code"),
        ("files", 10, "pdq_quality", "out_of_range"),
    ]
    assert report.balanced


@pytest.fixture
def loaded(fresh_db, key, tmp_path):
    delivery = write_delivery(
        tmp_path / "d", [referral_row(1), referral_row(2)], [file_row(1, item="known"), file_row(2, item="new")]
    )
    for batch in discover_batches(delivery):
        run_batch(fresh_db, batch, key)
    return fresh_db


def test_importing_a_hash_set_marks_matching_clusters_known_and_updates_the_rollup(loaded, tmp_path):
    from etl.hashsets import import_hash_set

    known = file_row(1, item="known")
    path = tmp_path / "set.csv"
    path.write_text(f"md5,sha1,category\n{known['md5']},{known['sha1']},1\n,{'ab' * 20},3\n")
    assert import_hash_set(loaded, path)["rows"] == 2
    assert loaded.execute("SELECT count(*) FILTER (WHERE is_known), count(*) FROM media_cluster").fetchone() == (1, 2)
    assert loaded.execute("SELECT sum(known_files) FROM rollup_file_daily").fetchone()[0] == 1
    assert import_hash_set(loaded, path)["status"] == "skipped"


def test_a_hash_set_with_a_bad_row_is_refused_whole_naming_row_and_field(loaded, tmp_path):
    from etl.hashsets import import_hash_set

    path = tmp_path / "bad.csv"
    path.write_text("md5,sha1,category\n" + "0" * 32 + ",,1\n" + "xyz,,1\n")
    with pytest.raises(InputFileError, match=r"row 2, field 'md5': invalid_format"):
        import_hash_set(loaded, path)
    assert loaded.execute("SELECT count(*) FROM hash_set_entry").fetchone()[0] == 0


def test_grace_import_hashset_reports_loaded_rows(tmp_path):
    path = tmp_path / "set.csv"
    path.write_text("md5,sha1,category\n" + "a" * 32 + ",,2\n")
    result = CliRunner().invoke(cli, ["import", "hashset", str(path), "--warehouse", str(tmp_path / "w.duckdb")])
    assert result.exit_code == 0 and "loaded 1 hash(es)" in result.output


def test_a_warehouse_built_by_another_schema_version_is_refused(fresh_db):
    from grace.errors import WarehouseError
    from warehouse import ensure_schema

    fresh_db.execute("UPDATE warehouse_meta SET value = '0' WHERE key = 'schema_version'")
    with pytest.raises(WarehouseError, match="schema version 0"):
        ensure_schema(fresh_db)
