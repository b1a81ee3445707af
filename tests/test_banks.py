"""Hash banks (matching/banks.py): whole-file import, versions, retro-matching of the media clusters
already loaded (MD5, SHA1, PDQ within the bank's threshold), negative banks, disabling one hash, and the
consistency of is_known and rollup_file_daily. Real DuckDB; clusters come from the real ETL.

Hashes are synthetic: MD5/SHA1 of made-up item names, PDQ hashes drawn from a seeded generator with
exact numbers of bits flipped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from builders import file_row, referral_row, write_delivery

from etl.pipeline import run_batch
from etl.sources import discover_batches
from grace.config import CONTRACTS_DIR, SQL_DIR
from grace.errors import ConfigError, InputFileError
from matching import parse_hex, to_hex
from matching.bank_matcher import MATCH_COLUMNS, BankMatcher
from matching.banks import BankError, import_bank, list_banks, record_bank_matches, set_entry_enabled
from warehouse import read_sql

RNG = np.random.default_rng(20261206)
BASE = to_hex(RNG.integers(0, 2**63, size=(3, 4), dtype=np.int64).astype(np.uint64) * np.uint64(2))
BANK_TABLES = ("hash_bank", "hash_bank_entry", "hash_bank_change", "bank_match", "media_cluster", "rollup_file_daily")


def flipped(hex_hash: str, bits: int) -> str:
    """`hex_hash` with its first `bits` bits inverted: exactly `bits` away."""
    words = parse_hex([hex_hash])
    for bit in range(bits):
        words[0, bit // 64] ^= np.uint64(1) << np.uint64(63 - bit % 64)
    return to_hex(words)[0]


# Five media clusters: two with only exact hashes, three whose PDQ sits at 0, 31 and 32 bits from BASE[0].
FILES = [
    file_row(1, item="alpha"),
    file_row(2, item="beta"),
    file_row(3, item="gamma", pdq=BASE[0]),
    file_row(4, item="delta", pdq=flipped(BASE[0], 31)),
    file_row(5, item="epsilon", pdq=flipped(BASE[0], 32)),
]


def cluster_of(con, item_row: dict) -> int:
    return int(
        con.execute(
            "SELECT CAST(cluster_id AS VARCHAR) FROM media_cluster WHERE md5 = ?", [item_row["md5"]]
        ).fetchone()[0]
    )


def known(con) -> dict[str, bool]:
    """md5 -> is_known for every cluster."""
    return dict(con.execute("SELECT md5, is_known FROM media_cluster").fetchall())


def known_files(con) -> int:
    return int(con.execute("SELECT coalesce(sum(known_files), 0) FROM rollup_file_daily").fetchone()[0])


def snapshot(con) -> dict:
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in BANK_TABLES}


def write_bank(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def loaded(fresh_db, key, tmp_path):
    delivery = write_delivery(tmp_path / "d", [referral_row(n) for n in range(1, 6)], FILES)
    for batch in discover_batches(delivery):
        run_batch(fresh_db, batch, key)
    return fresh_db


@pytest.fixture
def positive_file(tmp_path):
    """alpha by MD5 (A1), beta by SHA1 (B2), and BASE[0] as a PDQ entry (A2)."""
    return write_bank(
        tmp_path / "industry-v1.csv",
        "md5,sha1,pdq,category",
        [f"{FILES[0]['md5'].upper()},,,A1", f",{FILES[1]['sha1']},,B2", f",,{BASE[0]},A2"],
    )


def imported(con, path, bank="industry", version="1", **options):
    options = {"scheme": "industry", "source": "test list", **options}
    return import_bank(con, path, bank, version=version, **options)


# --- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "rows", "row", "field", "reason"),
    [
        ("md5,category", ["a" * 32 + ",A1", "a" * 31 + ",A1"], 2, "md5", "expected 32 hex characters, got 31"),
        ("sha1,category", ["b" * 40 + ",B1", "b" * 39 + "g,B1"], 2, "sha1", "not hexadecimal"),
        ("pdq,category", [BASE[1] + ",A1", "c" * 63 + ",A1"], 2, "pdq", "expected 64 hex characters, got 63"),
        ("md5,sha1,category", ["a" * 32 + ",,A1", ",,A2"], 2, "md5", "no hash"),
        ("md5,category", ["a" * 32 + ",A1", "d" * 32 + ",3"], 2, "category", "not a code of the bank's scheme"),
        ("md5,category", ["a" * 32 + ",", "d" * 32 + ",A1"], 1, "category", "missing"),
        ("md5,category", ["a" * 32 + ",A1", "a" * 32 + ",B1"], 2, "category", "the same hashes as row 1"),
    ],
)
def test_a_bank_file_with_one_bad_value_is_refused_whole_naming_file_row_and_field(
    loaded, tmp_path, header, rows, row, field, reason
):
    path = write_bank(tmp_path / "bad.csv", header, rows)
    before = snapshot(loaded)
    with pytest.raises(InputFileError) as error:
        imported(loaded, path)
    assert str(path) in str(error.value) and (error.value.row, error.value.field) == (row, field)
    assert reason in str(error.value)
    assert snapshot(loaded) == before


def test_unknown_columns_and_a_positive_bank_without_categories_are_refused_by_name(loaded, tmp_path):
    with pytest.raises(InputFileError, match=r"unknown column.*'description'"):
        imported(loaded, write_bank(tmp_path / "a.csv", "md5,category,description", ["a" * 32 + ",A1,x"]))
    with pytest.raises(InputFileError, match="no category column"):
        imported(loaded, write_bank(tmp_path / "b.csv", "md5", ["a" * 32]))
    with pytest.raises(InputFileError, match="no hash column"):
        imported(loaded, write_bank(tmp_path / "c.csv", "category", ["A1"]))
    assert loaded.execute("SELECT count(*) FROM hash_bank").fetchone()[0] == 0


def test_vics_codes_belong_to_the_vics_scheme_and_negative_banks_take_no_category(loaded, tmp_path):
    vics = write_bank(tmp_path / "v.csv", "md5,category", ["a" * 32 + ",0", "b" * 32 + ",3"])
    assert imported(loaded, vics, bank="vics-list", scheme="vics")["entries"] == 2
    with pytest.raises(InputFileError, match="row 1, field 'category'"):
        imported(loaded, write_bank(tmp_path / "w.csv", "md5,category", ["a" * 32 + ",4"]), bank="v2", scheme="vics")
    with pytest.raises(InputFileError, match="row 1, field 'category'"):
        imported(loaded, vics, bank="fp", scheme="none", negative=True)
    with pytest.raises(ConfigError, match="scheme 'none'"):
        imported(loaded, vics, bank="fp", scheme="vics", negative=True)


def test_a_bank_cannot_change_scheme_or_kind_in_a_new_version(loaded, positive_file):
    imported(loaded, positive_file)
    with pytest.raises(BankError, match="positive bank of scheme 'industry'"):
        imported(loaded, positive_file, version="2", scheme="vics")


def test_the_bank_file_checks_accept_the_hash_patterns_of_the_hash_set_contract():
    contract = yaml.safe_load((CONTRACTS_DIR / "hash_set.yaml").read_text())
    patterns = {
        p["name"]: p["logicalTypeOptions"]["pattern"]
        for dataset in contract["schema"]
        for p in dataset["properties"]
        if p["name"] in ("md5", "sha1", "pdq")
    }
    problems = read_sql("matching/bank_file_problems.sql")
    for name, pattern in patterns.items():
        assert pattern.strip("^$") in problems, name


# --- import, re-import, versions ------------------------------------------------------------------


def test_an_import_matches_the_clusters_already_loaded_and_marks_them_known(loaded, positive_file):
    assert known_files(loaded) == 0
    result = imported(loaded, positive_file)
    assert result | {"status": "loaded", "entries": 3, "added": 3, "removed": 0} == result
    assert result["matches_added"] == 4  # alpha (md5), beta (sha1), gamma (pdq 0), delta (pdq 31)
    assert known(loaded) == {FILES[0]["md5"]: True, FILES[1]["md5"]: True, FILES[2]["md5"]: True,
                             FILES[3]["md5"]: True, FILES[4]["md5"]: False}  # fmt: skip
    assert known_files(loaded) == 4
    entries = loaded.execute("SELECT md5 FROM hash_bank_entry WHERE md5 IS NOT NULL").fetchall()
    assert entries == [(FILES[0]["md5"],)]  # stored lower-case


def test_pdq_matches_are_found_within_the_threshold_and_not_one_bit_beyond(loaded, tmp_path):
    entry = write_bank(tmp_path / "p.csv", "pdq,category", [f"{BASE[0]},A1"])
    imported(loaded, entry)
    found = loaded.execute(
        "SELECT c.md5, m.distance FROM bank_match m JOIN media_cluster c USING (cluster_id) ORDER BY m.distance"
    ).fetchall()
    assert found == [(FILES[2]["md5"], 0), (FILES[3]["md5"], 31)]  # 32 bits away: not a match
    imported(loaded, entry, bank="strict", pdq_threshold=10)
    strict = loaded.execute("SELECT distance FROM bank_match WHERE bank_name = 'strict'").fetchall()
    assert strict == [(0,)]


def test_every_match_row_carries_its_bank_version_kind_distance_and_finder(loaded, positive_file):
    imported(loaded, positive_file)
    rows = loaded.execute(
        "SELECT bank_name, bank_version, match_kind, distance, category, found_by FROM bank_match ORDER BY ALL"
    ).fetchall()
    assert rows == [
        ("industry", "1", "md5", 0, "A1", "import:industry:1"),
        ("industry", "1", "pdq", 0, "A2", "import:industry:1"),
        ("industry", "1", "pdq", 31, "A2", "import:industry:1"),
        ("industry", "1", "sha1", 0, "B2", "import:industry:1"),
    ]


def test_reimporting_the_same_file_as_the_same_version_changes_nothing_and_says_so(loaded, positive_file):
    imported(loaded, positive_file)
    before = snapshot(loaded)
    again = imported(loaded, positive_file)
    assert again["status"] == "unchanged" and again["entries"] == 3
    assert snapshot(loaded) == before


def test_another_file_under_a_version_already_imported_is_refused(loaded, positive_file, tmp_path):
    imported(loaded, positive_file)
    other = write_bank(tmp_path / "other.csv", "md5,category", ["e" * 32 + ",A1"])
    with pytest.raises(BankError, match="version '1' of bank 'industry' was imported from another file"):
        imported(loaded, other)


def test_a_new_version_keeps_listed_entries_adds_new_ones_and_disables_those_it_no_longer_lists(
    loaded, positive_file, tmp_path
):
    imported(loaded, positive_file)
    # v2: alpha again (now A2), the PDQ entry again, beta dropped, epsilon new.
    v2 = write_bank(
        tmp_path / "v2.csv",
        "md5,sha1,pdq,category",
        [f"{FILES[0]['md5']},,,A2", f",,{BASE[0]},A2", f"{FILES[4]['md5']},,,B1"],
    )
    result = imported(loaded, v2, version="2")
    assert (result["added"], result["kept"], result["removed"], result["recategorised"]) == (1, 2, 1, 1)
    entries = loaded.execute(
        "SELECT entry_id, category, version_added, is_enabled FROM hash_bank_entry ORDER BY entry_id"
    ).fetchall()
    assert entries == [(1, "A2", "1", True), (2, "B2", "1", False), (3, "A2", "1", True), (4, "B1", "2", True)]
    assert loaded.execute("SELECT version FROM hash_bank").fetchone()[0] == "2"
    assert known(loaded)[FILES[1]["md5"]] is False and known(loaded)[FILES[4]["md5"]] is True
    actions = loaded.execute("SELECT version, action, entry_id FROM hash_bank_change ORDER BY ALL").fetchall()
    assert ("2", "removed_in_version", 2) in actions and ("2", "recategorised", 1) in actions
    # v3 lists beta again: the entry a version removed is restored, with its id and first version.
    v3 = write_bank(tmp_path / "v3.csv", "sha1,category", [f"{FILES[1]['sha1']},B2"])
    assert imported(loaded, v3, version="3")["restored"] == 1
    assert loaded.execute("SELECT is_enabled, version_added FROM hash_bank_entry WHERE entry_id = 2").fetchone() == (
        True,
        "1",
    )
    assert known(loaded)[FILES[1]["md5"]] is True


def test_a_hash_disabled_by_hand_stays_disabled_when_a_new_version_lists_it(loaded, positive_file, tmp_path):
    imported(loaded, positive_file)
    set_entry_enabled(loaded, "industry", entry_id=1, enabled=False)
    v2 = write_bank(tmp_path / "v2.csv", "md5,category", [f"{FILES[0]['md5']},A1"])
    assert imported(loaded, v2, version="2")["restored"] == 0
    assert loaded.execute("SELECT is_enabled FROM hash_bank_entry WHERE entry_id = 1").fetchone() == (False,)


def test_a_failure_during_an_import_leaves_the_warehouse_as_it_was(loaded, positive_file, monkeypatch):
    import matching.banks

    imported(loaded, positive_file)
    before = snapshot(loaded)

    def broken(con, **_):
        raise RuntimeError("injected failure")

    monkeypatch.setattr(matching.banks, "settle", broken)
    v2 = positive_file.with_name("v2.csv")
    v2.write_text(positive_file.read_text() + f"{FILES[4]['md5']},,,B1\n")
    with pytest.raises(RuntimeError, match="injected"):
        imported(loaded, v2, version="2")
    assert snapshot(loaded) == before


# --- negative banks, disable / enable -------------------------------------------------------------


def test_a_negative_bank_suppresses_positive_matches_until_its_entry_is_disabled(loaded, positive_file, tmp_path):
    imported(loaded, positive_file)
    negative = write_bank(tmp_path / "fp.csv", "md5,category", [f"{FILES[0]['md5']},"])
    result = import_bank(loaded, negative, "false-positives", scheme="none", version="1", source="test", negative=True)
    assert result["known_changed_clusters"] == 1
    alpha = cluster_of(loaded, FILES[0])
    suppressed = loaded.execute(
        "SELECT bank_name, is_suppressed FROM bank_match WHERE cluster_id = ?::UHUGEINT ORDER BY bank_name",
        [str(alpha)],
    ).fetchall()
    assert suppressed == [("false-positives", False), ("industry", True)]
    assert known(loaded)[FILES[0]["md5"]] is False and known_files(loaded) == 3

    set_entry_enabled(loaded, "false-positives", hash=FILES[0]["md5"].upper(), enabled=False)
    assert loaded.execute("SELECT bool_or(is_suppressed) FROM bank_match").fetchone()[0] is False
    assert known(loaded)[FILES[0]["md5"]] is True and known_files(loaded) == 4


def test_disabling_one_hash_changes_its_matches_is_known_and_the_rollup_and_enabling_restores_them(
    loaded, positive_file
):
    imported(loaded, positive_file)
    rollup = loaded.execute("SELECT * FROM rollup_file_daily ORDER BY ALL").fetchall()
    result = set_entry_enabled(loaded, "industry", hash=BASE[0], enabled=False)
    assert result["status"] == "changed" and result["entry_id"] == 3
    assert result["known_changed_clusters"] == 2 and known_files(loaded) == 2
    active = loaded.execute(f"SELECT count(*) FROM ({read_sql('matching/active_bank_matches.sql')})").fetchone()[0]
    assert active == 2
    assert set_entry_enabled(loaded, "industry", entry_id=3, enabled=False)["status"] == "unchanged"
    set_entry_enabled(loaded, "industry", entry_id=3, enabled=True)
    assert known_files(loaded) == 4
    assert loaded.execute("SELECT * FROM rollup_file_daily ORDER BY ALL").fetchall() == rollup
    assert loaded.execute("SELECT count(*) FROM bank_match").fetchone()[0] == 4  # no duplicates
    history = loaded.execute("SELECT action, entry_id FROM hash_bank_change WHERE entry_id IS NOT NULL").fetchall()
    assert history == [("disable", 3), ("enable", 3)]


def test_an_unknown_bank_or_entry_is_a_clear_error(loaded, positive_file):
    imported(loaded, positive_file)
    with pytest.raises(BankError, match="no bank named 'nope'"):
        set_entry_enabled(loaded, "nope", entry_id=1, enabled=False)
    with pytest.raises(BankError, match="has no entry 99"):
        set_entry_enabled(loaded, "industry", entry_id=99, enabled=False)
    with pytest.raises(BankError, match="no entry with that hash"):
        set_entry_enabled(loaded, "industry", hash="f" * 40, enabled=False)
    with pytest.raises(BankError, match="hexadecimal"):
        set_entry_enabled(loaded, "industry", hash="xyz", enabled=False)


def test_list_banks_counts_entries_by_kind_and_state(loaded, positive_file):
    imported(loaded, positive_file)
    set_entry_enabled(loaded, "industry", entry_id=1, enabled=False)
    (bank,) = list_banks(loaded)
    assert {k: bank[k] for k in ("bank_name", "is_negative", "scheme", "version", "source", "pdq_threshold")} == {
        "bank_name": "industry", "is_negative": False, "scheme": "industry", "version": "1", "source": "test list",
        "pdq_threshold": 31,
    }  # fmt: skip
    assert [bank[k] for k in ("entries", "enabled_entries", "md5_entries", "sha1_entries", "pdq_entries")] == [
        3,
        2,
        1,
        1,
        1,
    ]


# --- the matcher and the ETL's call ---------------------------------------------------------------


def test_the_bank_matcher_matches_a_batch_with_suppression_and_exact_distances(loaded, positive_file, tmp_path):
    imported(loaded, positive_file)
    negative = write_bank(tmp_path / "fp.csv", "pdq", [flipped(BASE[0], 5)])
    import_bank(loaded, negative, "fp", scheme="none", version="1", source="test", negative=True, pdq_threshold=3)
    matcher = BankMatcher.from_warehouse(loaded)
    frame = matcher.match(
        md5=[FILES[0]["md5"].upper(), None, ""],
        sha1=[None, FILES[1]["sha1"], None],
        pdq=[None, flipped(BASE[0], 7), flipped(BASE[0], 8)],
    )
    assert list(frame.columns) == MATCH_COLUMNS
    rows = frame[["query_index", "bank_name", "match_kind", "distance", "is_suppressed"]].values.tolist()
    assert rows == [
        [0, "industry", "md5", 0, False],
        [1, "fp", "pdq", 2, False],  # 7 bits from BASE[0], 2 from the negative entry (its 5 bits among them)
        [1, "industry", "pdq", 7, True],
        [1, "industry", "sha1", 0, True],  # suppression is per query, whatever hash matched
        [2, "fp", "pdq", 3, False],  # 3 bits: at the negative bank's threshold
        [2, "industry", "pdq", 8, True],
    ]
    words = parse_hex([BASE[0], BASE[2]])
    assert matcher.match(pdq=words)["query_index"].tolist() == [0]


def test_record_bank_matches_records_a_batch_once_and_sets_is_known_without_touching_rollups(loaded, positive_file):
    imported(loaded, positive_file)
    loaded.execute("DELETE FROM bank_match")
    loaded.execute("UPDATE media_cluster SET is_known = false")
    rollup = loaded.execute("SELECT * FROM rollup_file_daily ORDER BY ALL").fetchall()
    clusters = loaded.execute(
        "SELECT CAST(cluster_id AS VARCHAR) AS cluster_id, md5, sha1, pdq FROM media_cluster"
    ).df()
    matcher = BankMatcher.from_warehouse(loaded)
    assert record_bank_matches(loaded, matcher, clusters, "batch-1") == 4
    assert record_bank_matches(loaded, matcher, clusters, "batch-2") == 0
    assert loaded.execute("SELECT DISTINCT found_by FROM bank_match").fetchall() == [("batch-1",)]
    assert sum(known(loaded).values()) == 4
    assert loaded.execute("SELECT * FROM rollup_file_daily ORDER BY ALL").fetchall() == rollup


def test_the_active_match_definition_is_one_fragment_shared_by_the_bank_queries_and_the_perceptual_rollup(fresh_db):
    include = "-- @include active_bank_matches"
    for user in ("matching/active_bank_matches.sql", "etl/rollup_perceptual_daily.sql"):
        assert include in (SQL_DIR / user).read_text()
    wrapped = fresh_db.execute(
        "SELECT count(*), count(DISTINCT cluster_id) FROM ("
        + read_sql("matching/active_bank_matches.sql")
        + ") AS active"
    ).fetchone()
    assert wrapped == (0, 0)
    columns = [c[0] for c in fresh_db.execute(read_sql("matching/active_bank_matches.sql")).description]
    assert columns[:2] == ["cluster_id", "bank_name"] and "category" in columns


# --- the simulator's lists ------------------------------------------------------------------------


def test_the_simulators_industry_lists_import_as_banks_and_match_its_files(tmp_path):
    import datetime as dt

    from builders import TEST_KEY

    from etl.runner import run_batches
    from etl.simulator import SimulationConfig, simulate
    from grace.config import PseudonymKey
    from warehouse import connect, ensure_schema

    out = tmp_path / "sim"
    simulate(SimulationConfig(out=out, seed=5, scale=0.002, start=dt.date(2023, 1, 1), end=dt.date(2023, 3, 31),
                              malformed_rate=0.0))  # fmt: skip
    con = connect(tmp_path / "w.duckdb")
    try:
        ensure_schema(con)
        assert run_batches(con, discover_batches(out / "exports"), PseudonymKey(TEST_KEY.encode(), "t")).ok
        pdq = import_bank(con, out / "hashsets" / "industry_list_pdq.csv", "industry-pdq", scheme="industry",
                          version="sim", source="simulator")  # fmt: skip
        exact = import_bank(con, out / "hashsets" / "industry_list.csv", "industry-exact", scheme="industry",
                            version="sim", source="simulator")  # fmt: skip
        assert pdq["entries"] > 0 and exact["entries"] > 0
        assert pdq["matches_added"] > 0 and exact["matches_added"] > 0
        distances = con.execute("SELECT max(distance) FROM bank_match WHERE match_kind = 'pdq'").fetchone()[0]
        assert distances is None or distances <= 31
        assert (
            con.execute("SELECT count(*) FROM bank_match").fetchone()[0]
            == pdq["matches_added"] + exact["matches_added"]
        )
    finally:
        con.close()
