"""The files table and the known-hash set: media items, their hashes and file metadata.

Every file row points at a media item (an integer id) and a variant of it. Hashes are pure
functions of (seed, item, variant): the same item always has the same MD5/SHA1; variants
(re-encodings) have other MD5/SHA1 but a PDQ within a few bits of the original, so clusters
exist for perceptual matching. Items come from a long-lived known pool (listed in the hash
set, Zipf-like popularity), from new material that appears over time and is re-shared for a
while, and from the viral events (one item re-reported thousands of times). No media exists:
the hashes are synthetic 128/160/256-bit values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.simulator.config import SimulationConfig
from etl.simulator.contract import in_contract_order
from etl.simulator.referrals import Referrals
from etl.simulator.rng import child_rng, mix, unit_interval
from etl.simulator.strings import (
    bitmask_labels,
    by_case,
    hex_strings,
    int_strings,
    join,
    local_datetime_strings,
    null_where,
    pick,
)
from etl.simulator.volumes import years_since_trend_epoch
from etl.simulator.world import VIRAL_ITEM_BASE, World, epoch_day
from warehouse.reference import FILE_ANNOTATIONS, INDUSTRY_CLASSIFICATIONS

KNOWN_BASE = 1 << 56
NEW_BASE = 2 << 56
KNOWN_POOL_PER_SCALE = 100_000
FRESH_SHARE = 0.75  # share of new-material rows that are a never-seen item
RESHARE_WINDOW_DAYS = 30
PDQ_VARIANT_BITS = 6
VICS_CATEGORIES = (0, 1, 2, 3, 4)
VICS_WEIGHTS = (0.08, 0.5, 0.3, 0.08, 0.04)
CLASSIFICATION_WEIGHTS = (0.3, 0.2, 0.25, 0.15)  # A1, A2, B1, B2; the rest of the mass is empty


@dataclass(frozen=True)
class Files:
    """The files table with the referral row of every file and its media item."""

    table: pa.Table
    referral_index: np.ndarray  # int64 row of the referral (in the referrals table) of every file
    item: np.ndarray  # uint64 media item id
    variant: np.ndarray  # int64 variant (0 = the original)


def known_pool_size(scale: float) -> int:
    """How many items the long-lived known pool (and the hash set) holds."""
    return max(300, round(KNOWN_POOL_PER_SCALE * scale))


def files_per_referral(viral: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """1 + negative binomial (mean about 2.5, heavy tail); viral referrals carry the one item."""
    extra = rng.negative_binomial(0.6, 0.6 / (0.6 + 1.5), size=len(viral))
    return np.where(viral >= 0, 1, 1 + np.minimum(extra, 499))


def media_hashes(item: np.ndarray, variant: np.ndarray, seed: int) -> dict[str, pa.Array]:
    """md5 (32 hex), sha1 (40 hex) and pdq (64 hex) of every (item, variant).

    Computed once per distinct (item, variant) and spread to the rows.
    """
    combined = item * np.uint64(8) + variant.astype(np.uint64)  # variants are < 8
    unique, inverse = np.unique(combined, return_inverse=True)
    spread = pa.array(inverse.ravel().astype(np.int64))
    u_item, u_variant = unique // np.uint64(8), (unique % np.uint64(8)).astype(np.int64)
    key = mix(seed, u_item, u_variant, 0x4D44)
    md5 = hex_strings([mix(key, 1), mix(key, 2)], 32)
    sha1 = hex_strings([mix(key, 3), mix(key, 4), mix(key, 5)], 40)
    base = [mix(seed, u_item, 0x50D, word) for word in range(4)]
    for k in range(PDQ_VARIANT_BITS):
        position = (mix(key, 100 + k) % np.uint64(256)).astype(np.int64)
        flip = np.where(u_variant > 0, np.uint64(1) << (position % 64).astype(np.uint64), np.uint64(0))
        for word in range(4):
            base[word] = np.where(position // 64 == word, base[word] ^ flip, base[word])
    pdq = hex_strings(base, 64)
    return {"md5": md5.take(spread), "sha1": sha1.take(spread), "pdq": pdq.take(spread)}


def pdq_qualities(item: np.ndarray, variant: np.ndarray) -> pa.Array:
    """The PDQ quality score (0-100) of every (item, variant): mostly 100, about 5 % below 50.

    A pure function of the item and variant (no draws), like the hashes themselves.
    """
    u = unit_interval(mix(item, variant.astype(np.uint64), 0x9D0))
    return int_strings(100 - np.floor(60 * u**4).astype(np.int64))


def _zipf_choice(size: int, count: int, rng: np.random.Generator, shape: float = 1.6) -> np.ndarray:
    """Indices in [0, size) with Pareto-distributed popularity (a few items very popular)."""
    popularity = rng.pareto(shape, size=size) + 1.0
    return rng.choice(size, size=count, p=popularity / popularity.sum())


def media_items(
    day: np.ndarray, viral: np.ndarray, world: World, config: SimulationConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(item id, variant) per file row: viral item, known pool item, or new material."""
    n = len(day)
    years = years_since_trend_epoch(day)
    known_share = np.clip(0.64 - 0.025 * years, 0.4, 0.7)
    is_viral = viral >= 0
    is_known = ~is_viral & (rng.random(n) < known_share)
    is_new = ~is_viral & ~is_known
    item = np.zeros(n, dtype=np.uint64)
    variant = np.zeros(n, dtype=np.int64)
    pool = known_pool_size(config.scale)
    item[is_known] = np.uint64(KNOWN_BASE) + _zipf_choice(pool, int(is_known.sum()), rng).astype(np.uint64)
    variant[is_known] = np.where(rng.random(int(is_known.sum())) < 0.12, rng.integers(1, 4, int(is_known.sum())), 0)
    viral_items = np.array([e.item_id for e in world.scenario.viral_events] or [VIRAL_ITEM_BASE], dtype=np.uint64)
    item[is_viral] = viral_items[viral[is_viral]]
    variant[is_viral] = np.where(rng.random(int(is_viral.sum())) < 0.3, rng.integers(1, 7, int(is_viral.sum())), 0)
    new_rows = np.flatnonzero(is_new)
    item[new_rows] = _new_items(day[new_rows], config, rng)
    return item, variant


def _new_items(day: np.ndarray, config: SimulationConfig, rng: np.random.Generator) -> np.ndarray:
    """Never-seen items, some re-shared within a few weeks of their first appearance."""
    n = len(day)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    order = np.argsort(day, kind="stable")
    fresh = rng.random(n) < FRESH_SHARE
    fresh[0] = True
    created = np.cumsum(fresh[order])  # items created up to and including each row (time order)
    span = max(int(day.max() - day.min()) + 1, 1)
    window = max(1.0, created[-1] / span * RESHARE_WINDOW_DAYS)
    back = np.floor(rng.exponential(window, size=n)).astype(np.int64)
    index = np.where(fresh[order], created - 1, np.maximum(created - 1 - back, 0))
    result = np.empty(n, dtype=np.uint64)
    run = (epoch_day(config.start) & 0xFFFFF) << 32
    result[order] = np.uint64(NEW_BASE + run) + index.astype(np.uint64)
    return result


def annotation_masks(
    item: np.ndarray, viral: np.ndarray, channel: np.ndarray, years: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Bit mask of file annotations (order of FILE_ANNOTATIONS).

    possible_self_production and generative_ai are properties of the item whose share rises over
    time; viral and potential_meme mark the viral events' files.
    """
    n = len(item)
    is_viral = viral >= 0
    self_production = unit_interval(mix(item, 0x5E1F)) < np.minimum(0.04 * np.exp(0.25 * years), 0.4)
    generative = unit_interval(mix(item, 0x6A1)) < 0.15 / (1 + np.exp(-1.8 * (years - 4.8)))
    flags = (
        rng.random(n) < np.where(is_viral, 0.6, 0.005),
        self_production,
        rng.random(n) < np.where(channel == "live_streaming", 0.5, 0.01),
        generative,
        rng.random(n) < np.where(is_viral, 0.25, 0.01),
        rng.random(n) < 0.005,
    )
    mask = np.zeros(n, dtype=np.int64)
    for bit, flag in enumerate(flags):
        mask |= flag.astype(np.int64) << bit
    return mask


def classifications(item: np.ndarray, rng: np.random.Generator) -> pa.Array:
    """Industry classification A1/A2/B1/B2 (stable per item), empty for about 10 % of rows."""
    u = unit_interval(mix(item, 0xC1A5))
    code = np.searchsorted(np.cumsum(CLASSIFICATION_WEIGHTS), u, side="right")
    missing = (code >= len(INDUSTRY_CLASSIFICATIONS)) | (rng.random(len(item)) < 0.02)
    return null_where(pick(INDUSTRY_CLASSIFICATIONS, np.minimum(code, 3)), missing)


def optional_booleans(p_true: float, p_missing: float, n: int, rng: np.random.Generator) -> pa.Array:
    """`true`/`false` with some empty cells."""
    u = rng.random(n)
    values = pick(("false", "true"), (u < p_true).astype(np.int64))
    return null_where(values, u > 1 - p_missing)


def file_names(seconds: np.ndarray, rng: np.random.Generator) -> pa.Array:
    """Camera/screenshot-style names like `IMG_20230501_123456.jpg`; empty for some rows."""
    n = len(seconds)
    created = seconds - rng.integers(0, 2 * 365 * 86400, size=n)
    token = rng.integers(0, 2**63, size=n, dtype=np.int64).astype(np.uint64)
    number = rng.integers(0, 40, size=n)

    def compact(rows):
        text = local_datetime_strings(created[rows])
        return pc.replace_substring(pc.replace_substring(pc.replace_substring(text, "-", ""), ":", ""), "T", "_")

    def dashed(rows):
        return pc.replace_substring(pc.replace_substring(local_datetime_strings(created[rows]), ":", "-"), "T", "-")

    builders = (
        None,
        lambda rows: join("IMG_", compact(rows), ".jpg"),
        lambda rows: join("VID_", compact(rows), ".mp4"),
        lambda rows: join("Screenshot_", dashed(rows), ".png"),
        lambda rows: join(hex_strings([token[rows]], 16), ".jpg"),
        lambda rows: join("image", int_strings(number[rows]), ".jpeg"),
    )
    which = rng.choice(len(builders), size=n, p=(0.2, 0.35, 0.1, 0.1, 0.15, 0.1))
    return by_case(which, builders)


def build_files(world: World, referrals: Referrals, config: SimulationConfig) -> Files:
    """File rows for every referral, grouped by referral, in the referrals' (delivery) order."""
    rng = child_rng(config.seed, "files")
    rows = referrals.rows
    counts = files_per_referral(rows.viral, rng)
    ref = np.repeat(np.arange(len(rows), dtype=np.int64), counts)
    n = len(ref)
    day = referrals.incident_day[ref]
    viral = rows.viral[ref]
    platform = rows.platform[ref]
    channel = np.array([p.channel for p in world.platforms])[platform]
    item, variant = media_items(day, viral, world, config, rng)
    hashes = media_hashes(item, variant, config.seed)
    u = rng.random(n)
    has_pdq = rng.random(n) < np.array([p.pdq_share for p in world.platforms])[platform]
    masks = annotation_masks(item, viral, channel, years_since_trend_epoch(day), rng)
    file_id = join("F", hex_strings([rng.integers(0, 2**63, size=n, dtype=np.int64).astype(np.uint64)], 16))
    table = in_contract_order(
        {
            "report_id": referrals.table.column("report_id").combine_chunks().take(pa.array(ref)),
            "file_id": file_id,
            "md5": null_where(hashes["md5"], u < 0.03),
            "sha1": null_where(hashes["sha1"], (u >= 0.03) & (u < 0.08)),
            "pdq": null_where(hashes["pdq"], ~has_pdq),
            "pdq_quality": null_where(pdq_qualities(item, variant), ~has_pdq),
            "file_annotations": bitmask_labels(masks, FILE_ANNOTATIONS),
            "industry_classification": classifications(item, rng),
            "publicly_available": optional_booleans(0.15, 0.1, n, rng),
            "viewed_by_esp": optional_booleans(0.6, 0.1, n, rng),
            "original_file_name": file_names(referrals.incident_seconds[ref], rng),
        },
        "files",
    )
    return Files(table, ref, item, variant)


def known_hash_set(config: SimulationConfig) -> pa.Table:
    """The known pool as a hash set: md5, sha1 and a Project VIC (VICS 2.0) category code 0-4."""
    pool = known_pool_size(config.scale)
    item = np.uint64(KNOWN_BASE) + np.arange(pool, dtype=np.uint64)
    hashes = media_hashes(item, np.zeros(pool, dtype=np.int64), config.seed)
    u = unit_interval(mix(item, 0xCA7))
    category = np.array(VICS_CATEGORIES)[np.searchsorted(np.cumsum(VICS_WEIGHTS), u, side="right").clip(0, 4)]
    return pa.table({"md5": hashes["md5"], "sha1": hashes["sha1"], "category": int_strings(category)})
