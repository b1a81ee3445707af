"""The dashboard's cache of named-query results (`warehouse/result_cache.py`): reused only for the same
query, parameters and data version, never handed out for another scope, gone after any write."""

from __future__ import annotations

import subprocess
import sys
import threading

import pandas as pd
import pytest

from warehouse import WarehouseReader, connect, ensure_schema
from warehouse.result_cache import ResultCache, frozen

WRITER = """
import sys
from warehouse import connect
from warehouse.period_rollups import refresh_period_rollups
con = connect(sys.argv[1])
con.execute(
    "INSERT INTO rollup_referral_daily SELECT DATE '2024-03-05', ?, 'PlatformA', 'c', 'T1', false, false, false, "
    "7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0",
    [sys.argv[2]],
)
refresh_period_rollups(con, None)
con.close()
"""


def add_referrals(path, country: str) -> None:
    """Write to the warehouse from another process, as the ETL would."""
    done = subprocess.run([sys.executable, "-c", WRITER, str(path), country], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "w.duckdb"
    con = connect(path)
    ensure_schema(con)
    con.close()
    add_referrals(path, "DEU")
    add_referrals(path, "MLT")
    return path


def monthly(session, *countries: str) -> pd.DataFrame:
    return session.run("referrals_monthly", countries=list(countries), platforms=[], split_by_country=False)


def test_the_same_question_on_the_same_data_is_answered_from_the_cache_with_a_copy(warehouse):
    reader = WarehouseReader(warehouse, idle_seconds=60, cache_bytes=1 << 20)
    with reader.session() as session:
        first = monthly(session, "DEU")
        first["referrals"] = -1  # a caller changing its frame must not change the cached one
        second = monthly(session, "DEU")
    assert (reader.cache.hits, reader.cache.misses) == (1, 1)
    assert second["referrals"].sum() == 7
    reader.close()


def test_a_result_is_never_reused_for_another_scope(warehouse):
    reader = WarehouseReader(warehouse, idle_seconds=60, cache_bytes=1 << 20)
    with reader.session() as session:
        eu = monthly(session)
        malta = monthly(session, "MLT")
        germany = monthly(session, "DEU")
    assert (eu["referrals"].sum(), malta["referrals"].sum(), germany["referrals"].sum()) == (14, 7, 7)
    assert reader.cache.hits == 0 and len(reader.cache) == 3
    reader.close()


def test_a_write_to_the_warehouse_makes_every_cached_result_unreachable(warehouse):
    reader = WarehouseReader(warehouse, idle_seconds=0, cache_bytes=1 << 20)  # closes after each session
    with reader.session() as session:
        assert monthly(session, "DEU")["referrals"].sum() == 7
    add_referrals(warehouse, "DEU")  # an ETL batch of another process
    with reader.session() as session:
        assert monthly(session, "DEU")["referrals"].sum() == 14
    assert reader.cache.hits == 0 and len(reader.cache) == 1  # the result of the older version is gone


def test_a_cache_of_zero_bytes_is_off(warehouse):
    reader = WarehouseReader(warehouse, idle_seconds=60, cache_bytes=0)
    with reader.session() as session:
        monthly(session, "DEU")
        monthly(session, "DEU")
    assert len(reader.cache) == 0 and reader.cache.hits == 0
    reader.close()


def test_the_cache_keeps_to_its_size_dropping_the_least_recently_used():
    frame = pd.DataFrame({"x": range(1000)})
    size = int(frame.memory_usage(index=True, deep=True).sum())
    cache = ResultCache(max_bytes=size * 4)
    for name in ("a", "b", "c", "d"):
        cache.put("v1", cache.key(name, {}), frame)
    assert cache.get("v1", cache.key("a", {})) is not None  # "a" is now the most recently used
    cache.put("v1", cache.key("e", {}), frame)
    assert cache.get("v1", cache.key("b", {})) is None and cache.get("v1", cache.key("a", {})) is not None
    cache.put("v1", cache.key("huge", {}), pd.concat([frame] * 4))  # over a quarter of the cache: not kept
    assert cache.get("v1", cache.key("huge", {})) is None
    assert cache.get("v2", cache.key("a", {})) is None and len(cache) == 0  # a new version drops the rest


def test_parameter_values_are_keyed_by_content_and_unhashable_ones_are_not_cached():
    assert frozen(["DEU", ["MLT"]]) == ("DEU", ("MLT",))
    assert ResultCache.key("q", {"countries": ["DEU"]}) == ResultCache.key("q", {"countries": ("DEU",)})
    assert ResultCache.key("q", {"countries": ["DEU"]}) != ResultCache.key("q", {"countries": ["MLT"]})
    assert ResultCache.key("q", {"frame": pd.DataFrame()}) is None


def test_sessions_on_many_threads_share_the_cache_safely(warehouse):
    reader = WarehouseReader(warehouse, idle_seconds=60, cache_bytes=1 << 20)
    totals: list[int] = []

    def ask(country: str) -> None:
        for _ in range(20):
            with reader.session() as session:
                totals.append(int(monthly(session, country)["referrals"].sum()))

    threads = [threading.Thread(target=ask, args=(country,)) for country in ("DEU", "MLT", "DEU", "MLT")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert totals == [7] * 80 and reader.cache.hits >= 76
    reader.close()
