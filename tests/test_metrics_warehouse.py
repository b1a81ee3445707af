"""The dissemination, consumption and operations metrics, annotations and per-capita rates, read
from a real warehouse built by the real ETL (quarterly deliveries, so late records cross batches),
each checked against a direct computation over the fact tables."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
from builders import TEST_KEY, file_row, referral_row, simulated_quarters, write_delivery

from analytics.population import MissingPopulationWarning, load_population
from analytics.warehouse_series import METRICS, SeriesRequestError, load_series, load_series_group
from etl.checks import contract_findings
from etl.pipeline import run_batch
from etl.runner import run_batches
from etl.sources import discover_batches
from grace.config import PseudonymKey
from warehouse import connect, ensure_schema
from warehouse.period_rollups import refresh_period_rollups
from warehouse.reference import EU27_ISO3

NEW_TABLES = (
    "rollup_referral_daily",
    "rollup_file_daily",
    "rollup_backlog_daily",
    "account_first_report",
    "cluster_spread",
    "rollup_cluster_spread_daily",
    "mart_distinct_period",
    "mart_cluster_reach",
)


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    return simulated_quarters(tmp_path_factory.mktemp("metrics_sim") / "sim", seed=11)


@pytest.fixture(scope="module")
def built(sim, tmp_path_factory):
    """A two-year warehouse loaded in eight quarterly batches by the real ETL."""
    path = tmp_path_factory.mktemp("metrics_wh") / "warehouse.duckdb"
    con = connect(path)
    ensure_schema(con)
    summary = run_batches(con, discover_batches(sim / "exports"), PseudonymKey(TEST_KEY.encode(), "test"))
    assert summary.ok, summary.failures
    con.close()
    return path


@pytest.fixture(scope="module")
def con(built):
    connection = connect(built, read_only=True)
    yield connection
    connection.close()


def direct(con, sql: str, params: dict | None = None) -> pd.Series:
    """A (ds -> value) series from a direct query over the facts."""
    rows = con.execute(sql, params or {}).fetchall()
    return pd.Series({pd.Timestamp(ds): float(v) for ds, v in rows}, dtype=float)


def as_series(frame: pd.DataFrame) -> pd.Series:
    return frame.set_index("ds")["y"]


def assert_matches(loaded: pd.DataFrame, expected: pd.Series) -> None:
    """Every period of the loaded series equals the direct value (0 where the facts have none)."""
    got = as_series(loaded)
    assert set(expected.index) <= set(got.index)
    np.testing.assert_allclose(got.to_numpy(), expected.reindex(got.index, fill_value=0).to_numpy(), rtol=1e-12)
    assert got.sum() > 0


@pytest.mark.parametrize("grain", ["week", "month", "year"])
def test_reported_accounts_are_distinct_pseudonyms_per_period_as_counted_from_the_facts(con, grain):
    expected = direct(
        con,
        "SELECT date_trunc($g, incident_date), count(DISTINCT account_pseudonym) FROM fact_referral GROUP BY 1",
        {"g": grain},
    )
    assert_matches(load_series(con, "reported_accounts", grain, drop_partial=False), expected)


@pytest.mark.parametrize("dimension,column", [("country", "country_iso3"), ("platform", "platform_name")])
def test_reported_accounts_per_country_or_platform_match_the_facts(con, dimension, column):
    value = con.execute(f"SELECT {column} FROM fact_referral GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()[
        0
    ]
    expected = direct(
        con,
        "SELECT date_trunc('quarter', incident_date), count(DISTINCT account_pseudonym) "
        f"FROM fact_referral WHERE {column} = $v GROUP BY 1",
        {"v": value},
    )
    one = load_series(con, "reported_accounts", "quarter", filters={dimension: value}, drop_partial=False)
    assert_matches(one, expected)
    split = load_series(con, "reported_accounts", "quarter", split=dimension, drop_partial=False)
    assert_matches(split[split["entity"] == value].reset_index(drop=True), expected)
    seen = direct(
        con,
        "SELECT date_trunc('week', incident_date), count(DISTINCT cluster_id) "
        f"FROM fact_file_occurrence WHERE {column} = $v GROUP BY 1",
        {"v": value},
    )
    assert_matches(
        load_series(con, "media_clusters_seen", "week", filters={dimension: value}, drop_partial=False), seen
    )


def test_repeat_referrals_are_those_whose_account_had_an_earlier_referral(con):
    ranked = (
        "WITH r AS (SELECT incident_date, row_number() OVER (PARTITION BY account_pseudonym "
        "ORDER BY incident_date, referral_key) AS n FROM fact_referral WHERE account_pseudonym IS NOT NULL) "
    )
    repeats = direct(
        con, ranked + "SELECT date_trunc('month', incident_date), count(*) FILTER (WHERE n > 1) FROM r GROUP BY 1"
    )
    firsts = direct(
        con, ranked + "SELECT date_trunc('month', incident_date), count(*) FILTER (WHERE n = 1) FROM r GROUP BY 1"
    )
    assert_matches(load_series(con, "repeat_referrals", "month", drop_partial=False), repeats)
    assert_matches(load_series(con, "new_reported_accounts", "month", drop_partial=False), firsts)
    share = load_series(con, "repeat_reporting_share", "month", drop_partial=False)
    expected_share = repeats / (repeats + firsts)
    assert_matches(share, expected_share.fillna(0))


@pytest.mark.parametrize("grain", ["week", "quarter"])
def test_backlog_is_received_but_not_triaged_at_each_period_end(con, grain):
    loaded = load_series(con, "backlog", grain, drop_partial=False)
    step = pd.DateOffset(days=7) if grain == "week" else pd.DateOffset(months=3)
    ends = [(ds + step - pd.Timedelta(days=1)).date() for ds in loaded["ds"]]
    counted = [
        con.execute(
            "SELECT count(*) FROM fact_referral WHERE received_date <= $e "
            "AND (triaged_date IS NULL OR triaged_date > $e)",
            {"e": end},
        ).fetchone()[0]
        for end in ends
    ]
    np.testing.assert_array_equal(loaded["y"].to_numpy(), np.array(counted, dtype=float))
    assert loaded["y"].max() > 0
    parts = load_series(con, "backlog", grain, split="country", drop_partial=False).groupby("ds")["y"].sum()
    np.testing.assert_allclose(parts.to_numpy(), loaded["y"].to_numpy())


def test_multi_country_clusters_count_each_cluster_once_on_the_day_its_second_country_was_reached(con):
    per_country = (
        "WITH c AS (SELECT cluster_id, country_iso3, min(incident_date) AS d FROM fact_file_occurrence "
        "GROUP BY ALL), r AS (SELECT *, row_number() OVER (PARTITION BY cluster_id ORDER BY d, country_iso3) "
        "AS n FROM c) "
    )
    expected = direct(con, per_country + "SELECT date_trunc('month', d), count(*) FROM r WHERE n = 2 GROUP BY 1")
    assert_matches(load_series(con, "multi_country_clusters", "month", drop_partial=False), expected)
    by_country = load_series(con, "multi_country_clusters", "year", split="country", drop_partial=False)
    arrivals = dict(con.execute(per_country + "SELECT country_iso3, count(*) FROM r WHERE n = 2 GROUP BY 1").fetchall())
    assert by_country.groupby("entity")["y"].sum().to_dict() == {k: float(v) for k, v in arrivals.items()}


def test_reshares_per_cluster_are_non_first_occurrences_over_distinct_clusters_seen(con):
    expected = direct(
        con,
        "SELECT date_trunc('month', incident_date), "
        "(count(*) - count(*) FILTER (WHERE is_first_sighting)) / count(DISTINCT cluster_id) "
        "FROM fact_file_occurrence GROUP BY 1",
    )
    assert_matches(load_series(con, "reshares_per_cluster", "month", drop_partial=False), expected)
    reshared = direct(
        con,
        "SELECT date_trunc('month', incident_date), count(*) FILTER (WHERE NOT is_first_sighting) "
        "FROM fact_file_occurrence GROUP BY 1",
    )
    assert_matches(load_series(con, "reshared_files", "month", drop_partial=False), reshared)
    seen = direct(
        con, "SELECT date_trunc('year', incident_date), count(DISTINCT cluster_id) FROM fact_file_occurrence GROUP BY 1"
    )
    assert_matches(load_series(con, "media_clusters_seen", "year", drop_partial=False), seen)


def test_platform_mix_shares_sum_to_one_in_every_period_with_referrals(con):
    mix = load_series(con, "platform_share", "month", split="platform")
    sums = mix.groupby("ds")["y"].sum()
    assert np.allclose(sums, 1.0)
    platform = mix.groupby("entity")["y"].sum().idxmax()
    expected = direct(
        con,
        "SELECT date_trunc('month', incident_date), "
        "count(*) FILTER (WHERE platform_name = $p) / count(*) FROM fact_referral GROUP BY 1",
        {"p": platform},
    )
    only = load_series(con, "platform_share", "month", filters={"platform": platform})
    assert np.allclose(as_series(only), expected.reindex(only["ds"]).to_numpy())
    # another filter stays in the denominator: the mix within one country sums to one too
    country = con.execute(
        "SELECT country_iso3 FROM fact_referral GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]
    within = load_series(con, "platform_share", "year", split="platform", filters={"country": country})
    assert np.allclose(within.groupby("ds")["y"].sum(), 1.0)


@pytest.mark.parametrize(
    "metric,annotation,condition",
    [
        ("referrals", "sextortion", "has_sextortion"),
        ("referrals", "minor_to_minor", "has_minor_to_minor"),
        ("files", "self_generated", "is_self_generated"),
        ("files", "live_streaming", "is_live_streaming"),
    ],
)
def test_an_annotation_filter_keeps_only_the_rows_carrying_it(con, metric, annotation, condition):
    table = "fact_referral" if metric == "referrals" else "fact_file_occurrence"
    expected = direct(
        con, f"SELECT date_trunc('quarter', incident_date), count(*) FROM {table} WHERE {condition} GROUP BY 1"
    )
    filtered = load_series(con, metric, "quarter", filters={"annotation": annotation}, drop_partial=False)
    assert_matches(filtered, expected)
    split = load_series(con, metric, "quarter", split="annotation", drop_partial=False)
    assert_matches(split[split["entity"] == annotation].reset_index(drop=True), expected)


def test_an_annotation_split_gives_one_series_per_annotation_summing_to_memberships(con):
    split = load_series(con, "referrals", "year", split="annotation", drop_partial=False)
    assert set(split["entity"]) == {"sextortion", "solicitation", "minor_to_minor"}
    memberships = con.execute(
        "SELECT sum(has_sextortion::INT + has_solicitation::INT + has_minor_to_minor::INT) FROM fact_referral"
    ).fetchone()[0]
    assert split["y"].sum() == memberships
    assert np.allclose(
        split[split["entity"] == "sextortion"]["y"],
        load_series(con, "sextortion_referrals", "year", drop_partial=False)["y"],
    )
    files = load_series(con, "files", "year", split="annotation", drop_partial=False)
    assert {"self_generated", "generative_ai", "live_streaming"} <= set(files["entity"])
    # any-of: two annotations select each row once
    both = load_series(
        con, "referrals", "year", filters={"annotation": ["sextortion", "solicitation"]}, drop_partial=False
    )
    union = con.execute("SELECT count(*) FROM fact_referral WHERE has_sextortion OR has_solicitation").fetchone()[0]
    assert both["y"].sum() == union
    known = load_series(con, "files", "year", filters={"annotation": "known"}, drop_partial=False)
    assert (
        known["y"].sum()
        == con.execute(
            "SELECT count(*) FROM fact_file_occurrence JOIN media_cluster USING (cluster_id) WHERE is_known"
        ).fetchone()[0]
    )


def test_annotations_filter_other_metrics_and_the_backlog_too(con):
    actionable = load_series(con, "actionable_share", "year", filters={"annotation": "sextortion"}, drop_partial=False)
    expected = direct(
        con,
        "SELECT date_trunc('year', incident_date), avg(is_actionable::INT) FROM fact_referral "
        "WHERE has_sextortion GROUP BY 1",
    )
    assert_matches(actionable, expected)
    backlog = load_series(con, "backlog", "year", split="annotation", drop_partial=False)
    assert set(backlog["entity"]) <= {"sextortion", "solicitation", "minor_to_minor"} and len(backlog) > 0


def test_rates_per_capita_divide_by_the_sourced_population(con):
    population = load_population()
    figures = dict(zip(population["country_iso3"], population["population"]))
    counts = load_series(con, "referrals", "year", split="country")
    rates = load_series(con, "referrals", "year", split="country", per_capita=True)
    expected = counts["y"] / counts["entity"].map(figures) * 100_000
    assert np.allclose(rates["y"], expected) and rates.attrs["unit"] == "per 100k inhabitants"
    eu = load_series(con, "referrals", "year", per_capita=True)
    eu_counts = load_series(con, "referrals", "year", filters={"country": list(EU27_ISO3)})
    assert np.allclose(eu["y"], eu_counts["y"] / sum(figures[c] for c in EU27_ISO3) * 100_000)
    two = load_series(con, "backlog", "quarter", filters={"country": ["DEU", "FRA"]}, per_capita=True)
    two_counts = load_series(con, "backlog", "quarter", filters={"country": ["DEU", "FRA"]})
    assert np.allclose(two["y"], two_counts["y"] / (figures["DEU"] + figures["FRA"]) * 100_000)


def test_a_country_without_a_sourced_population_gets_no_rate_and_a_warning(con):
    population = load_population()
    partial = population[population["country_iso3"] != "MLT"].reset_index(drop=True)
    with pytest.warns(MissingPopulationWarning, match="MLT"):
        rates = load_series(con, "referrals", "year", split="country", per_capita=True, population=partial)
    assert rates.loc[rates["entity"] == "MLT", "y"].isna().all()
    assert rates.loc[rates["entity"] != "MLT", "y"].notna().all()
    assert rates.attrs["population_missing"] == ("MLT",)
    with pytest.warns(MissingPopulationWarning):
        eu = load_series(con, "referrals", "year", per_capita=True, population=partial)
    assert eu["y"].isna().all()  # the EU total needs every EU-27 country
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fine = load_series(con, "referrals", "year", filters={"country": "DEU"}, per_capita=True, population=partial)
    assert fine["y"].notna().all()


def test_the_shipped_population_file_names_its_source_for_every_eu_country():
    table = load_population()
    assert sorted(table["country_iso3"]) == sorted(EU27_ISO3)
    assert table["source"].str.contains("Eurostat").all() and table["source_url"].str.startswith("https://").all()
    assert (table["population"] > 100_000).all()


@pytest.mark.parametrize(
    "line,message",
    [
        ("DEU,-5,2024-01-01,Eurostat,https://example.org/x", r"row 3, field 'population'"),
        ("DE,83000000,2024-01-01,Eurostat,https://example.org/x", r"row 3, field 'country_iso3'"),
        ("AUT,9000000,2024-01-01,Eurostat,https://example.org/x", r"row 3, field 'country_iso3': duplicate"),
        ("DEU,83000000,1 Jan 2024,Eurostat,https://example.org/x", r"row 3, field 'reference_date'"),
        ("DEU,83000000,2024-01-01,,https://example.org/x", r"row 3, field 'source'"),
        ("DEU,83000000,2024-01-01,Eurostat,", r"row 3, field 'source_url'"),
    ],
)
def test_a_bad_population_file_is_refused_naming_row_and_field(tmp_path, line, message):
    from grace.errors import InputFileError

    path = tmp_path / "population.csv"
    path.write_text(
        "country_iso3,population,reference_date,source,source_url\n"
        "AUT,9000000,2024-01-01,Eurostat,https://example.org/x\n" + line + "\n"
    )
    with pytest.raises(InputFileError, match=message):
        load_population(path)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"metric_name": "reported_accounts", "filters": {"country": ["DEU", "FRA"]}}, "one country at a time"),
        ({"metric_name": "reported_accounts", "filters": {"country": "DEU", "platform": "X"}}, "not both"),
        ({"metric_name": "media_clusters_seen", "split": "country", "filters": {"platform": "X"}}, "not both"),
        (
            {"metric_name": "reported_accounts", "split": "channel"},
            "cannot split metric 'reported_accounts' by 'channel'",
        ),
        ({"metric_name": "media_clusters_seen", "filters": {"annotation": "viral"}}, "cannot filter"),
        ({"metric_name": "multi_country_clusters", "split": "platform"}, "cannot split"),
        ({"metric_name": "referrals", "filters": {"annotation": "viral"}}, "has no annotation 'viral'"),
        ({"metric_name": "files", "split": "annotation", "filters": {"annotation": "sextortion"}}, "no annotation"),
        ({"metric_name": "platform_share"}, "split by platform or filter platforms"),
        ({"metric_name": "actionable_share", "per_capita": True}, "per-capita rates apply to counts"),
        ({"metric_name": "reported_accounts", "per_capita": True}, "needs a country filter"),
    ],
)
def test_unsupported_requests_name_what_is_not_supported(con, kwargs, message):
    with pytest.raises(SeriesRequestError, match=message):
        load_series(con, **kwargs)


def snapshot(con) -> dict:
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in NEW_TABLES}


def test_rerunning_the_batches_leaves_the_new_tables_unchanged_and_the_contract_holds(built, sim, tmp_path):
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(built, copy)
    con = connect(copy)
    try:
        before = snapshot(con)
        batches = discover_batches(sim / "exports")
        reports = [
            run_batch(con, batch, PseudonymKey(TEST_KEY.encode(), "test")) for batch in (batches[0], batches[-1])
        ]
        assert [r.status for r in reports] == ["skipped", "skipped"]
        assert snapshot(con) == before
        assert [f for f in contract_findings(con) if f.table in NEW_TABLES] == []
        grains = [g for (g,) in con.execute("SELECT DISTINCT grain FROM mart_distinct_period ORDER BY 1").fetchall()]
        assert grains == ["day", "month", "quarter", "week", "year"]
    finally:
        con.close()


def test_a_late_batch_moves_first_reports_and_cross_border_reach_and_a_rerun_changes_nothing(fresh_db, key, tmp_path):
    account = {"reported_screen_name": "shared_account"}
    early = write_delivery(
        tmp_path / "d1",
        [
            referral_row(
                1,
                incident_datetime="2023-05-20T10:00:00Z",
                received_date="2023-05-20",
                triaged_date="2023-05-22",
                **account,
            ),
            referral_row(2, incident_datetime="2023-05-25T10:00:00Z", received_date="2023-05-25", **account),
        ],
        [file_row(1, item="shared-item"), file_row(2)],
    )
    late = write_delivery(
        tmp_path / "d2",
        [
            referral_row(
                3,
                incident_datetime="2023-05-03T10:00:00Z",
                received_date="2023-05-04",
                reporting_country="DEU",
                receiving_agency="AGY-DEU",
                **account,
            ),
        ],
        [file_row(3, item="shared-item")],
    )

    def day(metric):
        series = load_series(fresh_db, metric, "day", drop_partial=False)
        return {ds.strftime("%m-%d"): y for ds, y in zip(series["ds"], series["y"]) if y}

    [run_batch(fresh_db, b, key) for b in discover_batches(early)]
    assert day("new_reported_accounts") == {"05-20": 1} and day("repeat_referrals") == {"05-25": 1}
    assert day("multi_country_clusters") == {}
    assert day("backlog") == {"05-20": 1, "05-21": 1, "05-25": 1}

    [run_batch(fresh_db, b, key) for b in discover_batches(late)]
    assert day("new_reported_accounts") == {"05-03": 1}
    assert day("repeat_referrals") == {"05-20": 1, "05-25": 1}
    spread = load_series(fresh_db, "multi_country_clusters", "day", split="country", drop_partial=False)
    assert spread[spread["y"] > 0][["entity", "y"]].values.tolist() == [["NLD", 1.0]]
    assert day("multi_country_clusters") == {"05-20": 1}
    assert load_series(fresh_db, "reported_accounts", "month", drop_partial=False)["y"].tolist() == [1.0]
    assert load_series(fresh_db, "reported_accounts", "month", split="country", drop_partial=False)["y"].tolist() == [
        1.0,
        1.0,
    ]  # DEU and NLD
    before = snapshot(fresh_db)
    [run_batch(fresh_db, b, key) for b in discover_batches(late)]
    assert snapshot(fresh_db) == before


@pytest.mark.parametrize("days", [("2025-12-30", "2026-01-02"), ("2026-01-02", "2025-12-30")], ids=["later", "late"])
def test_an_account_and_a_cluster_seen_again_in_a_week_that_spans_two_years_count_once_in_that_week(
    fresh_db, key, tmp_path, days
):
    """The two batches' referrals are in 2025 and 2026, both in the week of Monday 2025-12-29: a batch looks
    for earlier rows as far as its weeks reach, not only within its years."""
    account = {"reported_screen_name": "year_end_account"}
    deliveries = [
        write_delivery(
            tmp_path / f"d{n}",
            [referral_row(n, incident_datetime=f"{day}T10:00:00Z", received_date=day, **account)],
            [file_row(n, item="year-end-item")],
        )
        for n, day in enumerate(days, start=1)
    ]
    for delivery in deliveries:
        [run_batch(fresh_db, b, key) for b in discover_batches(delivery)]
    for metric in ("reported_accounts", "media_clusters_seen"):
        weekly = load_series(fresh_db, metric, "week", drop_partial=False)
        assert weekly[weekly["y"] > 0][["ds", "y"]].values.tolist() == [[pd.Timestamp("2025-12-29"), 1.0]], metric
        yearly = load_series(fresh_db, metric, "year", drop_partial=False)
        assert yearly["y"].tolist() == [1.0, 1.0], metric


def test_every_metric_has_a_group_and_a_description():
    groups = {m.group for m in METRICS.values()}
    assert {"production", "dissemination", "consumption", "operations"} <= groups
    assert all(m.description for m in METRICS.values())


# --- media matching: the perceptual rollup -------------------------------------------------------

# metric -> (numerator, denominator) as SQL over rollup_perceptual_daily
PERCEPTUAL_METRICS = {
    "perceptually_new_files": ("new_items", None),
    "perceptually_known_files": ("files - new_items", None),
    "perceptually_new_share": ("new_items", "files"),
    "near_duplicate_variants": ("new_variants", None),
    "variants_per_new_item": ("new_exact_clusters", "new_items"),
    "cross_platform_reshares": ("cross_platform_reshares", None),
    "cross_platform_reshare_share": ("cross_platform_reshares", "files"),
    "cross_country_reshares": ("cross_country_reshares", None),
    "cross_country_reshare_share": ("cross_country_reshares", "files"),
    "bank_matched_files": ("bank_matched_files", None),
    "bank_match_share": ("bank_matched_files", "files"),
}


def on_perceptual_rollup(con, name: str, grain: str, where: str = "true", params: dict | None = None) -> pd.Series:
    """The metric per period straight from rollup_perceptual_daily (0 where a ratio's denominator is 0)."""
    numerator, denominator = PERCEPTUAL_METRICS[name]
    value = f"sum({numerator})" + (f" / nullif(sum({denominator}), 0)" if denominator else "")
    return direct(
        con,
        f"SELECT date_trunc($g, date_key), coalesce({value}, 0) FROM rollup_perceptual_daily WHERE {where} GROUP BY 1",
        {"g": grain, **(params or {})},
    )


def test_every_perceptual_metric_reads_the_perceptual_rollup():
    assert {n for n, m in METRICS.items() if m.source == "perceptual"} == set(PERCEPTUAL_METRICS)


@pytest.mark.parametrize("name", [n for n in PERCEPTUAL_METRICS if n not in ("bank_matched_files", "bank_match_share")])
def test_perceptual_metrics_match_the_rollup_per_month(con, name):
    assert_matches(load_series(con, name, "month", drop_partial=False), on_perceptual_rollup(con, name, "month"))


def test_perceptual_counts_match_the_file_facts_and_variants_per_new_item_is_one_plus_variants_per_item(con):
    facts = (
        "SELECT date_trunc('quarter', o.incident_date), count(*) FILTER (WHERE o.referral_key = pc.first_referral_key "
        "AND o.file_ordinal = pc.first_file_ordinal) FROM fact_file_occurrence AS o "
        "JOIN perceptual_member USING (cluster_id) JOIN perceptual_cluster AS pc USING (perceptual_id) GROUP BY 1"
    )
    assert_matches(load_series(con, "perceptually_new_files", "quarter", drop_partial=False), direct(con, facts))
    files = load_series(con, "files", "quarter", drop_partial=False)["y"]
    new = load_series(con, "perceptually_new_files", "quarter", drop_partial=False)["y"]
    known = load_series(con, "perceptually_known_files", "quarter", drop_partial=False)["y"]
    np.testing.assert_allclose(new + known, files)  # every file is in the perceptual rollup
    ratio = load_series(con, "variants_per_new_item", "quarter", parts=True, drop_partial=False)
    variants = load_series(con, "near_duplicate_variants", "quarter", drop_partial=False)["y"]
    np.testing.assert_allclose(ratio["numerator"], ratio["denominator"] + variants)
    assert (ratio["y"] >= 1).all() and variants.sum() > 0


@pytest.mark.parametrize("name", ["perceptually_new_files", "cross_country_reshares", "cross_platform_reshare_share"])
def test_a_perceptual_split_by_country_sums_to_the_total_and_a_small_country_filter_matches_the_rollup(con, name):
    total = load_series(con, name, "quarter", drop_partial=False, parts=True)
    split = load_series(con, name, "quarter", split="country", drop_partial=False, parts=True)
    sums = split.groupby("ds")[["numerator", "denominator"]].sum()
    np.testing.assert_allclose(sums["numerator"].to_numpy(), total["numerator"].to_numpy())
    np.testing.assert_allclose(sums["denominator"].to_numpy(), total["denominator"].to_numpy())
    small = con.execute(
        "SELECT country_iso3 FROM rollup_perceptual_daily GROUP BY 1 HAVING sum(files) > 0 ORDER BY sum(files), 1 LIMIT 1"
    ).fetchone()[0]
    one = load_series(con, name, "quarter", filters={"country": small}, drop_partial=False)
    expected = on_perceptual_rollup(con, name, "quarter", "country_iso3 = $c", {"c": small})
    got = as_series(one)
    np.testing.assert_allclose(got.to_numpy(), expected.reindex(got.index, fill_value=0).to_numpy(), rtol=1e-12)
    assert len(one) == len(total)  # the small country shares the rollup's calendar
    mine = split[split["entity"] == small].reset_index(drop=True)
    np.testing.assert_allclose(mine["y"].to_numpy(), one["y"].to_numpy())


def test_bank_matches_are_zero_until_a_bank_is_imported_and_split_by_the_files_category(built, tmp_path):
    con = connect(built, read_only=True)
    try:
        assert load_series(con, "bank_matched_files", "year", drop_partial=False)["y"].sum() == 0
        assert (load_series(con, "bank_match_share", "year", drop_partial=False)["y"] == 0).all()
    finally:
        con.close()
    copy = tmp_path / "banked.duckdb"
    shutil.copy(built, copy)
    con = connect(copy)
    try:  # as if a bank matched the known files of every category but one
        con.execute(
            "UPDATE rollup_perceptual_daily SET bank_matched_files = files - new_items WHERE category_code <> 'B2'"
        )
        refresh_period_rollups(con, None, ["rollup_perceptual_daily"])  # as every writer of the daily rows does
        for name in ("bank_matched_files", "bank_match_share"):
            assert_matches(
                load_series(con, name, "month", drop_partial=False), on_perceptual_rollup(con, name, "month")
            )
        split = load_series(con, "bank_matched_files", "year", split="category", drop_partial=False)
        per_category = dict(
            con.execute(
                "SELECT category_code, sum(bank_matched_files) FROM rollup_perceptual_daily GROUP BY 1"
            ).fetchall()
        )
        assert split.groupby("entity")["y"].sum().to_dict() == {k: float(v) for k, v in per_category.items()}
        assert per_category["B2"] == 0 and len(per_category) > 2
        a1 = load_series(con, "bank_match_share", "year", filters={"category": "A1"}, drop_partial=False)
        expected = on_perceptual_rollup(con, "bank_match_share", "year", "category_code = 'A1'")
        np.testing.assert_allclose(as_series(a1).to_numpy(), expected.reindex(a1["ds"]).to_numpy())
    finally:
        con.close()


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"filters": {"annotation": "viral"}}, r"by 'annotation' \(rollup_perceptual_daily carries no annotations\)"),
        ({"split": "annotation"}, "carries no annotations"),
        ({"split": "channel"}, r"which have no channel\); choose from country, platform, category"),
        ({"filters": {"incident_type": "IT_CP"}}, "no incident type"),
    ],
)
def test_perceptual_metrics_refuse_dimensions_the_rollup_does_not_have(con, kwargs, message):
    with pytest.raises(SeriesRequestError, match=message):
        load_series(con, "perceptually_new_share", **kwargs)


GROUPS = [
    ("new_media_clusters", "known_material_share"),
    ("self_generated_share", "generative_ai_share", "files"),
    ("perceptually_new_share", "variants_per_new_item", "near_duplicate_variants"),
    ("repeat_reporting_share", "new_reported_accounts", "referrals"),
]


@pytest.mark.parametrize("names", GROUPS)
@pytest.mark.parametrize("grain", ["day", "week", "month", "quarter"])
@pytest.mark.parametrize("filters", [{}, {"country": ["DEU", "FRA"]}, {"platform": ["Streamora"]}])
def test_metrics_of_one_rollup_read_in_one_query_equal_each_read_alone(con, names, grain, filters):
    together = load_series_group(con, names, grain, filters)
    assert list(together) == list(names)
    for name in names:
        alone = load_series(con, name, grain, filters=filters, parts=True)
        pd.testing.assert_frame_equal(together[name], alone)
        assert together[name].attrs == alone.attrs


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (("referrals", "files"), "'referrals' is sum of referral, 'files' is sum of file"),
        (("referrals", "backlog"), "'backlog' is stock"),
        (("referrals", "platform_share"), "'platform_share' is mix"),
    ],
)
def test_metrics_of_different_rollups_or_kinds_are_refused_together_naming_them(con, names, message):
    with pytest.raises(SeriesRequestError, match=message):
        load_series_group(con, names, "month")
