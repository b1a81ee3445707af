"""Media items, their near-duplicate variants and their hashes (MD5, SHA1, PDQ, PDQ quality).

No media exists: an item is an integer id and every hash is a synthetic value computed from it.
An item exists as its original bytes (variant 0) and as up to seven variants (1..7): other bytes
(so another MD5 and SHA1) whose PDQ hash lies some bits away from the original's. How far follows
the kind of change, modelled on what PDQ does to real pictures (pdqhash on a generated picture:
half size 14 bits, 5 % crop 36, mirror 136; near-duplicate when the distance is <= 31):

    kind       share of variants  PDQ bits flipped  why
    re_encode  55 %               0-10, mostly <= 4 recompression, format change, metadata strip: what
                                                    platforms do to nearly every upload
    resize     25 %               10-20, peak 15    downscaling, thumbnails, screenshots at another size
    crop       12 %               30-45, uniform    cut borders or a part; some still match at 31, most not
    mirror      8 %               106-150, peak 128 a deliberate flip to dodge matching; only dihedral
                                                    hashes catch it (modelled as a far distance only)

The shares are assumptions for a credible mix (re-encodings dominate, deliberate evasion is rare),
not measurements. The flipped bits are distinct positions, uniform over the 256 bits; each variant
is flipped from the original independently, so two variants of one item lie at most the sum of
their distances apart (a re-encoding and a resize of one picture usually still match each other).

Everything here is a pure function of (seed, item, variant), computed with `mix` rather than drawn
from a stream: a variant has the same hashes in every row, in the known-material lists and in
every run of the same seed whatever its date range, and ground truth can be recomputed from ids.

PDQ quality (0-100) is a property of the bytes: most items score high (65-100), a few (about 6 %,
tiny or flat pictures) low (0-49, below the usual cut-off of 50); a resized variant loses up to 15
points, a crop up to 5, a re-encoding up to 3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from etl.simulator.rng import mix, splitmix64, unit_interval
from etl.simulator.strings import hex_strings

VARIANT_KINDS = ("re_encode", "resize", "crop", "mirror")
KIND_SHARES = (0.55, 0.25, 0.12, 0.08)
KIND_BITS = ((0, 10), (10, 20), (30, 45), (106, 150))  # inclusive range of flipped PDQ bits per kind
QUALITY_DROP = (3, 15, 5, 0)  # most points a variant of each kind loses against its original
LOW_QUALITY_SHARE = 0.06
MAX_VARIANT = 7  # variants are 1..7; (item, variant) pairs are packed as item * 8 + variant
PDQ_BITS = 256

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_KIND, _BITS_A, _BITS_B, _FLIPS = 0x4B1D, 0xB175, 0xB176, 0xF11F
_QUALITY, _LOW, _DROP = 0x9A1, 0x9A2, 0x9A3


@dataclass(frozen=True)
class Media:
    """Distinct (item, variant) pairs with their change and hashes (one row per pair)."""

    item: np.ndarray  # uint64 media item id
    variant: np.ndarray  # int64, 0 = the original
    kind: np.ndarray  # int64 index into VARIANT_KINDS, -1 for originals
    bits: np.ndarray  # int64 PDQ bits flipped against the original (0 for originals)
    md5: pa.Array
    sha1: pa.Array
    pdq: pa.Array
    quality: np.ndarray  # int64 PDQ quality 0-100

    def __len__(self) -> int:
        return len(self.item)


def variant_key(item: np.ndarray, variant: np.ndarray, seed: int) -> np.ndarray:
    """The hash key of every (item, variant): its MD5 and SHA1 words and every draw about it derive from it."""
    return mix(seed, item, variant, 0x4D44)


def variant_kinds(key: np.ndarray, variant: np.ndarray) -> np.ndarray:
    """Kind of change of every (item, variant) as an index into VARIANT_KINDS (-1 for originals)."""
    u = unit_interval(mix(key, _KIND))
    kind = np.searchsorted(np.cumsum(KIND_SHARES), u, side="right").clip(0, len(VARIANT_KINDS) - 1)
    return np.where(np.asarray(variant) > 0, kind, -1).astype(np.int64)


def variant_bits(kind: np.ndarray, key: np.ndarray) -> np.ndarray:
    """PDQ bits a variant differs from its original by, within its kind's range (0 for originals).

    Re-encodings are skewed low (most change a few bits, some none); resizes and mirrors peak in
    the middle of their range (a sum of two uniforms); crops are uniform.
    """
    u1 = unit_interval(mix(key, _BITS_A))
    u2 = unit_interval(mix(key, _BITS_B))
    low = np.array([r[0] for r in KIND_BITS])[kind.clip(0)]
    width = np.array([r[1] - r[0] + 1 for r in KIND_BITS])[kind.clip(0)]
    shape = np.select([kind == 0, kind == 2], [u1**1.5, u1], (u1 + u2) / 2)
    return np.where(kind >= 0, low + np.floor(width * shape).astype(np.int64), 0)


def flip_bits(words: list[np.ndarray], bits: np.ndarray, key: np.ndarray) -> list[np.ndarray]:
    """The 256-bit hashes (four big-endian uint64 words) with exactly `bits[i]` distinct bits of
    row i flipped, at uniform positions that are a pure function of `key[i]`.

    Positions are drawn eight at a time from one SplitMix64 word per row and step; a position
    already flipped is drawn again, so only the rows still short of their count are worked on.
    """
    n = len(bits)
    flipped = np.zeros(4 * n, dtype=np.uint64)  # row-major (n, 4): the mask XORed onto the words
    remaining = np.asarray(bits, dtype=np.int64).copy()
    active = np.flatnonzero(remaining > 0)
    base, state = active * 4, np.asarray(key, dtype=np.uint64)[active]
    word = np.zeros(len(active), dtype=np.uint64)
    step = 0
    while active.size:
        if step % 8 == 0:
            with np.errstate(over="ignore"):
                word = splitmix64(state + np.uint64(step // 8 + 1) * _GAMMA)
        else:
            word >>= np.uint64(8)
        position = (word & np.uint64(PDQ_BITS - 1)).astype(np.intp)
        index = base + (position >> 6)
        bit = np.left_shift(np.uint64(1), (position & 63).astype(np.uint64))
        current = flipped[index]
        fresh = (current & bit) == 0
        flipped[index[fresh]] = current[fresh] | bit[fresh]
        remaining[active[fresh]] -= 1
        keep = remaining[active] > 0
        if not keep.all():
            active, base, state, word = active[keep], base[keep], state[keep], word[keep]
        step += 1
    mask = flipped.reshape(n, 4)
    return [w ^ mask[:, i] for i, w in enumerate(words)]


def pdq_quality(item: np.ndarray, kind: np.ndarray, key: np.ndarray, seed: int) -> np.ndarray:
    """PDQ quality 0-100 of every (item, variant): the original's, less what the change cost."""
    u = unit_interval(mix(seed, item, _QUALITY))
    low = unit_interval(mix(seed, item, _LOW)) < LOW_QUALITY_SHARE
    quality = np.where(low, np.floor(50 * u), 100 - np.floor(36 * u**2)).astype(np.int64)
    changed = np.flatnonzero(kind >= 0)
    most = np.array(QUALITY_DROP)[kind[changed]]
    quality[changed] -= np.floor((most + 1) * unit_interval(mix(key[changed], _DROP))).astype(np.int64)
    return np.clip(quality, 0, 100)


def describe_media(item: np.ndarray, variant: np.ndarray, seed: int) -> Media:
    """Kind, distance and hashes of the given (item, variant) pairs, row for row.

    What only variants have (kind, distance, flipped bits, quality lost) is computed for their rows only.
    """
    item = np.asarray(item, dtype=np.uint64)
    variant = np.asarray(variant, dtype=np.int64)
    key = variant_key(item, variant, seed)
    kind = np.full(len(item), -1, dtype=np.int64)
    bits = np.zeros(len(item), dtype=np.int64)
    pdq_words = [mix(seed, item, 0x50D, word) for word in range(4)]
    changed = np.flatnonzero(variant > 0)
    if changed.size:
        kind[changed] = variant_kinds(key[changed], variant[changed])
        bits[changed] = variant_bits(kind[changed], key[changed])
        moved = flip_bits([w[changed] for w in pdq_words], bits[changed], mix(key[changed], _FLIPS))
        for word, value in zip(pdq_words, moved):
            word[changed] = value
    return Media(
        item=item,
        variant=variant,
        kind=kind,
        bits=bits,
        md5=hex_strings([mix(key, 1), mix(key, 2)], 32),
        sha1=hex_strings([mix(key, 3), mix(key, 4), mix(key, 5)], 40),
        pdq=hex_strings(pdq_words, 64),
        quality=pdq_quality(item, kind, key, seed),
    )


def distinct_media(item: np.ndarray, variant: np.ndarray, seed: int) -> tuple[Media, np.ndarray]:
    """The distinct (item, variant) pairs of the rows, sorted by item then variant, and the index
    of every row's pair (so each hash is computed once and spread to the rows)."""
    if np.any((variant < 0) | (variant > MAX_VARIANT)):
        raise ValueError(f"variants must be 0..{MAX_VARIANT}")
    combined = np.asarray(item, dtype=np.uint64) * np.uint64(MAX_VARIANT + 1) + variant.astype(np.uint64)
    unique, inverse = np.unique(combined, return_inverse=True)
    media = describe_media(
        unique // np.uint64(MAX_VARIANT + 1), (unique % np.uint64(MAX_VARIANT + 1)).astype(np.int64), seed
    )
    return media, inverse.ravel().astype(np.int64)


def media_hashes(item: np.ndarray, variant: np.ndarray, seed: int) -> dict[str, pa.Array]:
    """md5 (32 hex), sha1 (40 hex) and pdq (64 hex) of every row's (item, variant)."""
    media, inverse = distinct_media(item, variant, seed)
    spread = pa.array(inverse)
    return {"md5": media.md5.take(spread), "sha1": media.sha1.take(spread), "pdq": media.pdq.take(spread)}
