"""Builders for small, exact case-export deliveries and referral packages used by the tests.

Every value is synthetic: identifiers look real in form so anonymisation is exercised.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

from etl.contracts import load_contract

TEST_KEY = "test-key-0123456789abcdef-not-a-real-secret"


def referral_row(n: int, **overrides) -> dict:
    """A valid case-export referral row with synthetic identifiers, numbered `n`."""
    row = {
        "report_id": f"CT-2023-{n:08d}",
        "esp_name": "Chatterly",
        "esp_service": "chat",
        "incident_type": "IT_CP",
        "incident_datetime": f"2023-05-{1 + n % 28:02d}T10:00:00Z",
        "report_annotations": "",
        "reported_screen_name": f"screen_user_{n}",
        "reported_display_name": f"Testperson Number{n}",
        "reported_email": f"person{n}@example.org",
        "reported_phone": f"+31 6 5550 {n:04d}",
        "reported_ip": f"198.51.100.{n % 250}",
        "reported_ip_event": "Upload",
        "reported_ip_datetime": "2023-05-01T09:00:00Z",
        "estimated_location_country": "NLD",
        "victim_age": "14",
        "reporting_country": "NLD",
        "receiving_agency": "AGY-NLD",
        "is_actionable": "true",
        "is_escalated": "false",
        "bundle_size": "1",
        "additional_info": f"Automated report; contact person{n}@example.org",
        "incident_url": f"https://example.com/item/{n}",
        "received_date": f"2023-05-{1 + n % 28:02d}",
        "triaged_date": "",
        "closed_date": "",
        "unit": "U01",
        "status": "received",
        "outcome": "",
    }
    row.update(overrides)
    return row


def file_row(n: int, k: int = 0, item: str | None = None, **overrides) -> dict:
    """A valid file row for referral `n` (its k-th file); `item` names the media item, so rows
    with the same item share MD5 and SHA1 (they belong to one media cluster)."""
    item = item if item is not None else f"item-{n}-{k}"
    row = {
        "report_id": f"CT-2023-{n:08d}",
        "file_id": f"file-{n}-{k}",
        "md5": hashlib.md5(item.encode()).hexdigest(),
        "sha1": hashlib.sha1(item.encode()).hexdigest(),
        "pdq": "",
        "file_annotations": "",
        "industry_classification": "A1",
        "publicly_available": "false",
        "viewed_by_esp": "true",
        "original_file_name": f"IMG_{n}_{k}.jpg",
    }
    row.update(overrides)
    return row


def write_csv(path: Path, dataset: str, rows: list[dict]) -> Path:
    """Write rows with the contract's header to `path` (created with parents)."""
    columns = load_contract("case_export").dataset(dataset).column_names
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_delivery(folder: Path, referrals: list[dict], files: list[dict]) -> Path:
    """A case-export delivery folder with referrals.csv and files.csv."""
    write_csv(folder / "referrals.csv", "referrals", referrals)
    write_csv(folder / "files.csv", "files", files)
    return folder


def package_line(referral: dict, files: list[dict]) -> str:
    """The same referral as an NCMEC-style JSON package line."""
    package = {
        "reportId": referral["report_id"],
        "reporter": {"espName": referral["esp_name"], "espService": referral["esp_service"]},
        "incidentSummary": {
            "incidentType": referral["incident_type"],
            "incidentDateTime": referral["incident_datetime"],
            "reportAnnotations": [a for a in referral["report_annotations"].split(";") if a],
            "additionalInfo": referral["additional_info"],
            "url": referral["incident_url"],
        },
        "personOrUserReported": {
            "screenName": referral["reported_screen_name"],
            "displayName": referral["reported_display_name"],
            "email": referral["reported_email"],
            "phone": referral["reported_phone"],
            "ipCaptureEvent": [
                {
                    "ipAddress": referral["reported_ip"],
                    "eventName": "Upload",
                    "dateTime": referral["reported_ip_datetime"],
                }
            ],
            "estimatedLocation": {"countryCode": referral["estimated_location_country"]},
        },
        "victim": {"estimatedAge": int(referral["victim_age"]) if referral["victim_age"] else None},
        "routing": {
            "reportingCountry": referral["reporting_country"],
            "receivingAgency": referral["receiving_agency"],
            "actionable": referral["is_actionable"] == "true",
            "escalated": referral["is_escalated"] == "true",
            "bundleSize": int(referral["bundle_size"]),
            "receivedDate": referral["received_date"],
        },
        "fileDetails": [
            {
                "fileId": f["file_id"],
                "originalFileHash": {"md5": f["md5"] or None, "sha1": f["sha1"] or None},
                "fileAnnotations": [a for a in f["file_annotations"].split(";") if a],
                "industryClassification": f["industry_classification"] or None,
                "publiclyAvailable": f["publicly_available"] == "true",
                "fileViewedByEsp": f["viewed_by_esp"] == "true",
                "originalFileName": f["original_file_name"],
            }
            for f in files
        ],
    }
    return json.dumps(package)


def simulated_quarters(out: Path, seed: int, scale: float = 0.002) -> Path:
    """The real simulator's 2023-2024 in quarterly deliveries (so late records cross batches) under `out`;
    returns `out` (deliveries in `out / "exports"`)."""
    from datetime import date

    from etl.simulator import SimulationConfig, simulate

    simulate(
        SimulationConfig(
            out=out, seed=seed, scale=scale, start=date(2023, 1, 1), end=date(2024, 12, 31), delivery="quarter"
        )
    )
    return out


def simulated_warehouse(
    root: Path, seed: int = 7, packages: bool = False, hash_set: bool = False, scale: float = 0.002
) -> Path:
    """A small two-year (2023-2024) warehouse: the real simulator, then the real ETL, in `root`.

    Yearly exports (and, with `packages`, the JSON referral packages; with `hash_set`, the
    simulator's known-hash set imported first). The test key is passed directly, so module-scoped
    fixtures can build it before the per-test $GRACE_HOME and key exist.
    """
    from datetime import date

    from etl.hashsets import import_hash_set
    from etl.runner import run_batches
    from etl.simulator import SimulationConfig, simulate
    from etl.sources import discover_batches
    from grace.config import PseudonymKey
    from warehouse import connect, ensure_schema

    out = root / "sim"
    simulate(
        SimulationConfig(
            out=out, seed=seed, scale=scale, start=date(2023, 1, 1), end=date(2024, 12, 31), delivery="year"
        )
    )
    path = root / "warehouse.duckdb"
    con = connect(path)
    try:
        ensure_schema(con)
        if hash_set:
            import_hash_set(con, out / "hashsets" / "known_hashes.csv", name="test-known")
        batches = discover_batches(out / "exports") + (discover_batches(out / "packages") if packages else [])
        summary = run_batches(con, batches, PseudonymKey(TEST_KEY.encode(), "test"))
        assert summary.ok, summary.failures
    finally:
        con.close()
    return path


def query_frame(path: Path, sql: str, params=None):
    """The rows of `sql` on the warehouse at `path` (opened read-only), as a DataFrame."""
    from warehouse import connect

    con = connect(path, read_only=True)
    try:
        return con.execute(sql, params or {}).df()
    finally:
        con.close()


def rollup_from_scratch(con, rollup: str, dates: str, every_date: str) -> list[tuple]:
    """A daily rollup's rows computed afresh from the facts by its ETL SQL (`sql/etl/<rollup>.sql`), which
    reads the dates to compute from the temp table `dates`: here every date the query `every_date` gives."""
    from warehouse import read_sql

    con.execute(f"CREATE OR REPLACE TEMP TABLE {dates} AS SELECT * FROM ({every_date}) AS d(date_key)")
    try:
        return con.execute(read_sql(f"etl/{rollup}.sql")).fetchall()
    finally:
        con.execute(f"DROP TABLE {dates}")
