"""Finding the deliveries under a path: which source reads each one."""

from __future__ import annotations

from pathlib import Path

from etl.sources.base import EXPORT_SUFFIXES, PACKAGE_SUFFIXES, BatchSource
from etl.sources.case_export import case_export_batch, find_export_file
from etl.sources.packages import package_batch
from grace.errors import InputFileError


def discover_batches(path: Path) -> list[BatchSource]:
    """Every batch under `path`, in a stable order.

    A folder holding `referrals.csv|parquet` is one case-export delivery; a `.jsonl` file is
    one delivery of referral packages; other folders are searched recursively (sorted).
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "no such file or folder")
    if path.is_file():
        if path.suffix.lower() in PACKAGE_SUFFIXES:
            return [package_batch(path)]
        if path.name.startswith("referrals") and path.suffix.lower() in EXPORT_SUFFIXES:
            return [case_export_batch(path.parent)]
        raise InputFileError(
            path, "not a delivery: expected a folder with referrals.csv|parquet or a .jsonl package file"
        )
    if find_export_file(path, "referrals") is not None:
        return [case_export_batch(path)]
    batches: list[BatchSource] = []
    for child in sorted(path.iterdir()):
        if child.is_dir():
            batches.extend(discover_batches(child))
        elif child.suffix.lower() in PACKAGE_SUFFIXES:
            batches.append(package_batch(child))
    return batches
