"""Strategic reports on the hub's EU warehouse of differentially private releases: the shipped templates run on
it for the EU and for a small member state, cover whole months, leave out with one stated line what the
releases do not carry, check every number on the release cells and carry the DP marking in every output.

One hub warehouse is shared by the module: three synthetic agencies, two years of monthly releases (Malta small,
with cells its agency suppressed), merged by the real hub merge and analysed (referrals by month) once.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import zipfile
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from test_federation_hub import write_release

from dashboards.catalogue import get_chart
from federation.hub_warehouse import merge_releases
from reporting.content import ReportCheckError, build_report, verify
from reporting.definition import load_definition
from reporting.releases import NOT_RELEASED, chart_view
from reporting.run import run_report
from warehouse import WarehouseReader, connect

NOW = datetime(2026, 12, 6, tzinfo=UTC)
PLATFORMS = ("Chatterly", "Glimmr", "Pixly")
DP_DATA = "Differentially private counts: ε = 1 per agency-month (δ = 0); noisy cells under k = 10 suppressed"
SIZES = {"AGY-NLD": ("NLD", 400), "AGY-BEL": ("BEL", 150)}


def _month_rows(country: str, size: int, month: int, year: int) -> list[tuple[str, str, int | None]]:
    return [(country, platform, size * (2 + i) + 7 * month + year % 10) for i, platform in enumerate(PLATFORMS)]


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """The hub warehouse: NLD and BEL large; Malta's agency shows one platform and suppresses the others."""
    from analytics.warehouse_run import run_analysis

    root = tmp_path_factory.mktemp("report_hub")
    files = []
    for year in (2023, 2024):
        for month in range(1, 13):
            label = f"{year}-{month:02d}"
            for agency, (country, size) in SIZES.items():
                files.append(write_release(root, agency, label, _month_rows(country, size, month, year)))
            malta = [("MLT", "Chatterly", 20 + month), ("MLT", "Glimmr", None), ("MLT", "Pixly", None)]
            files.append(write_release(root, "AGY-MLT", label, malta))
    path = root / "eu-hub.duckdb"
    merge_releases(files, path)
    run_analysis(path, metrics=["referrals"], grains=["month"])
    return path


def _released(hub, start: str, end: str, countries: tuple[str, ...] = ()) -> int:
    """Referrals the agencies showed in [start, end], read from the release cells (the test's own query)."""
    con = connect(hub, read_only=True)
    try:
        where = "NOT suppressed AND month BETWEEN ? AND ?" + (
            " AND list_contains(?, country_iso3)" if countries else ""
        )
        params = [start, end, list(countries)] if countries else [start, end]
        return int(con.execute(f"SELECT sum(referrals) FROM dp_release_cell WHERE {where}", params).fetchone()[0])
    finally:
        con.close()


def _text(folder) -> str:
    page = (folder / "report.html").read_text(encoding="utf-8")
    page = re.sub(r"<svg.*?</svg>|<style.*?</style>", " ", page, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", page).replace("&#x27;", "'").replace("&#39;", "'").split())


def _annex(folder) -> dict[str, str]:
    with zipfile.ZipFile(folder / "annex.zip") as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def test_the_weekly_brief_on_a_hub_reports_the_latest_whole_month_with_the_dp_marking(hub, tmp_path):
    run = run_report("weekly-brief", hub, tmp_path, ["html", "csv"], "manual", now=NOW)
    text = _text(run.folder)
    assert "December 2024 (a whole month: the differentially private releases are monthly, so no week" in text
    total = _released(hub, "2024-12-01", "2024-12-31")
    assert f"Referrals (EU-27): {total:,} in December 2024" in text
    assert f"Left out, {NOT_RELEASED}: actionable referrals, files, new media clusters." in text
    assert f"Left out, {NOT_RELEASED}: the chart 'Backlog projection against analyst capacity'." in text
    assert f"Left out, {NOT_RELEASED}: the chart 'Row accounting per ETL batch'." in text
    assert "Every delivery is checked against its data contract" not in text  # no fixed text about absent data
    assert DP_DATA in text and "72 releases from 3 agencies, Jan 2023 – Dec 2024" in text
    assert "The analysis found a break" in text or "No finding" in text
    assert run.manifest["numbers_checked"] >= 2
    annex = _annex(run.folder)
    charts = [name for name in annex if name.startswith("chart-")]
    assert charts and all(f"# Data: {DP_DATA}" in annex[name] for name in charts)
    assert all("Differentially private counts (ε = 1 per agency-month)" in annex[name] for name in charts)


def test_the_strategic_report_for_malta_on_a_hub_shows_suppressed_cells_as_suppressed_never_as_zero(hub, tmp_path):
    run = run_report("strategic-monthly", hub, tmp_path, ["html", "csv"], "manual", scope="MLT", now=NOW)
    text = _text(run.folder)
    assert f"Referrals (Malta): {_released(hub, '2024-12-01', '2024-12-31', ('MLT',))} in December 2024" in text
    assert f"Left out, {NOT_RELEASED}: the comparison with published yearly figures." in text
    assert f"Left out, {NOT_RELEASED}: the backlog and the referrals triaged" in text
    assert DP_DATA in text
    annex = _annex(run.folder)
    platforms = next(body for name, body in annex.items() if name.startswith("table-02-platform-mix"))
    assert f"# Data: {DP_DATA}" in platforms
    rows = {row[0]: row[1:] for row in csv.reader(line for line in io.StringIO(platforms) if not line.startswith("#"))}
    assert rows["Chatterly"][0] == "32" and rows["Glimmr"][0] == "suppressed" and rows["Pixly"][0] == "suppressed"
    assert rows["Total"][0] == "32"
    countries = next(body for name, body in annex.items() if name.startswith("table-01-referrals-per-country"))
    assert "Actionable" not in countries and "Files" not in countries and "Malta (MLT),32" in countries


def test_the_quarterly_strategic_report_for_the_eu_lists_only_released_countries_and_checks_its_figures(hub):
    definition = replace(load_definition("strategic-monthly"), grain="quarter")
    report = build_report(definition, WarehouseReader(hub), now=NOW)
    assert report.period_label == "Q4 2024" and verify(report) >= 2
    figures = report.sections[0].sentences[0]
    assert figures.text.startswith(f"Referrals (EU-27): {_released(hub, '2024-10-01', '2024-12-31'):,} in Q4 2024")
    table = next(table for section in report.sections for table in section.tables if "per country" in table.title)
    assert table.frame["Country"].tolist() == ["Belgium (BEL)", "Malta (MLT)", "Netherlands (NLD)", "Total"]
    assert list(table.frame.columns) == ["Country", "Referrals"]
    assert report.sources[0].startswith("EU hub warehouse: the agencies' differentially private monthly releases")


def test_a_report_number_the_release_cells_do_not_confirm_is_refused(hub, tmp_path):
    edited = tmp_path / "edited-hub.duckdb"
    shutil.copy(hub, edited)
    con = connect(edited)
    try:  # the rollup stays; one release cell of December no longer agrees with it
        con.execute(
            "UPDATE dp_release_cell SET referrals = referrals + 100 "
            "WHERE month = DATE '2024-12-01' AND country_iso3 = 'NLD' AND platform_name = 'Pixly'"
        )
    finally:
        con.close()
    report = build_report(load_definition("weekly-brief"), WarehouseReader(edited), now=NOW)
    with pytest.raises(ReportCheckError, match=re.escape("Referrals in December 2024 (EU-27) is")):
        verify(report)


def test_the_europol_deck_runs_on_a_hub_as_slides_and_pages(hub, tmp_path):
    run = run_report("europol-deck", hub, tmp_path, ["html", "csv", "pptx", "pdf"], "manual", now=NOW)
    names = set(run.manifest["files"])
    assert {"report.html", "report.pptx", "report.pdf", "annex.zip"} <= names
    assert DP_DATA in _text(run.folder)


def test_a_hub_report_draws_a_chart_only_for_released_metrics_and_at_least_monthly():
    assert chart_view(get_chart("trends-explorer"), "grain=week").grain == "month"
    assert chart_view(get_chart("trends-explorer"), "grain=quarter").grain == "quarter"
    assert chart_view(get_chart("trends-explorer"), "metric=files") is None
    assert chart_view(get_chart("production-new-known"), "") is None
    assert chart_view(get_chart("forecasts-backlog"), "grain=week") is None
    assert chart_view(get_chart("dissemination-map"), "") is not None


def test_the_reports_page_preview_on_a_hub_names_what_the_releases_leave_out(hub, tmp_path):
    from reporting.desk import ArchiveDesk

    preview = ArchiveDesk(hub, tmp_path, formats=("html",)).preview("weekly-brief", "EU")
    assert preview.period.startswith("December 2024 (a whole month: the differentially private releases")
    assert preview.sections[0].contents == ("Key figures: referrals",)
    assert f"files ({NOT_RELEASED})" in preview.left_out
    assert f"Backlog projection against analyst capacity ({NOT_RELEASED})" in preview.left_out
