"""The simulator's near-duplicates (variants of media items with PDQ distances by kind of change),
PDQ quality scores from delivery to warehouse, the known-material lists and their ground truth.

One small clean run (no malformed records) is shared by the read-only tests.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from builders import file_row, referral_row, write_delivery
from click.testing import CliRunner

from etl.contracts import load_contract
from etl.simulator import SimulationConfig, simulate
from etl.simulator.media import KIND_BITS, KIND_SHARES, VARIANT_KINDS, describe_media, flip_bits
from etl.simulator.rng import mix
from grace_cli import cli

INDUSTRY_CODES = {"A1", "A2", "B1", "B2"}


def config(out: Path, **overrides) -> SimulationConfig:
    options = {
        "out": out,
        "seed": 21,
        "scale": 0.005,
        "start": dt.date(2023, 1, 1),
        "end": dt.date(2023, 6, 30),
        "malformed_rate": 0.0,
        "package_share": 0.1,
    }
    options.update(overrides)
    return SimulationConfig(**options)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("near") / "sim"
    return out, simulate(config(out))


def file_rows(out: Path) -> pa.Table:
    """Every delivered files.csv row, all columns as text (empty cells null)."""
    manifest = json.loads((out / "manifest.json").read_text())
    paths = [out / e["path"] for e in manifest["files"] if e["kind"] == "files"]
    text = {name: pa.string() for name in load_contract("case_export").dataset("files").column_names}
    options = pacsv.ConvertOptions(column_types=text, strings_can_be_null=True)
    return pa.concat_tables(pacsv.read_csv(p, convert_options=options) for p in paths)


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def truth_of(out: Path) -> dict:
    return json.loads((out / "ground_truth.json").read_text())["near_duplicates"]


def words(pdq: list[str]) -> np.ndarray:
    """64-hex PDQ strings as an (n, 4) uint64 array."""
    return np.array([[int(h[i : i + 16], 16) for i in range(0, 64, 16)] for h in pdq], dtype=np.uint64)


def distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


# ---------------------------------------------------------------- the distance model


def test_each_kind_of_change_flips_a_number_of_pdq_bits_within_its_range():
    item = np.uint64(1 << 56) + np.arange(4000, dtype=np.uint64)
    variant = np.tile(np.arange(1, 8), 4000)[:4000].astype(np.int64)
    media = describe_media(item, variant, seed=3)
    originals = describe_media(item, np.zeros(4000, dtype=np.int64), seed=3)
    measured = np.bitwise_count(words(media.pdq.to_pylist()) ^ words(originals.pdq.to_pylist())).sum(axis=1)
    assert (measured == media.bits).all()
    for k, (low, high) in enumerate(KIND_BITS):
        bits = media.bits[media.kind == k]
        assert low <= bits.min() and bits.max() <= high, VARIANT_KINDS[k]
        assert abs(len(bits) / 4000 - KIND_SHARES[k]) < 0.03, VARIANT_KINDS[k]
    re_encoded = media.bits[media.kind == VARIANT_KINDS.index("re_encode")]
    assert np.median(re_encoded) <= 4 and (re_encoded == 0).any()  # most re-encodings move PDQ little
    assert media.bits[media.kind == VARIANT_KINDS.index("mirror")].min() > 100
    assert not set(media.md5.to_pylist()) & set(originals.md5.to_pylist())  # a variant is other bytes


def test_bits_are_flipped_at_exactly_that_many_distinct_positions_spread_over_the_whole_hash():
    bits = np.array([0, 1, 31, 128, 200, 255, 256] * 300, dtype=np.int64)
    key = mix(9, np.arange(len(bits), dtype=np.uint64))
    zero = [np.zeros(len(bits), dtype=np.uint64) for _ in range(4)]
    flipped = np.stack(flip_bits(zero, bits, key), axis=1)
    assert (np.bitwise_count(flipped).sum(axis=1) == bits).all()
    positions = np.unpackbits(flipped[bits == 31].view(np.uint8), axis=1).sum(axis=0)
    assert positions.min() > 0 and positions.max() < 4 * positions.mean()  # every bit position is used
    again = np.stack(flip_bits(zero, bits, key), axis=1)
    assert (again == flipped).all()  # a pure function of the key


def test_pdq_quality_is_mostly_high_and_sometimes_low():
    item = np.uint64(2 << 56) + np.arange(5000, dtype=np.uint64)
    quality = describe_media(item, np.zeros(5000, dtype=np.int64), seed=4).quality
    assert quality.min() >= 0 and quality.max() <= 100
    assert 0.02 < np.mean(quality < 50) < 0.12
    assert np.median(quality) >= 85


# ---------------------------------------------------------------- a simulated run


def test_variant_files_lie_within_the_range_of_their_kind_from_their_item(run):
    out, _ = run
    truth = truth_of(out)
    files = file_rows(out)
    pdq_of = {}
    for md5, pdq in zip(files["md5"].to_pylist(), files["pdq"].to_pylist()):
        if md5 and pdq:
            pdq_of[md5] = pdq
    ranges = {kind: tuple(spec["bits"]) for kind, spec in truth["kinds"].items()}
    checked = Counter()
    for entry in truth["items"].values():
        for md5, _sha1, kind, bits in entry["variants"]:
            low, high = ranges[kind]
            assert low <= bits <= high
            if md5 in pdq_of:
                assert distance(pdq_of[md5], entry["pdq"]) == bits
                checked[kind] += 1
    assert set(checked) == set(VARIANT_KINDS)
    assert sum(checked.values()) > 300


def test_variants_are_a_credible_share_of_the_files_and_exact_re_shares_remain(run):
    out, result = run
    truth = truth_of(out)
    rows = {kind: spec["file_rows"] for kind, spec in truth["kinds"].items()}
    total = sum(rows.values())
    assert result.variants == truth["variant_count"] and total > 0
    assert 0.1 < total / result.files < 0.35
    assert rows["re_encode"] > rows["resize"] > rows["crop"] > rows["mirror"] > 0
    md5s = Counter(md5 for md5 in file_rows(out)["md5"].to_pylist() if md5)
    originals = set(truth["items"])
    assert any(md5s[md5] > 1 for md5 in originals)  # an item's exact copies share its hashes


def test_the_ground_truth_lists_exactly_the_near_duplicates_the_files_hold(run):
    out, _ = run
    truth = truth_of(out)
    files = file_rows(out)
    item_of, sha1_of = {}, {}
    for original, entry in truth["items"].items():
        item_of[original] = original
        sha1_of[original] = entry["sha1"]
        for md5, sha1, _kind, _bits in entry["variants"]:
            item_of[md5] = original
            sha1_of[md5] = sha1
    md5s_delivered, sha1s_delivered = set(files["md5"].to_pylist()), set(files["sha1"].to_pylist())
    variants = {md5 for md5, item in item_of.items() if md5 != item}
    assert all(md5 in md5s_delivered or sha1_of[md5] in sha1s_delivered for md5 in variants)  # all delivered
    for md5, sha1 in zip(files["md5"].to_pylist(), files["sha1"].to_pylist()):
        if md5 in sha1_of and sha1:
            assert sha1_of[md5] == sha1
    # Every pair of distinct hashes in the files within crop distance is a pair of one listed item.
    pairs = {(m, p) for m, p in zip(files["md5"].to_pylist(), files["pdq"].to_pylist()) if m and p}
    md5s, pdqs = zip(*sorted(pairs))
    block = words(list(pdqs))
    near = []
    for i in range(len(block)):
        d = np.bitwise_count(block[i] ^ block[i + 1 :]).sum(axis=1)
        near += [(md5s[i], md5s[i + 1 + j]) for j in np.flatnonzero(d <= KIND_BITS[2][1])]
    assert near and all(a in item_of and item_of.get(a) == item_of.get(b) for a, b in near)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["near_duplicate_file_rows"] == sum(s["file_rows"] for s in truth["kinds"].values())


def test_the_same_seed_gives_identical_near_duplicates_and_lists_and_another_seed_does_not(tmp_path):
    short = {"end": dt.date(2023, 2, 28), "scale": 0.002}
    simulate(config(tmp_path / "a", **short))
    simulate(config(tmp_path / "b", **short))
    simulate(config(tmp_path / "c", seed=22, **short))
    names = [
        "ground_truth.json",
        "hashsets/industry_list.csv",
        "hashsets/industry_list_pdq.csv",
        "exports/2023-02/files.csv",
    ]
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert truth_of(tmp_path / "a")["items"] != truth_of(tmp_path / "c")["items"]


def test_pdq_quality_is_a_property_of_the_bytes_and_given_only_with_a_pdq(run):
    out, _ = run
    files = file_rows(out)
    quality_of: dict[str, set] = {}
    missing = 0
    for md5, pdq, quality in zip(*(files[c].to_pylist() for c in ("md5", "pdq", "pdq_quality"))):
        if quality is None:
            missing += pdq is not None
            continue
        assert pdq is not None and 0 <= int(quality) <= 100
        if md5:
            quality_of.setdefault(md5, set()).add(quality)
    assert all(len(values) == 1 for values in quality_of.values())
    scores = [int(next(iter(v))) for v in quality_of.values()]
    assert 0 < np.mean(np.array(scores) < 50) < 0.15
    assert missing > 0  # some deliveries give a PDQ without its quality


# ---------------------------------------------------------------- through the ETL into the warehouse


def test_pdq_quality_loads_through_grace_etl_run_into_the_warehouse(run, tmp_path):
    from warehouse import connect

    out, _ = run
    warehouse = tmp_path / "w.duckdb"
    month = [str(out / "exports/2023-03"), str(out / "packages/2023-03.jsonl")]  # one delivery, both channels
    result = CliRunner().invoke(cli, ["etl", "run", *month, "--warehouse", str(warehouse), "--quiet"])
    assert result.exit_code == 0, result.output
    expected = {}
    for md5, quality in zip(*(file_rows(out)[c].to_pylist() for c in ("md5", "pdq_quality"))):
        if md5 and quality is not None:
            expected[md5] = int(quality)
    con = connect(warehouse, read_only=True)
    try:
        total, scored, low, high = con.execute(
            "SELECT count(*), count(pdq_quality), min(pdq_quality), max(pdq_quality) FROM fact_file_occurrence"
        ).fetchone()
        loaded = con.execute(
            "SELECT DISTINCT m.md5, f.pdq_quality FROM fact_file_occurrence AS f "
            "JOIN media_cluster AS m USING (cluster_id) WHERE f.pdq_quality IS NOT NULL AND m.md5 IS NOT NULL"
        ).fetchall()
        column_type = con.execute(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'fact_file_occurrence' AND column_name = 'pdq_quality'"
        ).fetchone()
    finally:
        con.close()
    assert 0 < scored < total and low >= 0 and high <= 100
    assert column_type == ("SMALLINT",)
    assert loaded and all(expected.get(md5, quality) == quality for md5, quality in loaded)
    assert sum(md5 in expected for md5, _ in loaded) > 0.9 * len(loaded)


def test_a_delivery_without_the_pdq_quality_column_loads_it_as_null(fresh_db, key, tmp_path):
    from etl.pipeline import run_batch
    from etl.sources import discover_batches

    folder = write_delivery(tmp_path / "old", [referral_row(1)], [file_row(1), file_row(1, k=1)])
    rows = read_rows(folder / "files.csv")
    columns = [c for c in rows[0] if c != "pdq_quality"]
    with open(folder / "files.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    [report] = [run_batch(fresh_db, b, key) for b in discover_batches(folder)]
    assert report.files_loaded == 2 and report.files_quarantined == 0
    assert fresh_db.execute("SELECT count(*), count(pdq_quality) FROM fact_file_occurrence").fetchone() == (2, 0)


def test_a_pdq_quality_outside_0_to_100_is_quarantined_naming_the_field(fresh_db, key, tmp_path):
    from etl.pipeline import run_batch
    from etl.sources import discover_batches

    pdq = "f" * 64
    files = [file_row(1, pdq=pdq, pdq_quality="87"), file_row(2, pdq=pdq, pdq_quality="101")]
    folder = write_delivery(tmp_path / "d", [referral_row(1), referral_row(2)], files)
    for batch in discover_batches(folder):
        run_batch(fresh_db, batch, key)
    assert fresh_db.execute("SELECT field, reason FROM quarantine WHERE dataset = 'files'").fetchall() == [
        ("pdq_quality", "out_of_range")
    ]
    assert fresh_db.execute("SELECT pdq_quality FROM fact_file_occurrence").fetchall() == [(87,)]


def test_an_upgraded_schema_3_warehouse_gains_pdq_quality_with_null_for_earlier_files(tmp_path, key):
    from etl.checks import contract_findings
    from etl.pipeline import run_batch
    from etl.sources import discover_batches
    from warehouse import SCHEMA_VERSION, connect, ensure_schema, upgrade_schema

    path = tmp_path / "old.duckdb"
    con = connect(path)
    ensure_schema(con)
    folder = write_delivery(tmp_path / "d", [referral_row(1)], [file_row(1, pdq="0" * 64, pdq_quality="90")])
    for batch in discover_batches(folder):
        run_batch(con, batch, key)
    con.execute("ALTER TABLE fact_file_occurrence DROP COLUMN pdq_quality")  # as schema 3 had it
    con.execute("DROP TABLE analytics_alert")
    con.execute("UPDATE warehouse_meta SET value = '3' WHERE key = 'schema_version'")
    assert upgrade_schema(con) == ("3", SCHEMA_VERSION)
    assert con.execute("SELECT count(*), count(pdq_quality) FROM fact_file_occurrence").fetchone() == (1, 0)
    assert [f for f in contract_findings(con) if f.table == "fact_file_occurrence"] == []
    con.close()


# ---------------------------------------------------------------- known-material lists


def test_the_known_material_lists_are_readable_by_grace_import_hashset(run, tmp_path):
    import duckdb

    from etl.contracts import load_contract, validation_sql

    out, result = run
    warehouse = str(tmp_path / "w.duckdb")
    for name in ("industry_list.csv", "known_hashes.csv"):
        imported = CliRunner().invoke(
            cli, ["import", "hashset", str(out / "hashsets" / name), "--warehouse", warehouse]
        )
        assert imported.exit_code == 0, imported.output
        assert "loaded" in imported.output
    listed = read_rows(out / "hashsets/industry_list.csv")
    assert len(listed) == result.industry_hashes > 0
    assert {r["category"] for r in listed} == INDUSTRY_CODES
    # The PDQ list has its own contract (hash_set.yaml pdq_entries), for the PDQ bank import.
    pdq_list = out / "hashsets/industry_list_pdq.csv"
    assert pdq_list.read_text().splitlines()[0] == '"pdq","category"'
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE pdq_list AS SELECT *, '' AS _source_file, 1 AS _row FROM read_csv($p, all_varchar = true)",
        {"p": str(pdq_list)},
    )
    assert con.execute(validation_sql(load_contract("hash_set").dataset("pdq_entries"), "pdq_list")).fetchall() == []
    assert con.execute("SELECT count(*) FROM pdq_list").fetchone()[0] == result.industry_pdq_hashes > 0


def test_the_lists_hold_items_originals_with_their_codes_and_only_good_pdq_hashes(run):
    out, _ = run
    truth = truth_of(out)
    category = {r["md5"]: r["category"] for r in read_rows(out / "hashsets/industry_list.csv")}
    pdq_listed = {r["pdq"] for r in read_rows(out / "hashsets/industry_list_pdq.csv")}
    variant_md5s = {v[0] for entry in truth["items"].values() for v in entry["variants"]}
    assert not set(category) & variant_md5s  # originals only: variants are for matching to find
    seen = 0
    files = file_rows(out)
    columns = ("md5", "pdq", "pdq_quality", "industry_classification")
    for md5, pdq, quality, code in zip(*(files[c].to_pylist() for c in columns)):
        if md5 in category:
            seen += 1
            assert code in (None, category[md5])
            if pdq and quality is not None:
                assert (pdq in pdq_listed) == (int(quality) >= 50)
    assert seen > 0  # listed material is reported
    listed_items = [md5 for md5 in truth["items"] if md5 in category]
    assert listed_items  # and some of it as near-duplicates that only PDQ matching finds
