"""The ETL increment benchmark's comparison of two warehouse copies: real DuckDB files, volatile columns ignored."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.etl_increment import differing_rows  # noqa: E402


def warehouse(path: Path, counts: list[int], loaded_at: str) -> Path:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE mart (cell INTEGER, clusters BIGINT, merged_at TIMESTAMP)")
    con.executemany("INSERT INTO mart VALUES (?, ?, ?)", [[n, c, loaded_at] for n, c in enumerate(counts)])
    con.execute("CREATE TABLE etl_batch (batch_id VARCHAR, stage_seconds VARCHAR)")
    con.execute("INSERT INTO etl_batch VALUES ('b1', ?)", [loaded_at])
    con.close()
    return path


def test_copies_that_differ_only_in_when_they_were_written_have_no_differing_rows(tmp_path):
    one = warehouse(tmp_path / "a.duckdb", [3, 4, 4], "2026-01-01 10:00:00")
    other = warehouse(tmp_path / "b.duckdb", [3, 4, 4], "2026-01-02 11:00:00")
    assert differing_rows(one, other) == {"mart": 0}


def test_rows_missing_from_either_copy_are_counted_in_both_directions(tmp_path):
    one = warehouse(tmp_path / "a.duckdb", [3, 4, 4], "2026-01-01 10:00:00")
    other = warehouse(tmp_path / "b.duckdb", [3, 5, 4, 4], "2026-01-01 10:00:00")
    # (cell, clusters): a holds (1, 4) that b lacks; b holds (1, 5) and (3, 4) that a lacks.
    assert differing_rows(one, other) == {"mart": 3}
