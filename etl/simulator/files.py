"""The files table and the known-material lists: media items, their variants and file metadata.

Every file row points at a media item (an integer id) and a variant of it (`etl.simulator.media`):
the original bytes (an exact re-share: same MD5, SHA1 and PDQ) or a near-duplicate (a re-encoding,
resize, crop or mirror: own MD5/SHA1, a PDQ some bits away). Items come from a long-lived known
pool (listed in the hash set, Zipf-like popularity), from new material that appears over time and
is re-shared for a while, and from the viral events (one item re-reported thousands of times).
Which rows carry a variant:

    known pool item       25 % of rows   (circulates for years: many copies of copies)
    viral item            35 % of rows   (memes are re-encoded, cut and flipped as they spread)
    new item, re-shared   15 % of rows   (its first appearance is always the original)

and which of an item's variants 1..7 a variant row carries is skewed towards the first ones
(VARIANT_WEIGHTS), so popular items have several variants, each seen repeatedly. No media exists:
the hashes are synthetic 128/160/256-bit values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.simulator.config import SimulationConfig
from etl.simulator.contract import in_contract_order
from etl.simulator.media import MAX_VARIANT, Media, describe_media, distinct_media
from etl.simulator.referrals import Referrals
from etl.simulator.rng import draw_rng, mix, unit_interval
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
VARIANT_SHARE_KNOWN = 0.25  # share of a kind of row that carries a variant rather than the original bytes
VARIANT_SHARE_VIRAL = 0.35
VARIANT_SHARE_RESHARED = 0.15
VARIANT_WEIGHTS = (0.3, 0.22, 0.16, 0.12, 0.09, 0.06, 0.05)  # which variant (1..7) a variant row carries
QUALITY_REPORTED = 0.9  # share of rows with a PDQ that also carry its quality score
INDUSTRY_LIST_SHARE = 0.5  # share of the known pool in the industry known-material lists
PDQ_LIST_MIN_QUALITY = 50  # lower PDQ quality is not shared in the PDQ list
VICS_CATEGORIES = (0, 1, 2, 3, 4)
VICS_WEIGHTS = (0.08, 0.5, 0.3, 0.08, 0.04)
CLASSIFICATION_WEIGHTS = (0.3, 0.2, 0.25, 0.15)  # A1, A2, B1, B2; the rest of the mass is empty
# A fictitious content classifier at the agency (`grace hash --classifier`): a share of the files with a PDQ
# carry its code and confidence. Plumbing for the demo only: the codes are drawn, nothing is classified.
CLASSIFIER_SHARE = 0.3
CLASSIFIER_MODEL, CLASSIFIER_VERSION = "standin", "1.0.0"
CLASSIFIER_CODES = (*INDUSTRY_CLASSIFICATIONS, "N")


@dataclass(frozen=True)
class Files:
    """The files table with the referral row of every file and its media item."""

    table: pa.Table
    referral_index: np.ndarray  # int64 row of the referral (in the referrals table) of every file
    item: np.ndarray  # uint64 media item id
    variant: np.ndarray  # int64 variant (0 = the original)
    media: Media  # the distinct (item, variant) pairs of the rows, with their change and hashes
    media_index: np.ndarray  # int64 row of every file's pair in `media`


def known_pool_size(scale: float) -> int:
    """How many items the long-lived known pool (and the hash set) holds."""
    return max(300, round(KNOWN_POOL_PER_SCALE * scale))


def files_per_referral(viral: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """1 + negative binomial (mean about 2.5, heavy tail); viral referrals carry the one item."""
    extra = rng.negative_binomial(0.6, 0.6 / (0.6 + 1.5), size=len(viral))
    return np.where(viral >= 0, 1, 1 + np.minimum(extra, 499))


def _zipf_choice(size: int, count: int, rng: np.random.Generator, shape: float = 1.6) -> np.ndarray:
    """Indices in [0, size) with Pareto-distributed popularity (a few items very popular)."""
    popularity = rng.pareto(shape, size=size) + 1.0
    return rng.choice(size, size=count, p=popularity / popularity.sum())


def media_items(
    day: np.ndarray,
    viral: np.ndarray,
    world: World,
    config: SimulationConfig,
    rng: np.random.Generator,
    variants: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """(item id, variant) per file row: viral item, known pool item, or new material.

    `variants` (a stream of its own) decides which rows carry a near-duplicate and which one.
    """
    n = len(day)
    years = years_since_trend_epoch(day)
    known_share = np.clip(0.64 - 0.025 * years, 0.4, 0.7)
    is_viral = viral >= 0
    is_known = ~is_viral & (rng.random(n) < known_share)
    is_new = ~is_viral & ~is_known
    item = np.zeros(n, dtype=np.uint64)
    pool = known_pool_size(config.scale)
    item[is_known] = np.uint64(KNOWN_BASE) + _zipf_choice(pool, int(is_known.sum()), rng).astype(np.uint64)
    viral_items = np.array([e.item_id for e in world.scenario.viral_events] or [VIRAL_ITEM_BASE], dtype=np.uint64)
    item[is_viral] = viral_items[viral[is_viral]]
    new_rows = np.flatnonzero(is_new)
    fresh = np.zeros(n, dtype=bool)
    item[new_rows], fresh[new_rows] = _new_items(day[new_rows], config, rng)
    share = np.select(
        [is_viral, is_known, fresh], [VARIANT_SHARE_VIRAL, VARIANT_SHARE_KNOWN, 0.0], VARIANT_SHARE_RESHARED
    )
    variant = np.zeros(n, dtype=np.int64)
    chosen = np.flatnonzero(variants.random(n) < share)
    variant[chosen] = 1 + variants.choice(MAX_VARIANT, size=len(chosen), p=VARIANT_WEIGHTS)
    return item, variant


def _new_items(day: np.ndarray, config: SimulationConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Never-seen items, some re-shared within a few weeks of their first appearance; and
    whether each row is the item's first appearance (`fresh`)."""
    n = len(day)
    if n == 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=bool)
    order = np.argsort(day, kind="stable")
    fresh = rng.random(n) < FRESH_SHARE
    fresh[order[0]] = True  # the earliest row creates the first item
    created = np.cumsum(fresh[order])  # items created up to and including each row (time order)
    span = max(int(day.max() - day.min()) + 1, 1)
    window = max(1.0, created[-1] / span * RESHARE_WINDOW_DAYS)
    back = np.floor(rng.exponential(window, size=n)).astype(np.int64)
    index = np.where(fresh[order], created - 1, np.maximum(created - 1 - back, 0))
    result = np.empty(n, dtype=np.uint64)
    run = (epoch_day(config.start) & 0xFFFFF) << 32
    result[order] = np.uint64(NEW_BASE + run) + index.astype(np.uint64)
    return result, fresh


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


def item_classifications(item: np.ndarray) -> np.ndarray:
    """Index into INDUSTRY_CLASSIFICATIONS of every item's code (len(...) = not classified, about 10 %)."""
    u = unit_interval(mix(item, 0xC1A5))
    return np.searchsorted(np.cumsum(CLASSIFICATION_WEIGHTS), u, side="right")


def classifications(item: np.ndarray, rng: np.random.Generator) -> pa.Array:
    """Industry classification A1/A2/B1/B2 (stable per item), empty for about 10 % of rows."""
    code = item_classifications(item)
    missing = (code >= len(INDUSTRY_CLASSIFICATIONS)) | (rng.random(len(item)) < 0.02)
    return null_where(pick(INDUSTRY_CLASSIFICATIONS, np.minimum(code, 3)), missing)


def standin_classifier(has_pdq: np.ndarray, config: SimulationConfig) -> dict[str, pa.Array]:
    """The four classifier columns: for about CLASSIFIER_SHARE of the files with a PDQ, a drawn code of
    CLASSIFIER_CODES and a confidence 0.5-1 from a fictitious model; empty elsewhere. Its own random stream,
    so the other columns do not change."""
    rng = draw_rng(config, "files", "classifier")
    n = len(has_pdq)
    missing = ~(has_pdq & (rng.random(n) < CLASSIFIER_SHARE))
    code = pick(CLASSIFIER_CODES, rng.integers(0, len(CLASSIFIER_CODES), size=n))
    confidence = pc.cast(pa.array(np.round(rng.uniform(0.5, 1.0, size=n), 4)), pa.string())
    constant = {"classifier_model": CLASSIFIER_MODEL, "classifier_version": CLASSIFIER_VERSION}
    return {
        "classifier_category": null_where(code, missing),
        "classifier_confidence": null_where(confidence, missing),
        **{name: null_where(pa.array(np.full(n, value)), missing) for name, value in constant.items()},
    }


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
    rng = draw_rng(config, "files")
    rows = referrals.rows
    counts = files_per_referral(rows.viral, rng)
    ref = np.repeat(np.arange(len(rows), dtype=np.int64), counts)
    n = len(ref)
    day = referrals.incident_day[ref]
    viral = rows.viral[ref]
    platform = rows.platform[ref]
    channel = np.array([p.channel for p in world.platforms])[platform]
    variants = draw_rng(config, "files", "variants")
    item, variant = media_items(day, viral, world, config, rng, variants)
    media, media_index = distinct_media(item, variant, config.seed)
    spread = pa.array(media_index)
    u = rng.random(n)
    has_pdq = rng.random(n) < np.array([p.pdq_share for p in world.platforms])[platform]
    has_quality = has_pdq & (variants.random(n) < QUALITY_REPORTED)
    masks = annotation_masks(item, viral, channel, years_since_trend_epoch(day), rng)
    file_id = join("F", hex_strings([rng.integers(0, 2**63, size=n, dtype=np.int64).astype(np.uint64)], 16))
    table = in_contract_order(
        {
            "report_id": referrals.table.column("report_id").combine_chunks().take(pa.array(ref)),
            "file_id": file_id,
            "md5": null_where(media.md5.take(spread), u < 0.03),
            "sha1": null_where(media.sha1.take(spread), (u >= 0.03) & (u < 0.08)),
            "pdq": null_where(media.pdq.take(spread), ~has_pdq),
            "pdq_quality": null_where(int_strings(media.quality).take(spread), ~has_quality),
            **standin_classifier(has_pdq, config),
            "file_annotations": bitmask_labels(masks, FILE_ANNOTATIONS),
            "industry_classification": classifications(item, rng),
            "publicly_available": optional_booleans(0.15, 0.1, n, rng),
            "viewed_by_esp": optional_booleans(0.6, 0.1, n, rng),
            "original_file_name": file_names(referrals.incident_seconds[ref], rng),
        },
        "files",
    )
    return Files(table, ref, item, variant, media, media_index)


def known_hash_set(config: SimulationConfig) -> pa.Table:
    """The known pool as a hash set: md5, sha1 and a Project VIC (VICS 2.0) category code 0-4."""
    pool = known_pool_size(config.scale)
    item = np.uint64(KNOWN_BASE) + np.arange(pool, dtype=np.uint64)
    media = describe_media(item, np.zeros(pool, dtype=np.int64), config.seed)
    u = unit_interval(mix(item, 0xCA7))
    category = np.array(VICS_CATEGORIES)[np.searchsorted(np.cumsum(VICS_WEIGHTS), u, side="right").clip(0, 4)]
    return pa.table({"md5": media.md5, "sha1": media.sha1, "category": int_strings(category)})


def industry_lists(config: SimulationConfig, world: World) -> tuple[pa.Table, pa.Table]:
    """Known-material lists in the industry scheme: (md5,sha1,category) and (pdq,category).

    They hold the originals (variant 0) of a share of the known pool (INDUSTRY_LIST_SHARE, a pure
    function of the item) and of every viral item, each with its industry classification A1/A2/B1/B2
    (items without one are not listed). Variants are not listed: matching them to a listed original
    is the near-duplicate matcher's job. The PDQ list leaves out hashes of quality below
    PDQ_LIST_MIN_QUALITY, as hash-sharing programmes do.
    """
    pool = np.uint64(KNOWN_BASE) + np.arange(known_pool_size(config.scale), dtype=np.uint64)
    listed = pool[unit_interval(mix(config.seed, pool, 0x11D)) < INDUSTRY_LIST_SHARE]
    viral = np.array([e.item_id for e in world.scenario.viral_events], dtype=np.uint64)
    item = np.concatenate([listed, viral])
    code = item_classifications(item)
    item, code = item[code < len(INDUSTRY_CLASSIFICATIONS)], code[code < len(INDUSTRY_CLASSIFICATIONS)]
    media = describe_media(item, np.zeros(len(item), dtype=np.int64), config.seed)
    category = pick(INDUSTRY_CLASSIFICATIONS, code)
    good = pa.array(media.quality >= PDQ_LIST_MIN_QUALITY)
    hashes = pa.table({"md5": media.md5, "sha1": media.sha1, "category": category})
    pdq = pa.table({"pdq": media.pdq.filter(good), "category": category.filter(good)})
    return hashes, pdq
