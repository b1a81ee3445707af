"""benchmarks/replicate_warehouse.py: a warehouse copied to several times its referrals, in time blocks and
as more agencies, keeps every rollup and kept table equal to its recompute from the facts, and its
contract; a batch loaded into it gets the rows it gets in the original, and the rollups stay exact."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from builders import TEST_KEY, simulated_quarters
from from_scratch import tables_unlike_their_recompute

from benchmarks.replicate_warehouse import ReplicaError, layout_of, main, replicate
from etl.checks import contract_findings
from etl.pipeline import run_batch
from etl.sources import discover_batches
from grace.config import PseudonymKey
from matching.banks import import_bank
from warehouse import connect, ensure_schema

KEY = PseudonymKey(TEST_KEY.encode(), "test")
TOTALS = """
SELECT (SELECT count(*) FROM fact_referral), (SELECT count(*) FROM fact_file_occurrence),
       (SELECT count(*) FROM media_cluster), (SELECT count(*) FROM perceptual_cluster),
       (SELECT count(*) FROM bank_match), (SELECT count(*) FROM etl_batch),
       (SELECT sum(referrals) FROM rollup_referral_daily), (SELECT sum(files) FROM rollup_file_monthly),
       (SELECT sum(new_items) FROM rollup_perceptual_weekly), (SELECT sum(clusters) FROM mart_cluster_reach)
"""
# A batch's own rows, which must not depend on the copies beside the original (slots do: they number every
# indexed PDQ, the copies' included).
BATCH_ROWS = {
    "referrals": "SELECT * FROM fact_referral WHERE batch_id = ? ORDER BY ALL",
    "files": "SELECT * FROM fact_file_occurrence WHERE batch_id = ? ORDER BY ALL",
    "media clusters": """SELECT * FROM media_cluster WHERE cluster_id IN
                         (SELECT cluster_id FROM fact_file_occurrence WHERE batch_id = ?) ORDER BY ALL""",
    "perceptual members": """SELECT cluster_id, perceptual_id, pdq_quality, nearest_distance FROM perceptual_member
                             WHERE batch_id = ? ORDER BY ALL""",
    "perceptual clusters": "SELECT * FROM perceptual_cluster WHERE last_changed_batch = ? ORDER BY ALL",
    "bank matches": """SELECT cluster_id, bank_name, entry_id, match_kind, distance, is_suppressed FROM bank_match
                       WHERE found_by = ? ORDER BY ALL""",
}


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory):
    """Eight quarterly deliveries of the simulator (2023-2024) and its industry hash lists."""
    return simulated_quarters(tmp_path_factory.mktemp("replica_sim") / "sim", seed=11)


@pytest.fixture(scope="module")
def built(tmp_path_factory, deliveries):
    """A warehouse of the first seven quarterly deliveries, with the simulator's industry lists as banks."""
    root = tmp_path_factory.mktemp("replica_source")
    out = deliveries
    path = root / "warehouse.duckdb"
    con = connect(path)
    try:
        ensure_schema(con)
        for name, file in (("industry-pdq", "industry_list_pdq.csv"), ("industry-exact", "industry_list.csv")):
            import_bank(con, out / "hashsets" / file, name, scheme="industry", version="sim", source="simulator")
        for batch in discover_batches(out / "exports")[:-1]:
            assert run_batch(con, batch, KEY).status == "loaded"
    finally:
        con.close()
    return path


@pytest.fixture
def replica(built, tmp_path):
    path = tmp_path / "replica.duckdb"
    shutil.copyfile(built, path)
    con = connect(path)
    yield con
    con.close()


def test_six_copies_in_two_time_blocks_keep_every_table_equal_to_its_recompute_and_the_contract(replica):
    before = replica.execute(TOTALS).fetchone()
    original_facts = replica.execute("SELECT * FROM fact_file_occurrence ORDER BY ALL").fetchall()
    first, last = replica.execute("SELECT min(incident_date), max(incident_date) FROM fact_referral").fetchone()
    done = replicate(replica, copies=6, blocks=2)

    assert tables_unlike_their_recompute(replica) == []
    assert contract_findings(replica) == []
    assert replica.execute(TOTALS).fetchone() == tuple(6 * value for value in before)
    assert (
        replica.execute("SELECT * FROM fact_file_occurrence WHERE batch_id NOT LIKE '%#%' ORDER BY ALL").fetchall()
        == original_facts
    )
    span = timedelta(days=done["span_days"])
    assert replica.execute("SELECT min(incident_date), max(incident_date) FROM fact_referral").fetchone() == (
        first,
        last + span,
    )
    # Three copies per block: each block holds three times the original's referrals.
    per_block = replica.execute(
        "SELECT incident_date >= ? AS later, count(*) FROM fact_referral GROUP BY 1 ORDER BY 1", [first + span]
    ).fetchall()
    assert per_block == [(False, before[0] * 3), (True, before[0] * 3)]
    (missing_days,) = replica.execute(
        "SELECT count(*) FROM rollup_backlog_daily WHERE date_key NOT IN (SELECT date_key FROM dim_date)"
    ).fetchone()
    assert missing_days == 0


def test_a_replica_is_marked_and_cannot_be_replicated_again(replica):
    replicate(replica, copies=2, blocks=1)
    (mark,) = replica.execute("SELECT value FROM warehouse_meta WHERE key = 'replica_of'").fetchone()
    assert mark.startswith("2 copies in 1 time block")
    with pytest.raises(ReplicaError, match="already a replica"):
        replicate(replica, copies=2, blocks=1)


def test_copies_that_do_not_fill_the_blocks_evenly_are_refused_before_anything_changes(replica):
    before = replica.execute(TOTALS).fetchone()
    with pytest.raises(ReplicaError, match="multiple of --blocks"):
        replicate(replica, copies=5, blocks=2)
    with pytest.raises(ReplicaError, match="--copies must be"):
        replicate(replica, copies=1, blocks=1)
    assert replica.execute(TOTALS).fetchone() == before


def test_a_table_the_script_does_not_know_stops_it(replica):
    replica.execute("CREATE TABLE new_fact_table (referral_key UHUGEINT)")
    replica.execute("INSERT INTO new_fact_table VALUES (1)")
    with pytest.raises(ReplicaError, match="new_fact_table"):
        replicate(replica, copies=2, blocks=1)


def test_the_layout_moves_each_block_by_the_span():
    assert layout_of(copies=6, blocks=2, span_days=100) == [(1, 0), (2, 0), (3, 100), (4, 100), (5, 100)]
    assert layout_of(copies=3, blocks=3, span_days=10) == [(1, 10), (2, 20)]


def test_the_command_writes_a_new_file_and_leaves_the_source_as_it_was(built, tmp_path, capsys):
    source = tmp_path / "source.duckdb"
    shutil.copyfile(built, source)
    checksum = source.read_bytes()
    out = tmp_path / "out" / "replica.duckdb"
    assert main(["--source", str(source), "--out", str(out), "--copies", "2", "--no-analyse"]) == 0
    assert source.read_bytes() == checksum
    assert "run `grace analyse` on it" in capsys.readouterr().out
    con = connect(out, read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM warehouse_meta WHERE key = 'replica_of'").fetchone() == (1,)
    finally:
        con.close()
    with pytest.raises(SystemExit):
        main(["--source", str(source), "--out", str(tmp_path / "out" / "replica.duckdb")])


def test_a_replica_that_cannot_be_made_leaves_no_file_behind(built, tmp_path):
    out = tmp_path / "replica.duckdb"
    with pytest.raises(SystemExit, match="multiple of --blocks"):
        main(["--source", str(built), "--out", str(out), "--copies", "3", "--blocks", "2", "--no-analyse"])
    assert not out.exists()


def test_a_batch_loaded_into_a_replica_gets_the_rows_it_gets_in_the_original_and_the_rollups_stay_exact(
    built, deliveries, tmp_path
):
    last_batch = discover_batches(deliveries / "exports")[-1]
    original = tmp_path / "original.duckdb"
    shutil.copyfile(built, original)
    replica = tmp_path / "replica.duckdb"
    assert main(["--source", str(built), "--out", str(replica), "--copies", "4", "--blocks", "2", "--no-analyse"]) == 0
    assert (tmp_path / "replica.duckdb.pdq-index" / "snapshot" / "manifest.json").is_file()
    rows = {}
    for name, path in (("original", original), ("replica", replica)):
        con = connect(path)
        try:
            assert run_batch(con, last_batch, KEY).status == "loaded"
            rows[name] = {what: con.execute(sql, [last_batch.batch_id]).fetchall() for what, sql in BATCH_ROWS.items()}
            if name == "replica":
                assert tables_unlike_their_recompute(con) == []
        finally:
            con.close()
    assert all(rows["original"].values()), "the batch should bring rows of every kind compared"
    assert rows["replica"] == rows["original"]
