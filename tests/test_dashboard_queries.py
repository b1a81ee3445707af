"""Named dashboard queries, run against a real DuckDB warehouse with a few synthetic rollup rows."""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pytest
from dashboard_warehouse import insert

from grace.errors import WarehouseError
from warehouse import QueryError, WarehouseReader, connect, ensure_schema, load_query, query_names
from warehouse.period_rollups import refresh_period_rollups
from warehouse.sql_files import QUERIES_DIR, parameters_of

# (date, country, platform, referrals, files) — deliberately sparse: no referrals in Feb 2024 for BEL,
# none at all in April 2024, and data ending on 15 May 2024 so May is a partial month.
REFERRAL_ROWS = [
    ("2024-01-10", "AUT", "ChatApp", 5, 9),
    ("2024-01-20", "BEL", "PhotoShare", 11, 20),
    ("2024-02-05", "AUT", "ChatApp", 7, 3),
    ("2024-03-15", "DEU", "ChatApp", 2, 2),
    ("2024-03-31", "BEL", "CloudBox", 3, 4),
    ("2024-05-15", "AUT", "PhotoShare", 4, 6),
]
# (date, country, platform, files, new_clusters)
FILE_ROWS = [
    ("2024-01-10", "AUT", "ChatApp", 9, 4),
    ("2024-01-20", "BEL", "PhotoShare", 20, 2),
    ("2024-02-05", "AUT", "ChatApp", 3, 1),
    ("2024-03-15", "DEU", "ChatApp", 2, 2),
    ("2024-03-31", "BEL", "CloudBox", 4, 0),
    ("2024-05-15", "AUT", "PhotoShare", 6, 0),
]
CLUSTERS = 9
BATCHES = [  # (batch_id, referrals_quarantined, files_quarantined, finished_at)
    ("batch-1", 2, 5, "2024-05-16 02:00:00"),
    ("batch-2", 1, 0, "2024-05-17 02:30:00"),
]


def insert_rows(con: duckdb.DuckDBPyConnection) -> None:
    # Rollups by column name (other columns neutral), so the fixture survives new rollup columns.
    con.execute("CREATE TEMP TABLE referral_rows (d DATE, c VARCHAR, p VARCHAR, r BIGINT, f BIGINT)")
    con.executemany("INSERT INTO referral_rows VALUES (CAST(? AS DATE), ?, ?, ?, ?)", [list(r) for r in REFERRAL_ROWS])
    insert(
        con,
        "rollup_referral_daily",
        "SELECT d AS date_key, c AS country_iso3, p AS platform_name, 'chat' AS channel, "
        "'IT_CP' AS incident_type_code, r AS referrals, f AS files FROM referral_rows",
    )
    con.execute("CREATE TEMP TABLE file_rows (d DATE, c VARCHAR, p VARCHAR, f BIGINT, n BIGINT)")
    con.executemany("INSERT INTO file_rows VALUES (CAST(? AS DATE), ?, ?, ?, ?)", [list(r) for r in FILE_ROWS])
    insert(
        con,
        "rollup_file_daily",
        "SELECT d AS date_key, c AS country_iso3, p AS platform_name, 'A1' AS category_code, "
        "f AS files, n AS new_clusters FROM file_rows",
    )
    refresh_period_rollups(con, None)
    con.execute(
        "INSERT INTO media_cluster SELECT i, NULL, NULL, NULL, false, DATE '2024-01-10', 'AUT', "
        "'AGY-AUT', DATE '2024-01-10', 1, 1, 1, 1 FROM range(?) AS t(i)",
        [CLUSTERS],
    )
    con.executemany(
        "INSERT INTO etl_batch VALUES (?, 'case_export', 'delivery', 'checksum', 'loaded', 0, 0, ?, 0, 0, 0, ?, 0, "
        "NULL, CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP), 1.0, '{}', 'test', '1')",
        [[batch, rq, fq, finished, finished] for batch, rq, fq, finished in BATCHES],
    )


def build_warehouse(path, with_rows: bool):
    con = connect(path)
    ensure_schema(con)
    if with_rows:
        insert_rows(con)
    con.close()
    return path


@pytest.fixture
def fresh_warehouse(tmp_path):
    """An empty warehouse file with its schema (and seeded dimensions)."""
    return build_warehouse(tmp_path / "warehouse.duckdb", with_rows=False)


@pytest.fixture(scope="module")
def reader(tmp_path_factory):
    """A reader on the synthetic rows; shared by the module, so tests must not write to it."""
    return WarehouseReader(build_warehouse(tmp_path_factory.mktemp("queries") / "warehouse.duckdb", with_rows=True))


@pytest.fixture
def own_reader(tmp_path):
    """A reader on a private copy of the synthetic rows, for tests that also write."""
    return WarehouseReader(build_warehouse(tmp_path / "warehouse.duckdb", with_rows=True))


def kpis(reader, countries=(), platforms=()):
    return reader.run("overview_kpis", countries=list(countries), platforms=list(platforms)).iloc[0].to_dict()


def monthly(reader, countries=(), platforms=(), split=False):
    return reader.run("referrals_monthly", countries=list(countries), platforms=list(platforms), split_by_country=split)


# --- the query files themselves -------------------------------------------------------------


def test_every_named_query_is_ctes_then_a_select_from_final():
    assert query_names(), "no named queries found"
    for name in query_names():
        sql = load_query(name).sql
        code = re.sub(r"--[^\n]*", "", sql).strip()
        assert code.upper().startswith("WITH"), name
        assert re.search(r"\bfinal\s+AS\s*\(", code, re.IGNORECASE), name
        assert re.search(r"SELECT\s[^;]*\sFROM\s+final(\s+ORDER\s+BY\s[^;]*)?$", code, re.IGNORECASE | re.DOTALL), name


def test_named_queries_bind_values_as_parameters_and_never_format_strings():
    for path in QUERIES_DIR.glob("*.sql"):
        code = re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8"))
        for marker in ("{", "}", "%s", "%(", "?"):
            assert marker not in code, f"{path.name}: looks like string formatting or positional binding ({marker!r})"


def test_the_dashboard_never_scans_the_fact_tables():
    # The one exception: the triage page is a referral-level tool by design (its queries join the scored
    # referrals to their metadata and take the user's country and agency scope in SQL).
    for name in (n for n in query_names() if not n.startswith("triage_")):
        sql = load_query(name).sql.lower()
        assert "fact_referral" not in sql and "fact_file_occurrence" not in sql, name


def test_parameters_are_found_in_code_but_not_in_comments_or_strings():
    sql = "-- uses $ignored\nWITH final AS (SELECT '$literal' AS a WHERE x = $real) SELECT a FROM final"
    assert parameters_of(sql) == {"real"}


def test_a_call_with_missing_or_unexpected_parameters_is_refused(reader):
    with pytest.raises(QueryError, match="missing platforms"):
        reader.run("overview_kpis", countries=[])
    with pytest.raises(QueryError, match="unexpected country"):
        reader.run("overview_kpis", countries=[], platforms=[], country="AUT")


def test_an_unknown_query_name_is_refused(reader):
    with pytest.raises(QueryError, match="does not exist"):
        reader.run("no_such_query")
    with pytest.raises(QueryError, match="not a valid query name"):
        reader.run("../ddl/001_warehouse")


# --- results ---------------------------------------------------------------------------------


def test_overview_kpis_without_filters_total_the_rollups_and_count_every_cluster(reader):
    assert kpis(reader) == {
        "referrals": 32,
        "files": 44,
        "media_clusters": CLUSTERS,
        "clusters_first_seen": 9,
        "quarantined_records": 8,
    }


def test_overview_kpis_follow_the_country_and_platform_filters(reader):
    aut = kpis(reader, countries=["AUT"])
    assert (aut["referrals"], aut["files"], aut["clusters_first_seen"]) == (16, 18, 5)
    chat = kpis(reader, platforms=["ChatApp"])
    assert (chat["referrals"], chat["files"]) == (14, 14)
    both = kpis(reader, countries=["AUT", "BEL"], platforms=["PhotoShare"])
    assert (both["referrals"], both["files"], both["clusters_first_seen"]) == (15, 26, 2)


def test_quarantined_records_and_cluster_total_ignore_the_filters(reader):
    filtered = kpis(reader, countries=["DEU"], platforms=["ChatApp"])
    assert filtered["quarantined_records"] == 8
    assert filtered["media_clusters"] == CLUSTERS


def test_a_selection_with_no_data_gives_zeroes(reader):
    assert kpis(reader, countries=["SWE"])["referrals"] == 0
    frame = monthly(reader, countries=["SWE"])
    assert frame["referrals"].sum() == 0


def test_filter_values_are_data_not_sql(reader):
    assert kpis(reader, countries=["AUT') OR true OR ('x"])["referrals"] == 0


def test_monthly_referrals_cover_every_month_with_zeroes_where_nothing_happened(reader):
    frame = monthly(reader)
    assert [m.date() for m in frame["month"]] == [dt.date(2024, month, 1) for month in range(1, 6)]
    assert frame["referrals"].tolist() == [16, 7, 5, 0, 4]
    assert set(frame["series_name"]) == {"Selection"}


def test_only_the_month_the_data_ends_in_is_partial(reader):
    frame = monthly(reader)
    assert frame["is_partial"].tolist() == [False, False, False, False, True]


def test_monthly_referrals_split_by_country_give_one_named_series_per_country(reader):
    frame = monthly(reader, countries=["AUT", "BEL"], split=True)
    assert sorted(frame["series_name"].unique()) == ["Austria", "Belgium"]
    by_country = frame.pivot(index="month", columns="series_key", values="referrals")
    assert by_country["AUT"].tolist() == [5, 7, 0, 0, 4]
    assert by_country["BEL"].tolist() == [11, 0, 3, 0, 0]


def test_monthly_referrals_follow_the_platform_filter(reader):
    frame = monthly(reader, platforms=["CloudBox"])
    assert frame["referrals"].tolist() == [0, 0, 3, 0, 0]


def test_filter_countries_lists_the_countries_present_with_their_names(reader):
    frame = reader.run("filter_countries")
    assert frame.values.tolist() == [["AUT", "Austria"], ["BEL", "Belgium"], ["DEU", "Germany"]]


def test_filter_platforms_lists_the_platforms_present(reader):
    assert reader.run("filter_platforms")["platform_name"].tolist() == ["ChatApp", "CloudBox", "PhotoShare"]


def test_data_freshness_gives_the_latest_incident_date_and_batch(reader):
    row = reader.run("data_freshness").iloc[0]
    assert row["latest_incident_date"].date() == dt.date(2024, 5, 15)
    assert row["latest_batch_finished_at"] == dt.datetime(2024, 5, 17, 2, 30)
    assert row["batch_count"] == 2


def test_queries_on_an_empty_warehouse_return_zeroes_and_empty_lists(fresh_warehouse):
    empty = WarehouseReader(fresh_warehouse)
    assert kpis(empty) == {
        "referrals": 0,
        "files": 0,
        "media_clusters": 0,
        "clusters_first_seen": 0,
        "quarantined_records": 0,
    }
    assert monthly(empty).empty
    assert empty.run("filter_countries").empty
    assert empty.run("data_freshness")["batch_count"].tolist() == [0]


# --- access ----------------------------------------------------------------------------------


def test_the_reader_opens_the_warehouse_read_only(reader):
    with reader.session() as session, pytest.raises(duckdb.Error, match="read-only"):
        session._con.execute("DELETE FROM etl_batch")
    assert kpis(reader)["quarantined_records"] == 8


def test_the_reader_holds_no_connection_between_calls(own_reader):
    kpis(own_reader)
    con = connect(own_reader.path)  # a writer can open the file once the reader is done
    con.execute("DELETE FROM etl_batch")
    con.close()
    assert kpis(own_reader)["quarantined_records"] == 0


def test_a_missing_warehouse_is_a_one_line_error(tmp_path):
    missing = WarehouseReader(tmp_path / "nowhere.duckdb")
    with pytest.raises(WarehouseError, match="does not exist"):
        missing.check()


def test_a_file_that_is_not_a_warehouse_is_refused(tmp_path):
    path = tmp_path / "other.duckdb"
    duckdb.connect(str(path)).close()
    with pytest.raises(WarehouseError, match="not a GRACE warehouse"):
        WarehouseReader(path).check()


def test_every_analytics_query_picks_its_run_through_the_one_shared_fragment():
    """The CTE that picks the run to show is written once (`sql/fragments/chosen_run.sql`)."""
    texts = {path.stem: path.read_text(encoding="utf-8") for path in QUERIES_DIR.glob("*.sql")}
    including = {name for name, text in texts.items() if "-- @include chosen_run" in text}
    assert len(including) >= 8
    assert not any("chosen AS (" in text for text in texts.values())
    for name in including:
        assert "chosen AS (" in load_query(name).sql and "$run_id" in load_query(name).sql


def test_a_query_including_an_unknown_fragment_is_refused(tmp_path, monkeypatch):
    import warehouse.sql_files as sql_files

    (tmp_path / "broken.sql").write_text(
        "WITH params AS (SELECT 1),\n-- @include no_such_fragment\nfinal AS (SELECT 1)\nSELECT * FROM final\n"
    )
    monkeypatch.setattr(sql_files, "QUERIES_DIR", tmp_path)
    sql_files.load_query.cache_clear()
    try:
        with pytest.raises(QueryError, match="no_such_fragment"):
            sql_files.load_query("broken")
    finally:
        sql_files.load_query.cache_clear()
