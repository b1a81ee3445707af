"""The content-classifier plug-in of `grace hash --classifier`: manifest and checksum, the benign stand-in,
the four delivery columns, the contract, the ETL and the schema 6 -> 7 upgrade.

Every picture is generated here (gradients, stripes, checkerboards, circles, noise). The stand-in's codes
are plumbing only: they say nothing about any real picture.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from builders import file_row, referral_row, write_csv, write_delivery
from click.testing import CliRunner
from PIL import Image

from grace.config import CONTRACTS_DIR
from grace.errors import InputFileError
from grace_cli import cli
from matching.classifiers import CATEGORY_PATTERN, NAME_PATTERN, VERSION_PATTERN, load_classifier, read_manifest
from matching.classifiers.standin import ARTEFACT_NAME, MANIFEST, build, patterns
from matching.hashing import CLASSIFIER_COLUMNS, CLASSIFIER_FAILED, DELIVERY_COLUMNS, hash_file

REFERRAL_1, REFERRAL_2 = (f"CT-2023-{n:08d}" for n in (1, 2))


def _committed_loads() -> bool:
    try:
        load_classifier(MANIFEST)
    except InputFileError as error:
        if "written by scikit-learn" in str(error):
            return False
        raise
    return True


@pytest.fixture(scope="module")
def standin(tmp_path_factory) -> Path:
    """The committed stand-in's manifest, or (another scikit-learn installed) one rebuilt the same way."""
    if _committed_loads():
        return MANIFEST
    return build(tmp_path_factory.mktemp("standin"))


def copy_of(manifest: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    document = json.loads(manifest.read_text(encoding="utf-8"))
    shutil.copy(manifest.parent / document["artefact"], folder / document["artefact"])
    shutil.copy(manifest, folder / manifest.name)
    return folder / manifest.name


def edited(manifest: Path, folder: Path, **changes) -> Path:
    """A copy of `manifest` with fields changed (None removes one)."""
    copy = copy_of(manifest, folder)
    document = json.loads(copy.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    copy.write_text(json.dumps(document), encoding="utf-8")
    return copy


@pytest.fixture
def media(tmp_path) -> Path:
    """Two referral folders: generated patterns as PNG and JPEG, and a text file."""
    root = tmp_path / "media"
    pictures, _ = patterns(6, seed=5)
    for n, pixels in enumerate(pictures):
        folder = root / (REFERRAL_1 if n < 3 else REFERRAL_2)
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(folder / f"pattern-{n}.{'png' if n % 2 else 'jpg'}")
    (root / REFERRAL_1 / "notes.txt").write_text("meeting at ten\n", encoding="utf-8")
    return root


def read_rows(delivery: Path) -> tuple[list[str], list[dict]]:
    with open(delivery / "files.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


# --- manifest and checksum -------------------------------------------------------------------------


def test_the_committed_stand_in_manifest_names_its_artefact_by_sha256_and_is_small():
    manifest = read_manifest(MANIFEST)
    data = (MANIFEST.parent / ARTEFACT_NAME).read_bytes()
    assert manifest.sha256 == hashlib.sha256(data).hexdigest()
    assert len(data) < 1_000_000
    assert (manifest.name, manifest.runtime, manifest.scheme) == ("standin", "sklearn", "industry")


def test_a_tampered_artefact_is_refused_naming_the_manifest_and_the_sha256_field(standin, tmp_path):
    copy = copy_of(standin, tmp_path / "model")
    artefact = copy.parent / json.loads(copy.read_text())["artefact"]
    artefact.write_bytes(artefact.read_bytes() + b"\0")
    with pytest.raises(InputFileError, match=r"field 'sha256'.*checksum mismatch") as refused:
        load_classifier(copy)
    assert str(copy) in str(refused.value)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"sha256": None}, "sha256", "missing"),
        ({"input": None}, "input", "missing"),
        ({"categories": ["N", "A1", "C7", "B1", "B2"]}, "categories", "'C7' not in the industry scheme"),
        ({"scheme": "vics"}, "categories", "not in the vics scheme"),
        ({"scheme": "other"}, "scheme", "not one of industry, vics"),
        ({"name": "a model/with slash"}, "name", "does not match"),
        ({"runtime": "torch"}, "runtime", "not one of sklearn, onnx"),
        ({"artefact": "../elsewhere.joblib"}, "artefact", "without '..'"),
        ({"input": {"width": 0, "height": 32}}, "input.width", "integer"),
        ({"format": "grace-classifier/9"}, "format", "reads 'grace-classifier/1'"),
        ({"colour_space": "rgb"}, "colour_space", "not a manifest field"),
    ],
)
def test_a_bad_manifest_is_refused_naming_the_file_and_the_field(standin, tmp_path, changes, field, message):
    manifest = edited(standin, tmp_path / "model", **changes)
    with pytest.raises(InputFileError, match=re.escape(f"field '{field}'")) as refused:
        load_classifier(manifest)
    assert message in str(refused.value) and str(manifest) in str(refused.value)


def test_grace_hash_refuses_a_tampered_model_before_writing_anything(standin, media, tmp_path):
    copy = copy_of(standin, tmp_path / "model")
    artefact = copy.parent / json.loads(copy.read_text())["artefact"]
    artefact.write_bytes(b"not the model")
    result = CliRunner().invoke(cli, ["hash", str(media), "--out", str(tmp_path / "d"), "--classifier", str(copy)])
    assert result.exit_code == 2
    assert "checksum mismatch" in result.output and "sha256" in result.output
    assert not (tmp_path / "d" / "files.csv").exists()


# --- the stand-in --------------------------------------------------------------------------------------


def test_the_stand_in_tells_its_held_out_generated_pattern_families_apart_well_above_chance(standin):
    classifier = load_classifier(standin)
    pictures, family = patterns(200, seed=12345)  # not the training seed
    codes, confidence = classifier.classify(pictures)
    expected = [classifier.categories[f] for f in family]
    accuracy = np.mean([c == e for c, e in zip(codes, expected)])
    assert accuracy > 0.6  # chance is 0.2 (five families)
    assert ((confidence >= 0) & (confidence <= 1)).all()


def rebuild_standin(out: Path):
    """Build the stand-in with its script in a fresh interpreter, as the committed one was built: pickle's
    memo depends on which equal strings are one object, so a process that loaded models before may write
    other (equally valid) bytes."""
    script = Path(__file__).resolve().parent.parent / "scripts" / "train_standin_classifier.py"
    env = {**os.environ, "PYTHONPATH": str(script.parent.parent)}
    done = subprocess.run([sys.executable, str(script), "--out", str(out)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return read_manifest(out / MANIFEST.name)


def test_rebuilding_the_stand_in_gives_the_same_bytes_twice_and_the_committed_model(tmp_path):
    """The build is deterministic on one machine (same bytes, same checksum). Against the committed artefact,
    built on another CPU, the solver's last digits may differ (L-BFGS with another BLAS): the same classes
    and probabilities within 1e-4 on held-out patterns are what must be reproduced."""
    if not _committed_loads():
        pytest.skip("the committed stand-in was written by another scikit-learn version")
    first, second = rebuild_standin(tmp_path / "first"), rebuild_standin(tmp_path / "second")
    assert first.sha256 == second.sha256
    assert (tmp_path / "first" / ARTEFACT_NAME).read_bytes() == (tmp_path / "second" / ARTEFACT_NAME).read_bytes()
    pictures, _family = patterns(200, seed=12345)
    rebuilt, committed = load_classifier(tmp_path / "first" / MANIFEST.name), load_classifier(MANIFEST)
    rebuilt_codes, rebuilt_confidence = rebuilt.classify(pictures)
    committed_codes, committed_confidence = committed.classify(pictures)
    assert list(rebuilt_codes) == list(committed_codes)
    assert np.allclose(rebuilt_confidence, committed_confidence, atol=1e-4)


# --- grace hash --classifier ----------------------------------------------------------------------------


def test_grace_hash_with_a_classifier_writes_the_four_columns_and_nothing_more(standin, media, tmp_path):
    result = CliRunner().invoke(
        cli, ["hash", str(media), "--out", str(tmp_path / "d"), "--classifier", str(standin), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert "classifier standin 1.0.0" in result.output and "6 images classified" in result.output
    header, rows = read_rows(tmp_path / "d")
    assert header == [*DELIVERY_COLUMNS, *CLASSIFIER_COLUMNS]
    assert CLASSIFIER_COLUMNS == (
        "classifier_category",
        "classifier_confidence",
        "classifier_model",
        "classifier_version",
    )
    images = [r for r in rows if r["pdq"]]
    others = [r for r in rows if not r["pdq"]]
    assert len(images) == 6 and len(others) == 1
    for row in images:
        assert CATEGORY_PATTERN.match(row["classifier_category"])
        assert re.fullmatch(r"[01]\.[0-9]{4}", row["classifier_confidence"])
        assert 0 <= float(row["classifier_confidence"]) <= 1
        assert (row["classifier_model"], row["classifier_version"]) == ("standin", "1.0.0")
    assert all(others[0][c] == "" for c in CLASSIFIER_COLUMNS)
    # Nothing about the files but codes and scores: no name reaches the delivery.
    assert b"pattern-" not in (tmp_path / "d" / "files.csv").read_bytes()


def test_without_a_classifier_the_delivery_keeps_its_six_columns(media, tmp_path):
    result = CliRunner().invoke(cli, ["hash", str(media), "--out", str(tmp_path / "d"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert read_rows(tmp_path / "d")[0] == list(DELIVERY_COLUMNS)


def test_serial_and_parallel_runs_with_a_classifier_write_identical_deliveries(standin, media, tmp_path):
    for jobs in ("1", "2"):
        result = CliRunner().invoke(
            cli,
            [
                "hash",
                str(media),
                "--out",
                str(tmp_path / jobs),
                "--classifier",
                str(standin),
                "--jobs",
                jobs,
                "--quiet",
            ],
        )
        assert result.exit_code == 0, result.output
    assert (tmp_path / "1" / "files.csv").read_bytes() == (tmp_path / "2" / "files.csv").read_bytes()


class Failing:
    name, version, sha256, categories = "failing", "0", "0" * 64, ("N", "A1")

    def classify(self, images):
        raise RuntimeError("model crashed")


class OffScale(Failing):
    def classify(self, images):
        return ["A1"] * len(images), np.full(len(images), 1.7)


@pytest.mark.parametrize(("model", "detail"), [(Failing(), "RuntimeError: model crashed"), (OffScale(), "not in 0-1")])
def test_an_image_the_classifier_fails_on_keeps_its_hashes_and_is_reported(media, model, detail):
    result = hash_file(str(media), f"{REFERRAL_1}/pattern-1.png", model)
    assert result.md5 and result.pdq and result.category is None
    assert (result.classifier_problem, detail in result.classifier_detail) == (CLASSIFIER_FAILED, True)


# --- ONNX ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("softmax", [True, False])
def test_an_onnx_model_gives_the_code_of_its_highest_score(tmp_path, softmax):
    pytest.importorskip("onnxruntime")
    from onnx_builder import linear_model

    rng = np.random.default_rng(3)
    weights, bias = rng.normal(size=(8 * 8 * 3, 4)).astype(np.float32), np.zeros(4, np.float32)
    data = linear_model(weights, bias, softmax=softmax)
    (tmp_path / "m.onnx").write_bytes(data)
    manifest = {
        "format": "grace-classifier/1",
        "name": "linear-test",
        "version": "0.1",
        "runtime": "onnx",
        "artefact": "m.onnx",
        "sha256": hashlib.sha256(data).hexdigest(),
        "scheme": "vics",
        "categories": ["0", "1", "2", "N"],
        "input": {"width": 8, "height": 8, "colour": "rgb", "layout": "flat", "scale": "unit"},
        "scores": "probabilities" if softmax else "logits",
    }
    (tmp_path / "m.json").write_text(json.dumps(manifest), encoding="utf-8")
    classifier = load_classifier(tmp_path / "m.json")
    pictures, _ = patterns(10, seed=8)
    codes, confidence = classifier.classify(pictures)
    inputs = np.stack([np.asarray(Image.fromarray(p).resize((8, 8), Image.Resampling.BILINEAR)) for p in pictures])
    logits = inputs.reshape(10, -1).astype(np.float64) / 255 @ weights
    expected = np.exp(logits - logits.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    assert codes == [manifest["categories"][i] for i in expected.argmax(1)]
    assert np.allclose(confidence, expected.max(1), atol=1e-4)


# --- contract, ETL and warehouse ---------------------------------------------------------------------------


def test_the_contract_patterns_are_the_classifier_plug_ins():
    document = yaml.safe_load((CONTRACTS_DIR / "case_export.yaml").read_text(encoding="utf-8"))
    files = {p["name"]: p for p in next(d for d in document["schema"] if d["name"] == "files")["properties"]}
    assert set(CLASSIFIER_COLUMNS) <= set(files)
    assert not any(files[c]["required"] for c in CLASSIFIER_COLUMNS)
    assert files["classifier_category"]["logicalTypeOptions"]["pattern"] == CATEGORY_PATTERN.pattern
    assert files["classifier_model"]["logicalTypeOptions"]["pattern"] == NAME_PATTERN.pattern
    assert files["classifier_version"]["logicalTypeOptions"]["pattern"] == VERSION_PATTERN.pattern
    assert files["classifier_confidence"]["logicalTypeOptions"] == {"minimum": 0, "maximum": 1}


def test_a_classified_delivery_loads_through_grace_etl_run_into_fact_file_occurrence(standin, media, tmp_path):
    delivery, warehouse = tmp_path / "2023-05", tmp_path / "warehouse.duckdb"
    write_csv(delivery / "referrals.csv", "referrals", [referral_row(n) for n in (1, 2)])
    hashed = CliRunner().invoke(
        cli, ["hash", str(media), "--out", str(delivery), "--classifier", str(standin), "--quiet"]
    )
    assert hashed.exit_code == 0, hashed.output
    loaded = CliRunner().invoke(cli, ["etl", "run", str(delivery), "--warehouse", str(warehouse), "--quiet"])
    assert loaded.exit_code == 0, loaded.output
    assert "2 referrals loaded, 0 quarantined" in loaded.output
    from warehouse import connect

    con = connect(warehouse, read_only=True)
    try:
        stored = con.execute(
            "SELECT c.md5, f.classifier_category, f.classifier_confidence, f.classifier_model, f.classifier_version "
            "FROM fact_file_occurrence AS f JOIN media_cluster AS c USING (cluster_id)"
        ).fetchall()
    finally:
        con.close()
    _, rows = read_rows(delivery)
    expected = {
        (
            r["md5"],
            r["classifier_category"] or None,
            float(r["classifier_confidence"]) if r["classifier_confidence"] else None,
            r["classifier_model"] or None,
            r["classifier_version"] or None,
        )
        for r in rows
    }
    assert set(stored) == expected and sum(s[1] is not None for s in stored) == 6


@pytest.mark.parametrize(
    ("values", "field", "reason"),
    [
        (("A1", "1.5", "m", "1"), "classifier_confidence", "out_of_range"),
        (("A1", "high", "m", "1"), "classifier_confidence", "wrong_type"),
        (("C3", "0.9", "m", "1"), "classifier_category", "invalid_format"),
        (("A1", "0.9", "my model", "1"), "classifier_model", "invalid_format"),
        (("A1", "0.9", "m", ""), "classifier_category", "inconsistent"),
    ],
)
def test_bad_classifier_values_are_quarantined_naming_row_and_field(fresh_db, key, tmp_path, values, field, reason):
    from etl.pipeline import run_batch
    from etl.sources import discover_batches

    good = dict(zip(CLASSIFIER_COLUMNS, ("B2", "0.8125", "standin", "1.0.0")))
    bad = dict(zip(CLASSIFIER_COLUMNS, values))
    folder = write_delivery(
        tmp_path / "d", [referral_row(1), referral_row(2)], [file_row(1, **good), file_row(2, **bad)]
    )
    for batch in discover_batches(folder):
        run_batch(fresh_db, batch, key)
    assert fresh_db.execute("SELECT row_number, field, reason FROM quarantine WHERE dataset = 'files'").fetchall() == [
        (2, field, reason)
    ]
    assert fresh_db.execute(
        "SELECT classifier_category, classifier_confidence, classifier_model, classifier_version FROM fact_file_occurrence"
    ).fetchall() == [("B2", 0.8125, "standin", "1.0.0")]


def test_a_schema_6_warehouse_upgrades_keeping_its_rows_with_null_classifier_columns(tmp_path, key):
    from etl.checks import contract_findings
    from etl.pipeline import run_batch
    from etl.sources import discover_batches
    from warehouse import SCHEMA_VERSION, connect, upgrade_schema

    con = connect(tmp_path / "old.duckdb")
    folder = write_delivery(tmp_path / "d", [referral_row(1)], [file_row(1, 0), file_row(1, 1)])
    for batch in discover_batches(folder):
        run_batch(con, batch, key)
    for column in CLASSIFIER_COLUMNS:  # as schema 6 had it
        con.execute(f"ALTER TABLE fact_file_occurrence DROP COLUMN {column}")
    con.execute("UPDATE warehouse_meta SET value = '6' WHERE key = 'schema_version'")
    assert upgrade_schema(con) == ("6", SCHEMA_VERSION)
    assert con.execute("SELECT count(*), count(classifier_category) FROM fact_file_occurrence").fetchone() == (2, 0)
    assert [f for f in contract_findings(con) if f.table == "fact_file_occurrence"] == []
    con.close()
