"""Score perceptual clusters against known truth: which exact media clusters are near-duplicates of which.

Pure functions on frames (plus one query, `warehouse_clusters`). The truth is the simulator's
`ground_truth.json` section `near_duplicates` (`truth_frame`): per media item, keyed by its original's MD5,
the original's SHA1 and every variant in the files as [md5, sha1, kind, bits]. An exact media cluster
belongs to the item whose original or variant has its MD5 (or, failing that, its SHA1); every other
cluster is an exact copy of an item without variants and is its own item (identified by its MD5, or by
the MD5 its SHA1 was delivered with when the delivered `files` are given, else by its SHA1). One more
rule for those: when no file carried both hashes of some bytes, the ETL holds them as two exact clusters
(one by MD5, one by SHA1) with the very same PDQ; outside the truth's items, clusters lacking one hash
whose PDQs are identical are taken as one item (`joined_by_pdq` marks them; distinct items of the
simulator never share a PDQ, their hashes are independent 256-bit values).

- **Recall** (`true_pairs`, `recall_table`): every pair of exact clusters of one item with variants is a
  true pair; it is *linked* when both clusters are in the same perceptual cluster. A pair's kind is the
  variant's kind for an original and a variant, `variant–variant` for two different variants, and
  `same bytes` for two exact clusters of the same bytes (an exact cluster split because a file lacked
  its MD5 or SHA1). A pair is *matchable* when both PDQs were indexed; the others are unreachable by
  design: a PDQ missing (or delivered only after the cluster was created, which the ETL does not keep),
  or its quality below the cutoff. Recall is reported over all pairs and over
  matchable ones, and for matchable pairs within the radius (their PDQ distance ≤ T).
- **Precision** (`precision`): of all pairs of exact clusters that share a perceptual cluster, the share
  whose two clusters belong to the same item, counted from group sizes (Σ C(n, 2)) so a wrong giant
  cluster costs nothing to score. Broken down by the farthest kind of change in the pair (the pair's
  members ranked original < re_encode < resize < crop < mirror) when the linked pairs are few enough to
  list.

Everything is vectorised (pandas merges and group sizes, NumPy popcounts); nothing loops over pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from matching.pdq import DEFAULT_RADIUS, hamming, parse_hex
from warehouse import read_sql

VARIANT_KINDS = ("re_encode", "resize", "crop", "mirror")
ORIGINAL = "original"
VARIANT_PAIR, SAME_BYTES = "variant–variant", "same bytes"
PAIR_KINDS = (*VARIANT_KINDS, VARIANT_PAIR, SAME_BYTES)
KIND_RANK = {ORIGINAL: 0, **{kind: rank for rank, kind in enumerate(VARIANT_KINDS, start=1)}}
# Why a cluster's PDQ was not searchable, worst first when a pair combines two clusters.
REACH = ("matchable", "not_indexed", "low_quality", "pdq_not_kept", "no_pdq")
MAX_LISTED_PAIRS = 5_000_000  # above this many linked pairs the per-kind precision is not broken down


def truth_frame(near_duplicates: dict) -> pd.DataFrame:
    """One row per original and variant of the ground truth's items: item (its original's MD5), md5,
    sha1, kind (`original` or a variant kind), bits (PDQ distance to the original; 0 for originals)."""
    items = near_duplicates.get("items") or {}
    if not items:
        return pd.DataFrame(
            {"item": pd.Series(dtype=object), "md5": pd.Series(dtype=object), "sha1": pd.Series(dtype=object)}
        ).assign(kind=pd.Series(dtype=object), bits=pd.Series(dtype="int64"))
    table = pd.DataFrame.from_dict(items, orient="index")
    originals = pd.DataFrame({"item": table.index, "md5": table.index, "sha1": table["sha1"].to_numpy()})
    originals = originals.assign(kind=ORIGINAL, bits=0)
    listed = table["variants"].explode().dropna()
    fields = pd.DataFrame(listed.tolist(), columns=["md5", "sha1", "kind", "bits"])
    variants = fields.assign(item=listed.index.to_numpy())
    frame = pd.concat([originals, variants[originals.columns]], ignore_index=True)
    for column in ("item", "md5", "sha1"):
        frame[column] = frame[column].str.lower()
    return frame.astype({"bits": "int64"})


def warehouse_clusters(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every media cluster: cluster_key, md5, sha1, pdq, pdq_quality, indexed, perceptual_key."""
    return con.execute(read_sql("matching/evaluation_clusters.sql")).df()


def assign_items(
    clusters: pd.DataFrame,
    truth: pd.DataFrame,
    min_quality: int = 50,
    files: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The clusters with their item, kind, bits, bytes (the truth MD5 of their bytes), in_truth, reach.

    `clusters`: cluster_key, md5, sha1, pdq, pdq_quality, indexed, perceptual_key (a cluster without a
    perceptual cluster is its own). `files` (md5, sha1, has_pdq; optional): the delivered files' hashes,
    so that a cluster known only by its SHA1 is the same item as the cluster with its MD5, and a cluster
    without a PDQ is told apart from one whose PDQ a file did deliver. `reach`: `no_pdq`, `pdq_not_kept`
    (no PDQ on the cluster although a delivered file of it had one), `low_quality` (below `min_quality`),
    `not_indexed` (a PDQ of usable quality the ETL did not index) or `matchable`.
    """
    frame = clusters.reset_index(drop=True).copy()
    frame["perceptual_key"] = frame["perceptual_key"].fillna(frame["cluster_key"])
    columns = ["item", "md5", "kind", "bits"]
    by_md5 = truth[columns].drop_duplicates("md5").set_index("md5")
    by_sha1 = truth[[*columns, "sha1"]].drop_duplicates("sha1").set_index("sha1")
    hit_md5 = by_md5.reindex(frame["md5"]).reset_index()  # md5 (the bytes), item, kind, bits
    hit_sha1 = by_sha1.reindex(frame["sha1"]).reset_index(drop=True)  # item, md5 of the bytes, kind, bits
    found = hit_md5[columns].where(hit_md5["item"].notna(), hit_sha1[columns]).rename(columns={"md5": "bytes"})
    frame["in_truth"] = found["item"].notna().to_numpy()
    own = frame["md5"]
    delivered = np.zeros(len(frame), dtype=bool)
    if files is not None and len(files):
        both = files.dropna(subset=["md5", "sha1"]).drop_duplicates("sha1").set_index("sha1")["md5"]
        own = own.fillna(pd.Series(both.reindex(frame["sha1"]).to_numpy(), index=frame.index))
        hashed = files[files["has_pdq"].fillna(False).astype(bool)]
        delivered = (frame["md5"].isin(hashed["md5"].dropna()) | frame["sha1"].isin(hashed["sha1"].dropna())).to_numpy()
    own = own.fillna(frame["sha1"]).fillna(frame["cluster_key"])
    # An exact cluster split because no file carried both its MD5 and its SHA1 (one cluster per hash):
    # outside the truth's items, clusters lacking a hash that have the very same PDQ are one item.
    partial = (found["item"].isna() & (frame["md5"].isna() | frame["sha1"].isna()) & frame["pdq"].notna()).to_numpy()
    if partial.any():
        joined = own[partial].groupby(frame["pdq"][partial].to_numpy()).transform("min")
        frame["joined_by_pdq"] = False
        frame.loc[partial, "joined_by_pdq"] = (joined != own[partial]).to_numpy()
        own = own.copy()
        own[partial] = joined.to_numpy()
    else:
        frame["joined_by_pdq"] = False
    frame["item"] = found["item"].fillna("own:" + own).to_numpy()
    frame["kind"] = found["kind"].fillna(ORIGINAL).to_numpy()
    frame["bits"] = found["bits"].fillna(0).astype("int64").to_numpy()
    frame["bytes"] = found["bytes"].fillna(own).to_numpy()
    frame["reach"] = cluster_reach(frame, min_quality, delivered)
    return frame


def cluster_reach(frame: pd.DataFrame, min_quality: int, delivered: np.ndarray | None = None) -> np.ndarray:
    """Per cluster, why its PDQ was or was not searchable (a value of REACH); `delivered`: a file of the
    cluster carried a PDQ."""
    no_pdq = frame["pdq"].isna().to_numpy()
    quality = pd.to_numeric(frame["pdq_quality"], errors="coerce").to_numpy(dtype=float)
    low = ~no_pdq & (quality < min_quality)  # NaN (no score) compares False: unscored PDQs are used
    indexed = frame["indexed"].fillna(False).to_numpy(dtype=bool)
    later = no_pdq & (delivered if delivered is not None else False)
    return np.select(
        [later, no_pdq, low, ~indexed], ["pdq_not_kept", "no_pdq", "low_quality", "not_indexed"], "matchable"
    )


def _pdq_words(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The PDQs of the frame's rows as (n, 4) words and a mask of the rows that have one."""
    has = frame["pdq"].notna().to_numpy()
    words = np.zeros((len(frame), 4), dtype=np.uint64)
    if has.any():
        words[has] = parse_hex(frame["pdq"].to_numpy()[has].tolist())
    return words, has


def true_pairs(assigned: pd.DataFrame) -> pd.DataFrame:
    """Every pair of exact clusters of one item with variants, with its kind, the PDQ distance (−1 when a
    PDQ is missing), whether perceptual matching linked it and its reach (the worse of its two clusters)."""
    members = assigned.loc[assigned["in_truth"], ["item", "kind", "bits", "bytes", "perceptual_key", "reach"]]
    members = members.assign(row=members.index.to_numpy())
    pairs = members.merge(members, on="item", suffixes=("_a", "_b"))
    pairs = pairs[pairs["row_a"] < pairs["row_b"]].reset_index(drop=True)
    kind_a, kind_b = pairs["kind_a"].to_numpy(), pairs["kind_b"].to_numpy()
    kind = np.where(kind_a == ORIGINAL, kind_b, np.where(kind_b == ORIGINAL, kind_a, VARIANT_PAIR))
    kind = np.where(pairs["bytes_a"].to_numpy() == pairs["bytes_b"].to_numpy(), SAME_BYTES, kind)
    rank = {name: k for k, name in enumerate(REACH)}
    reach = np.maximum(pairs["reach_a"].map(rank).to_numpy(), pairs["reach_b"].map(rank).to_numpy())
    words, has = _pdq_words(assigned)
    a, b = pairs["row_a"].to_numpy(), pairs["row_b"].to_numpy()
    both = has[a] & has[b]
    distance = np.full(len(pairs), -1, dtype=np.int64)
    if both.any():
        distance[both] = hamming(words[a[both]], words[b[both]])
    return pd.DataFrame(
        {
            "item": pairs["item"].to_numpy(),
            "row_a": a,
            "row_b": b,
            "kind": kind,
            "bits": np.where(kind_a == ORIGINAL, pairs["bits_b"], np.where(kind_b == ORIGINAL, pairs["bits_a"], -1)),
            "distance": distance,
            "linked": pairs["perceptual_key_a"].to_numpy() == pairs["perceptual_key_b"].to_numpy(),
            "reach": np.asarray(REACH)[reach] if len(pairs) else np.empty(0, dtype=object),
        }
    )


def recall_table(pairs: pd.DataFrame, radius: int = DEFAULT_RADIUS) -> pd.DataFrame:
    """Per pair kind (PAIR_KINDS order, kinds without pairs left out): pairs, linked, recall; the pairs
    unreachable because a PDQ is missing (never delivered, or delivered but not kept), below the quality cutoff or otherwise not indexed; matchable
    pairs and recall over them; matchable pairs within the radius and recall over those."""
    matchable = pairs["reach"].eq("matchable")
    within = matchable & pairs["distance"].between(0, radius)
    flags = pd.DataFrame(
        {
            "kind": pairs["kind"],
            "pairs": 1,
            "linked": pairs["linked"],
            "no_pdq": pairs["reach"].eq("no_pdq"),
            "pdq_not_kept": pairs["reach"].eq("pdq_not_kept"),
            "low_quality": pairs["reach"].eq("low_quality"),
            "not_indexed": pairs["reach"].eq("not_indexed"),
            "matchable": matchable,
            "linked_matchable": matchable & pairs["linked"],
            "within_radius": within,
            "linked_within_radius": within & pairs["linked"],
        }
    )
    table = flags.groupby("kind").sum().astype("int64")
    present = [kind for kind in PAIR_KINDS if kind in table.index]
    table = table.reindex(present + sorted(set(table.index) - set(PAIR_KINDS)))
    total = table.sum().rename("all pairs")
    table = pd.concat([table, total.to_frame().T])
    table.index.name = "kind"
    table["recall"] = _share(table["linked"], table["pairs"])
    table["recall_matchable"] = _share(table["linked_matchable"], table["matchable"])
    table["recall_within_radius"] = _share(table["linked_within_radius"], table["within_radius"])
    return table


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    return (part / whole.where(whole > 0)).astype(float)


@dataclass(frozen=True)
class Precision:
    """Pairs of exact clusters sharing a perceptual cluster, and how many of them share an item."""

    linked_pairs: int
    true_pairs: int
    perceptual_clusters: int
    impure_clusters: int  # perceptual clusters holding more than one item
    most_items: int  # the most items one perceptual cluster holds
    largest: int  # the most exact clusters one perceptual cluster holds
    by_kind: pd.DataFrame | None  # per farthest kind in the pair: linked, true, precision (None: too many)

    @property
    def precision(self) -> float:
        return self.true_pairs / self.linked_pairs if self.linked_pairs else float("nan")

    @property
    def false_pairs(self) -> int:
        return self.linked_pairs - self.true_pairs


def precision(assigned: pd.DataFrame, max_listed: int = MAX_LISTED_PAIRS) -> Precision:
    """Pairwise precision of the perceptual clusters (see the module docstring)."""
    sizes = assigned.groupby("perceptual_key").size()
    per_item = assigned.groupby(["perceptual_key", "item"]).size()
    linked = int((sizes * (sizes - 1) // 2).sum())
    true = int((per_item * (per_item - 1) // 2).sum())
    items = per_item.groupby(level="perceptual_key").size()
    by_kind = _precision_by_kind(assigned, sizes) if linked <= max_listed else None
    return Precision(
        linked_pairs=linked,
        true_pairs=true,
        perceptual_clusters=len(sizes),
        impure_clusters=int((items > 1).sum()),
        most_items=int(items.max()) if len(items) else 0,
        largest=int(sizes.max()) if len(sizes) else 0,
        by_kind=by_kind,
    )


def _precision_by_kind(assigned: pd.DataFrame, sizes: pd.Series) -> pd.DataFrame:
    """Linked pairs listed (clusters of two or more), labelled by the farthest kind of change in the pair."""
    shared = assigned["perceptual_key"].map(sizes).to_numpy() > 1
    members = assigned.loc[shared, ["perceptual_key", "item", "kind"]]
    members = members.assign(row=members.index.to_numpy(), rank=members["kind"].map(KIND_RANK).fillna(0).astype(int))
    pairs = members.merge(members, on="perceptual_key", suffixes=("_a", "_b"))
    pairs = pairs[pairs["row_a"] < pairs["row_b"]]
    names = np.array([ORIGINAL, *VARIANT_KINDS], dtype=object)
    label = names[np.maximum(pairs["rank_a"].to_numpy(), pairs["rank_b"].to_numpy())]
    flags = pd.DataFrame({"kind": label, "linked": 1, "true": pairs["item_a"].to_numpy() == pairs["item_b"].to_numpy()})
    table = flags.groupby("kind").sum().astype("int64").reindex([k for k in names if k in set(label)])
    table["precision"] = _share(table["true"], table["linked"])
    return table


@dataclass(frozen=True)
class Evaluation:
    """Everything scored for one warehouse against one ground truth."""

    clusters: pd.DataFrame  # `assign_items` output
    pairs: pd.DataFrame  # `true_pairs` output
    recall: pd.DataFrame  # `recall_table` output
    precision: Precision
    unmatched_truth: int  # truth rows (originals and variants) with no cluster in the warehouse


def evaluate(
    clusters: pd.DataFrame,
    truth: pd.DataFrame,
    radius: int = DEFAULT_RADIUS,
    min_quality: int = 50,
    files: pd.DataFrame | None = None,
) -> Evaluation:
    """Recall per kind of pair and precision of the clusters' perceptual clusters against `truth`."""
    assigned = assign_items(clusters, truth, min_quality, files)
    pairs = true_pairs(assigned)
    present = truth["md5"].isin(assigned["bytes"]) | truth["sha1"].isin(assigned["sha1"].dropna())
    return Evaluation(
        clusters=assigned,
        pairs=pairs,
        recall=recall_table(pairs, radius),
        precision=precision(assigned),
        unmatched_truth=int((~present).sum()),
    )
