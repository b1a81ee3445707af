"""The PDQ near-duplicate index (`matching.index`) and PDQ hashes (`matching.pdq`), on seeded random hashes.

The oracle is NumPy brute force (`hamming` over every pair), written apart from the Numba kernels.
"""

from __future__ import annotations

import itertools
import json
import threading

import numpy as np
import pytest

import matching.index as index_module
from matching import (
    IndexFileError,
    MatchingError,
    PdqHashError,
    PdqIndex,
    as_words,
    hamming,
    parse_hex,
    to_hex,
)
from matching.index import plan_substrings, probe_radii, split_bits

T = 31


def random_hashes(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)


def flipped(rng: np.random.Generator, words: np.ndarray, bits: int) -> np.ndarray:
    """A copy of one hash with exactly `bits` distinct bits flipped."""
    out = words.copy()
    for bit in rng.choice(256, size=bits, replace=False):
        out[bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
    return out


def planted(rng: np.random.Generator, n: int, variants: int, max_bits: int = 45) -> np.ndarray:
    """n random hashes plus `variants` near-duplicates of them at 0 … max_bits bits, plus T and T + 1 exactly."""
    base = random_hashes(rng, n)
    parents = rng.integers(0, n, size=variants)
    distances = rng.integers(0, max_bits + 1, size=variants)
    distances[:4] = [T, T, T + 1, T + 1]
    near = np.array([flipped(rng, base[p], int(d)) for p, d in zip(parents, distances)])
    return np.vstack([base, near])


def brute_force(queries: np.ndarray, hashes: np.ndarray, ids: np.ndarray, radius: int) -> set[tuple[int, int, int]]:
    distances = hamming(queries[:, None, :], hashes[None, :, :])
    q, r = np.nonzero(distances <= radius)
    return set(zip(q.tolist(), ids[r].tolist(), distances[q, r].tolist()))


def as_set(matches) -> set[tuple[int, int, int]]:
    return set(zip(matches.query_index.tolist(), matches.id.tolist(), matches.distance.tolist()))


def queries_for(rng: np.random.Generator, hashes: np.ndarray, n: int) -> np.ndarray:
    """Indexed hashes, fresh variants of indexed hashes at 0 … 45 bits, and unrelated random hashes."""
    picks = hashes[rng.integers(0, len(hashes), size=n)]
    fresh = np.array([flipped(rng, row, int(rng.integers(0, 46))) for row in picks[: n // 2]])
    return np.vstack([picks[n // 2 :], fresh, random_hashes(rng, n // 4)])


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(20261206)
    hashes = planted(rng, 6000, 3000)
    ids = rng.permutation(len(hashes)).astype(np.int64) * 7 + 100  # ids are not row numbers
    return hashes, ids, queries_for(rng, hashes, 400)


# --- PDQ hashes ------------------------------------------------------------------------------------


def test_hex_strings_round_trip_through_words_and_bytes():
    rng = np.random.default_rng(1)
    words = random_hashes(rng, 50)
    text = to_hex(words)
    assert all(len(t) == 64 and t == t.lower() for t in text)
    assert np.array_equal(parse_hex(text), words)
    assert np.array_equal(parse_hex([t.upper() for t in text]), words)
    assert np.array_equal(as_words(np.array(text)), words)
    assert bytes.fromhex(text[0]) == bytes(as_words(text[0]).astype(">u8").view(np.uint8))


def test_the_first_hex_character_is_the_top_nibble_of_the_first_word():
    assert as_words("f" + "0" * 63)[0, 0] == np.uint64(0xF << 60)
    assert as_words("0" * 63 + "1")[0, 3] == np.uint64(1)


def test_distances_count_differing_bits():
    zero = "0" * 64
    assert hamming(zero, "f" * 64).tolist() == [256]
    assert hamming(zero, "1" + "0" * 62 + "3").tolist() == [3]
    rng = np.random.default_rng(2)
    a, b = random_hashes(rng, 20), random_hashes(rng, 30)
    by_hand = [[sum(bin(int(x) ^ int(y)).count("1") for x, y in zip(row_a, row_b)) for row_b in b] for row_a in a]
    assert hamming(a[:, None], b[None, :]).tolist() == by_hand


@pytest.mark.parametrize(
    ("values", "row", "words"),
    [
        (["0" * 64, "0" * 63], 1, "expected 64 hex characters, got 63"),
        (["0" * 64, "0" * 64, "0" * 65], 2, "got 65"),
        (["0" * 10 + "g" + "0" * 53], 0, "character 11 ('g') is not hexadecimal"),
        (["0" * 63 + "é"], 0, "character 64"),
        (["0" * 64, 12345], 1, "got int"),
    ],
)
def test_an_invalid_hash_is_named_with_its_row_in_the_error(values, row, words):
    with pytest.raises(PdqHashError, match="row") as raised:
        parse_hex(values)
    assert raised.value.row == row
    assert words in str(raised.value)
    assert str(values[row])[:20] in str(raised.value)


def test_an_invalid_query_or_array_shape_is_refused():
    index = PdqIndex()
    with pytest.raises(PdqHashError, match="row 0"):
        index.search(["xyz"])
    with pytest.raises(PdqHashError, match=r"shape \(n, 4\)"):
        index.add([1], np.zeros((1, 3), dtype=np.uint64))
    with pytest.raises(PdqHashError, match="float64"):
        index.search(np.zeros((1, 4)))


# --- exact search ----------------------------------------------------------------------------------


def test_search_finds_exactly_the_brute_force_neighbours_within_the_radius(data):
    hashes, ids, queries = data
    index = PdqIndex(threads=2)
    index.add(ids, hashes)
    found = index.search(queries)
    expected = brute_force(queries, hashes, ids, T)
    assert as_set(found) == expected
    assert len(found.id) == len(expected)  # nothing reported twice
    assert len(expected) > len(queries) // 2  # the planted near-duplicates are there to be found


def test_hashes_at_exactly_the_radius_are_found_and_one_bit_further_are_not():
    rng = np.random.default_rng(3)
    base = random_hashes(rng, 2000)
    query = base[0]
    at_radius = [flipped(rng, query, T) for _ in range(20)]
    beyond = [flipped(rng, query, T + 1) for _ in range(20)]
    hashes = np.vstack([base, at_radius, beyond])
    index = PdqIndex()
    index.add(np.arange(len(hashes)), hashes)
    found = index.search(query[None, :])
    assert set(found.id.tolist()) == {0, *range(2000, 2020)}
    assert sorted(found.distance.tolist()) == [0] + [T] * 20
    wider = index.search(query[None, :], radius=T + 1)
    assert set(wider.id.tolist()) == {0, *range(2000, 2040)}


def test_every_reported_distance_is_exact_and_within_the_radius(data):
    hashes, ids, queries = data
    index = PdqIndex()
    index.add(ids, hashes)
    found = index.search(queries)
    rows = {int(i): r for r, i in enumerate(ids)}
    true = hamming(queries[found.query_index], hashes[[rows[int(i)] for i in found.id]])
    assert np.array_equal(true, found.distance)  # precision 1: no false match, no wrong distance
    assert found.distance.max() <= T


@pytest.mark.parametrize("radius", [0, 1, 7, 16, 40, 64])
def test_other_radii_are_exact_too(data, radius):
    hashes, ids, queries = data
    index = PdqIndex()
    index.add(ids, hashes)
    assert as_set(index.search(queries, radius=radius)) == brute_force(queries, hashes, ids, radius)


@pytest.mark.parametrize("substrings", [11, 12, 16, 19, 32])
def test_any_substring_split_gives_the_same_answer(data, substrings):
    hashes, ids, queries = data
    index = PdqIndex(substrings=substrings)
    index.add(ids, hashes)
    assert len(index.segments[0].sub_length) == substrings
    assert as_set(index.search(queries)) == brute_force(queries, hashes, ids, T)


@pytest.mark.slow
def test_ten_substrings_of_25_and_26_bits_give_the_same_answer(data):
    # What segments of more than ~42 M hashes use; forced here on a small index (2 GB of bucket offsets).
    hashes, ids, queries = data
    index = PdqIndex(substrings=10)
    index.add(ids, hashes)
    assert index.segments[0].sub_length.tolist() == [26] * 6 + [25] * 4
    assert as_set(index.search(queries)) == brute_force(queries, hashes, ids, T)


def test_an_index_built_for_another_radius_answers_its_own_radius_by_default(data):
    hashes, ids, queries = data
    index = PdqIndex(radius=10)
    index.add(ids, hashes)
    assert as_set(index.search(queries)) == brute_force(queries, hashes, ids, 10)


def test_many_identical_hashes_overflowing_every_buffer_are_all_found():
    rng = np.random.default_rng(4)
    same = np.repeat(random_hashes(rng, 1), 20_000, axis=0)  # one bucket of 20,000 rows in every table
    hashes = np.vstack([same, random_hashes(rng, 1000)])
    index = PdqIndex()
    index.add(np.arange(len(hashes)), hashes)
    found = index.search(np.vstack([same[:2], hashes[-3:]]))
    assert np.bincount(found.query_index).tolist() == [20_000, 20_000, 1, 1, 1]
    assert np.array_equal(found.id[:20_000], np.arange(20_000))


def test_the_substring_plan_covers_every_bit_and_satisfies_the_pigeonhole_bound():
    for parts in (11, 12, 16, 19, 32):
        offsets, lengths = split_bits(parts)
        assert lengths.sum() == 256 and offsets[0] == 0 and np.all(np.diff(offsets) == lengths[:-1])
    for rows in (10, 4096, 100_000, 1_000_000, 10_000_000):
        for radius in (0, 5, 31, 50):
            _, lengths = plan_substrings(rows, radius)
            radii, _ = probe_radii(lengths, rows, radius)
            assert (radii + 1).sum() == radius + 1 and radii.max() <= lengths.max()
    assert len(plan_substrings(10_000_000, 31)[1]) == 11  # 23/24-bit substrings at 10 M
    assert plan_substrings(10_000_000, 31)[1].max() <= index_module.MAX_SUBSTRING_BITS


def test_segments_of_many_millions_of_hashes_take_longer_substrings_and_smaller_ones_do_not():
    # Past ~42 M hashes in a segment the model takes 10 tables of 25-26 bits over 11 of 23-24 (fewer rows
    # per bucket outweigh more probes; 1.4x less CPU at 88 M); at 2-10 M they were measured slower.
    assert split_bits(11)[1].tolist() == plan_substrings(40_000_000, 31)[1].tolist()
    assert split_bits(10)[1].tolist() == plan_substrings(80_000_000, 31)[1].tolist()
    assert plan_substrings(80_000_000, 31)[1].max() == index_module.MAX_SUBSTRING_BITS == 26


# --- adding ----------------------------------------------------------------------------------------


def test_added_hashes_are_searchable_at_once_and_segments_stay_few(data):
    hashes, ids, queries = data
    index = PdqIndex(buffer_size=64, merge_factor=2)
    start = 0
    rng = np.random.default_rng(5)
    while start < len(hashes):
        stop = min(len(hashes), start + int(rng.integers(1, 400)))
        index.add(ids[start:stop], hashes[start:stop])
        start = stop
        if rng.random() < 0.2 or stop == len(hashes):
            expected = brute_force(queries[:80], hashes[:stop], ids[:stop], T)
            assert as_set(index.search(queries[:80])) == expected
    assert len(index) == len(hashes)
    assert len(index.segments) <= np.log2(len(hashes) / 64) + 2
    sizes = [segment.size for segment in index.segments]
    assert all(a >= 2 * b for a, b in itertools.pairwise(sizes))  # sizes shrink geometrically
    assert index.buffered < 64


@pytest.mark.parametrize("split", [10, 3000, 8990])
def test_an_extended_index_finds_old_and_new_rows_and_leaves_the_original_as_it_was(data, split):
    hashes, ids, queries = data
    index = PdqIndex(buffer_size=256)
    index.add(ids[:split], hashes[:split])
    before = index.search(queries)
    extended = index.extended(ids[split:], hashes[split:])
    assert as_set(extended.search(queries)) == brute_force(queries, hashes, ids, T)
    grown = PdqIndex(buffer_size=256)
    grown.add(ids[:split], hashes[:split])
    grown.add(ids[split:], hashes[split:])
    assert [(s.start, s.stop) for s in extended.segments] == [(s.start, s.stop) for s in grown.segments]
    assert len(index) == split
    after = index.search(queries)
    assert all(np.array_equal(a, b) for a, b in zip(before, after))


def test_one_added_hash_is_found_by_the_next_search():
    rng = np.random.default_rng(6)
    index = PdqIndex()
    index.add(np.arange(10_000), random_hashes(rng, 10_000))
    new = random_hashes(rng, 1)
    assert len(index.search(new).id) == 0
    index.add([424242], new)
    assert index.search(flipped(rng, new[0], 20)[None, :]).id.tolist() == [424242]


def test_a_search_during_adds_sees_the_index_as_it_was_after_some_add(data):
    hashes, _, _ = data
    rows = np.arange(len(hashes))  # ids are row numbers here, so a snapshot is a prefix of the ids
    queries = hashes[np.random.default_rng(7).integers(0, 1000, size=50)]  # each finds itself at least
    boundaries = [*range(1000, len(hashes), 250), len(hashes)]
    truth = brute_force(queries, hashes, rows, T)
    index = PdqIndex(buffer_size=300, merge_factor=2)
    index.add(rows[:1000], hashes[:1000])

    def adder():
        for start, stop in itertools.pairwise(boundaries):
            index.add(rows[start:stop], hashes[start:stop])

    worker = threading.Thread(target=adder)
    worker.start()
    seen = []
    while worker.is_alive() or not seen:
        found = as_set(index.search(queries))
        prefix = min(b for b in boundaries if b > max(i for _, i, _ in found))
        assert found == {match for match in truth if match[1] < prefix}
        seen.append(prefix)
    worker.join()
    assert as_set(index.search(queries)) == truth


def test_wrong_ids_or_radius_are_refused_with_the_reason():
    index = PdqIndex()
    with pytest.raises(MatchingError, match="2 ids for 1 hashes"):
        index.add([1, 2], "0" * 64)
    with pytest.raises(MatchingError, match="integers"):
        index.add(["a"], "0" * 64)
    with pytest.raises(MatchingError, match="radius must be an integer from 0 to 256"):
        index.search("0" * 64, radius=257)
    with pytest.raises(MatchingError, match="radius"):
        PdqIndex(radius=-1)
    assert len(index) == 0


# --- order and persistence -------------------------------------------------------------------------


def test_results_are_sorted_and_do_not_depend_on_threads_or_how_hashes_were_added(data):
    hashes, ids, queries = data
    one = PdqIndex(threads=1)
    one.add(ids, hashes)
    many = PdqIndex(threads=2, buffer_size=100)
    for start in range(0, len(hashes), 777):
        many.add(ids[start : start + 777], hashes[start : start + 777])
    first, second = one.search(queries), many.search(queries)
    for a, b in zip(first, second):
        assert np.array_equal(a, b)
    keys = list(zip(first.query_index.tolist(), first.distance.tolist(), first.id.tolist()))
    assert keys == sorted(keys)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_batch_searched_table_by_table_equals_one_searched_in_chunks_of_queries(data, monkeypatch, threads):
    hashes, ids, queries = data
    index = PdqIndex(threads=threads, buffer_size=2000, merge_factor=2)
    for start in range(0, len(hashes), 1300):  # several segments and a buffer
        index.add(ids[start : start + 1300], hashes[start : start + 1300])
    assert len(index.segments) > 1 and index.buffered
    monkeypatch.setattr(index_module, "TABLE_MAJOR_QUERIES", 1)
    by_table = index.search(queries)
    monkeypatch.setattr(index_module, "TABLE_MAJOR_QUERIES", 10**9)
    by_chunk = index.search(queries)
    for a, b in zip(by_table, by_chunk):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert as_set(by_table) == brute_force(queries, hashes, ids, T)


@pytest.mark.parametrize("mmap", [False, True])
def test_a_saved_index_loads_with_the_same_answers_and_takes_more_hashes(tmp_path, data, mmap):
    hashes, ids, queries = data
    index = PdqIndex(buffer_size=1000)
    index.add(ids[:-500], hashes[:-500])
    index.add(ids[-500:-10], hashes[-500:-10])
    assert index.buffered == 490  # the brute-force buffer is saved too
    index.save(tmp_path / "pdq")
    loaded = PdqIndex.load(tmp_path / "pdq", mmap=mmap)
    assert len(loaded) == len(index) and loaded.radius == index.radius
    for a, b in zip(index.search(queries), loaded.search(queries)):
        assert np.array_equal(a, b)
    loaded.add(ids[-10:], hashes[-10:])
    assert as_set(loaded.search(queries)) == brute_force(queries, hashes, ids, T)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pdq"]  # no temporary directory left


def test_a_loaded_index_takes_more_hashes_without_copying_the_ones_it_holds(tmp_path, data):
    hashes, ids, queries = data
    index = PdqIndex()
    index.add(ids[:-100], hashes[:-100])
    index.save(tmp_path / "pdq")
    loaded = PdqIndex.load(tmp_path / "pdq")
    held_hashes, held_ids = loaded.hashes, loaded.ids
    loaded.add(ids[-100:], hashes[-100:])
    assert np.shares_memory(held_hashes, loaded.hashes) and np.shares_memory(held_ids, loaded.ids)
    assert loaded.nbytes() == index.nbytes() + 100 * (32 + 8)  # the room to grow is not counted
    assert as_set(loaded.search(queries)) == brute_force(queries, hashes, ids, T)


def test_a_saved_array_of_the_wrong_shape_or_a_cut_file_is_named(tmp_path, data):
    hashes, ids, _ = data
    index = PdqIndex()
    index.add(ids[:1000], hashes[:1000])
    index.save(tmp_path / "pdq")
    np.save(tmp_path / "pdq" / "ids.npy", ids[:999])
    with pytest.raises(IndexFileError, match=r"ids\.npy: expected int64 \(1000,\), found int64 \(999,\)"):
        PdqIndex.load(tmp_path / "pdq")
    index.save(tmp_path / "pdq")
    saved = (tmp_path / "pdq" / "hashes.npy").read_bytes()
    (tmp_path / "pdq" / "hashes.npy").write_bytes(saved[:-8])
    with pytest.raises(IndexFileError, match=r"hashes\.npy: the file ends after 31,992 of 32,000 bytes"):
        PdqIndex.load(tmp_path / "pdq")


def test_a_failed_save_leaves_the_previous_index_in_place(tmp_path, data, monkeypatch):
    hashes, ids, queries = data
    old = PdqIndex()
    old.add(ids[:3000], hashes[:3000])
    old.save(tmp_path / "pdq")
    new = PdqIndex()
    new.add(ids, hashes)
    calls = []

    def failing_save(path, array):
        calls.append(path.name)
        if len(calls) == 3:
            raise OSError("disk full")
        return real_save(path, array)

    real_save = index_module._save_array
    monkeypatch.setattr(index_module, "_save_array", failing_save)
    with pytest.raises(OSError, match="disk full"):
        new.save(tmp_path / "pdq")
    monkeypatch.undo()
    reloaded = PdqIndex.load(tmp_path / "pdq")
    assert len(reloaded) == 3000
    for a, b in zip(old.search(queries), reloaded.search(queries)):
        assert np.array_equal(a, b)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pdq"]


def test_saving_over_an_index_replaces_it(tmp_path, data):
    hashes, ids, _ = data
    for n in (100, 5000):
        index = PdqIndex()
        index.add(ids[:n], hashes[:n])
        index.save(tmp_path / "pdq")
    assert len(PdqIndex.load(tmp_path / "pdq")) == 5000


def test_loading_something_that_is_not_an_index_names_the_file(tmp_path, data):
    hashes, ids, _ = data
    with pytest.raises(IndexFileError, match=r"manifest\.json missing"):
        PdqIndex.load(tmp_path / "nowhere")
    index = PdqIndex()
    index.add(ids[:5000], hashes[:5000])
    index.save(tmp_path / "pdq")
    (tmp_path / "pdq" / "segment-0-order.npy").unlink()
    with pytest.raises(IndexFileError, match=r"segment-0-order\.npy"):
        PdqIndex.load(tmp_path / "pdq")
    manifest = json.loads((tmp_path / "pdq" / "manifest.json").read_text())
    manifest["version"] = 99
    (tmp_path / "pdq" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexFileError, match="format version 99"):
        PdqIndex.load(tmp_path / "pdq")
