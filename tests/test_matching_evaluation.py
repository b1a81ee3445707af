"""Scoring perceptual clusters against known truth (`matching/evaluation.py`): the functions on hand-made
frames, where every pair can be counted by hand, and the real ETL's clusters on a tiny simulation."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest
from builders import simulated_warehouse

from matching.evaluation import (
    SAME_BYTES,
    VARIANT_PAIR,
    assign_items,
    evaluate,
    precision,
    truth_frame,
    warehouse_clusters,
)
from warehouse import connect

ROOT = Path(__file__).resolve().parents[1]


def pdq(bits: int, base: str = "0") -> str:
    """A PDQ `bits` (a multiple of 4) bits away from the hash of 64 `base` digits."""
    flipped = "f" if base == "0" else "0"
    return flipped * (bits // 4) + base * (64 - bits // 4)


def md5(name: str) -> str:
    return f"{name}_".ljust(32, "m")


def sha1(name: str) -> str:
    return f"{name}_".ljust(40, "s")


def near_duplicates(items: dict[str, list[tuple[str, str, int]]]) -> dict:
    """A ground-truth section: item name -> [(variant name, kind, bits)]."""
    return {
        "items": {
            md5(item): {
                "sha1": sha1(item),
                "pdq": pdq(0),
                "variants": [[md5(v), sha1(v), k, b] for v, k, b in variants],
            }
            for item, variants in items.items()
        }
    }


def cluster(name: str, perceptual: str, hash_: str | None, quality: int | None = 90, **overrides) -> dict:
    """A warehouse cluster row: indexed when it has a PDQ of quality ≥ 50 (or unscored)."""
    row = {
        "cluster_key": name,
        "md5": md5(name),
        "sha1": sha1(name),
        "pdq": hash_,
        "pdq_quality": quality,
        "indexed": hash_ is not None and (quality is None or quality >= 50),
        "perceptual_key": perceptual,
    }
    row.update(overrides)
    return row


def frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows)).astype({"pdq_quality": "Int16"})


TRUTH = truth_frame(
    near_duplicates(
        {
            "a": [("a1", "re_encode", 4), ("a2", "resize", 16), ("a3", "crop", 40), ("a4", "mirror", 128)],
            "b": [("b1", "re_encode", 8)],
        }
    )
)


def test_the_truth_lists_every_original_and_variant_with_its_item_kind_and_distance():
    assert len(TRUTH) == 7
    a2 = TRUTH.set_index("md5").loc[md5("a2")]
    assert (a2["item"], a2["sha1"], a2["kind"], a2["bits"]) == (md5("a"), sha1("a2"), "resize", 16)
    assert set(TRUTH.loc[TRUTH["kind"] == "original", "md5"]) == {md5("a"), md5("b")}
    assert truth_frame({"items": {}}).empty


def test_a_clustering_that_links_what_is_within_the_radius_has_full_recall_there_and_full_precision():
    clusters = frame(
        cluster("a", "A", pdq(0)),
        cluster("a1", "A", pdq(4)),
        cluster("a2", "A", pdq(16)),
        cluster("a3", "A", pdq(40)),  # 40 bits from the original, 24 from the resize: linked through it
        cluster("a4", "A4", pdq(128)),
        cluster("b", "B", pdq(0, base="f")),
        cluster("b1", "B", pdq(8, base="f")),
        cluster("other", "O", pdq(64, base="f")),
    )
    result = evaluate(clusters, TRUTH)
    recall = result.recall
    assert recall.loc["re_encode", ["pairs", "linked"]].tolist() == [2, 2]
    assert recall.loc["resize", "recall"] == 1.0
    assert recall.loc["crop", ["pairs", "linked", "within_radius", "linked_within_radius"]].tolist() == [1, 1, 0, 0]
    assert recall.loc["mirror", "recall_matchable"] == 0.0
    # a1-a2 (12 bits apart) and a2-a3 (24) within T and linked, a1-a3 (36) linked through a2; none with a4
    assert recall.loc[VARIANT_PAIR, ["pairs", "linked", "within_radius", "linked_within_radius"]].tolist() == [
        6,
        3,
        2,
        2,
    ]
    assert recall.loc["all pairs", "pairs"] == 2 + 1 + 1 + 1 + 6
    assert result.precision.precision == 1.0
    assert result.precision.linked_pairs == 6 + 1  # a, a1, a2, a3 (6 pairs) and b, b1
    assert result.unmatched_truth == 0


def test_a_wrong_merge_lowers_precision():
    clusters = frame(
        cluster("a", "A", pdq(0)),
        cluster("a1", "A", pdq(4)),
        cluster("b", "A", pdq(0, base="f")),  # another item, merged by mistake
        cluster("other", "A", pdq(64, base="f")),  # an item without variants, merged too
    )
    found = precision(assign_items(clusters, TRUTH))
    assert (found.linked_pairs, found.true_pairs, found.false_pairs) == (6, 1, 5)
    assert found.precision == pytest.approx(1 / 6)
    assert (found.impure_clusters, found.most_items, found.largest) == (1, 3, 4)
    # listed by the farthest change in the pair: a-a1 and the re-encode's two false pairs, the rest originals
    assert found.by_kind.loc["re_encode", ["linked", "true"]].tolist() == [3, 1]
    assert found.by_kind.loc["original", ["linked", "true"]].tolist() == [3, 0]
    assert found.by_kind["linked"].sum() == found.linked_pairs


def test_the_counts_from_group_sizes_need_no_listing_of_pairs():
    clusters = frame(*(cluster(f"x{k}", "X", pdq(0, base="f")) for k in range(5)))
    found = precision(assign_items(clusters, TRUTH), max_listed=3)
    assert (found.linked_pairs, found.true_pairs, found.by_kind) == (10, 0, None)


def test_pairs_without_a_usable_pdq_are_counted_as_unreachable_and_left_out_of_matchable_recall():
    clusters = frame(
        cluster("a", "A", pdq(0)),
        cluster("a1", "A", pdq(4)),
        cluster("a2", "A2", None, quality=None),  # no PDQ delivered
        cluster("a3", "A3", pdq(28), quality=20),  # within T, but below the quality cutoff
        cluster("a4", "A4", None, quality=None),  # a file delivered its PDQ, the cluster did not keep it
    )
    files = pd.DataFrame({"md5": [md5("a4")], "sha1": [None], "has_pdq": [True]})
    result = evaluate(clusters, TRUTH, files=files)
    reach = result.clusters.set_index("cluster_key")["reach"]
    assert reach.to_dict() == {
        "a": "matchable",
        "a1": "matchable",
        "a2": "no_pdq",
        "a3": "low_quality",
        "a4": "pdq_not_kept",
    }
    recall = result.recall
    assert recall.loc["resize", ["pairs", "no_pdq", "matchable"]].tolist() == [1, 1, 0]
    assert recall.loc["crop", ["pairs", "low_quality", "matchable"]].tolist() == [1, 1, 0]
    assert recall.loc["mirror", ["pairs", "pdq_not_kept"]].tolist() == [1, 1]
    total = recall.loc["all pairs"]
    assert total["pairs"] == 10 and total["linked"] == 1
    assert total["recall"] == pytest.approx(0.1)
    assert total["matchable"] == 1 and total["recall_matchable"] == 1.0


def test_a_cluster_known_by_its_sha1_only_is_placed_in_its_item_and_a_split_is_a_same_bytes_pair():
    clusters = frame(
        cluster("a", "A", pdq(0)),
        cluster("a1", "A", pdq(4), md5=None),  # the variant's files lacked their MD5
        cluster("a1x", "A", pdq(4), md5=md5("a1"), sha1=None),  # the same bytes, files without SHA1
    )
    result = evaluate(clusters, TRUTH)
    assigned = result.clusters.set_index("cluster_key")
    assert assigned.loc["a1", ["item", "kind"]].tolist() == [md5("a"), "re_encode"]
    assert result.recall.loc[SAME_BYTES, ["pairs", "linked"]].tolist() == [1, 1]
    assert result.recall.loc["re_encode", "pairs"] == 2
    assert result.precision.precision == 1.0


def test_clusters_of_an_item_without_variants_are_one_item_by_their_files_or_an_identical_pdq():
    clusters = frame(
        cluster("m", "M", pdq(8, base="f"), sha1=None),
        cluster("s", "M", pdq(8, base="f"), md5=None),  # same bytes: a file delivered both hashes
        cluster("p", "P", pdq(12, base="f"), sha1=None),
        cluster("q", "P", pdq(12, base="f"), md5=None),  # same bytes, never delivered together: same PDQ
        cluster("r", "P", pdq(16, base="f"), md5=None),  # another PDQ: another item, a false pair
    )
    files = pd.DataFrame({"md5": [md5("m")], "sha1": [sha1("s")], "has_pdq": [True]})
    assigned = assign_items(clusters, TRUTH, files=files)
    items = assigned.set_index("cluster_key")["item"]
    assert items["m"] == items["s"] == "own:" + md5("m")
    assert items["p"] == items["q"] != items["r"]
    assert assigned["joined_by_pdq"].sum() == 1
    found = precision(assigned)
    assert (found.linked_pairs, found.true_pairs) == (1 + 3, 1 + 1)


# --------------------------------------------------------------------------------------------------
# The real ETL on a tiny simulation
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    root = tmp_path_factory.mktemp("matching_eval")
    return simulated_warehouse(root, seed=5), root / "sim"


def validation_script():
    spec = importlib.util.spec_from_file_location("validate_matching", ROOT / "scripts" / "validate_matching.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_etl_links_re_encodes_and_resizes_and_merges_no_distinct_items(simulated):
    warehouse, inputs = simulated
    result, context = validation_script().score(warehouse, inputs)
    recall = result.recall
    assert recall.loc["re_encode", "matchable"] >= 50 and recall.loc["resize", "matchable"] >= 20
    assert recall.loc["re_encode", "recall_matchable"] >= 0.95
    assert recall.loc["resize", "recall_matchable"] >= 0.95
    assert recall.loc["all pairs", "recall_within_radius"] >= 0.95
    assert result.precision.linked_pairs > 100
    assert result.precision.precision >= 0.99
    assert recall.loc["mirror", "linked_matchable"] == 0  # no dihedral hashes
    assert (context["radius"], context["min_quality"]) == (31, 50)


def test_every_media_cluster_of_the_warehouse_is_scored(simulated):
    warehouse, inputs = simulated
    con = connect(warehouse, read_only=True)
    try:
        clusters = warehouse_clusters(con)
        total = con.execute("SELECT count(*) FROM media_cluster").fetchone()[0]
    finally:
        con.close()
    truth = truth_frame(json.loads((inputs / "ground_truth.json").read_text())["near_duplicates"])
    result = evaluate(clusters, truth)
    assert len(result.clusters) == total
    assert result.clusters["perceptual_key"].notna().all()
    assert result.clusters["in_truth"].sum() > 0
    # nothing unreachable is linked: a cluster without an indexed PDQ is alone in its perceptual cluster
    assert not result.pairs.loc[result.pairs["reach"] != "matchable", "linked"].any()
