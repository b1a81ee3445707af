"""Simulator → ETL → warehouse, end to end on a small synthetic year: every injected malformed
record is accounted for, no identifier survives, and the warehouse passes its own check."""

from __future__ import annotations

import csv
import json
from datetime import date

import pytest

from etl.checks import contract_findings, identifier_findings, warehouse_stats
from etl.runner import run_batches
from etl.simulator import SimulationConfig, simulate
from etl.sources import discover_batches

IDENTIFIER_COLUMNS = (
    "report_id",
    "reported_screen_name",
    "reported_display_name",
    "reported_email",
    "reported_phone",
    "reported_ip",
    "incident_url",
)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim") / "run"
    simulate(
        SimulationConfig(
            out=out,
            seed=11,
            scale=0.004,
            start=date(2024, 1, 1),
            end=date(2024, 12, 31),
            delivery="quarter",
            malformed_rate=0.02,
            package_share=0.1,
        )
    )
    return out


@pytest.fixture
def loaded(simulated, fresh_db, key):
    batches = discover_batches(simulated / "exports") + discover_batches(simulated / "packages")
    summary = run_batches(fresh_db, batches, key)
    assert summary.ok, summary.failures
    return fresh_db, summary


def test_every_batch_balances_and_every_injected_malformed_record_is_quarantined(simulated, loaded):
    con, summary = loaded
    assert all(report.balanced for report in summary.reports)
    with open(simulated / "malformed_records.csv", encoding="utf-8") as handle:
        injected = list(csv.DictReader(handle))
    quarantined = {
        (row[0].split("/exports/")[-1].split("/packages/")[-1], row[1])
        for row in con.execute("SELECT source_file, row_number FROM quarantine").fetchall()
    }
    for record in injected:
        if record["kind"] in ("redelivered", "truncated_file"):
            continue
        relative = record["delivery_file"].split("/", 1)[1]
        assert (relative, int(record["row"])) in quarantined, record
    duplicates = sum(r.referrals_duplicate for r in summary.reports)
    redelivered = sum(1 for r in injected if r["kind"] == "redelivered")
    packages = json.loads((simulated / "manifest.json").read_text())["counts"]["packages"]
    assert duplicates >= redelivered + packages * 0.9  # packages are second-channel copies of export rows


def test_no_identifier_from_the_simulated_input_reaches_the_warehouse(simulated, loaded):
    con, _ = loaded
    values = set()
    for path in (simulated / "exports").rglob("referrals.csv"):
        with open(path, encoding="utf-8", errors="replace", newline="") as handle:
            for row in csv.DictReader(handle):
                values.update(v for c in IDENTIFIER_COLUMNS if (v := (row.get(c) or "").strip()) and len(v) > 5)
    assert len(values) > 1000
    con.execute("CREATE TEMP TABLE input_identifiers (v VARCHAR)")
    con.executemany("INSERT INTO input_identifiers VALUES (?)", [[v] for v in sorted(values)])
    for table, column in con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' AND data_type = 'VARCHAR' AND table_catalog <> 'temp'"
    ).fetchall():
        hits = con.execute(f'SELECT count(*) FROM "{table}" JOIN input_identifiers ON "{column}" = v').fetchone()[0]
        assert hits == 0, f"{table}.{column} holds input identifiers"
    assert [str(f) for f in identifier_findings(con)] == []


def test_the_simulated_warehouse_matches_its_contract_and_reports_consistent_stats(loaded):
    con, summary = loaded
    assert contract_findings(con) == []
    stats = warehouse_stats(con)
    assert stats["referrals"] == summary.total("referrals_loaded")
    assert stats["files"] == summary.total("files_loaded")
    rollup = con.execute("SELECT sum(referrals), sum(files) FROM rollup_referral_daily").fetchone()
    assert rollup == (stats["referrals"], stats["files"])
    assert con.execute("SELECT sum(files) FROM rollup_file_daily").fetchone()[0] == stats["files"]
