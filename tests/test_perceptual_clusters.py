"""Perceptual clusters: near-duplicate media clusters join one cluster in the ETL, with stable ids,
merge history, a quality cutoff, the ETL's transaction guarantees and an index beside the warehouse.

PDQ hashes here are random 256-bit numbers with chosen bits flipped: only distances matter.
"""

from __future__ import annotations

import shutil
from datetime import date

import numpy as np
import pytest
from builders import file_row, referral_row, rollup_from_scratch, write_delivery
from from_scratch import tables_unlike_their_recompute

from etl.perceptual import MatchingSettingsChanged
from etl.pipeline import InjectedFailure, Matching, PipelineOptions, run_batch
from etl.sources import discover_batches
from matching.cluster_index import ClusterIndex, index_directory


def base_hash(seed: int) -> str:
    return np.random.default_rng(seed).integers(0, 256, 32, dtype=np.uint8).tobytes().hex()


def flipped(pdq: str, bits: int, seed: int = 0) -> str:
    """`pdq` with exactly `bits` bits flipped (distance `bits`)."""
    value = bytearray(bytes.fromhex(pdq))
    for bit in np.random.default_rng(seed).choice(256, size=bits, replace=False):
        value[bit // 8] ^= 1 << (bit % 8)
    return bytes(value).hex()


A, B = base_hash(1), base_hash(2)


def delivery(tmp_path, name: str, files: list[tuple[int, str, str, dict]]):
    """A delivery with one referral per file: (referral number, item, pdq, overrides)."""
    referrals = [referral_row(n, **overrides.pop("referral", {})) for n, _, _, overrides in files]
    rows = [file_row(n, 0, item=item, pdq=pdq, **overrides) for n, item, pdq, overrides in files]
    return write_delivery(tmp_path / name, referrals, rows)


def load(con, key, folder, matching=None, **options):
    return [run_batch(con, batch, key, PipelineOptions(**options), matching) for batch in discover_batches(folder)]


def perceptual_of(con) -> dict[str, str]:
    """item MD5 (hex) → perceptual id (hex) of its media cluster."""
    rows = con.execute(
        "SELECT lower(printf('%032x', cluster_id)), lower(printf('%032x', perceptual_id)) FROM perceptual_member"
    ).fetchall()
    return dict(rows)


def md5(item: str) -> str:
    import hashlib

    return hashlib.md5(item.encode()).hexdigest()


def test_near_duplicates_within_the_radius_join_one_perceptual_cluster_and_others_stay_apart(fresh_db, key, tmp_path):
    folder = delivery(
        tmp_path,
        "d1",
        [
            (1, "a", A, {}),
            (2, "a-reencoded", flipped(A, 8), {}),
            (3, "a-resized", flipped(A, 31, seed=1), {}),
            (4, "a-cropped", flipped(A, 40, seed=2), {}),
            (5, "b", B, {}),
        ],
    )
    [report] = load(fresh_db, key, folder)
    clusters = perceptual_of(fresh_db)
    assert clusters[md5("a")] == clusters[md5("a-reencoded")] == clusters[md5("a-resized")]
    assert clusters[md5("a-cropped")] not in (clusters[md5("a")], clusters[md5("b")])
    assert clusters[md5("b")] != clusters[md5("a")]
    assert report.matching == {
        "pending": 5,
        "indexed": 5,
        "low_quality": 0,
        "linked": 3,
        "merges": 0,
        "bank_matches": 0,
    }
    assert fresh_db.execute("SELECT variants FROM perceptual_cluster ORDER BY variants DESC").fetchall() == [
        (3,),
        (1,),
        (1,),
    ]


def test_a_later_variant_joins_the_earlier_cluster_whose_id_stays_the_same(fresh_db, key, tmp_path):
    load(fresh_db, key, delivery(tmp_path, "d1", [(1, "a", A, {})]))
    before = perceptual_of(fresh_db)[md5("a")]
    load(fresh_db, key, delivery(tmp_path, "d2", [(2, "a-variant", flipped(A, 12), {})]))
    after = perceptual_of(fresh_db)
    assert after[md5("a")] == after[md5("a-variant")] == before == md5("a")
    assert fresh_db.execute("SELECT nearest_distance FROM perceptual_member WHERE pdq_slot = 1").fetchone() == (12,)


def test_a_batch_that_links_two_clusters_merges_the_younger_into_the_older_and_keeps_the_history(
    fresh_db, key, tmp_path
):
    near_a, near_both = flipped(A, 20, seed=3), None
    # A hash 20 bits from A and 20 bits from another hash C: C is 40 bits from A, so only the bridge links them.
    c_hash = flipped(near_a, 20, seed=4)
    near_both = near_a
    load(fresh_db, key, delivery(tmp_path, "d1", [(1, "a", A, {})]))
    load(
        fresh_db,
        key,
        delivery(tmp_path, "d2", [(2, "c", c_hash, {"referral": {"incident_datetime": "2023-05-20T10:00:00Z"}})]),
    )
    apart = perceptual_of(fresh_db)
    assert apart[md5("a")] != apart[md5("c")]
    [report] = load(fresh_db, key, delivery(tmp_path, "d3", [(3, "bridge", near_both, {})]))
    merged = perceptual_of(fresh_db)
    assert merged[md5("a")] == merged[md5("c")] == merged[md5("bridge")] == apart[md5("a")]
    assert report.matching["merges"] == 1
    history = fresh_db.execute(
        "SELECT lower(printf('%032x', merged_id)), lower(printf('%032x', into_id)), members FROM perceptual_merge"
    ).fetchall()
    assert history == [(md5("c"), md5("a"), 1)]
    assert fresh_db.execute("SELECT count(*), max(variants) FROM perceptual_cluster").fetchone() == (1, 3)


def test_a_merge_takes_the_merged_clusters_first_sighting_when_it_is_earlier_on_the_same_day(fresh_db, key, tmp_path):
    """The older perceptual cluster survives a merge (by first-seen date, then id), but on a tie of dates the
    merged one's first sighting can come first (by referral key): the survivor's first sighting moves to it.
    Several pairs, all first seen on one day, so that some pair is such a case whatever the keys."""

    def same_day() -> dict:  # a new dict per file: `delivery` takes the referral overrides out of it
        return {"referral": {"incident_datetime": "2023-05-02T10:00:00Z"}}

    pairs = []
    for n in range(6):
        left = base_hash(100 + n)
        bridge = flipped(left, 20, seed=200 + n)
        pairs.append((f"left-{n}", left, f"right-{n}", flipped(bridge, 20, seed=300 + n), f"bridge-{n}", bridge))
    first = [(2 * n, left, left_hash, same_day()) for n, (left, left_hash, *_) in enumerate(pairs)]
    first += [(2 * n + 1, right, right_hash, same_day()) for n, (_, _, right, right_hash, _, _) in enumerate(pairs)]
    load(fresh_db, key, delivery(tmp_path, "d1", first))
    before = dict(
        fresh_db.execute(
            "SELECT lower(printf('%032x', perceptual_id)), first_referral_key FROM perceptual_cluster"
        ).fetchall()
    )
    survivor_later = [
        pair for pair in pairs if before[min(md5(pair[0]), md5(pair[2]))] > before[max(md5(pair[0]), md5(pair[2]))]
    ]
    assert survivor_later, "no pair whose surviving cluster is first seen after the merged one on their day"
    bridges = [(100 + n, pair[4], pair[5], {}) for n, pair in enumerate(pairs)]
    [report] = load(fresh_db, key, delivery(tmp_path, "d2", bridges))
    assert report.matching["merges"] == len(pairs)
    assert tables_unlike_their_recompute(fresh_db) == []
    after = dict(
        fresh_db.execute(
            "SELECT lower(printf('%032x', perceptual_id)), first_referral_key FROM perceptual_cluster"
        ).fetchall()
    )
    for left, _, right, *_ in survivor_later:
        assert after[min(md5(left), md5(right))] == before[max(md5(left), md5(right))]


def test_a_low_quality_hash_is_kept_but_never_matched(fresh_db, key, tmp_path):
    folder = delivery(
        tmp_path,
        "d1",
        [(1, "a", A, {"pdq_quality": "90"}), (2, "a-flat", flipped(A, 2), {"pdq_quality": "20"})],
    )
    [report] = load(fresh_db, key, folder)
    clusters = perceptual_of(fresh_db)
    assert clusters[md5("a")] != clusters[md5("a-flat")]
    assert report.matching["low_quality"] == 1
    assert fresh_db.execute("SELECT pdq_slot, pdq_quality FROM perceptual_member ORDER BY pdq_quality").fetchall() == [
        (None, 20),
        (0, 90),
    ]


@pytest.mark.parametrize("stage", ["match", "rollup"])
def test_a_rolled_back_batch_leaves_the_clusters_and_the_index_as_they_were(fresh_db, key, tmp_path, stage):
    matching = Matching.open(fresh_db)
    load(fresh_db, key, delivery(tmp_path, "d1", [(1, "a", A, {})]), matching)
    members = fresh_db.execute("SELECT * FROM perceptual_member").fetchall()
    second = delivery(tmp_path, "d2", [(2, "a-variant", flipped(A, 5), {}), (3, "b", B, {})])
    with pytest.raises(InjectedFailure):
        load(fresh_db, key, second, matching, fail_at=stage)
    assert fresh_db.execute("SELECT * FROM perceptual_member").fetchall() == members
    assert len(matching.index) == 1
    assert len(ClusterIndex.open(fresh_db, 31)) == 1
    load(fresh_db, key, second, matching)
    assert len(matching.index) == 3
    assert perceptual_of(fresh_db)[md5("a-variant")] == md5("a")


def test_new_hashes_are_searchable_as_soon_as_their_batch_commits(fresh_db, key, tmp_path):
    matching = Matching.open(fresh_db)
    load(fresh_db, key, delivery(tmp_path, "d1", [(1, "a", A, {}), (2, "b", B, {})]), matching)
    found = matching.index.search([flipped(B, 3)])
    assert found.id.tolist() == [1] and found.distance.tolist() == [3]
    reopened = ClusterIndex.open(fresh_db, 31)
    assert reopened.search([flipped(B, 3)]).id.tolist() == [1]


def test_the_index_beside_the_warehouse_is_caught_up_or_rebuilt_from_the_warehouse(fresh_db, key, tmp_path):
    load(fresh_db, key, delivery(tmp_path, "d1", [(1, "a", A, {}), (2, "b", B, {})]))
    load(fresh_db, key, delivery(tmp_path, "d2", [(3, "c", base_hash(3), {})]))
    directory = index_directory(fresh_db)
    assert directory is not None and (directory / "journal").is_dir()
    shutil.rmtree(directory / "journal")  # a crash between commit and journal write
    caught_up = ClusterIndex.open(fresh_db, 31)
    assert len(caught_up) == 3 and caught_up.search([base_hash(3)]).id.tolist() == [2]
    # An index that disagrees with the warehouse (another warehouse's files) is rebuilt.
    shutil.rmtree(directory)
    stranger = ClusterIndex(ClusterIndex.open(fresh_db, 31).index, directory)
    stranger.index.add([3], [base_hash(9)])
    stranger.compact(force=True)
    rebuilt = ClusterIndex.open(fresh_db, 31)
    assert rebuilt.rebuilt and len(rebuilt) == 3


def test_rerunning_a_batch_changes_no_perceptual_cluster(fresh_db, key, tmp_path):
    folder = delivery(tmp_path, "d1", [(1, "a", A, {}), (2, "a2", flipped(A, 4), {})])
    load(fresh_db, key, folder)
    before = (
        fresh_db.execute("SELECT * FROM perceptual_member ORDER BY ALL").fetchall(),
        fresh_db.execute("SELECT * FROM rollup_perceptual_daily ORDER BY ALL").fetchall(),
    )
    [again] = load(fresh_db, key, folder)
    assert again.status == "skipped"
    after = (
        fresh_db.execute("SELECT * FROM perceptual_member ORDER BY ALL").fetchall(),
        fresh_db.execute("SELECT * FROM rollup_perceptual_daily ORDER BY ALL").fetchall(),
    )
    assert after == before


def test_the_perceptual_rollup_counts_new_items_new_variants_and_cross_platform_reshares(fresh_db, key, tmp_path):
    same_day = {"incident_datetime": "2023-05-02T10:00:00Z", "received_date": "2023-05-02"}
    folder = delivery(
        tmp_path,
        "d1",
        [
            (1, "a", A, {"referral": dict(same_day)}),
            (2, "a", A, {"referral": {**same_day, "esp_name": "Photoly"}}),  # exact re-share elsewhere
            (3, "a-variant", flipped(A, 9), {"referral": dict(same_day)}),  # new variant, same platform
            (4, "b", B, {"referral": dict(same_day)}),
        ],
    )
    load(fresh_db, key, folder)
    totals = fresh_db.execute(
        "SELECT sum(files), sum(new_items), sum(new_variants), sum(new_exact_clusters), "
        "sum(cross_platform_reshares), sum(cross_country_reshares), sum(bank_matched_files) FROM rollup_perceptual_daily"
    ).fetchone()
    assert totals == (4, 2, 1, 3, 1, 0, 0)


def test_another_radius_than_the_warehouse_was_clustered_with_is_refused(fresh_db, key, tmp_path, monkeypatch):
    load(fresh_db, key, delivery(tmp_path, "d1", [(1, "a", A, {})]))
    monkeypatch.setenv("GRACE_PDQ_RADIUS", "20")
    with pytest.raises(MatchingSettingsChanged, match="grace matching rebuild"):
        load(fresh_db, key, delivery(tmp_path, "d2", [(2, "b", B, {})]))
    assert fresh_db.execute("SELECT count(*) FROM fact_referral").fetchone() == (1,)


def test_media_clusters_loaded_before_matching_existed_are_clustered_by_the_next_batch(fresh_db, key, tmp_path):
    load(fresh_db, key, delivery(tmp_path, "d1", [(1, "a", A, {}), (2, "b", B, {})]))
    # As after an upgrade from schema 5: clusters without perceptual rows, no index files.
    fresh_db.execute(
        "DELETE FROM perceptual_member; DELETE FROM perceptual_cluster; DELETE FROM rollup_perceptual_daily"
    )
    shutil.rmtree(index_directory(fresh_db), ignore_errors=True)
    [report] = load(fresh_db, key, delivery(tmp_path, "d2", [(3, "a-variant", flipped(A, 6), {})]))
    assert report.matching["pending"] == 3
    clusters = perceptual_of(fresh_db)
    assert clusters[md5("a-variant")] == clusters[md5("a")] == md5("a")
    assert fresh_db.execute("SELECT sum(files), sum(new_items) FROM rollup_perceptual_daily").fetchone() == (3, 2)


def test_rebuild_reclusters_everything_with_the_radius_set_now(fresh_db, key, tmp_path, monkeypatch):
    from etl.perceptual import MatchingParams, rebuild, status

    load(fresh_db, key, delivery(tmp_path, "d1", [(1, "a", A, {}), (2, "a-far", flipped(A, 25), {}), (3, "b", B, {})]))
    assert status(fresh_db)["perceptual_clusters"] == 2
    result = rebuild(fresh_db, MatchingParams(radius=20, min_quality=50))
    assert (result.pending, result.indexed, result.linked) == (3, 3, 0)
    state = status(fresh_db)
    assert (state["perceptual_clusters"], state["radius"], state["indexed"]) == (3, 20, 3)
    assert len(ClusterIndex.open(fresh_db, 20)) == 3
    monkeypatch.setenv("GRACE_PDQ_RADIUS", "20")
    [report] = load(fresh_db, key, delivery(tmp_path, "d2", [(4, "b2", flipped(B, 15), {})]))
    assert report.matching["linked"] == 1


def test_grace_matching_status_and_rebuild_from_the_command_line(fresh_db, key, tmp_path):
    import json

    from click.testing import CliRunner

    from grace_cli import cli

    load(fresh_db, key, delivery(tmp_path, "d1", [(1, "a", A, {}), (2, "a2", flipped(A, 3), {})]))
    path = index_directory(fresh_db).with_suffix("")  # the warehouse file beside its index
    fresh_db.close()
    runner = CliRunner()
    shown = runner.invoke(cli, ["matching", "status", "--warehouse", str(path), "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["perceptual_clusters"] == 1
    rebuilt = runner.invoke(cli, ["matching", "rebuild", "--warehouse", str(path), "--quiet"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "re-clustered 2 media clusters at radius 31" in rebuilt.output


def write_bank(path, rows: list[tuple[str, str]]):
    """A PDQ bank file: (pdq, category) rows."""
    path.write_text("pdq,category\n" + "".join(f"{pdq},{category}\n" for pdq, category in rows))
    return path


def import_industry_bank(con, tmp_path, rows: list[tuple[str, str]]) -> None:
    """Import (pdq, category) rows as version 1 of the "industry" hash bank."""
    from matching.banks import import_bank

    import_bank(con, write_bank(tmp_path / "bank.csv", rows), "industry", scheme="industry", version="1", source="test")


def test_a_batch_matches_its_new_clusters_against_the_banks_in_its_transaction(fresh_db, key, tmp_path):
    import_industry_bank(fresh_db, tmp_path, [(A, "A1")])
    folder = delivery(
        tmp_path,
        "d1",
        [
            (1, "a-variant", flipped(A, 20), {}),
            (2, "a-flat", flipped(A, 3), {"pdq_quality": "10"}),  # below the quality cutoff: never matched
            (3, "b", B, {}),
        ],
    )
    [report] = load(fresh_db, key, folder)
    assert report.matching["bank_matches"] == 1
    found = fresh_db.execute(
        "SELECT lower(printf('%032x', cluster_id)), bank_name, bank_version, match_kind, distance, found_by FROM bank_match"
    ).fetchall()
    assert found == [(md5("a-variant"), "industry", "1", "pdq", 20, report.batch_id)]
    assert fresh_db.execute("SELECT sum(bank_matched_files) FROM rollup_perceptual_daily").fetchone() == (1,)
    known = fresh_db.execute("SELECT sum(known_files) FROM rollup_file_daily").fetchone()
    assert known == (1,)


def test_a_bank_imported_later_updates_the_perceptual_rollup(fresh_db, key, tmp_path):
    load(fresh_db, key, delivery(tmp_path, "d1", [(1, "b", B, {}), (2, "b2", flipped(B, 5), {})]))
    assert fresh_db.execute("SELECT sum(bank_matched_files) FROM rollup_perceptual_daily").fetchone() == (0,)
    import_industry_bank(fresh_db, tmp_path, [(B, "B1")])
    assert fresh_db.execute("SELECT sum(bank_matched_files) FROM rollup_perceptual_daily").fetchone() == (2,)


def test_a_cluster_first_delivered_without_a_pdq_is_placed_again_when_a_later_file_brings_one(fresh_db, key, tmp_path):
    load(fresh_db, key, delivery(tmp_path, "d1", [(1, "a", A, {}), (2, "a-variant", "", {})]))
    assert perceptual_of(fresh_db)[md5("a-variant")] == md5("a-variant")  # alone: no hash to match
    [report] = load(fresh_db, key, delivery(tmp_path, "d2", [(3, "a-variant", flipped(A, 7), {})]))
    assert report.matching["pending"] == 1 and report.matching["linked"] == 1
    assert perceptual_of(fresh_db)[md5("a-variant")] == md5("a")
    assert fresh_db.execute("SELECT count(*), max(variants) FROM perceptual_cluster").fetchone() == (1, 2)
    assert fresh_db.execute("SELECT sum(new_items), sum(new_variants) FROM rollup_perceptual_daily").fetchone() == (
        1,
        1,
    )


def test_a_rebuild_places_each_cluster_with_the_quality_it_was_placed_with(fresh_db, key, tmp_path):
    from etl.perceptual import MatchingParams, rebuild

    # The first file of "b2" has no score (matched); a later file of it scores 10 (would be cut).
    load(fresh_db, key, delivery(tmp_path, "d1", [(1, "b", B, {}), (2, "b2", flipped(B, 4), {})]))
    load(fresh_db, key, delivery(tmp_path, "d2", [(3, "b2", flipped(B, 4), {"pdq_quality": "10"})]))
    before = perceptual_of(fresh_db)
    rebuild(fresh_db, MatchingParams())
    assert perceptual_of(fresh_db) == before and before[md5("b2")] == md5("b")


FILE_DATES = "SELECT DISTINCT incident_date FROM fact_file_occurrence"


def perceptual_rollup_from_scratch(con) -> list[tuple]:
    return rollup_from_scratch(con, "rollup_perceptual_daily", "perceptual_dates", FILE_DATES)


def file_rollup_from_scratch(con) -> list[tuple]:
    return rollup_from_scratch(con, "rollup_file_daily", "affected_dates", FILE_DATES)


def test_the_perceptual_and_file_rollups_kept_by_batches_equal_ones_recomputed_from_scratch_after_every_batch(
    fresh_db, key, tmp_path
):
    """A later batch recomputes its own days whole and, on earlier days, only the cells whose files it changed:
    a reopened cluster that joins another perceptual cluster, one that gets a bank match, and the members of a
    perceptual cluster whose first sighting a late variant moves. The reopened cluster's bank match makes it
    known material, so the daily file rollup of its earlier day changes too."""
    C = base_hash(3)
    may = {"referral": {"received_date": "2023-05-28"}}
    first = delivery(
        tmp_path,
        "may",
        [
            (1, "a", A, {"referral": {"incident_datetime": "2023-05-02T10:00:00Z", **may["referral"]}}),
            (2, "x", "", {"referral": {"incident_datetime": "2023-05-03T10:00:00Z", **may["referral"]}}),
            (3, "y", "", {"referral": {"incident_datetime": "2023-05-04T10:00:00Z", **may["referral"]}}),
            (4, "b", B, {"referral": {"incident_datetime": "2023-05-05T10:00:00Z", **may["referral"]}}),
            (
                5,
                "b",
                B,
                {
                    "referral": {
                        "incident_datetime": "2023-05-06T10:00:00Z",
                        "reporting_country": "DEU",
                        "receiving_agency": "AGY-DEU",
                        **may["referral"],
                    }
                },
            ),
            (
                6,
                "a",
                A,
                {"referral": {"incident_datetime": "2023-05-07T10:00:00Z", "esp_name": "Photogrid", **may["referral"]}},
            ),
        ],
    )
    load(fresh_db, key, first)
    stored = "SELECT * FROM rollup_perceptual_daily ORDER BY ALL"
    assert fresh_db.execute(stored).fetchall() == sorted(perceptual_rollup_from_scratch(fresh_db))
    import_industry_bank(fresh_db, tmp_path, [(C, "A1")])
    june = {"received_date": "2023-06-20"}
    second = delivery(
        tmp_path,
        "june",
        [
            (7, "x", flipped(A, 7), {"referral": {"incident_datetime": "2023-06-10T10:00:00Z", **june}}),
            (8, "y", flipped(C, 4), {"referral": {"incident_datetime": "2023-06-11T10:00:00Z", **june}}),
            # a new variant of b, seen before b: the perceptual cluster's first sighting moves to it
            (9, "d", flipped(B, 10), {"referral": {"incident_datetime": "2023-04-01T10:00:00Z", **june}}),
        ],
    )
    [report] = load(fresh_db, key, second)
    assert report.matching["bank_matches"] == 1
    assert fresh_db.execute(stored).fetchall() == sorted(perceptual_rollup_from_scratch(fresh_db))
    # y, seen in May without a PDQ, is known now: its May file counts as known material, by day and by month
    assert fresh_db.execute("SELECT * FROM rollup_file_daily ORDER BY ALL").fetchall() == file_rollup_from_scratch(
        fresh_db
    )
    known_by_month = "SELECT date_trunc('month', date_key)::DATE, sum(known_files) FROM {} GROUP BY 1 ORDER BY 1"
    assert (
        fresh_db.execute(known_by_month.format("rollup_file_monthly")).fetchall()
        == fresh_db.execute(known_by_month.format("rollup_file_daily")).fetchall()
    )
    assert dict(fresh_db.execute(known_by_month.format("rollup_file_monthly")).fetchall())[date(2023, 5, 1)] == 1
    by_day = {
        day.isoformat(): (new_items, new_variants, banked)
        for day, new_items, new_variants, banked in fresh_db.execute(
            "SELECT date_key, sum(new_items), sum(new_variants), sum(bank_matched_files) FROM rollup_perceptual_daily GROUP BY 1"
        ).fetchall()
    }
    assert by_day["2023-05-03"] == (0, 1, 0)  # x joined a: a new variant now, no longer a new item
    assert by_day["2023-05-04"] == (1, 0, 1)  # y matches the bank
    assert by_day["2023-05-05"] == (0, 1, 0)  # b is a variant of d now, seen first in April
    monthly = fresh_db.execute(
        "SELECT date_key, sum(files), sum(new_items), sum(new_variants), sum(bank_matched_files) "
        "FROM rollup_perceptual_monthly GROUP BY 1 ORDER BY 1"
    ).fetchall()
    from_daily = fresh_db.execute(
        "SELECT date_trunc('month', date_key)::DATE, sum(files), sum(new_items), sum(new_variants), sum(bank_matched_files) "
        "FROM rollup_perceptual_daily GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert monthly == from_daily
