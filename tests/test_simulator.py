"""Tests of `grace simulate`: deterministic simulated case systems.

Tiny scales keep every test fast; one module-scoped run is shared by the read-only tests.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import re
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner

from etl.simulator import SimulationConfig, simulate
from grace.config import CONTRACTS_DIR
from grace.errors import ConfigError
from grace_cli import cli
from warehouse.reference import EU27_ISO3

SCHEMA_PATH = CONTRACTS_DIR / "referral.schema.json"
EXAMPLES = CONTRACTS_DIR / "examples"
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"


# ---------------------------------------------------------------- helpers


def tiny_config(out: Path, **overrides) -> SimulationConfig:
    """A run of a few thousand referrals: half a year at scale 0.002."""
    options = {"out": out, "seed": 11, "scale": 0.002, "start": dt.date(2023, 1, 1), "end": dt.date(2023, 6, 30)}
    options.update(overrides)
    return SimulationConfig(**options)


def read_csv_rows(path: Path) -> list[dict]:
    """Data rows of a delivered CSV as dicts (empty cells -> '', undecodable bytes replaced)."""
    data = path.read_bytes()
    return [dict(row) for row in _parsed_csv(str(path), data)]


@functools.lru_cache(maxsize=256)
def _parsed_csv(_path: str, data: bytes) -> tuple:
    text = data.decode("utf-8", errors="replace")
    return tuple(csv.DictReader(io.StringIO(text, newline="")))


def read_csv_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def all_files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def manifest_of(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def malformed_records(out: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO((out / "malformed_records.csv").read_text(), newline="")))


class ContractChecker:
    """Checks one CSV row (dict of strings) against data_contracts/case_export.yaml."""

    def __init__(self):
        document = yaml.safe_load((CONTRACTS_DIR / "case_export.yaml").read_text())
        self.tables = {entry["name"]: entry for entry in document["schema"]}

    def columns(self, table: str) -> list[str]:
        return [p["name"] for p in self.tables[table]["properties"]]

    def errors(self, table: str, row: dict) -> list[str]:
        """Names of the fields that break the contract (empty list when the row is valid)."""
        bad = []
        for prop in self.tables[table]["properties"]:
            name = prop["name"]
            value = row.get(name) or ""
            if not value.strip():
                if prop.get("required"):
                    bad.append(name)
                continue
            if not self._valid(prop, value):
                bad.append(name)
        if table == "referrals":
            received = self._date(row.get("received_date") or "")
            for name in ("triaged_date", "closed_date"):
                later = self._date(row.get(name) or "")
                if received and later and later < received:
                    bad.append(name)
        if table == "files" and not (row.get("md5") or row.get("sha1")):
            bad.append("md5")
        return bad

    def _valid(self, prop: dict, value: str) -> bool:
        options = prop.get("logicalTypeOptions", {})
        kind = prop["logicalType"]
        if kind == "array":
            allowed = set(prop["items"]["enum"])
            return all(item in allowed for item in value.split(";"))
        if "enum" in options and value not in options["enum"]:
            return False
        if "pattern" in options and not re.search(options["pattern"], value):
            return False
        if "maxLength" in options and len(value) > options["maxLength"]:
            return False
        if kind == "boolean":
            return value in ("true", "false")
        if kind == "integer":
            if not re.fullmatch(r"-?[0-9]+", value):
                return False
            number = int(value)
            return options.get("minimum", number) <= number <= options.get("maximum", number)
        if kind == "date":
            return self._date(value) is not None
        if kind == "timestamp":
            try:
                return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None
            except ValueError:
                return False
        return True

    @staticmethod
    def _date(value: str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None


@pytest.fixture(scope="module")
def checker() -> ContractChecker:
    return ContractChecker()


@pytest.fixture(scope="module")
def schema_validator():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One shared run: 18 months over the 2024 bundling date, many malformed records."""
    out = tmp_path_factory.mktemp("sim") / "out"
    config = SimulationConfig(
        out=out,
        seed=5,
        scale=0.005,
        start=dt.date(2023, 1, 1),
        end=dt.date(2024, 6, 30),
        malformed_rate=0.02,
        package_share=0.1,
    )
    result = simulate(config)
    return out, result


def delivered_rows(out: Path, kind: str) -> list[dict]:
    rows = []
    for entry in manifest_of(out)["files"]:
        if entry["kind"] == kind:
            for row in read_csv_rows(out / entry["path"]):
                row["_delivery"] = entry["period"]
                rows.append(row)
    return rows


# ---------------------------------------------------------------- determinism


def test_the_same_seed_gives_byte_identical_outputs(tmp_path):
    simulate(tiny_config(tmp_path / "a", malformed_rate=0.02))
    simulate(tiny_config(tmp_path / "b", malformed_rate=0.02))
    first, second = all_files(tmp_path / "a"), all_files(tmp_path / "b")
    assert first.keys() == second.keys()
    assert all(first[name] == second[name] for name in first)


def test_a_different_seed_gives_different_outputs(tmp_path):
    simulate(tiny_config(tmp_path / "a"))
    simulate(tiny_config(tmp_path / "b", seed=12))
    a, b = tmp_path / "a" / "exports/2023-03/referrals.csv", tmp_path / "b" / "exports/2023-03/referrals.csv"
    assert a.read_bytes() != b.read_bytes()


# ---------------------------------------------------------------- shape of the outputs


def test_manifest_row_counts_match_the_delivered_files(run):
    out, result = run
    manifest = manifest_of(out)
    assert manifest["status"] == "complete"
    assert manifest["counts"]["referrals"] == result.referrals
    for entry in manifest["files"]:
        path = out / entry["path"]
        assert path.stat().st_size == entry["bytes"]
        if entry["kind"] == "packages":
            lines = path.read_bytes().split(b"\n")
            complete = len(lines) - 1  # the last piece is empty, or an incomplete (truncated) line
            assert complete == entry["rows"]
        else:
            rows = read_csv_rows(path)
            assert len(rows) == entry["rows"] + entry.get("partial_rows", 0), entry["path"]


def test_every_period_of_the_range_has_a_delivery(run):
    out, _ = run
    periods = sorted(p.name for p in (out / "exports").iterdir())
    assert periods[0] == "2023-01" and periods[-1] == "2024-06" and len(periods) == 18
    for period in periods:
        assert (out / "exports" / period / "referrals.csv").is_file()
        assert (out / "exports" / period / "files.csv").is_file()
        assert (out / "packages" / f"{period}.jsonl").is_file()


def test_columns_are_exactly_the_contract_columns_in_order(run, checker):
    out, _ = run
    for kind in ("referrals", "files"):
        header = (out / f"exports/2023-05/{kind}.csv").read_bytes().split(b"\n")[0].decode()
        assert next(csv.reader([header])) == checker.columns(kind)


def test_csv_quotes_strings_and_leaves_missing_values_empty(run):
    out, _ = run
    line = read_csv_text(out / "exports/2023-05/referrals.csv").splitlines()[1]
    assert line.startswith('"CT-2023-')
    assert ",," in line  # a missing value is an empty, unquoted cell


def test_clean_rows_satisfy_the_case_export_contract(run, checker):
    out, _ = run
    listed = {(r["delivery_file"], int(r["row"])) for r in malformed_records(out)}
    for entry in manifest_of(out)["files"]:
        if entry["kind"] not in ("referrals", "files"):
            continue
        for number, row in enumerate(read_csv_rows(out / entry["path"])[: entry["rows"]], start=1):
            if (entry["path"], number) not in listed:
                assert checker.errors(entry["kind"], row) == [], (entry["path"], number)


def test_report_ids_are_unique_and_carry_the_incident_year(run):
    out, _ = run
    manifest = manifest_of(out)
    redelivered = manifest["malformed"]["redelivered"]
    ids = [r["report_id"] for r in delivered_rows(out, "referrals") if r["report_id"]]
    assert len(ids) - len(set(ids)) == redelivered
    for row in delivered_rows(out, "referrals")[:2000]:
        try:
            local = dt.datetime.fromisoformat(row["incident_datetime"].replace("Z", "+00:00"))
        except ValueError:
            continue  # a deliberately bad date
        if row["report_id"]:
            assert row["report_id"][3:7] == str(local.astimezone(dt.UTC).year)


def test_referrals_are_delivered_in_the_period_of_receipt_so_some_arrive_late(run):
    out, _ = run
    late = 0
    for row in delivered_rows(out, "referrals"):
        if ContractChecker._date(row["received_date"]):
            assert row["received_date"][:7] <= row["_delivery"]
        if row["incident_datetime"][:7] < row["_delivery"] and re.match(r"\d{4}-\d{2}", row["incident_datetime"]):
            late += 1
    assert late > 0


def test_files_travel_with_their_referral(run):
    out, result = run
    referral_period = {}
    for row in delivered_rows(out, "referrals"):
        if row["report_id"]:
            referral_period.setdefault(row["report_id"], row["_delivery"])  # redeliveries come later
    files = delivered_rows(out, "files")
    assert len(files) / result.referrals > 2.0
    orphans = [f for f in files if f["report_id"] not in referral_period]
    missing_ids = sum(1 for r in malformed_records(out) if r["field"] == "report_id")
    assert len({f["report_id"] for f in orphans}) <= missing_ids
    assert all(referral_period[f["report_id"]] == f["_delivery"] for f in files if f["report_id"] in referral_period)


def test_identities_are_synthetic_and_some_accounts_recur(run):
    out, _ = run
    rows = delivered_rows(out, "referrals")
    emails = [r["reported_email"] for r in rows if r["reported_email"]]
    assert emails and all(re.search(r"@example\.(org|net|com)$", e) for e in emails if "\ufffd" not in e)
    ips = [r["reported_ip"] for r in rows if r["reported_ip"]]
    assert all(ip.startswith(("192.0.2.", "198.51.100.", "203.0.113.", "2001:db8:")) for ip in ips)
    assert any(":" in ip for ip in ips)
    phones = [r["reported_phone"] for r in rows if r["reported_phone"]]
    assert all(re.fullmatch(r"\+\d{2,3}555\d{7}", p) for p in phones)
    counts = Counter(r["reported_screen_name"] for r in rows if r["reported_screen_name"])
    assert counts.most_common(1)[0][1] >= 5
    urls = [r["incident_url"] for r in rows if r["incident_url"]]
    assert all(re.match(r"https://[a-z]+\.example/", u) for u in urls)


def test_incident_types_are_mostly_child_pornography_codes(run):
    out, _ = run
    types = Counter(r["incident_type"] for r in delivered_rows(out, "referrals"))
    total = sum(types.values())
    assert 0.75 < types["IT_CP"] / total < 0.92
    assert types["IT_OEC"] > types["IT_CST"]


def test_the_same_media_item_always_has_the_same_hashes(run):
    out, _ = run
    files = delivered_rows(out, "files")
    sha1_of = defaultdict(set)
    for f in files:
        if f["md5"] and f["sha1"]:
            sha1_of[f["md5"]].add(f["sha1"])
    assert all(len(values) == 1 for values in sha1_of.values())
    known = {r["md5"] for r in read_csv_rows(out / "hashsets/known_hashes.csv")}
    md5s = Counter(f["md5"] for f in files if f["md5"])
    known_share = sum(n for md5, n in md5s.items() if md5 in known) / sum(md5s.values())
    assert 0.3 < known_share < 0.8  # known and new material coexist
    categories = {r["category"] for r in read_csv_rows(out / "hashsets/known_hashes.csv")}
    assert categories <= {"0", "1", "2", "3", "4"}


# ---------------------------------------------------------------- malformed records


def test_every_malformed_kind_is_injected_and_listed(run):
    out, _ = run
    manifest = manifest_of(out)
    records = malformed_records(out)
    listed = Counter(r["kind"] for r in records)
    for kind in (
        "bad_date",
        "missing_required",
        "wrong_type",
        "invalid_code",
        "broken_encoding",
        "truncated_file",
        "redelivered",
    ):
        assert manifest["malformed"][kind] > 0, kind
        assert listed[kind] == manifest["malformed"][kind], kind


def test_cell_level_malformed_rows_break_the_contract_on_the_listed_field(run, checker):
    out, _ = run
    rows_of = {}
    for record in malformed_records(out):
        if record["kind"] not in ("bad_date", "missing_required", "wrong_type", "invalid_code"):
            continue
        path = record["delivery_file"]
        rows_of.setdefault(path, read_csv_rows(out / path))
        row = rows_of[path][int(record["row"]) - 1]
        table = "files" if path.endswith("files.csv") else "referrals"
        assert record["field"] in checker.errors(table, row), record
        assert row["report_id"] == record["report_id"]


def test_broken_encoding_puts_invalid_utf8_bytes_into_the_listed_rows(run):
    out, _ = run
    records = [r for r in malformed_records(out) if r["kind"] == "broken_encoding"]
    for record in records:
        data = (out / record["delivery_file"]).read_bytes()
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        row = read_csv_rows(out / record["delivery_file"])[int(record["row"]) - 1]
        assert "\ufffd" in row[record["field"]]


def test_the_truncated_file_ends_inside_a_row(run):
    out, _ = run
    truncated = manifest_of(out)["truncated"]
    data = (out / truncated["file"]).read_bytes()
    assert not data.endswith(b"\n")
    last = read_csv_rows(out / truncated["file"])[-1]
    assert not last.get("original_file_name")  # the cut row misses its later cells
    records = [r for r in malformed_records(out) if r["kind"] == "truncated_file"]
    assert len(records) == truncated["rows_partial"] + truncated["rows_lost"]


def test_redelivered_rows_are_identical_to_their_first_delivery(run):
    out, _ = run
    for record in (r for r in malformed_records(out) if r["kind"] == "redelivered"):
        again = read_csv_rows(out / record["delivery_file"])[int(record["row"]) - 1]
        source_row, source_file = re.match(r"identical to row (\d+) of (\S+)", record["detail"]).groups()
        first = read_csv_rows(out / source_file)[int(source_row) - 1]
        assert again == first and again["report_id"] == record["report_id"]
        assert source_file < record["delivery_file"]


# ---------------------------------------------------------------- ground truth and volume shape


def test_ground_truth_lists_every_injected_event(run):
    out, _ = run
    truth = json.loads((out / "ground_truth.json").read_text())
    events = truth["events"]
    kinds = {(e["kind"], e["entity_type"], e["entity"]) for e in events}
    assert ("change_point", "platform", "Messagio") in kinds  # end-to-end encryption
    assert ("vanishing", "platform", "Boxvault") in kinds
    assert ("change_point", "eu_total", "EU27") in kinds  # bundling policy
    assert {e["entity"] for e in events if e["kind"] == "emerging"} == {"Glimmr", "Tandemo"}
    spikes = [e for e in events if e["kind"] == "spike"]
    assert spikes and all(
        e["entity_type"] == "media_cluster" and re.fullmatch(r"[0-9a-f]{32}", e["entity"]) for e in spikes
    )
    assert all(
        {"kind", "entity_type", "entity", "date", "magnitude", "direction", "detail"} <= e.keys() for e in events
    )
    bundling = next(e for e in events if e["entity_type"] == "eu_total")
    assert bundling["date"] == "2024-01-01" and bundling["magnitude"] < 0.85


def _monthly(rows, platform=None):
    counts = Counter()
    for row in rows:
        platform_matches = platform is None or row["esp_name"] == platform
        if platform_matches and re.match(r"\d{4}-\d{2}-\d{2}T", row["incident_datetime"]):
            counts[row["incident_datetime"][:7]] += 1
    return counts


def test_e2ee_platform_volume_collapses_after_its_switch(run):
    out, _ = run
    truth = json.loads((out / "ground_truth.json").read_text())
    switch = next(e["date"] for e in truth["events"] if e["entity"] == "Messagio" and e["detail"].startswith("end-to"))
    monthly = _monthly(delivered_rows(out, "referrals"), "Messagio")
    before = [n for month, n in monthly.items() if month < switch[:7]]
    after_start = (dt.date.fromisoformat(switch) + dt.timedelta(days=45)).isoformat()[:7]
    after = [monthly.get(month, 0) for month in sorted(set(monthly) | {"2024-06"}) if month > after_start]
    assert before and after
    assert np.mean(after) < 0.3 * np.mean(before)


def test_shut_down_platform_reports_nothing_after_its_shutdown(run):
    out, _ = run
    truth = json.loads((out / "ground_truth.json").read_text())
    shutdown = next(e["date"] for e in truth["events"] if e["kind"] == "vanishing")
    rows = [r for r in delivered_rows(out, "referrals") if r["esp_name"] == "Boxvault"]
    assert rows
    dated = [r for r in rows if ContractChecker()._valid({"logicalType": "timestamp"}, r["incident_datetime"])]
    assert dated and all(r["incident_datetime"][:10] < shutdown for r in dated)


def test_bundling_cuts_referrals_of_big_platforms_from_2024(run):
    out, result = run
    rows = delivered_rows(out, "referrals")
    bundles = [r for r in rows if r["bundle_size"].isdigit() and int(r["bundle_size"]) > 1]
    assert bundles
    assert all(r["incident_datetime"][:4] == "2024" for r in bundles)
    assert {r["esp_name"] for r in bundles} - {""} <= {"Chatterly", "Snapverse", "Messagio", "PixelDrop", "Vidloop"}
    assert result.incidents > result.referrals


def test_viral_media_cluster_is_re_reported_across_countries(run):
    out, _ = run
    truth = json.loads((out / "ground_truth.json").read_text())
    spike = max((e for e in truth["events"] if e["kind"] == "spike"), key=lambda e: e["magnitude"])
    files = [f for f in delivered_rows(out, "files") if f["md5"] == spike["entity"]]
    country_of = {r["report_id"]: r["reporting_country"] for r in delivered_rows(out, "referrals")}
    countries = {country_of.get(f["report_id"]) for f in files}
    assert len(files) >= 0.4 * spike["magnitude"]
    assert len(countries) >= 3


def test_scale_one_volumes_have_public_magnitudes_and_the_2024_drop():
    from etl.simulator.volumes import day_grid, expected_counts
    from etl.simulator.world import build_world

    config = SimulationConfig(out=Path("unused"), scale=1.0)
    days = day_grid(config.start, config.end)
    expected, incidents = expected_counts(build_world(config), config, days)
    years = days.astype("datetime64[D]").astype("datetime64[Y]").astype(int) + 1970
    per_year = {y: expected[years == y].sum() for y in range(2019, 2026)}
    assert all(0.56e6 <= per_year[y] <= 1.5e6 for y in range(2019, 2025))
    assert per_year[2019] < per_year[2021] < per_year[2022]
    assert per_year[2024] < 0.8 * per_year[2023]
    assert incidents[years == 2024].sum() > 0.9 * incidents[years == 2023].sum()


def test_country_volumes_follow_population_roughly(run):
    out, _ = run
    countries = Counter(r["reporting_country"] for r in delivered_rows(out, "referrals"))
    assert countries["DEU"] > countries["MLT"] * 10
    assert set(countries) - {""} <= set(EU27_ISO3) | {"XXX"}


# ---------------------------------------------------------------- packages and contracts


def test_json_packages_validate_against_the_referral_schema(run, schema_validator):
    out, _ = run
    broken = {
        (r["delivery_file"], int(r["row"])) for r in malformed_records(out) if r["delivery_file"].endswith(".jsonl")
    }
    checked = 0
    for path in sorted((out / "packages").glob("*.jsonl")):
        for number, line in enumerate(path.read_bytes().splitlines(), start=1):
            if (f"packages/{path.name}", number) in broken:
                continue
            document = json.loads(line)
            assert list(schema_validator.iter_errors(document)) == [], (path.name, number)
            checked += 1
    assert checked > 50


def test_packages_duplicate_export_rows(run):
    out, _ = run
    exported = {r["report_id"]: r for r in delivered_rows(out, "referrals") if r["report_id"]}
    line = (out / "packages/2023-03.jsonl").read_text().splitlines()[0]
    package = json.loads(line)
    row = exported[package["reportId"]]
    assert package["reporter"]["espName"] == row["esp_name"]
    assert package["routing"]["receivedDate"] == row["received_date"]


def test_valid_examples_pass_and_invalid_examples_fail(schema_validator, checker):
    valid = json.loads((EXAMPLES / "referral_valid.json").read_text())
    invalid = json.loads((EXAMPLES / "referral_invalid.json").read_text())
    assert list(schema_validator.iter_errors(valid)) == []
    assert list(schema_validator.iter_errors(invalid)) != []
    for table in ("referrals", "files"):
        good = read_csv_rows(EXAMPLES / f"case_export_{table}_valid.csv")
        assert good and all(checker.errors(table, row) == [] for row in good)
        rows = read_csv_rows(EXAMPLES / f"case_export_{table}_invalid.csv")
        invalid_rows = [row for row in rows if checker.errors(table, row)]
        assert len(invalid_rows) >= 6


def test_parquet_exports_keep_every_column_as_text(tmp_path):
    out = tmp_path / "pq"
    result = simulate(tiny_config(out, format="parquet", delivery="quarter", malformed_rate=0.05, package_share=0.2))
    table = pq.read_table(out / "exports/2023-Q1/referrals.parquet")
    assert all(str(field.type) == "string" for field in table.schema)
    assert sorted(p.name for p in (out / "exports").iterdir()) == ["2023-Q1", "2023-Q2"]
    assert result.malformed["broken_encoding"] > 0 and result.malformed["truncated_file"] > 0
    assert manifest_of(out)["truncated"]["file"].startswith("packages/")


def test_yearly_deliveries_and_country_subsets(tmp_path):
    out = tmp_path / "y"
    simulate(tiny_config(out, delivery="year", countries=("NLD", "BEL"), package_share=0))
    rows = read_csv_rows(out / "exports/2023/referrals.csv")
    assert {r["reporting_country"] for r in rows} - {"", "XXX"} <= {"NLD", "BEL"}
    assert not (out / "packages").exists()


# ---------------------------------------------------------------- configuration and CLI


@pytest.mark.parametrize(
    "overrides",
    [
        {"end": dt.date(2022, 1, 1)},
        {"countries": ("AUT", "XYZ")},
        {"scale": 0},
        {"format": "xml"},
        {"delivery": "week"},
        {"package_share": 1.5},
        {"malformed_rate": -0.1},
    ],
)
def test_bad_configuration_is_refused_with_a_config_error(tmp_path, overrides):
    with pytest.raises(ConfigError):
        tiny_config(tmp_path, **overrides)


def test_cli_simulates_and_prints_a_summary(tmp_path):
    out = tmp_path / "cli"
    result = CliRunner().invoke(
        cli,
        [
            "simulate",
            "--out",
            str(out),
            "--scale",
            "0.001",
            "--start",
            "2023-01-01",
            "--end",
            "2023-03-31",
            "--seed",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "referrals" in result.output and str(out) in result.output
    assert manifest_of(out)["seed"] == 3


def test_cli_draws_another_sample_with_scarce_outcome_feedback_when_asked(tmp_path):
    common = ["--scale", "0.001", "--start", "2023-01-01", "--end", "2023-03-31", "--seed", "3", "--quiet"]
    runner = CliRunner()
    assert runner.invoke(cli, ["simulate", "--out", str(tmp_path / "own"), *common]).exit_code == 0
    result = runner.invoke(
        cli,
        ["simulate", "--out", str(tmp_path / "other"), *common, "--draw", "1", "--outcome-feedback", "0.25"],
    )
    assert result.exit_code == 0, result.output
    own, other = manifest_of(tmp_path / "own"), manifest_of(tmp_path / "other")
    assert (own["draw"], own["outcome_feedback"]) == (0, 1.0)
    assert (other["draw"], other["outcome_feedback"]) == (1, 0.25)
    first = sorted((tmp_path / "own" / "exports").rglob("referrals.csv"))[0]
    assert first.read_bytes() != (tmp_path / "other" / first.relative_to(tmp_path / "own")).read_bytes()


@pytest.mark.parametrize(
    ("option", "value"),
    [("--draw", "-1"), ("--draw", "x"), ("--outcome-feedback", "0"), ("--outcome-feedback", "1.5")],
)
def test_cli_refuses_a_negative_draw_and_an_outcome_feedback_outside_zero_to_one(tmp_path, option, value):
    result = CliRunner().invoke(cli, ["simulate", "--out", str(tmp_path / "x"), option, value])
    assert result.exit_code != 0 and option in result.output
    assert not (tmp_path / "x").exists()


def test_cli_rejects_end_before_start_with_one_line(tmp_path):
    result = CliRunner().invoke(
        cli, ["simulate", "--out", str(tmp_path / "x"), "--start", "2024-01-01", "--end", "2023-01-01"]
    )
    assert result.exit_code != 0
    assert result.output.strip().count("\n") == 0 and "before" in result.output


def test_cli_rejects_unknown_country_codes(tmp_path):
    result = CliRunner().invoke(cli, ["simulate", "--out", str(tmp_path / "x"), "--countries", "AUT,ZZZ"])
    assert result.exit_code != 0 and "ZZZ" in result.output
    assert result.output.strip().count("\n") == 0


def test_cli_refuses_a_non_empty_directory_without_a_previous_manifest(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    result = CliRunner().invoke(cli, ["simulate", "--out", str(tmp_path), "--scale", "0.001"])
    assert result.exit_code != 0 and "not empty" in result.output
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_a_previous_simulation_is_overwritten(tmp_path):
    out = tmp_path / "again"
    simulate(tiny_config(out, delivery="month"))
    simulate(tiny_config(out, delivery="quarter"))
    assert sorted(p.name for p in (out / "exports").iterdir()) == ["2023-Q1", "2023-Q2"]


# ---------------------------------------------------------------- PostgreSQL


@pytest.fixture
def case_database():
    """A fresh PostgreSQL database, dropped afterwards; yields its SQLAlchemy URL."""
    psycopg = pytest.importorskip("psycopg")
    name = f"grace_sim_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.Error:
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", f"{PG_SERVER}/{name}"
    finally:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_postgres_writer_appends_later_periods_with_higher_ids(tmp_path, case_database):
    import psycopg

    url, plain = case_database
    first = simulate(tiny_config(tmp_path / "q1", end=dt.date(2023, 3, 31), malformed_rate=0.02, to_postgres=url))
    with psycopg.connect(plain) as con:
        max_first = con.execute("SELECT max(id), count(*) FROM case_system.referrals").fetchone()
    second = simulate(tiny_config(tmp_path / "q2", start=dt.date(2023, 4, 1), malformed_rate=0.02, to_postgres=url))
    with psycopg.connect(plain) as con:
        min_second = con.execute(
            "SELECT min(id) FROM case_system.referrals WHERE received_date >= '2023-04-01'"
            " AND received_date ~ '^2023-0[4-6]'"
        ).fetchone()[0]
        total = con.execute("SELECT count(*) FROM case_system.referrals").fetchone()[0]
        files = con.execute("SELECT count(*) FROM case_system.files").fetchone()[0]
        columns = [
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'case_system' "
                "AND table_name = 'referrals' ORDER BY ordinal_position"
            )
        ]
    assert max_first[1] == first.postgres_rows["referrals"]
    assert min_second > max_first[0]
    assert total == first.postgres_rows["referrals"] + second.postgres_rows["referrals"]
    assert files == first.postgres_rows["files"] + second.postgres_rows["files"]
    assert columns[0] == "id" and columns[-1] == "updated_at"
    assert columns[1:-1] == ContractChecker().columns("referrals")
    assert manifest_of(tmp_path / "q1")["postgres"]["rows"]["referrals"] == first.postgres_rows["referrals"]


# ---------------------------------------------------------------- scale


@pytest.mark.slow
def test_a_million_referrals_are_simulated_within_a_minute(tmp_path, request):
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("slow: run with -m slow")
    began = time.perf_counter()
    result = simulate(
        SimulationConfig(out=tmp_path / "big", scale=0.72, start=dt.date(2023, 1, 1), end=dt.date(2023, 12, 31))
    )
    elapsed = time.perf_counter() - began
    assert result.referrals >= 900_000
    assert elapsed < 90


def test_an_unreachable_database_is_reported_on_one_line_before_anything_is_written(tmp_path):
    out = tmp_path / "never"
    result = CliRunner().invoke(
        cli,
        [
            "simulate",
            "--out",
            str(out),
            "--scale",
            "0.001",
            "--to-postgres",
            "postgresql+psycopg://postgres@127.0.0.1:1/nowhere",
        ],
    )
    assert result.exit_code != 0 and "cannot connect" in result.output
    assert result.output.strip().count("\n") == 0
    assert not out.exists()
