"""Grow a warehouse to a multiple of its referrals by copying it: the readers measured at a size the ETL
cannot reach in one session on this machine (`benchmarks/scale.py --warehouse` at 100 M referrals; the ETL
would take ~5 h there, docs/BENCHMARKS.md).

The result holds `--copies` copies of every referral (the original is copy 0), laid out in `--blocks`
consecutive time blocks of copies ÷ blocks copies each. Block t's copies have every date moved t × span
days later (span: the days from the first incident date to the last), so the warehouse covers `blocks`
times the years; within a block the copies are the same referrals again under other keys, as if more
agencies reported them. The original stays as it was; every other copy has its own referral keys, media
cluster and perceptual ids and account pseudonyms (the original's moved right by 8 bits, so their order is
kept, with the copy's number in the top byte), its own MD5 (a media cluster's is its new id written in hex,
as the ETL expects of a cluster's MD5), SHA1, batch ids and PDQ hashes (each XORed with the copy's own
random mask: distances within a copy are kept, those to any other copy's hashes are ~128, so copies never
match each other) at index slots after the original's. Copies share no item, so:

- facts and per-item tables get one appended copy per copy;
- daily rollups and the reach mart (counts per cell) are multiplied by the copies per block, moved per
  block and summed where two blocks' rows share a cell (a block's late received and triaged days fall
  into the next block's dates): counts of disjoint items add;
- the distinct-count mart: block 0's rows multiplied; each later block's computed from its first copy's
  facts (its weeks and months do not map onto the original's), multiplied, and summed into the others;
- the weekly and monthly rollups are rebuilt from the daily ones, `dim_date` extended;
- analyses are not copied: the script runs `grace analyse --metrics default` on the result, as the
  benchmark builds do (`--no-analyse` to skip).

The result keeps what the ETL keeps, and the ETL can load more batches into it: its near-duplicate index is
built from it at the end, and a new batch finds in it exactly what it finds in the original (new material
near-duplicate of the original's, never of a copy's). tests/test_benchmark_replicate_warehouse.py checks
both: every rollup and kept table equals its recompute from the facts, before and after a batch loaded into
the replica, and that batch's rows are the ones it gets in the original. `warehouse_meta` marks a replica.

    .venv/bin/python benchmarks/replicate_warehouse.py --source /work/bench10m/warehouse.duckdb \\
        --out /work/bench100m/warehouse.duckdb --copies 10 --blocks 2
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import duckdb  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks.dashboard import bench_env, grace_cmd  # noqa: E402
from matching.cluster_index import ClusterIndex  # noqa: E402
from matching.lookup import clustered_radius  # noqa: E402
from warehouse import connect, read_sql  # noqa: E402
from warehouse.period_rollups import refresh_period_rollups  # noqa: E402

# One appended copy per copy: facts and every table with a row per item (referral, file, cluster, account,
# batch, scoring run).
PER_ITEM = (
    "fact_referral",
    "fact_file_occurrence",
    "media_cluster",
    "cluster_reach",
    "cluster_spread",
    "account_first_report",
    "perceptual_member",
    "perceptual_cluster",
    "perceptual_merge",
    "bank_match",
    "etl_batch",
    "quarantine",
    "triage_run",
    "triage_score",
)
# Counts per cell (their BIGINT columns; every other column is part of the cell).
PER_CELL = (
    "rollup_referral_daily",
    "rollup_file_daily",
    "rollup_backlog_daily",
    "rollup_cluster_spread_daily",
    "rollup_perceptual_daily",
    "rollup_triage_daily",
    "mart_cluster_reach",
)
PERIOD_COPIES = (  # rebuilt from the daily rollups
    "rollup_referral_weekly",
    "rollup_referral_monthly",
    "rollup_file_weekly",
    "rollup_file_monthly",
    "rollup_perceptual_weekly",
    "rollup_perceptual_monthly",
)
DISTINCT_MART = "mart_distinct_period"
# Left as they are: dimensions (dim_date is extended), banks and hash sets, imported statistics, models and
# rule sets, federation releases, the analyses (re-run them), the warehouse's own bookkeeping.
UNCHANGED_PREFIXES = (
    *("dim_", "hash_", "published_statistic", "import_log", "triage_model", "triage_rule_set"),
    *("dp_", "analytics_", "warehouse_meta", "audit_"),
)
# Text columns that name a batch or run: a copy's get "#<copy>".
BATCH_COLUMNS = {"batch_id", "found_by", "last_changed_batch", "run_id", "source_path", "checksum"}
COPY_BITS = 120  # a copy's number sits above this bit of its UHUGEINT ids
PDQ_WORDS = 4  # a PDQ hash as hex: four 64-bit words
MAX_COPIES = 255
META_KEY = "replica_of"
MASK_SEED = 20261207
INDEX_MEMORY_LIMIT = "2GB"  # DuckDB's, while the near-duplicate index is built


class ReplicaError(Exception):
    """The warehouse or the options cannot be replicated as asked."""


def one_row(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple:
    """The single row of an aggregate query."""
    row = con.execute(sql, params).fetchone()
    assert row is not None, sql
    return row


def columns_of(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    """(name, type) of a table's columns, in order."""
    return con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()


def check_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Every table must be one this script knows how to copy (or leaves as it is): a table added to the
    schema later must be placed in one of the lists above, not copied wrongly or silently left."""
    known = set(PER_ITEM) | set(PER_CELL) | set(PERIOD_COPIES) | {DISTINCT_MART}
    tables = [name for (name,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
    unplaced = [name for name in tables if name not in known and not name.startswith(UNCHANGED_PREFIXES)]
    if unplaced:
        raise ReplicaError(f"tables this script does not know how to copy: {', '.join(unplaced)}")
    if one_row(con, "SELECT count(*) FROM warehouse_meta WHERE key = ?", [META_KEY])[0]:
        raise ReplicaError("the warehouse is already a replica; replicate its source instead")


def copy_expression(table: str, column: str, dtype: str) -> str:
    """The SQL for one column of a copy, with parameters $copy (its number), $shift (its days), $slots
    (the original's PDQ slots) and $mask0 … $mask3 (its PDQ mask, hex words)."""
    quoted = f'"{column}"'
    copy = "$copy"
    if dtype == "UHUGEINT":
        return copied_id(quoted)
    if (table, column) == ("media_cluster", "md5"):
        # A cluster's id is its MD5 as a number (the ETL looks MD5s up by id): the copy's MD5 is its new id.
        new_id = copied_id('"cluster_id"')
        return f"CASE WHEN {quoted} IS NULL THEN NULL ELSE lpad(lower(hex({new_id})), 32, '0') END"
    if column == "pdq":
        words = " || ".join(
            f"format('{{:016x}}', xor(('0x' || substr({quoted}, {16 * word + 1}, 16))::UBIGINT, "
            f"('0x' || $mask{word})::UBIGINT))"
            for word in range(PDQ_WORDS)
        )
        return f"CASE WHEN {quoted} IS NULL THEN NULL ELSE {words} END"
    if column == "pdq_slot":
        return f"{quoted} + CAST({copy} AS BIGINT) * $slots"
    if dtype == "DATE":
        return f"{quoted} + CAST($shift AS INTEGER)"
    if column in BATCH_COLUMNS:
        return f"{quoted} || '#' || {copy}"
    if column == "md5":
        return f"md5({quoted} || '#' || {copy})"
    if column == "sha1":
        return f"sha1({quoted} || '#' || {copy})"
    return quoted


def copied_id(quoted: str) -> str:
    """A copy's UHUGEINT id: the original's moved right by 8 bits, the copy's number in the top byte."""
    return f"({quoted} >> 8) + (CAST($copy AS UHUGEINT) << {COPY_BITS})"


def pdq_mask(copy: int) -> list[str]:
    """Copy `copy`'s PDQ mask as four hex words: random, and the same in every run (seeded by the copy)."""
    words = np.random.default_rng([MASK_SEED, copy]).integers(0, 2**64, size=PDQ_WORDS, dtype=np.uint64)
    return [f"{int(word):016x}" for word in words]


def append_copies(con: duckdb.DuckDBPyConnection, layout: list[tuple[int, int]], progress) -> None:
    """Append every copy of every per-item table; `layout` is [(copy, shift in days)] without copy 0."""
    (slots,) = one_row(con, "SELECT coalesce(max(pdq_slot) + 1, 0) FROM perceptual_member")
    for table in PER_ITEM:
        columns = columns_of(con, table)
        # Row ids of deleted rows are not reused, so the original rows are those up to the largest id now.
        originals, last_row = one_row(con, f'SELECT count(*), coalesce(max(rowid), -1) FROM "{table}"')
        names = ", ".join(f'"{name}"' for name, _ in columns)
        values = ", ".join(copy_expression(table, name, dtype) for name, dtype in columns)
        started = time.perf_counter()
        sql = f'INSERT INTO "{table}" ({names}) SELECT {values} FROM "{table}" WHERE rowid <= $last_row'
        for copy, shift in layout:
            mask = {f"mask{word}": value for word, value in enumerate(pdq_mask(copy))}
            given = {"copy": copy, "shift": shift, "last_row": last_row, "slots": slots, **mask}
            con.execute(sql, {name: value for name, value in given.items() if f"${name}" in sql})
        progress(f"{table}: {originals:,} rows × {len(layout) + 1} in {time.perf_counter() - started:.1f} s")


def multiply_cells(con: duckdb.DuckDBPyConnection, table: str, shifts: list[int], per_block: int) -> None:
    """A per-cell table's rows for every block (dates moved by the block's shift, counts × copies per
    block), summed where blocks share a cell."""
    columns = columns_of(con, table)
    moved = ", ".join(f'"{name}" + b.shift AS "{name}"' if dtype == "DATE" else f'"{name}"' for name, dtype in columns)
    cell = ", ".join(f'"{name}"' for name, dtype in columns if dtype != "BIGINT")
    summed = ", ".join(
        f'sum("{name}" * {per_block})::BIGINT AS "{name}"' for name, dtype in columns if dtype == "BIGINT"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE replica_cells AS SELECT {cell}, {summed} "
        f'FROM (SELECT {moved} FROM "{table}" CROSS JOIN (SELECT unnest($shifts) AS shift) AS b) '
        "GROUP BY ALL ORDER BY ALL",
        {"shifts": shifts},
    )
    con.execute(f'DELETE FROM "{table}"')
    con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM replica_cells')
    con.execute("DROP TABLE replica_cells")


def rebuild_distinct_mart(con: duckdb.DuckDBPyConnection, block_firsts: list[int], per_block: int) -> None:
    """Block 0's distinct counts × copies per block; each later block's from its first copy's facts, the
    same ×; summed by cell (a week can straddle two blocks)."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE replica_mart AS SELECT grain, period_start, country_iso3, platform_name, "
        f"accounts * {per_block} AS accounts, clusters * {per_block} AS clusters FROM {DISTINCT_MART}"
    )
    grains = [grain for (grain,) in con.execute(f"SELECT DISTINCT grain FROM {DISTINCT_MART} ORDER BY 1").fetchall()]
    for copy in block_firsts[1:]:
        for grain in grains:
            con.execute(
                f"INSERT INTO replica_mart SELECT grain, period_start, country_iso3, platform_name, "
                f"accounts * {per_block}, clusters * {per_block} FROM ("
                + read_sql("benchmarks/replica_distinct_mart.sql")
                + ")",
                {"copy": copy, "grain": grain},
            )
    con.execute(f"DELETE FROM {DISTINCT_MART}")
    con.execute(
        f"INSERT INTO {DISTINCT_MART} BY NAME SELECT grain, period_start, country_iso3, platform_name, "
        "sum(accounts)::BIGINT AS accounts, sum(clusters)::BIGINT AS clusters FROM replica_mart "
        "GROUP BY ALL ORDER BY ALL"
    )
    con.execute("DROP TABLE replica_mart")


def extend_dim_date(con: duckdb.DuckDBPyConnection) -> None:
    """Calendar days for every day the copies reach, as the ETL adds them."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE affected_dates AS SELECT DISTINCT date_key FROM rollup_referral_daily "
        "UNION SELECT DISTINCT date_key FROM rollup_backlog_daily"
    )
    con.execute(read_sql("etl/insert_calendar_days.sql"))
    con.execute("DROP TABLE affected_dates")


def layout_of(copies: int, blocks: int, span_days: int) -> list[tuple[int, int]]:
    """[(copy, shift in days)] for copies 1..copies-1: block t = copy // (copies per block)."""
    per_block = copies // blocks
    return [(copy, (copy // per_block) * span_days) for copy in range(1, copies)]


def replicate(con: duckdb.DuckDBPyConnection, copies: int, blocks: int, progress=lambda message: None) -> dict:
    """Replicate the warehouse open on `con` in place (one transaction); returns what was done."""
    if not 2 <= copies <= MAX_COPIES:
        raise ReplicaError(f"--copies must be 2-{MAX_COPIES}, not {copies}")
    if blocks < 1 or copies % blocks:
        raise ReplicaError(f"--copies ({copies}) must be a multiple of --blocks ({blocks})")
    check_tables(con)
    first, last = one_row(con, "SELECT min(incident_date), max(incident_date) FROM fact_referral")
    if first is None:
        raise ReplicaError("the warehouse holds no referrals")
    span_days = (last - first).days + 1
    per_block = copies // blocks
    layout = layout_of(copies, blocks, span_days)
    shifts = [block * span_days for block in range(blocks)]
    con.execute("BEGIN TRANSACTION")
    try:
        append_copies(con, layout, progress)
        for table in PER_CELL:
            started = time.perf_counter()
            multiply_cells(con, table, shifts, per_block)
            progress(f"{table}: counts × {per_block} over {blocks} block(s) in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        rebuild_distinct_mart(con, [block * per_block for block in range(blocks)], per_block)
        progress(f"{DISTINCT_MART}: rebuilt in {time.perf_counter() - started:.1f} s")
        extend_dim_date(con)
        started = time.perf_counter()
        refresh_period_rollups(con, None)
        progress(f"weekly and monthly rollups rebuilt in {time.perf_counter() - started:.1f} s")
        con.execute(
            "INSERT OR REPLACE INTO warehouse_meta (key, value) VALUES (?, ?)",
            [META_KEY, f"{copies} copies in {blocks} time block(s) of {span_days} days"],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return {"copies": copies, "blocks": blocks, "span_days": span_days, "first": str(first), "last": str(last)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--source", type=Path, required=True, help="the warehouse to copy (left as it is)")
    parser.add_argument("--out", type=Path, required=True, help="the replica's warehouse file (must not exist)")
    parser.add_argument("--copies", type=int, default=10, help="copies of every referral, the original included [10]")
    parser.add_argument("--blocks", type=int, default=2, help="time blocks the copies are laid out in [2]")
    parser.add_argument("--no-analyse", action="store_true", help="skip `grace analyse` on the result")
    args = parser.parse_args(argv)
    if not args.source.is_file():
        parser.error(f"--source {args.source}: no such warehouse file")
    index_dir = args.out.with_name(args.out.name + ".pdq-index")
    if args.out.exists() or index_dir.exists():
        parser.error(f"--out {args.out}: exists (or its index does); choose a new file")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    clock = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - clock:7.1f} s] {message}", flush=True)

    shutil.copyfile(args.source, args.out)
    progress(f"copied {args.source} ({args.source.stat().st_size / 1e9:.2f} GB)")
    try:
        con = connect(args.out)
        try:
            done = replicate(con, args.copies, args.blocks, progress)
            con.execute("CHECKPOINT")
            (referrals,) = one_row(con, "SELECT count(*) FROM fact_referral")
        finally:
            con.close()
        progress("building the near-duplicate index from the replica's PDQ hashes")
        # A new connection with little memory: the index (~85 bytes per hash, more while it grows) and the
        # pages a replication leaves cached under a raised GRACE_DUCKDB_MEMORY_LIMIT did not fit 24 GB
        # together at 100 M referrals (the process was killed); the index only reads hashes in chunks.
        con = connect(args.out, memory_limit=INDEX_MEMORY_LIMIT)
        try:
            started = time.perf_counter()
            index = ClusterIndex.open(con, clustered_radius(con))
            index.compact(force=True)
            progress(f"near-duplicate index: {len(index):,} PDQs in {time.perf_counter() - started:.1f} s")
        finally:
            con.close()
    except BaseException as error:  # no half-made replica is left behind
        for leftover in (args.out, args.out.with_name(args.out.name + ".wal")):
            leftover.unlink(missing_ok=True)
        shutil.rmtree(index_dir, ignore_errors=True)
        if isinstance(error, ReplicaError):
            raise SystemExit(f"{args.source}: {error}") from None
        raise
    progress(
        f"{args.out}: {referrals:,} referrals, {done['first']} + {done['blocks']} × {done['span_days']} days, "
        f"{args.out.stat().st_size / 1e9:.2f} GB"
    )
    if args.no_analyse:
        progress("not analysed (--no-analyse): run `grace analyse` on it before measuring the dashboard")
        return 0
    home = args.out.parent / "home"
    home.mkdir(exist_ok=True)
    subprocess.run(
        grace_cmd("analyse", "--warehouse", str(args.out), "--metrics", "default", "--quiet"),
        check=True,
        env=bench_env(home),
    )
    progress("analysed (grace analyse --metrics default)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
