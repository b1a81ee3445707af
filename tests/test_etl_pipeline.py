"""The ETL pipeline on small, exact deliveries: quarantine reasons, row accounting,
idempotence, atomic failure, cross-channel deduplication, media clusters, anonymisation."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest
from builders import TEST_KEY, file_row, package_line, referral_row, write_delivery

from etl.checks import contract_findings
from etl.pipeline import STAGES, InjectedFailure, PipelineOptions, run_batch
from etl.sources import discover_batches

TABLES = (
    "fact_referral",
    "fact_file_occurrence",
    "media_cluster",
    "rollup_referral_daily",
    "rollup_file_daily",
    "quarantine",
    "etl_batch",
    "dim_platform",
    "dim_agency",
    "dim_date",
)


def load(con, path, key, **options):
    return [run_batch(con, batch, key, PipelineOptions(**options)) for batch in discover_batches(path)]


def snapshot(con) -> dict:
    """Every row of every table the ETL writes, for before/after comparisons."""
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES}


def quarantine_reasons(con) -> set[tuple]:
    return set(con.execute("SELECT dataset, row_number, field, reason FROM quarantine").fetchall())


@pytest.fixture
def clean_delivery(tmp_path):
    referrals = [referral_row(n) for n in range(1, 6)]
    files = [file_row(n, k) for n in range(1, 6) for k in range(2)]
    return write_delivery(tmp_path / "deliveries" / "2023-05", referrals, files)


def test_a_clean_delivery_loads_every_referral_and_file(fresh_db, key, clean_delivery):
    [report] = load(fresh_db, clean_delivery, key)
    assert (report.status, report.referrals_loaded, report.files_loaded) == ("loaded", 5, 10)
    assert fresh_db.execute("SELECT count(*), sum(file_count) FROM fact_referral").fetchone() == (5, 10)
    assert fresh_db.execute("SELECT sum(referrals), sum(files) FROM rollup_referral_daily").fetchone() == (5, 10)


def test_every_malformed_record_kind_is_quarantined_with_its_reason(fresh_db, key, tmp_path):
    referrals = [
        referral_row(1),
        referral_row(2, incident_datetime="2023-13-45T99:00:00Z"),  # bad date
        referral_row(3, report_id=""),  # missing required
        referral_row(4, is_actionable="maybe"),  # wrong type
        referral_row(5, incident_type="IT_XX"),  # invalid code
        referral_row(6, reporting_country="XXX"),  # invalid code
        referral_row(7, victim_age="twelve"),  # wrong type
        referral_row(8, received_date="2023-02-30"),  # bad date
        referral_row(9, triaged_date="2023-01-01", received_date="2023-05-10"),  # inconsistent
    ]
    folder = write_delivery(tmp_path / "d", referrals, [file_row(1, 0, industry_classification="Z9"), file_row(1, 1)])
    raw = (folder / "referrals.csv").read_bytes()
    broken = raw.replace(b"Testperson Number1,", b"Testperson Number1,", 1) + (
        b"CT-2023-00000010,Chatterly,chat,IT_CP,2023-05-01T10:00:00Z,,bad\xff\xfeuser,,,,,,,NLD,,NLD,AGY-NLD,true,false,1,,,2023-05-02,,,U01,received,\n"
        b"CT-2023-00000011,Chatterly,cha"  # truncated file: the last row is cut off
    )
    (folder / "referrals.csv").write_bytes(broken)
    [report] = load(fresh_db, folder, key)
    reasons = quarantine_reasons(fresh_db)
    assert ("referrals", 2, "incident_datetime", "invalid_datetime") in reasons
    assert ("referrals", 3, "report_id", "missing_required") in reasons
    assert ("referrals", 4, "is_actionable", "wrong_type") in reasons
    assert ("referrals", 5, "incident_type", "invalid_code") in reasons
    assert ("referrals", 6, "reporting_country", "invalid_code") in reasons
    assert ("referrals", 7, "victim_age", "wrong_type") in reasons
    assert ("referrals", 8, "received_date", "invalid_date") in reasons
    assert ("referrals", 9, "triaged_date", "inconsistent") in reasons
    assert ("referrals", 10, "reported_screen_name", "invalid_encoding") in reasons
    assert ("referrals", 11, None, "malformed_row") in reasons
    assert ("files", 1, "industry_classification", "invalid_code") in reasons
    assert (report.referrals_in, report.referrals_loaded, report.referrals_quarantined) == (11, 1, 10)
    assert report.balanced


def test_malformed_json_packages_are_quarantined_not_dropped(fresh_db, key, tmp_path):
    good = package_line(referral_row(1), [file_row(1)])
    path = tmp_path / "packages.jsonl"
    path.write_bytes(good.encode() + b"\n" + b'{"reportId": "CT-2023-00000002", "reporter": {\n' + b"[1, 2]\n")
    [report] = load(fresh_db, path, key)
    assert (report.referrals_in, report.referrals_loaded, report.referrals_quarantined) == (3, 1, 2)
    assert {("referrals", 2, None, "malformed_json"), ("referrals", 3, None, "malformed_json")} <= quarantine_reasons(
        fresh_db
    )


def test_row_accounting_balances_in_lineage(fresh_db, key, tmp_path):
    referrals = [referral_row(1), referral_row(2), referral_row(2), referral_row(3, esp_name="")]
    files = [file_row(1), file_row(2), file_row(2), file_row(3), file_row(99)]
    load(fresh_db, write_delivery(tmp_path / "d", referrals, files), key)
    row = fresh_db.execute(
        "SELECT referrals_in, referrals_loaded, referrals_quarantined, referrals_duplicate, "
        "files_in, files_loaded, files_quarantined, files_duplicate FROM etl_batch"
    ).fetchone()
    assert row == (4, 2, 1, 1, 5, 2, 2, 1)
    assert ("files", 4, "report_id", "parent_quarantined") in quarantine_reasons(fresh_db)
    assert ("files", 5, "report_id", "orphan_file") in quarantine_reasons(fresh_db)


def test_rerunning_a_batch_changes_nothing(fresh_db, key, clean_delivery):
    load(fresh_db, clean_delivery, key)
    before = snapshot(fresh_db)
    [again] = load(fresh_db, clean_delivery, key)
    assert again.status == "skipped"
    assert snapshot(fresh_db) == before


def test_the_same_referrals_in_a_new_delivery_are_duplicates_not_new_rows(fresh_db, key, clean_delivery, tmp_path):
    load(fresh_db, clean_delivery, key)
    copy = write_delivery(
        tmp_path / "later",
        [referral_row(n) for n in range(1, 6)] + [referral_row(6)],
        [file_row(n, 0) for n in range(1, 7)],
    )
    [report] = load(fresh_db, copy, key)
    assert (report.referrals_loaded, report.referrals_duplicate, report.files_duplicate) == (1, 5, 5)
    assert fresh_db.execute("SELECT count(*) FROM fact_referral").fetchone()[0] == 6


@pytest.mark.parametrize("stage", STAGES)
def test_a_failure_injected_mid_batch_leaves_the_warehouse_unchanged(fresh_db, key, clean_delivery, tmp_path, stage):
    load(fresh_db, clean_delivery, key)
    before = snapshot(fresh_db)
    second = write_delivery(
        tmp_path / "second",
        [referral_row(n) for n in range(10, 20)],
        [file_row(n, 0, item="shared") for n in range(10, 20)],
    )
    with pytest.raises(InjectedFailure):
        load(fresh_db, second, key, fail_at=stage)
    assert snapshot(fresh_db) == before
    [report] = load(fresh_db, second, key)
    assert report.referrals_loaded == 10


def test_a_referral_delivered_through_two_channels_is_loaded_once(fresh_db, key, tmp_path):
    referral, files = referral_row(1), [file_row(1, 0), file_row(1, 1)]
    write_delivery(tmp_path / "in" / "exports" / "2023-05", [referral, referral_row(2)], [*files, file_row(2)])
    (tmp_path / "in" / "packages").mkdir(parents=True)
    (tmp_path / "in" / "packages" / "2023-05.jsonl").write_text(package_line(referral, files) + "\n")
    reports = load(fresh_db, tmp_path / "in", key)
    assert [r.source_kind for r in reports] == ["case_export", "referral_package"]
    assert (reports[1].referrals_duplicate, reports[1].files_duplicate, reports[1].referrals_loaded) == (1, 2, 0)
    assert fresh_db.execute("SELECT count(*), sum(file_count) FROM fact_referral").fetchone() == (2, 3)


def test_files_with_the_same_hash_form_one_media_cluster_with_its_reach(fresh_db, key, tmp_path):
    referrals = [
        referral_row(1),
        referral_row(2, reporting_country="DEU", receiving_agency="AGY-DEU"),
        referral_row(3, reporting_country="FRA", receiving_agency="AGY-FRA"),
    ]
    files = [file_row(1, item="viral"), file_row(2, item="viral", md5=""), file_row(3, item="viral"), file_row(3, 1)]
    load(fresh_db, write_delivery(tmp_path / "d", referrals, files), key)
    clusters = fresh_db.execute(
        "SELECT occurrences, referral_count, country_count, agency_count FROM media_cluster ORDER BY occurrences DESC"
    ).fetchall()
    assert clusters == [(3, 3, 3, 3), (1, 1, 1, 1)]
    assert fresh_db.execute("SELECT sum(new_clusters) FROM rollup_file_daily").fetchone()[0] == 2


def test_a_later_batch_finds_earlier_clusters_by_md5_or_by_sha1_whichever_its_files_carry(fresh_db, key, tmp_path):
    first = [file_row(1, item="a"), file_row(2, item="b", md5="")]  # b: a cluster created from its SHA1 alone
    load(fresh_db, write_delivery(tmp_path / "may", [referral_row(1), referral_row(2)], first), key)
    later = [
        file_row(3, item="a", sha1=""),  # found by its MD5
        file_row(4, item="b"),  # its MD5 is new, its SHA1 is b's: joins b
        file_row(5, item="a", md5=""),  # found by its SHA1 (no file of this batch lends it an MD5)
        file_row(5, 1, item="c"),
    ]
    load(fresh_db, write_delivery(tmp_path / "june", [referral_row(n) for n in (3, 4, 5)], later), key)
    clusters = fresh_db.execute("SELECT md5 IS NULL, occurrences FROM media_cluster ORDER BY occurrences, 1").fetchall()
    assert clusters == [(False, 1), (True, 2), (False, 3)]
    assert not [f for f in contract_findings(fresh_db) if f.table == "media_cluster"]


def test_the_warehouse_check_reports_a_media_cluster_whose_id_is_not_its_md5(fresh_db, key, tmp_path):
    load(fresh_db, write_delivery(tmp_path / "d", [referral_row(1)], [file_row(1, k) for k in range(3)]), key)
    fresh_db.execute(
        "UPDATE media_cluster SET cluster_id = cluster_id + 1 WHERE md5 = (SELECT min(md5) FROM media_cluster)"
    )
    [finding] = [f for f in contract_findings(fresh_db) if f.table == "media_cluster"]
    assert finding.column == "cluster_id" and finding.message.startswith("1 cluster(s) with an MD5 whose id is not")


def test_a_late_record_lands_in_its_incident_period_and_moves_the_first_sighting(fresh_db, key, tmp_path):
    load(
        fresh_db,
        write_delivery(
            tmp_path / "may", [referral_row(1, incident_datetime="2023-05-20T10:00:00Z")], [file_row(1, item="x")]
        ),
        key,
    )
    late = referral_row(2, incident_datetime="2023-03-02T08:00:00Z", received_date="2023-06-01")
    load(fresh_db, write_delivery(tmp_path / "june", [late], [file_row(2, item="x")]), key)
    assert (
        fresh_db.execute("SELECT first_seen_date, occurrences FROM media_cluster").fetchone()[0].isoformat()
        == "2023-03-02"
    )
    firsts = fresh_db.execute(
        "SELECT incident_date, is_first_sighting FROM fact_file_occurrence ORDER BY incident_date"
    ).fetchall()
    assert [flag for _, flag in firsts] == [True, False]
    by_day = dict(fresh_db.execute("SELECT date_key, sum(new_clusters) FROM rollup_file_daily GROUP BY 1").fetchall())
    assert [by_day[d] for d in sorted(by_day)] == [1, 0]
    assert fresh_db.execute("SELECT count(*) FROM rollup_referral_daily WHERE month(date_key) = 3").fetchone()[0] == 1


def test_pseudonyms_are_keyed_hmacs_of_the_identifiers(fresh_db, key, clean_delivery):
    load(fresh_db, clean_delivery, key)
    # Pseudonyms are the first 128 bits of the keyed HMAC-SHA256, stored as unsigned 128-bit integers.
    expected = int(hmac.new(TEST_KEY.encode(), b"referral\x1fCT-2023-00000001", hashlib.sha256).hexdigest()[:32], 16)
    account = int(
        hmac.new(TEST_KEY.encode(), b"account\x1fChatterly\x1fscreen_user_1", hashlib.sha256).hexdigest()[:32], 16
    )
    assert (
        fresh_db.execute(
            "SELECT count(*) FROM fact_referral WHERE referral_key = CAST(? AS UHUGEINT) "
            "AND account_pseudonym = CAST(? AS UHUGEINT)",
            [str(expected), str(account)],
        ).fetchone()[0]
        == 1
    )
    occurrences = fresh_db.execute(
        "SELECT count(*) FROM fact_file_occurrence WHERE referral_key = CAST(? AS UHUGEINT)", [str(expected)]
    ).fetchone()[0]
    assert occurrences == 2


def test_no_identifier_from_the_input_appears_anywhere_in_the_warehouse(fresh_db, key, clean_delivery, tmp_path):
    load(fresh_db, clean_delivery, key)
    fresh_db.execute("CHECKPOINT")
    secrets = [TEST_KEY]
    for n in range(1, 6):
        row = referral_row(n)
        secrets += [
            row[f]
            for f in (
                "report_id",
                "reported_screen_name",
                "reported_display_name",
                "reported_email",
                "reported_phone",
                "reported_ip",
                "incident_url",
            )
        ]
        secrets += [f"file-{n}-0", f"IMG_{n}_0.jpg"]
    text_columns = fresh_db.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR' AND table_schema = 'main'"
    ).fetchall()
    for table, column in text_columns:
        for secret in secrets:
            hits = fresh_db.execute(
                f'SELECT count(*) FROM "{table}" WHERE contains("{column}", ?)', [secret]
            ).fetchone()[0]
            assert hits == 0, f"{secret!r} found in {table}.{column}"
    raw = (tmp_path / "warehouse.duckdb").read_bytes()
    for secret in secrets:
        assert secret.encode() not in raw


def test_the_loaded_warehouse_matches_its_contract_and_holds_no_identifiers(fresh_db, key, clean_delivery):
    from etl.checks import contract_findings, identifier_findings

    load(fresh_db, clean_delivery, key)
    assert contract_findings(fresh_db) == []
    assert identifier_findings(fresh_db) == []


def test_the_identifier_scan_finds_a_planted_email(fresh_db):
    from etl.checks import identifier_findings

    fresh_db.execute("INSERT INTO warehouse_meta VALUES ('note', 'contact someone@example.org')")
    assert [f.column for f in identifier_findings(fresh_db)] == ["value"]


def test_hostile_header_names_and_paths_are_data_not_sql(fresh_db, key, tmp_path):
    """An extra column whose name carries quotes, and a delivery folder whose name does, load normally: the
    extra columns are not read and are listed in the batch report."""
    import csv

    from etl.contracts import load_contract

    folder = tmp_path / 'agency\'s delivery "2023"'
    write_delivery(folder, [referral_row(n) for n in range(3)], [file_row(n) for n in range(3)])
    columns = load_contract("case_export").dataset("referrals").column_names
    hostile = ['note"); DROP TABLE fact_referral; --', "it's", "x'}, 'y': 'VARCHAR"]
    with open(folder / "referrals.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*columns, *hostile])
        for n in range(3):
            row = referral_row(n)
            writer.writerow([row[c] for c in columns] + ["free text", "more", "x"])
    [report] = load(fresh_db, folder, key)
    assert report.referrals_loaded == 3 and report.files_loaded == 3
    assert sorted(report.ignored_columns) == sorted(f"referrals.csv: {name}" for name in hostile)
    tables = {name for (name,) in fresh_db.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert "fact_referral" in tables


@pytest.mark.parametrize(
    ("platform", "reason"),
    [
        ("someone@example.org", "identifier_in_kept_field"),
        ("Chat +31 6 5550 0001", "identifier_in_kept_field"),
        ("www.example-chat.org", "identifier_in_kept_field"),
        ("host 10.1.2.3", "identifier_in_kept_field"),
        ("Chat\u202eppA", "unprintable_text"),
        ("Chat\u200bApp", "unprintable_text"),
        ("Cafe\u0301Chat", "not_nfc_normalised"),
        ("X" * 65, "too_long"),
    ],
)
def test_a_kept_free_text_field_holding_an_identifier_or_hidden_characters_is_quarantined(
    fresh_db, key, tmp_path, platform, reason
):
    """A platform name is kept as it is, so it may hold no identifier and nothing unprintable; the quarantine
    row names the rule but never repeats the value."""
    referrals = [referral_row(1), referral_row(2, esp_name=platform), referral_row(3, esp_name="Chat.io Plus")]
    [report] = load(fresh_db, write_delivery(tmp_path / "d", referrals, [file_row(n) for n in (1, 2, 3)]), key)
    assert report.referrals_loaded == 2 and report.referrals_quarantined == 1
    rows = fresh_db.execute("SELECT field, reason, detail FROM quarantine WHERE dataset = 'referrals'").fetchall()
    assert ("esp_name", reason) in {(field, why) for field, why, _ in rows}
    assert all(platform not in str(detail) for _, _, detail in rows)
    names = {name for (name,) in fresh_db.execute("SELECT platform_name FROM dim_platform").fetchall()}
    assert platform not in names and "Chat.io Plus" in names


def test_a_referrals_file_count_counts_only_the_files_it_loads(fresh_db, key, tmp_path):
    referrals = [referral_row(n) for n in range(1, 5)]
    files = [
        file_row(1, 0),
        file_row(2, 0),  # referral 2's files are not consecutive rows (ranked, not counted from the first)
        file_row(1, 1),
        file_row(1, 1),  # a repeated row of referral 1: loaded once
        file_row(2, 1),
        file_row(3, 0, md5="", sha1=""),  # no hash: quarantined, not counted
        file_row(3, 1),
    ]  # referral 4 has no files
    [report] = load(fresh_db, write_delivery(tmp_path / "d", referrals, files), key)
    assert (report.files_loaded, report.files_duplicate, report.files_quarantined) == (5, 1, 1)
    counts = fresh_db.execute(
        "SELECT r.file_count, (SELECT count(*) FROM fact_file_occurrence AS f WHERE f.referral_key = r.referral_key) "
        "FROM fact_referral AS r ORDER BY r.file_count"
    ).fetchall()
    assert counts == [(0, 0), (1, 1), (2, 2), (2, 2)]


def test_file_annotations_set_their_flags_whatever_the_spacing(fresh_db, key, tmp_path):
    files = [
        file_row(1, 0, file_annotations=" viral ; generative_ai"),
        file_row(1, 1, file_annotations="possible_self_production;live_streaming;"),
        file_row(1, 2, file_annotations=""),
    ]
    load(fresh_db, write_delivery(tmp_path / "d", [referral_row(1)], files), key)
    flags = fresh_db.execute(
        "SELECT is_viral, is_self_generated, is_generative_ai, is_live_streaming FROM fact_file_occurrence "
        "ORDER BY file_ordinal"
    ).fetchall()
    assert flags == [(True, False, True, False), (False, True, False, True), (False, False, False, False)]


def write_packages(folder: Path, lines: list[str]) -> Path:
    (folder / "packages").mkdir(parents=True)
    (folder / "packages" / "2023-05.jsonl").write_text("".join(line + "\n" for line in lines))
    return folder


def test_each_file_of_a_referral_package_loads_once_in_its_order(fresh_db, key, tmp_path):
    """A package's files share their line's row number; each still loads once, numbered in package order
    (3 files used to load as 9: the ordinals were joined on the shared row)."""
    lines = [
        package_line(referral_row(1), [file_row(1, k) for k in range(3)]),
        package_line(referral_row(2), [file_row(2)]),
    ]
    [report] = load(fresh_db, write_packages(tmp_path / "in", lines), key)
    assert (report.files_in, report.files_loaded, report.files_duplicate) == (4, 4, 0) and report.balanced
    ordinals = fresh_db.execute(
        "SELECT file_ordinal, cluster_id FROM fact_file_occurrence ORDER BY referral_key, file_ordinal"
    ).fetchall()
    package = [int(file_row(1, k)["md5"], 16) for k in range(3)]  # a new cluster's id is its MD5
    assert sorted(ordinal for ordinal, _ in ordinals) == [1, 1, 2, 3]
    assert [cluster for _, cluster in ordinals if cluster in package] == package  # in the package's order


def test_a_file_repeated_in_a_package_is_a_duplicate_and_its_other_files_still_load(fresh_db, key, tmp_path):
    files = [file_row(1, 0), file_row(1, 1), file_row(1, 0)]  # the third repeats the first's file id
    [report] = load(fresh_db, write_packages(tmp_path / "in", [package_line(referral_row(1), files)]), key)
    assert (report.files_in, report.files_loaded, report.files_duplicate) == (3, 2, 1) and report.balanced
    assert fresh_db.execute("SELECT count(*) FROM fact_file_occurrence").fetchone()[0] == 2


def test_two_bad_files_of_one_package_are_quarantined_and_counted_once_each(fresh_db, key, tmp_path):
    files = [file_row(1, 0, md5="not-a-hash", sha1=""), file_row(1, 1), file_row(1, 2, md5="zz", sha1="")]
    [report] = load(fresh_db, write_packages(tmp_path / "in", [package_line(referral_row(1), files)]), key)
    assert (report.files_in, report.files_loaded, report.files_quarantined) == (3, 1, 2) and report.balanced
    rows = fresh_db.execute("SELECT DISTINCT row_number FROM quarantine WHERE dataset = 'files'").fetchall()
    assert rows == [(1,)]  # both point at the package's line


def test_the_warehouse_check_reports_a_file_loaded_twice(fresh_db, key, tmp_path):
    load(fresh_db, write_delivery(tmp_path / "d", [referral_row(1)], [file_row(1, k) for k in range(2)]), key)
    assert not [f for f in contract_findings(fresh_db) if f.table == "fact_file_occurrence"]
    fresh_db.execute("INSERT INTO fact_file_occurrence SELECT * FROM fact_file_occurrence WHERE file_ordinal = 1")
    [finding] = [f for f in contract_findings(fresh_db) if f.table == "fact_file_occurrence"]
    assert finding.column == "referral_key+file_ordinal" and finding.message.startswith("1 repeated key(s)")
