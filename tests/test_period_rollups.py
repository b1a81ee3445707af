"""Weekly and monthly rollups (warehouse/period_rollups.py) and the readers that take whole periods from them.

The period tables must always hold exactly the daily rollups summed per week and month, whoever wrote the
daily rows (the ETL, a hash-set import, a schema upgrade), and every reader must give the same answer as if
it had summed the daily rows itself, whatever the selected days.
"""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from builders import simulated_warehouse

import analytics.warehouse_series as warehouse_series
from analytics.warehouse_series import load_series
from etl.hashsets import import_hash_set
from etl.perceptual import MatchingParams, rebuild
from matching.banks import import_bank
from warehouse import QueryError, connect, upgrade_schema
from warehouse.period_rollups import PERIOD_ROLLUPS, refresh_period_rollups
from warehouse.sql_files import _with_fragments, load_query

PERIOD_TABLES = [
    (daily, grain, table) for daily, (_, tables) in PERIOD_ROLLUPS.items() for grain, table in tables.items()
]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """Two years through the real simulator and ETL, the simulator's known hashes imported first."""
    return simulated_warehouse(tmp_path_factory.mktemp("periods"), hash_set=True)


def differences(con, daily: str, grain: str, table: str) -> int:
    """Rows in which `table` and the daily rollup summed per `grain` disagree (either way)."""
    columns = [row[0] for row in con.execute(f"DESCRIBE {daily}").fetchall()]
    measures = [
        c
        for c, t in con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {daily})").fetchall()
        if t == "BIGINT"
    ]
    dimensions = [c for c in columns if c not in measures and c != "date_key"]
    summed = (
        f"SELECT CAST(date_trunc('{grain}', date_key) AS DATE) AS date_key, {', '.join(dimensions)}, "
        + ", ".join(f"CAST(sum({m}) AS BIGINT) AS {m}" for m in measures)
        + f" FROM {daily} GROUP BY ALL"
    )
    stored = f"SELECT date_key, {', '.join(dimensions)}, {', '.join(measures)} FROM {table}"
    row = con.execute(
        f"SELECT count(*) FROM (({summed}) EXCEPT ALL ({stored}) UNION ALL (({stored}) EXCEPT ALL ({summed})))"
    ).fetchone()
    return int(row[0])


def perceptual_differences(con) -> int:
    """`differences` of the perceptual rollup's weekly and monthly copies, summed."""
    return sum(
        differences(con, "rollup_perceptual_daily", grain, table)
        for grain, table in PERIOD_ROLLUPS["rollup_perceptual_daily"][1].items()
    )


def test_the_etl_keeps_every_weekly_and_monthly_rollup_equal_to_its_daily_rollup_summed(warehouse):
    con = connect(warehouse, read_only=True)
    try:
        for daily, grain, table in PERIOD_TABLES:
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0, table
            assert differences(con, daily, grain, table) == 0, table
    finally:
        con.close()


def test_a_hash_set_import_that_rewrites_the_file_rollup_rewrites_its_periods_too(warehouse, tmp_path):
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse, copy)
    known = (warehouse.parent / "sim" / "hashsets" / "known_hashes.csv").read_text().splitlines()
    hashes = tmp_path / "second.csv"
    hashes.write_text("\n".join(known[:-1]) + "\n")  # another file (an import is keyed by its checksum)
    con = connect(copy)
    try:
        con.execute("DELETE FROM rollup_file_monthly WHERE date_key = (SELECT min(date_key) FROM rollup_file_monthly)")
        import_hash_set(con, hashes, name="second-list")
        assert differences(con, "rollup_file_daily", "month", "rollup_file_monthly") == 0
        assert differences(con, "rollup_file_daily", "week", "rollup_file_weekly") == 0
    finally:
        con.close()


def test_a_schema_9_warehouse_is_upgraded_with_its_period_rollups_filled(warehouse, tmp_path):
    copy = tmp_path / "old.duckdb"
    shutil.copy(warehouse, copy)
    con = connect(copy)
    try:
        for _, _, table in PERIOD_TABLES:
            con.execute(f"DROP TABLE {table}")
        con.execute("UPDATE warehouse_meta SET value = '9' WHERE key = 'schema_version'")
        assert upgrade_schema(con)[0] == "9"
        for daily, grain, table in PERIOD_TABLES:
            assert differences(con, daily, grain, table) == 0, table
    finally:
        con.close()


def test_a_schema_10_warehouse_gets_its_perceptual_period_rollups_filled(warehouse, tmp_path):
    copy = tmp_path / "old.duckdb"
    shutil.copy(warehouse, copy)
    con = connect(copy)
    try:
        con.execute("DROP TABLE rollup_perceptual_weekly")
        con.execute("DROP TABLE rollup_perceptual_monthly")
        con.execute("UPDATE warehouse_meta SET value = '10' WHERE key = 'schema_version'")
        assert upgrade_schema(con)[0] == "10"
        assert con.execute("SELECT count(*) FROM rollup_perceptual_monthly").fetchone()[0] > 0
        assert perceptual_differences(con) == 0
    finally:
        con.close()


def test_a_hash_bank_import_that_rewrites_the_perceptual_rollup_rewrites_its_periods_too(warehouse, tmp_path):
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse, copy)
    con = connect(copy)
    try:
        md5s = [
            row[0] for row in con.execute("SELECT md5 FROM hash_set_entry WHERE md5 IS NOT NULL LIMIT 50").fetchall()
        ]
        bank = tmp_path / "bank.csv"
        bank.write_text("md5,category\n" + "".join(f"{md5},A1\n" for md5 in md5s), encoding="utf-8")
        before = con.execute("SELECT sum(bank_matched_files) FROM rollup_perceptual_monthly").fetchone()[0]
        import_bank(con, bank, "industry", scheme="industry", version="1", source="test list")
        after = con.execute("SELECT sum(bank_matched_files) FROM rollup_perceptual_monthly").fetchone()[0]
        assert after > before
        assert perceptual_differences(con) == 0
    finally:
        con.close()


def test_a_matching_rebuild_rewrites_the_perceptual_periods_with_the_daily_rows(warehouse, tmp_path):
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse, copy)
    con = connect(copy)
    try:
        con.execute("UPDATE rollup_perceptual_monthly SET files = files + 1000")  # stale rows must not survive
        rebuild(con, MatchingParams(radius=20))
        assert perceptual_differences(con) == 0
    finally:
        con.close()


PERCEPTUAL_QUERIES = {
    "dissemination_bank_matches": ("category_code", ["files", "bank_matched_files"]),
    "dissemination_perceptual_reshares": (None, ["files", "cross_platform_reshares", "cross_country_reshares"]),
}


@pytest.mark.parametrize("query", sorted(PERCEPTUAL_QUERIES))
@pytest.mark.parametrize(
    ("start", "end", "grain"),
    [(None, None, "month"), ("2023-03-15", "2024-06-20", "quarter"), ("2024-02-07", "2024-05-09", "week")],
)
def test_the_perceptual_queries_read_from_the_period_rollups_answer_as_if_summing_the_days(
    warehouse, query, start, end, grain
):
    key, measures = PERCEPTUAL_QUERIES[query]
    keys = ["period", *([key] if key else [])]
    params = {"countries": [], "platforms": [], "start": start, "end": end, "grain": grain}
    daily = (
        f"SELECT CAST(date_trunc($grain, date_key) AS DATE) AS period{', ' + key if key else ''}, "
        + ", ".join(f"CAST(sum({m}) AS BIGINT) AS {m}" for m in measures)
        + " FROM rollup_perceptual_daily WHERE ($start IS NULL OR date_key >= CAST($start AS DATE))"
        " AND ($end IS NULL OR date_key <= CAST($end AS DATE)) GROUP BY ALL HAVING sum(files) > 0 ORDER BY ALL"
    )
    con = connect(warehouse, read_only=True)
    try:
        answered = con.execute(load_query(query).sql, params).df()
        expected = con.execute(daily, {"start": start, "end": end, "grain": grain}).df()
    finally:
        con.close()
    answered = answered[answered["files"] > 0][keys + measures].reset_index(drop=True)
    assert len(expected) > 0
    assert answered.astype(dict.fromkeys(measures, "int64")).equals(expected.astype(dict.fromkeys(measures, "int64")))


def test_refreshing_some_dates_rewrites_only_their_weeks_and_months(warehouse, tmp_path):
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse, copy)
    con = connect(copy)
    try:
        con.execute("UPDATE rollup_referral_daily SET referrals = referrals + 1000 WHERE date_key = DATE '2024-02-29'")
        con.execute("CREATE TEMP TABLE changed AS SELECT DATE '2024-02-29' AS date_key")
        assert refresh_period_rollups(con, "changed") == 2  # its ISO week and its month
        assert differences(con, "rollup_referral_daily", "month", "rollup_referral_monthly") == 0
        assert differences(con, "rollup_referral_daily", "week", "rollup_referral_weekly") == 0
    finally:
        con.close()


SELECTION_SQL = """
WITH rollup_choice AS (
    SELECT CAST($coarse AS VARCHAR) AS coarse
),
-- @include period_rows referral
final AS (
    SELECT country_iso3, platform_name, CAST(sum(referrals) AS BIGINT) AS referrals, CAST(sum(files) AS BIGINT) AS files
    FROM referral_rows
    GROUP BY ALL
)
SELECT * FROM final ORDER BY ALL
"""
DAILY_SQL = """
SELECT country_iso3, platform_name, CAST(sum(referrals) AS BIGINT) AS referrals, CAST(sum(files) AS BIGINT) AS files
FROM rollup_referral_daily
WHERE ($start IS NULL OR date_key >= CAST($start AS DATE)) AND ($end IS NULL OR date_key <= CAST($end AS DATE))
GROUP BY ALL ORDER BY ALL
"""
SELECTIONS = [
    (None, None),  # everything
    ("2023-01-01", "2024-12-31"),  # whole months and weeks at both ends
    ("2023-03-15", "2024-06-20"),  # partial months at both ends
    ("2023-03-15", None),
    (None, "2024-06-20"),
    ("2024-02-03", "2024-02-27"),  # inside one month, across whole weeks
    ("2024-02-07", "2024-02-09"),  # inside one week
    ("2024-02-29", "2024-02-29"),  # one day
    ("2024-03-04", "2024-03-31"),  # starts on a Monday, ends on a month's last day (a Sunday)
    ("2024-05-01", "2024-04-30"),  # empty
]


@pytest.mark.parametrize("coarse", ["day", "week", "month"])
@pytest.mark.parametrize(("start", "end"), SELECTIONS)
def test_the_period_rows_of_any_day_selection_sum_to_the_daily_rollup_of_those_days(warehouse, coarse, start, end):
    con = connect(warehouse, read_only=True)
    try:
        sql = _with_fragments(SELECTION_SQL, warehouse)
        got = con.execute(sql, {"coarse": coarse, "start": start, "end": end}).fetchall()
        expected = con.execute(DAILY_SQL, {"start": start, "end": end}).fetchall()
    finally:
        con.close()
    assert got == expected


def test_a_fragment_for_several_rollups_refuses_to_be_included_without_naming_one(tmp_path):
    with pytest.raises(QueryError, match="needs a rollup name"):
        _with_fragments("WITH -- nothing\n-- @include period_rows\nx AS (SELECT 1) SELECT 1", tmp_path / "q.sql")
    with pytest.raises(QueryError, match="takes no argument"):
        _with_fragments("WITH\n-- @include covered_until referral\nSELECT 1", tmp_path / "q.sql")


@pytest.mark.parametrize(
    ("metric", "grain", "split"),
    [
        ("referrals", "month", None),
        ("referrals", "week", "country"),
        ("actionable_referrals", "quarter", "platform"),
        ("sextortion_referrals", "year", "annotation"),
        ("files", "month", "category"),
        ("self_generated_share", "week", None),
        ("platform_share", "month", "platform"),
        ("near_duplicate_variants", "month", "country"),
        ("variants_per_new_item", "week", None),
        ("bank_matched_files", "quarter", "category"),
    ],
)
def test_series_read_from_the_period_rollups_equal_series_summed_from_the_daily_rollups(
    warehouse, monkeypatch, metric, grain, split
):
    con = connect(warehouse, read_only=True)
    try:
        from_periods = load_series(con, metric, grain, split=split)
        monkeypatch.setattr(warehouse_series, "_PERIOD_SOURCE_GRAIN", {})
        from_days = load_series(con, metric, grain, split=split)
    finally:
        con.close()
    assert len(from_periods) > 0
    assert from_periods.equals(from_days)


def test_the_calendar_still_comes_from_the_days_so_a_partly_covered_last_month_is_dropped(warehouse, tmp_path):
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse, copy)
    con = connect(copy)
    try:
        con.execute("DELETE FROM rollup_referral_daily WHERE date_key > DATE '2024-12-15'")
        con.execute("CREATE TEMP TABLE cut AS SELECT DATE '2024-12-31' AS date_key")
        refresh_period_rollups(con, "cut")
        series = load_series(con, "referrals", "month")
    finally:
        con.close()
    assert series["ds"].max().date() == date(2024, 11, 1)
