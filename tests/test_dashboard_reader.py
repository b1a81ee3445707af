"""The dashboard's shared, idle-closing read-only connection and the writer's wait for the lock."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from grace.errors import ConfigError
from grace.settings import reader_idle_seconds as idle_seconds_setting
from warehouse import WarehouseReader, connect, ensure_schema

WRITER = """
import sys, time
from warehouse import connect
started = time.monotonic()
con = connect(sys.argv[1])
con.execute("CREATE TABLE IF NOT EXISTS writer_was_here (x INTEGER)")
con.close()
print(round(time.monotonic() - started, 2))
"""


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "w.duckdb"
    con = connect(path)
    ensure_schema(con)
    con.close()
    return path


def test_sessions_of_one_reader_share_one_connection_while_it_is_in_use(warehouse):
    reader = WarehouseReader(warehouse, idle_seconds=60)
    with reader.session() as first, reader.session() as second:
        assert first.run("data_freshness").shape[0] == 1
        assert second.run("data_freshness").shape[0] == 1
    assert reader.is_open  # kept open for the next callback
    reader.close()
    assert not reader.is_open


def test_the_connection_closes_after_the_idle_time_so_another_process_can_write(warehouse):
    reader = WarehouseReader(warehouse, idle_seconds=0.3)
    with reader.session() as session:
        session.run("data_freshness")
    deadline = time.monotonic() + 5
    while reader.is_open and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not reader.is_open
    done = subprocess.run(
        [sys.executable, "-c", WRITER, str(warehouse)],
        capture_output=True,
        text=True,
        env={"GRACE_LOCK_WAIT_SECONDS": "0", "PATH": ""},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_a_writer_waits_for_the_reader_to_release_the_file(warehouse):
    reader = WarehouseReader(warehouse, idle_seconds=4.0)  # longer than the writer's start on a busy machine
    with reader.session() as session:
        session.run("data_freshness")
    done = subprocess.run(
        [sys.executable, "-c", WRITER, str(warehouse)],
        capture_output=True,
        text=True,
        env={"GRACE_LOCK_WAIT_SECONDS": "30", "PATH": ""},
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    assert float(done.stdout.strip()) >= 0.5  # it had to wait for the idle close (it starts in ~1-3 s)


def test_a_writer_that_cannot_get_the_lock_in_time_fails_naming_the_file(warehouse):
    reader = WarehouseReader(warehouse, idle_seconds=60)
    with reader.session():
        done = subprocess.run(
            [sys.executable, "-c", WRITER, str(warehouse)],
            capture_output=True,
            text=True,
            env={"GRACE_LOCK_WAIT_SECONDS": "0.5", "PATH": ""},
            timeout=60,
        )
    reader.close()
    assert done.returncode != 0
    assert "cannot open warehouse" in done.stderr and str(warehouse) in done.stderr


def test_a_bad_idle_setting_is_refused_with_its_name(monkeypatch):
    monkeypatch.setenv("GRACE_READER_IDLE_SECONDS", "soon")
    with pytest.raises(ConfigError, match="GRACE_READER_IDLE_SECONDS"):
        idle_seconds_setting()


def test_duckdb_threads_follow_the_setting_and_a_bad_value_is_refused_with_its_name(monkeypatch, tmp_path):
    monkeypatch.setenv("GRACE_DUCKDB_THREADS", "1")
    con = connect(tmp_path / "threads.duckdb")
    try:
        assert con.execute("SELECT current_setting('threads')").fetchone()[0] == 1
    finally:
        con.close()
    monkeypatch.setenv("GRACE_DUCKDB_THREADS", "many")
    with pytest.raises(ConfigError, match="GRACE_DUCKDB_THREADS"):
        connect(tmp_path / "threads.duckdb")


def duckdb_shows(limit: str) -> str:
    """How DuckDB reports a memory limit set to `limit` (e.g. 1GB as '953.6 MiB')."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET memory_limit = ?", [limit])
        return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    finally:
        con.close()


def reader_memory_limit_of(warehouse) -> str:
    reader = WarehouseReader(warehouse, idle_seconds=60)
    try:
        with reader.cursor() as cursor:
            return cursor.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    finally:
        reader.close()


def test_readers_run_under_their_own_1gb_memory_limit_and_writers_under_3gb(monkeypatch, warehouse):
    monkeypatch.delenv("GRACE_READER_MEMORY_LIMIT", raising=False)
    monkeypatch.delenv("GRACE_DUCKDB_MEMORY_LIMIT", raising=False)
    assert reader_memory_limit_of(warehouse) == duckdb_shows("1GB")
    writer = connect(warehouse)
    try:
        assert writer.execute("SELECT current_setting('memory_limit')").fetchone()[0] == duckdb_shows("3GB")
    finally:
        writer.close()


def test_the_readers_memory_limit_follows_its_setting_and_a_bad_value_is_refused_with_its_name(monkeypatch, warehouse):
    monkeypatch.setenv("GRACE_READER_MEMORY_LIMIT", "512MB")
    assert reader_memory_limit_of(warehouse) == duckdb_shows("512MB")
    monkeypatch.setenv("GRACE_READER_MEMORY_LIMIT", "plenty")
    with pytest.raises(ConfigError, match="GRACE_READER_MEMORY_LIMIT"):
        reader_memory_limit_of(warehouse)
