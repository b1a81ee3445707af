"""`grace hash`: agency-side MD5, SHA1 and PDQ of a folder, written as the `files` part of a delivery.

Every picture is generated here (gradients, circles, noise); nothing else is ever hashed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from pathlib import Path

import numpy as np
import pytest
import yaml
from builders import referral_row, write_csv, write_delivery
from click.testing import CliRunner
from PIL import Image, ImageDraw

from grace.config import CONTRACTS_DIR
from grace.errors import ConfigError, InputFileError
from grace_cli import cli
from matching.hashing import (
    DELIVERY_COLUMNS,
    MIN_PDQ_SIDE,
    REPORT_ID,
    ReferralLinker,
    hash_file,
    hash_folder,
    pdq_hex,
)

REFERRAL_1, REFERRAL_2, REFERRAL_3 = (f"CT-2023-{n:08d}" for n in (1, 2, 3))
# Names that must never reach the delivery (checked byte for byte).
NAMES = (
    "gradient-circles-alpha",
    "gradient-circles-bravo",
    "smaller-copy-charlie",
    "noise-delta",
    "plain-notes-echo",
    "holiday-folder-foxtrot",
)


def picture(seed: int, size: tuple[int, int] = (480, 360)) -> Image.Image:
    """A benign generated picture: colour gradient, light noise and a dozen filled circles."""
    rng = np.random.default_rng(seed)
    width, height = size
    x = np.linspace(0, 1, width)[None, :]
    y = np.linspace(0, 1, height)[:, None]
    base = np.stack([200 * x + 0 * y, 200 * y + 0 * x, 100 + 80 * x * y], -1) + rng.normal(0, 4, (height, width, 3))
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        cx, cy = int(rng.integers(0, width)), int(rng.integers(0, height))
        r = int(rng.integers(width // 30, width // 6))
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    return image


def noise(seed: int, size: tuple[int, int] = (300, 300)) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


@pytest.fixture
def media(tmp_path) -> Path:
    """Three referral folders (one with a sub-folder) of generated pictures and a text file."""
    root = tmp_path / "media"
    first, second, third = root / REFERRAL_1, root / REFERRAL_2 / "holiday-folder-foxtrot", root / REFERRAL_3
    for folder in (first, second, third):
        folder.mkdir(parents=True)
    original = picture(0)
    original.save(first / "gradient-circles-alpha.png")
    picture(1).save(first / "gradient-circles-bravo.jpg", quality=92)
    (first / "plain-notes-echo.txt").write_text("meeting at ten\n", encoding="utf-8")
    original.resize((240, 180), Image.Resampling.LANCZOS).save(second / "smaller-copy-charlie.jpg", quality=90)
    noise(2).save(third / "noise-delta.png")
    return root


def read_rows(delivery: Path) -> list[dict]:
    with open(delivery / "files.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def every_file(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def run_hash(*args: str):
    return CliRunner().invoke(cli, ["hash", *args])


# --- hashes ---------------------------------------------------------------------------------------


def test_md5_and_sha1_of_every_file_match_hashlib(media, tmp_path):
    summary = hash_folder(media, tmp_path / "delivery")
    rows = read_rows(tmp_path / "delivery")
    expected = {
        (
            path.relative_to(media).parts[0],
            hashlib.md5(path.read_bytes()).hexdigest(),
            hashlib.sha1(path.read_bytes()).hexdigest(),
        )
        for path in every_file(media)
    }
    assert {(r["report_id"], r["md5"], r["sha1"]) for r in rows} == expected
    assert summary.rows_written == summary.files_found == len(rows) == 5


def test_the_pdq_of_a_resized_copy_is_within_20_bits_and_of_an_unrelated_picture_far(media):
    original = hash_file(str(media), f"{REFERRAL_1}/gradient-circles-alpha.png")
    copy = hash_file(str(media), f"{REFERRAL_2}/holiday-folder-foxtrot/smaller-copy-charlie.jpg")
    unrelated = hash_file(str(media), f"{REFERRAL_1}/gradient-circles-bravo.jpg")
    assert original.pdq and copy.pdq and unrelated.pdq
    assert distance(original.pdq, copy.pdq) <= 20
    assert distance(original.pdq, unrelated.pdq) >= 90
    assert original.pdq_quality is not None and original.pdq_quality >= 80
    assert original.problem is None


def test_the_pdq_hex_puts_the_first_bit_of_the_pdqhash_vector_first():
    bits = np.zeros(256, dtype=np.uint8)
    bits[0] = 1
    bits[255] = 1
    assert pdq_hex(bits) == "80" + "00" * 30 + "01"


def test_the_delivery_has_the_pdq_and_its_quality_of_every_image(media, tmp_path):
    hash_folder(media, tmp_path / "delivery")
    rows = read_rows(tmp_path / "delivery")
    images = [r for r in rows if r["pdq"]]
    assert len(images) == 4
    assert all(len(r["pdq"]) == 64 and 0 <= int(r["pdq_quality"]) <= 100 for r in images)
    text = [r for r in rows if not r["pdq"]]
    assert len(text) == 1 and text[0]["pdq_quality"] == ""


# --- problems ---------------------------------------------------------------------------------------


def test_a_non_image_keeps_md5_and_sha1_and_is_reported_as_not_an_image(media, tmp_path):
    summary = hash_folder(media, tmp_path / "delivery")
    [problem] = summary.problems
    assert (problem.path, problem.reason) == (f"{REFERRAL_1}/plain-notes-echo.txt", "not_an_image")
    row = next(r for r in read_rows(tmp_path / "delivery") if r["file_id"] == problem.file_id)
    assert row["md5"] == hashlib.md5(b"meeting at ten\n").hexdigest() and row["pdq"] == ""


def test_a_broken_link_and_a_fifo_are_unreadable_left_out_and_reported_with_exit_status_1(media, tmp_path):
    (media / REFERRAL_1 / "missing-target-golf.jpg").symlink_to(tmp_path / "nowhere.jpg")
    os.mkfifo(media / REFERRAL_3 / "pipe-hotel")
    report = tmp_path / "local" / "report.csv"
    result = run_hash(str(media), "--out", str(tmp_path / "delivery"), "--report", str(report), "--jobs", "1")
    assert result.exit_code == 1
    assert f"unreadable: {REFERRAL_1}/missing-target-golf.jpg (broken symbolic link)" in result.output
    assert f"unreadable: {REFERRAL_3}/pipe-hotel (not a regular file (FIFO))" in result.output
    with open(report, newline="", encoding="utf-8") as handle:
        listed = {(r["path"], r["reason"]) for r in csv.DictReader(handle)}
    assert {
        (f"{REFERRAL_1}/missing-target-golf.jpg", "unreadable"),
        (f"{REFERRAL_3}/pipe-hotel", "unreadable"),
        (f"{REFERRAL_1}/plain-notes-echo.txt", "not_an_image"),
    } == listed
    assert len(read_rows(tmp_path / "delivery")) == 5


def test_damaged_tiny_flat_and_empty_files_are_reported_with_their_reason(media, tmp_path):
    folder = media / REFERRAL_3
    data = io.BytesIO()
    picture(5).save(data, "PNG")
    (folder / "cut-short-india.png").write_bytes(data.getvalue()[:2000])
    Image.new("RGB", (MIN_PDQ_SIDE - 1, 40), (20, 90, 200)).save(folder / "thin-strip-juliet.png")
    Image.new("RGB", (200, 200), (40, 160, 40)).save(folder / "one-colour-kilo.png")
    (folder / "nothing-lima.bin").write_bytes(b"")
    summary = hash_folder(media, tmp_path / "delivery")
    reasons = {p.path.split("/")[-1]: p.reason for p in summary.problems}
    assert reasons == {
        "cut-short-india.png": "image_damaged",
        "thin-strip-juliet.png": "image_too_small",
        "one-colour-kilo.png": "pdq_low_quality",
        "nothing-lima.bin": "empty_file",
        "plain-notes-echo.txt": "not_an_image",
    }
    rows = {r["file_id"]: r for r in read_rows(tmp_path / "delivery")}
    by_name = {p.path.split("/")[-1]: p for p in summary.problems}
    assert rows[by_name["cut-short-india.png"].file_id]["pdq"] == ""
    assert rows[by_name["one-colour-kilo.png"].file_id]["pdq_quality"] == "0"
    assert by_name["nothing-lima.bin"].file_id == ""
    assert summary.complete


def test_a_file_outside_any_referral_folder_is_left_out_as_no_referral(media, tmp_path):
    picture(7).save(media / "loose-mike.png")
    result = run_hash(str(media), "--out", str(tmp_path / "delivery"), "--jobs", "1")
    assert result.exit_code == 1
    assert "no_referral: loose-mike.png" in result.output
    assert len(read_rows(tmp_path / "delivery")) == 5


# --- what leaves ---------------------------------------------------------------------------------------


def test_the_delivery_carries_no_file_or_folder_name_only_hashes(media, tmp_path):
    result = run_hash(str(media), "--out", str(tmp_path / "delivery"), "--report", str(tmp_path / "report.csv"))
    assert result.exit_code == 0, result.output
    delivered = sorted(p.name for p in (tmp_path / "delivery").iterdir())
    assert delivered == ["files.csv"]
    content = (tmp_path / "delivery" / "files.csv").read_bytes()
    for name in (*NAMES, "media", ".png", ".jpg", ".txt", "/"):
        assert name.encode() not in content, name
    rows = read_rows(tmp_path / "delivery")
    assert tuple(rows[0]) == DELIVERY_COLUMNS
    assert [r["file_id"] for r in rows] == [f"F{n:08d}" for n in range(1, 6)]
    # The operator's local report may name the file; the summary says where it is.
    assert "plain-notes-echo.txt" in (tmp_path / "report.csv").read_text(encoding="utf-8")


def test_the_report_may_not_be_written_into_the_delivery_and_neither_goes_into_the_media_folder(media, tmp_path):
    inside = run_hash(str(media), "--out", str(tmp_path / "delivery"), "--report", str(tmp_path / "delivery" / "r.csv"))
    assert inside.exit_code == 2 and "must not be written inside the delivery" in inside.output
    nested = run_hash(str(media), "--out", str(media / "out"))
    assert nested.exit_code == 2 and "must not be inside the hashed folder" in nested.output
    hashed = run_hash(str(media), "--out", str(tmp_path / "delivery"), "--report", str(media / "report.csv"))
    assert hashed.exit_code == 2 and "must not be written inside the hashed folder" in hashed.output
    assert not (tmp_path / "delivery").exists() and not (media / "out").exists()
    assert not (media / "report.csv").exists()


def test_an_existing_files_part_is_replaced_only_with_overwrite(media, tmp_path):
    delivery = tmp_path / "delivery"
    assert run_hash(str(media), "--out", str(delivery)).exit_code == 0
    again = run_hash(str(media), "--out", str(delivery))
    assert again.exit_code == 2 and "--overwrite" in again.output
    assert run_hash(str(media), "--out", str(delivery), "--overwrite").exit_code == 0
    assert [p.name for p in delivery.iterdir()] == ["files.csv"]


def test_serial_and_parallel_runs_write_identical_deliveries(media, tmp_path):
    for seed in range(10, 30):  # enough files for several chunks per worker
        picture(seed, (160, 120)).save(media / REFERRAL_3 / f"extra-{seed:02d}.png")
    serial = hash_folder(media, tmp_path / "serial", jobs=1)
    parallel = hash_folder(media, tmp_path / "parallel", jobs=2)
    assert (tmp_path / "serial" / "files.csv").read_bytes() == (tmp_path / "parallel" / "files.csv").read_bytes()
    assert serial.problems == parallel.problems and serial.rows_written == 25


# --- linking to referrals ---------------------------------------------------------------------------


def test_a_folder_named_like_a_referral_is_itself_the_referral(media, tmp_path):
    hash_folder(media / REFERRAL_1, tmp_path / "delivery")
    assert {r["report_id"] for r in read_rows(tmp_path / "delivery")} == {REFERRAL_1}


def test_a_referral_map_links_files_and_folders_longest_match_first(media, tmp_path):
    mapping = tmp_path / "map.csv"
    mapping.write_text(
        "path,report_id\n"
        ".,CT-2023-00000009\n"
        f"{REFERRAL_2}/holiday-folder-foxtrot,CT-2023-00000008\n"
        f"{REFERRAL_1}/gradient-circles-alpha.png,CT-2023-00000007\n"
        "no/such/folder,CT-2023-00000006\n",
        encoding="utf-8",
    )
    linker = ReferralLinker.from_map(mapping, media)
    summary = hash_folder(media, tmp_path / "delivery", linker)
    assert sorted(r["report_id"] for r in read_rows(tmp_path / "delivery")) == [
        "CT-2023-00000007",
        "CT-2023-00000008",
        "CT-2023-00000009",
        "CT-2023-00000009",
        "CT-2023-00000009",
    ]
    assert [(p.path, p.reason) for p in summary.problems if p.reason == "map_entry_unused"] == [
        ("no/such/folder", "map_entry_unused")
    ]
    assert "map.csv" not in "".join(p.name for p in (tmp_path / "delivery").iterdir())


def test_with_a_referral_map_a_file_it_does_not_cover_has_no_referral(media, tmp_path):
    mapping = tmp_path / "map.csv"
    mapping.write_text(f"path,report_id\n{REFERRAL_3},CT-2023-00000003\n", encoding="utf-8")
    summary = hash_folder(media, tmp_path / "delivery", ReferralLinker.from_map(mapping, media))
    assert summary.rows_written == 1 and not summary.complete
    missing = [p for p in summary.problems if p.reason == "no_referral"]
    assert len(missing) == 4
    assert {p.detail for p in missing} == {"no referral-map row for this path or a folder above it"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("file,referral\nx,CT-2023-00000001\n", "needs a header with columns path, report_id"),
        ("path,report_id\nx.png,2023-1\n", "row 1, field 'report_id': not a referral number"),
        ("path,report_id\n../x.png,CT-2023-00000001\n", "row 1, field 'path': path must be relative"),
        (
            "path,report_id\nx.png,CT-2023-00000001\nx.png,CT-2023-00000002\n",
            "row 2, field 'path': path already mapped",
        ),
    ],
)
def test_a_bad_referral_map_is_refused_naming_row_and_field(tmp_path, content, message):
    mapping = tmp_path / "map.csv"
    mapping.write_text(content, encoding="utf-8")
    with pytest.raises(InputFileError, match=message.replace("(", r"\(")):
        ReferralLinker.from_map(mapping, tmp_path)


def test_an_empty_folder_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no files to hash"):
        hash_folder(tmp_path / "empty", tmp_path / "delivery")


# --- the delivery through the real ETL ---------------------------------------------------------------


def test_a_grace_hash_delivery_loads_through_grace_etl_run(media, tmp_path):
    delivery, warehouse = tmp_path / "2023-05", tmp_path / "warehouse.duckdb"
    write_csv(delivery / "referrals.csv", "referrals", [referral_row(n) for n in (1, 2, 3)])
    hashed = run_hash(str(media), "--out", str(delivery), "--jobs", "2", "--quiet")
    assert hashed.exit_code == 0, hashed.output
    loaded = CliRunner().invoke(cli, ["etl", "run", str(delivery), "--warehouse", str(warehouse), "--quiet"])
    assert loaded.exit_code == 0, loaded.output
    assert "3 referrals loaded, 0 quarantined" in loaded.output

    from warehouse import connect

    con = connect(warehouse, read_only=True)
    try:
        stored = con.execute(
            "SELECT c.md5, c.sha1, c.pdq FROM fact_file_occurrence AS f JOIN media_cluster AS c USING (cluster_id)"
        ).fetchall()
        quarantined = con.execute("SELECT count(*) FROM quarantine").fetchone()
    finally:
        con.close()
    assert quarantined == (0,)
    assert sorted(stored, key=str) == sorted(
        ((r["md5"], r["sha1"], r["pdq"] or None) for r in read_rows(delivery)), key=str
    )
    assert sum(pdq is not None for _, _, pdq in stored) == 4


def test_an_out_of_range_pdq_quality_is_quarantined_by_the_etl(tmp_path):
    from builders import file_row

    delivery = write_delivery(
        tmp_path / "2023-05",
        [referral_row(1)],
        [file_row(1, 0, pdq="f" * 64, pdq_quality="100"), file_row(1, 1, pdq="e" * 64, pdq_quality="101")],
    )
    warehouse = tmp_path / "warehouse.duckdb"
    result = CliRunner().invoke(cli, ["etl", "run", str(delivery), "--warehouse", str(warehouse), "--quiet"])
    assert result.exit_code == 0, result.output
    from warehouse import connect

    con = connect(warehouse, read_only=True)
    try:
        assert con.execute("SELECT field, reason FROM quarantine").fetchall() == [("pdq_quality", "out_of_range")]
    finally:
        con.close()


# --- contract and command line ---------------------------------------------------------------------


def test_the_delivery_columns_and_referral_pattern_are_the_case_export_contracts():
    document = yaml.safe_load((CONTRACTS_DIR / "case_export.yaml").read_text(encoding="utf-8"))
    files = {p["name"]: p for p in next(d for d in document["schema"] if d["name"] == "files")["properties"]}
    assert set(DELIVERY_COLUMNS) <= set(files)
    assert files["report_id"]["logicalTypeOptions"]["pattern"] == REPORT_ID.pattern
    quality = files["pdq_quality"]
    assert (quality["logicalType"], quality["required"], quality["logicalTypeOptions"]) == (
        "integer",
        False,
        {"minimum": 0, "maximum": 100},
    )


def test_the_help_says_what_leaves_and_that_the_report_stays_local():
    result = CliRunner().invoke(cli, ["hash", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "What leaves: one row per file with report_id, file_id, md5, sha1, pdq, pdq_quality" in text
    assert "No file names, paths" in text
    assert "stays on this machine" in text
    assert "--referral-map" in text and "grace hash /evidence" in text
