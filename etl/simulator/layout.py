"""Where each output lives inside the output directory (paths relative to it, POSIX style)."""

from __future__ import annotations

MANIFEST = "manifest.json"
GROUND_TRUTH = "ground_truth.json"
MALFORMED_RECORDS = "malformed_records.csv"
KNOWN_HASHES = "hashsets/known_hashes.csv"
INDUSTRY_HASHES = "hashsets/industry_list.csv"  # md5,sha1,category (A1/A2/B1/B2): `grace import hashset` reads it
INDUSTRY_PDQ = "hashsets/industry_list_pdq.csv"  # pdq,category: the same items' PDQ hashes (hash_set.yaml pdq_entries)
EXPORTS = "exports"
PACKAGES = "packages"
HASHSETS = "hashsets"
# Everything a run writes at the top of the output directory (removed before a re-run).
OUTPUTS = (EXPORTS, PACKAGES, HASHSETS, MANIFEST, GROUND_TRUTH, MALFORMED_RECORDS)


def referrals_path(period: str, fmt: str) -> str:
    return f"{EXPORTS}/{period}/referrals.{fmt}"


def files_path(period: str, fmt: str) -> str:
    return f"{EXPORTS}/{period}/files.{fmt}"


def package_path(period: str) -> str:
    return f"{PACKAGES}/{period}.jsonl"
