"""Production & consumption page: its callbacks as plain functions, on a warehouse built by the real ETL.

Expected values are recomputed from the fact tables (`fact_file_occurrence`, `media_cluster`,
`fact_referral`), not from the rollups and mart the page reads, so a wrong metric, filter, period
or figure fails.
"""

from __future__ import annotations

import pandas as pd
import pytest
from builders import query_frame, simulated_warehouse

from dashboards.callbacks import production as page
from dashboards.charts import charts_for_page
from dashboards.figures.production import (
    NO_PERCEPTUAL_FILES,
    accounts_figure,
    material_figure,
    perceptual_material_figure,
    repeat_figure,
    shares_figure,
    variants_figure,
)
from dashboards.state import ViewState
from warehouse import WarehouseReader


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Two years of a tiny simulated EU through the real ETL, with the simulator's known-hash set."""
    return simulated_warehouse(tmp_path_factory.mktemp("production_wh"), packages=True, hash_set=True)


@pytest.fixture
def reader(built):
    return WarehouseReader(built)


truth = query_frame  # the expected values, straight from the warehouse's tables


def state(query: str = "") -> ViewState:
    return ViewState.from_query(query)


def by_period(frame: pd.DataFrame, column: str) -> dict[str, float]:
    return {pd.Timestamp(ds).date().isoformat(): float(value) for ds, value in zip(frame["ds"], frame[column])}


FILES_BY_QUARTER = """
    SELECT CAST(date_trunc('quarter', f.incident_date) AS DATE) AS ds, count(*) AS files,
           count(*) FILTER (WHERE f.is_first_sighting) AS new_media_clusters,
           count(*) FILTER (WHERE c.is_known) AS known_files,
           count(*) FILTER (WHERE f.is_self_generated) AS self_generated,
           count(*) FILTER (WHERE f.is_generative_ai) AS generative_ai
    FROM fact_file_occurrence AS f JOIN media_cluster AS c USING (cluster_id)
    WHERE (len(CAST($countries AS VARCHAR[])) = 0 OR list_contains(CAST($countries AS VARCHAR[]), f.country_iso3))
      AND (len(CAST($platforms AS VARCHAR[])) = 0 OR list_contains(CAST($platforms AS VARCHAR[]), f.platform_name))
    GROUP BY ALL ORDER BY ds
"""


def top_platform(path) -> str:
    return truth(path, "SELECT platform_name FROM fact_referral GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")[
        "platform_name"
    ][0]


# --- the registry ------------------------------------------------------------------------------


def test_the_page_registers_its_six_charts_for_the_export_routes():
    assert [chart.chart_id for chart in charts_for_page(page.PAGE)] == [
        "production-new-known",
        "production-annotation-shares",
        "production-perceptual-new-known",
        "production-near-duplicate-variants",
        "production-accounts",
        "production-repeat-reporting",
    ]


# --- production --------------------------------------------------------------------------------


def test_new_and_known_material_match_the_file_facts_of_a_country(reader, built):
    data = page.material_data(reader, state("grain=quarter&country=DEU"))
    facts = truth(built, FILES_BY_QUARTER, {"countries": ["DEU"], "platforms": []})
    assert len(data.frame) == 8  # two years of quarters, calendar-complete
    for column in ("new_media_clusters", "known_files", "files"):
        assert by_period(data.frame, column) == by_period(facts, column), column
    assert data.frame["known_files"].sum() > 0  # the hash set matched some material
    figure = page.draw_chart(page.MATERIAL_CHART, reader, state("grain=quarter&country=DEU")).figure
    assert [trace.name for trace in figure.data] == [
        "New media clusters (first sightings)",
        "Files of known material",
        "All files",
    ]
    assert list(figure.data[1].y) == [float(v) for v in facts["known_files"]]


def test_self_generated_and_generative_ai_shares_are_flagged_files_over_all_files(reader, built):
    platform = top_platform(built)
    data = page.shares_data(reader, state(f"grain=quarter&platform={platform}"))
    facts = truth(built, FILES_BY_QUARTER, {"countries": [], "platforms": [platform]})
    for column in ("files", "self_generated", "generative_ai"):
        assert by_period(data.frame, column) == by_period(facts, column), column
    expected = (facts["generative_ai"] / facts["files"]).tolist()
    assert data.frame["generative_ai_share"].tolist() == pytest.approx(expected)
    figure = page.draw_chart(page.SHARES_CHART, reader, state(f"grain=quarter&platform={platform}")).figure
    assert [trace.name for trace in figure.data] == ["Self-generated", "Generative AI"]
    assert list(figure.data[0].y) == pytest.approx((facts["self_generated"] / facts["files"]).tolist())
    assert figure.layout.yaxis.tickformat == ",.1~%"


def test_the_period_filter_keeps_whole_periods_that_overlap_it(reader):
    data = page.material_data(reader, state("grain=quarter&start=2023-05-20&end=2024-02-01"))
    assert [d.date().isoformat() for d in data.frame["ds"]] == ["2023-04-01", "2023-07-01", "2023-10-01", "2024-01-01"]
    yearly = page.shares_data(reader, state("grain=year&start=2024-03-01"))
    assert [d.year for d in yearly.frame["ds"]] == [2024]


# --- perceptual matching -----------------------------------------------------------------------

PERCEPTUAL_BY_QUARTER = """
    WITH f AS (
        SELECT o.incident_date, o.is_first_sighting,
               o.referral_key = pc.first_referral_key AND o.file_ordinal = pc.first_file_ordinal AS is_new_item
        FROM fact_file_occurrence AS o
        JOIN perceptual_member USING (cluster_id) JOIN perceptual_cluster AS pc USING (perceptual_id)
        WHERE (len(CAST($countries AS VARCHAR[])) = 0 OR list_contains(CAST($countries AS VARCHAR[]), o.country_iso3))
          AND (len(CAST($platforms AS VARCHAR[])) = 0 OR list_contains(CAST($platforms AS VARCHAR[]), o.platform_name))
    )
    SELECT CAST(date_trunc('quarter', incident_date) AS DATE) AS ds, count(*) AS files,
           count(*) FILTER (WHERE is_new_item) AS new_items,
           count(*) FILTER (WHERE is_first_sighting AND NOT is_new_item) AS variants
    FROM f GROUP BY ALL ORDER BY ds
"""


def test_perceptually_new_and_known_material_match_the_file_facts_of_a_country(reader, built):
    view = state("grain=quarter&country=DEU")
    data = page.perceptual_material_data(reader, view)
    facts = truth(built, PERCEPTUAL_BY_QUARTER, {"countries": ["DEU"], "platforms": []})
    assert len(data.frame) == 8
    assert by_period(data.frame, "perceptually_new_files") == by_period(facts, "new_items")
    assert by_period(data.frame, "files") == by_period(facts, "files")
    assert (data.frame["perceptually_new_files"] + data.frame["perceptually_known_files"] == data.frame["files"]).all()
    assert data.frame["perceptually_new_share"].tolist() == pytest.approx(
        (facts["new_items"] / facts["files"]).tolist()
    )
    # near-duplicates make perceptually new material rarer than new exact clusters
    exact = page.material_data(reader, view).frame
    assert data.frame["perceptually_new_files"].sum() < exact["new_media_clusters"].sum()
    figure = page.draw_chart(page.PERCEPTUAL_CHART, reader, view).figure
    assert [trace.name for trace in figure.data] == [
        "New material (first of its near-duplicates)",
        "Material seen before",
        "Share new (right axis)",
    ]
    assert figure.layout.barmode == "stack" and figure.data[2].yaxis == "y2"
    assert list(figure.data[0].y) == [float(v) for v in facts["new_items"]]


def test_near_duplicate_variants_and_variants_per_new_item_match_the_file_facts_of_a_platform(reader, built):
    platform = top_platform(built)
    view = state(f"grain=quarter&platform={platform}")
    data = page.variants_data(reader, view)
    facts = truth(built, PERCEPTUAL_BY_QUARTER, {"countries": [], "platforms": [platform]})
    assert by_period(data.frame, "perceptually_new_files") == by_period(facts, "new_items")
    assert by_period(data.frame, "near_duplicate_variants") == by_period(facts, "variants")
    assert data.frame["near_duplicate_variants"].sum() > 0
    expected = ((facts["new_items"] + facts["variants"]) / facts["new_items"]).tolist()
    assert data.frame["variants_per_new_item"].tolist() == pytest.approx(expected)
    figure = page.draw_chart(page.VARIANTS_CHART, reader, view).figure
    assert [trace.name for trace in figure.data] == [
        "New material",
        "New variant of material seen before",
        "Variants per new item (right axis)",
    ]
    assert figure.layout.yaxis2.tickformat == ",.2f"


def test_perceptual_charts_say_so_when_matching_has_not_run(reader, built, tmp_path):
    import shutil

    from warehouse import connect

    copy = tmp_path / "unmatched.duckdb"
    shutil.copy(built, copy)
    con = connect(copy)
    for table in ("rollup_perceptual_daily", "rollup_perceptual_weekly", "rollup_perceptual_monthly"):
        con.execute(f"DELETE FROM {table}")  # a warehouse upgraded to schema 6, before its next batch
    con.close()
    drawn = page.draw_chart(page.PERCEPTUAL_CHART, WarehouseReader(copy), state("grain=quarter"))
    assert drawn.figure.layout.annotations[0].text == NO_PERCEPTUAL_FILES and drawn.figure.data == ()
    variants = page.draw_chart(page.VARIANTS_CHART, WarehouseReader(copy), state("grain=quarter"))
    assert "No new material" in variants.figure.layout.annotations[0].text


# --- consumption -------------------------------------------------------------------------------


DISTINCT_ACCOUNTS = """
    SELECT CAST(date_trunc('quarter', incident_date) AS DATE) AS ds, country_iso3,
           count(DISTINCT account_pseudonym) AS accounts
    FROM fact_referral WHERE account_pseudonym IS NOT NULL GROUP BY ALL
"""

FIRST_AND_REPEAT = """
    WITH ranked AS (
        SELECT incident_date, country_iso3,
               row_number() OVER (PARTITION BY account_pseudonym ORDER BY incident_date, referral_key) AS nth
        FROM fact_referral WHERE account_pseudonym IS NOT NULL
    )
    SELECT CAST(date_trunc('quarter', incident_date) AS DATE) AS ds, count(*) AS with_account,
           count(*) FILTER (WHERE nth = 1) AS first_reports, count(*) FILTER (WHERE nth > 1) AS repeat_reports
    FROM ranked WHERE (len(CAST($countries AS VARCHAR[])) = 0 OR list_contains(CAST($countries AS VARCHAR[]), country_iso3))
    GROUP BY ALL ORDER BY ds
"""


def test_distinct_accounts_and_first_time_accounts_match_the_referral_facts(reader, built):
    data = page.accounts_data(reader, state("grain=quarter"))
    accounts = truth(
        built,
        "SELECT ds, count(DISTINCT account_pseudonym) AS accounts FROM ("
        "SELECT CAST(date_trunc('quarter', incident_date) AS DATE) AS ds, account_pseudonym "
        "FROM fact_referral WHERE account_pseudonym IS NOT NULL) GROUP BY ds ORDER BY ds",
    )
    first = truth(built, FIRST_AND_REPEAT, {"countries": []})
    assert set(data.frame["entity"]) == {page.TOTAL}
    assert by_period(data.frame, "reported_accounts") == by_period(accounts, "accounts")
    assert by_period(data.frame, "new_reported_accounts") == by_period(first, "first_reports")
    assert (data.frame["new_reported_accounts"] <= data.frame["reported_accounts"]).all()
    figure = page.draw_chart(page.ACCOUNTS_CHART, reader, state("grain=quarter")).figure
    assert [trace.name for trace in figure.data] == [
        "Distinct accounts reported",
        "Accounts reported for the first time",
    ]


def test_several_countries_draw_one_line_of_distinct_accounts_each_and_a_click_selects_one(reader, built):
    view = state("grain=quarter&country=DEU&country=FRA")
    data = page.accounts_data(reader, view)
    facts = truth(built, DISTINCT_ACCOUNTS)
    for country in ("DEU", "FRA"):
        mine = data.frame[data.frame["entity"] == country]
        theirs = facts[facts["country_iso3"] == country].sort_values("ds")
        assert by_period(mine, "reported_accounts") == by_period(theirs, "accounts"), country
    figure = page.draw_chart(page.ACCOUNTS_CHART, reader, view).figure
    assert sorted(trace.name for trace in figure.data) == ["DEU", "FRA"]
    assert figure.layout.legend.title.text == "Country"
    click = {"points": [{"customdata": figure.data[0].customdata[0]}]}
    assert page.click_target(click, view) == page.ClickTarget(dimension="country", entity=figure.data[0].name)


def test_distinct_accounts_for_a_country_and_a_platform_together_say_why_they_cannot_be_drawn(reader, built):
    view = state(f"country=DEU&platform={top_platform(built)}")
    accounts = page.draw_chart(page.ACCOUNTS_CHART, reader, view)
    assert "per country or per platform" in accounts.note
    assert "clear the country or the platform filter" in accounts.figure.layout.annotations[0].text
    repeat = page.draw_chart(page.REPEAT_CHART, reader, view)  # the additive charts still answer
    assert repeat.note.startswith("A repeat report") and len(repeat.figure.data) == 3


def test_repeat_reporting_splits_referrals_with_an_account_into_first_and_repeat_reports(reader, built):
    data = page.repeat_data(reader, state("grain=quarter&country=FRA"))
    facts = truth(built, FIRST_AND_REPEAT, {"countries": ["FRA"]})
    for column in ("first_reports", "repeat_reports"):
        assert by_period(data.frame, column) == by_period(facts, column), column
    assert by_period(data.frame, "referrals_with_account") == by_period(facts, "with_account")
    assert (data.frame["first_reports"] + data.frame["repeat_reports"] == data.frame["referrals_with_account"]).all()
    assert data.frame["repeat_share"].tolist() == pytest.approx(
        (facts["repeat_reports"] / facts["with_account"]).tolist()
    )
    figure = page.draw_chart(page.REPEAT_CHART, reader, state("grain=quarter&country=FRA")).figure
    assert figure.layout.barmode == "stack" and figure.data[2].yaxis == "y2"


# --- clicks, invalid views, suppression --------------------------------------------------------


def test_a_click_on_a_point_zooms_the_page_into_that_period():
    assert page.click_target(
        {"points": [{"customdata": "period:2024-04-01"}]}, state("grain=quarter")
    ) == page.ClickTarget(start="2024-04-01", end="2024-06-30")
    assert page.click_target(
        {"points": [{"customdata": ["period:2024-04-08", "3", "10"]}]}, state("grain=week")
    ) == page.ClickTarget(start="2024-04-08", end="2024-04-14")
    assert (
        page.click_target({"points": [{"customdata": "period:2024-02-01"}]}, state("grain=month")).end == "2024-02-29"
    )
    assert page.click_target({"points": [{}]}, state()) is None
    assert page.click_target(None, state()) is None
    # an entity click on an unsplit chart selects nothing
    assert page.click_target({"points": [{"customdata": "entity:DEU"}]}, state()) is None


def test_a_grain_the_page_does_not_offer_is_explained_not_drawn(reader):
    view = state("grain=day")
    assert page.page_texts(view).status.startswith("Invalid view: grain: 'day' is not offered")
    drawn = page.draw_chart(page.MATERIAL_CHART, reader, view)
    assert "not offered on this page" in drawn.note and drawn.figure.data == ()


def test_an_unreadable_warehouse_gives_a_message_instead_of_a_traceback(tmp_path):
    drawn = page.draw_chart(page.REPEAT_CHART, WarehouseReader(tmp_path / "missing.duckdb"), state())
    assert drawn.note.startswith("Warehouse unavailable")


def test_every_chart_still_draws_when_an_export_suppresses_its_small_cells(reader):
    from dashboards.exports.build import prepare
    from dashboards.figures.production import SUPPRESSED

    view = state("grain=quarter&country=PRT")  # a small country: some cells below k, some above
    gaps_and_values = 0
    for chart in page.CHARTS:
        prepared = prepare(chart, reader, view, k=10, fresh="test")
        figure = prepared.figure()
        values = [v for trace in figure.data for v in (trace.y or ())]
        assert all(v is None or v == v for v in values), chart.chart_id  # gaps, never NaN
        if not values:
            assert figure.layout.annotations[0].text == SUPPRESSED, chart.chart_id
        gaps_and_values += None in values and any(v is not None for v in values)
    assert gaps_and_values >= 2


def test_figures_turn_suppressed_counts_into_gaps():
    ds = pd.to_datetime(["2024-01-01", "2024-02-01"])
    nan = float("nan")
    material = material_figure(
        pd.DataFrame({"ds": ds, "new_media_clusters": [12, nan], "known_files": [nan, 30], "files": [40, 50]})
    )
    assert list(material.data[0].y) == [12.0, None] and list(material.data[1].y) == [None, 30.0]
    shares = shares_figure(
        pd.DataFrame(
            {
                "ds": ds,
                "files": [40, nan],
                "self_generated": [10, nan],
                "generative_ai": [nan, nan],
                "self_generated_share": [0.25, nan],
                "generative_ai_share": [nan, nan],
            }
        )
    )
    assert list(shares.data[0].y) == [0.25, None] and shares.data[0].customdata[1][1] == "–"
    accounts = accounts_figure(pd.DataFrame({"ds": ds, "entity": ["total", "total"], "reported_accounts": [nan, 15]}))
    assert list(accounts.data[0].y) == [None, 15.0]
    repeat = repeat_figure(
        pd.DataFrame(
            {
                "ds": ds,
                "referrals_with_account": [20, nan],
                "first_reports": [15, nan],
                "repeat_reports": [nan, nan],
                "repeat_share": [nan, nan],
            }
        )
    )
    assert list(repeat.data[0].y) == [15.0, None]
    perceptual = perceptual_material_figure(
        pd.DataFrame(
            {
                "ds": ds,
                "perceptually_new_files": [12, nan],
                "perceptually_known_files": [30, nan],
                "files": [42, nan],
                "perceptually_new_share": [12 / 42, nan],
            }
        )
    )
    assert list(perceptual.data[0].y) == [12.0, None] and list(perceptual.data[2].y)[1] is None
    variants = variants_figure(
        pd.DataFrame(
            {
                "ds": ds,
                "perceptually_new_files": [nan, 20],
                "near_duplicate_variants": [nan, 5],
                "variants_per_new_item": [nan, 1.25],
            }
        )
    )
    assert list(variants.data[1].y) == [None, 5.0] and list(variants.data[2].y) == [None, 1.25]
    empty = material_figure(
        pd.DataFrame({"ds": ds, "new_media_clusters": [0, 0], "known_files": [0, 0], "files": [0, 0]})
    )
    assert "No files" in empty.layout.annotations[0].text


def test_a_single_period_gets_a_readable_axis_instead_of_milliseconds():
    frame = pd.DataFrame(
        {"ds": pd.to_datetime(["2024-01-01"]), "new_media_clusters": [12], "known_files": [30], "files": [40]}
    )
    axis = material_figure(frame, "year").layout.xaxis
    assert axis.tickformat == "%Y" and axis.dtick == "M12"
    assert axis.range[0] < "2024-01-01" < axis.range[1] and axis.range[0].startswith("2023-0")


def test_bars_keep_a_period_wide_width_even_for_a_single_period():
    frame = pd.DataFrame(
        {
            "ds": pd.to_datetime(["2024-01-01"]),
            "referrals_with_account": [40],
            "first_reports": [30],
            "repeat_reports": [10],
            "repeat_share": [0.25],
        }
    )
    figure = repeat_figure(frame, "year")
    assert figure.data[0].width == pytest.approx(0.7 * 365.25 * 86400 * 1000)
    assert figure.data[1].marker.pattern.shape == "/"  # repeat reports differ by more than colour
