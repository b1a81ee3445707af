"""Report definitions, periods and the checked content of a report run, on a real simulated warehouse.

The warehouse is the small simulated one the export tests use (every EU country, two years, a real
`grace analyse` run). Numbers in the text are checked twice here: by the report's own recomputation
(`verify`) and, for the key figures, against the fact table directly.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import socket
import subprocess
import unicodedata
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from builders import simulated_warehouse
from PIL import Image

from reporting.content import ReportCheckError, build_report, verify
from reporting.definition import DefinitionError, load_definition, parse_definition, template_names
from reporting.period import resolve_period
from warehouse import WarehouseReader
from warehouse.period_rollups import refresh_period_rollups
from warehouse.reference import EU27_ISO3

NOW = datetime(2026, 12, 6, tzinfo=UTC)
MINIMAL = """name: test-report
title: A test report
audience: The test suite
period:
  grain: month
sections:
  - title: Figures
    figures: [referrals]
"""


@pytest.fixture(scope="module")
def warehouse_path(tmp_path_factory):
    from analytics.warehouse_run import run_analysis

    path = simulated_warehouse(tmp_path_factory.mktemp("reports"), scale=0.003)
    run_analysis(path, metrics=["referrals"], grains=["month"])
    return path


@pytest.fixture(scope="module")
def reader(warehouse_path):
    return WarehouseReader(warehouse_path, idle_seconds=60)


# --- definitions -----------------------------------------------------------------------------------


def test_the_shipped_templates_are_valid():
    assert template_names() == ["europol-deck", "strategic-monthly", "weekly-brief"]
    kinds = {name: load_definition(name).kind for name in template_names()}
    assert kinds == {"europol-deck": "deck", "strategic-monthly": "report", "weekly-brief": "report"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("grain: month", "grain: year"), "line 5, period.grain: 'year' is not one of"),
        (("figures: [referrals]", "figures: [referrals, actionable_share_x]"), "line 8, sections[0].figures[1]"),
        (("figures: [referrals]", "figures: [time_to_triage_days]"), "is not a count or share metric"),
        (
            ("    figures: [referrals]", "    charts:\n      - chart: nope"),
            "line 9, sections[0].charts[0].chart: no chart",
        ),
        (("    figures: [referrals]", "    charts:\n      - {chart: trends-explorer, view: grain=hour}"), "grain"),
        (("    figures: [referrals]", "    text: Referrals rose by 12 percent"), "fixed text may hold no digits"),
        (("    figures: [referrals]", "    colour: red"), "unknown field(s): 'colour'"),
        (("name: test-report\n", ""), "'name' is required"),
        (("title: A test report", "title: [unclosed"), "not valid YAML"),
    ],
)
def test_a_bad_definition_is_refused_with_its_line_and_field(change, message):
    with pytest.raises(DefinitionError) as refused:
        parse_definition(MINIMAL.replace(*change), "bad.yaml")
    assert str(refused.value).startswith("bad.yaml") and message in str(refused.value)


def test_a_run_can_change_period_and_scope_but_only_to_valid_values():
    definition = parse_definition(MINIMAL, "ok.yaml")
    assert definition.with_run(period="2024-03-15", scope="MLT").scope == "MLT"
    for period, scope in (("March", None), (None, "Malta"), (None, "agency:")):
        with pytest.raises(DefinitionError):
            definition.with_run(period=period, scope=scope)


# --- periods ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grain", "which", "latest", "expected"),
    [
        ("week", "last-complete", date(2024, 12, 31), ("2024-12-23", "2024-12-29", "week of 23 Dec 2024")),
        ("week", "last-complete", date(2024, 12, 29), ("2024-12-23", "2024-12-29", "week of 23 Dec 2024")),
        ("month", "last-complete", date(2024, 12, 30), ("2024-11-01", "2024-11-30", "November 2024")),
        ("month", "last-complete", date(2024, 12, 31), ("2024-12-01", "2024-12-31", "December 2024")),
        ("quarter", "last-complete", date(2024, 12, 30), ("2024-07-01", "2024-09-30", "Q3 2024")),
        ("quarter", "2024-02-29", date(2024, 12, 31), ("2024-01-01", "2024-03-31", "Q1 2024")),
    ],
)
def test_the_period_is_the_last_complete_one_or_the_one_holding_a_date(grain, which, latest, expected):
    period = resolve_period(grain, which, latest)
    assert (period.start.isoformat(), period.end.isoformat(), period.label) == expected


# --- content ------------------------------------------------------------------------------------------


def test_every_number_of_the_strategic_report_is_checked_and_key_figures_match_the_fact_table(reader, warehouse_path):
    report = build_report(load_definition("strategic-monthly"), reader, now=NOW)
    assert verify(report) == len(report.numbers()) > 10
    assert report.period_label == "December 2024" and report.scope_label == "EU-27" and report.analytics_run
    first = report.sections[0].sentences[0]
    assert first.text.startswith("Referrals (EU-27): ") and "December 2024" in first.text
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        facts = con.execute(
            "SELECT count(*) FROM fact_referral WHERE incident_date BETWEEN DATE '2024-12-01' AND DATE '2024-12-31'"
        ).fetchone()[0]
    finally:
        con.close()
    assert first.numbers[0].value == facts and first.numbers[0].shown == f"{facts:,}"
    assert {chart.chart_id for chart in report.charts()} >= {"dissemination-map", "forecasts-series"}
    assert all(set(chart.images) == {"slide", "a4-landscape"} for chart in report.charts())


def test_a_number_that_no_longer_matches_the_warehouse_fails_the_report_naming_sentence_and_value(
    warehouse_path, tmp_path
):
    """The data moved after the analysis ran: the findings' numbers no longer hold, and the report says so."""
    copy = tmp_path / "moved.duckdb"
    shutil.copy(warehouse_path, copy)
    con = duckdb.connect(str(copy))
    con.execute("UPDATE rollup_referral_daily SET referrals = referrals + 50 WHERE date_key = DATE '2024-06-03'")
    con.execute("CREATE TEMP TABLE moved_dates AS SELECT DATE '2024-06-03' AS date_key")
    refresh_period_rollups(con, "moved_dates")
    con.close()
    report = build_report(load_definition("strategic-monthly"), WarehouseReader(copy), now=NOW)
    with pytest.raises(ReportCheckError) as refused:
        verify(report)
    message = str(refused.value)
    assert "Key findings: “Referrals (EU total) fell" in message and "growth (referrals|month|none|total)" in message
    assert re.search(r"but the warehouse says -?\d", message)


def test_an_unchecked_number_fails_the_report():
    from reporting.model import CheckedNumber, Report, Section, Sentence

    unchecked = Sentence("Referrals: 12.", (CheckedNumber("referrals", "12", 12.0),))
    report = Report("x", "X", "a", "m", "p", "s", "t", "f", "", 10, (Section("S", (unchecked,)),))
    with pytest.raises(ReportCheckError, match="warehouse says nothing"):
        verify(report)
    assert verify(replace(report, sections=(Section("S", (replace(unchecked, numbers=()),)),))) == 0


def test_a_large_number_taken_from_stored_analysis_results_matches_its_full_precision_re_read():
    """Findings keep 12 significant digits: at 114,155.2 that is up to 5e-7 off the stored table's double, far
    below the 0.1 the sentence shows; a difference the reader could see still fails."""
    from analytics.results import jsonable
    from reporting.model import CheckedNumber

    exact = 114155.20234198765
    stored = jsonable(exact)
    assert stored != exact
    assert CheckedNumber("expected by the model", "114,155.2", stored, exact, 1e-9).matches
    assert CheckedNumber("expected by the model", "1.2", jsonable(1.2345678901234), 1.2345678901234, 0.0).matches
    assert not CheckedNumber("expected by the model", "114,155.2", stored, exact + 0.01, 1e-9).matches
    assert not CheckedNumber("referrals", "12", 12.0, 13.0, 0.5).matches


@pytest.mark.parametrize("country", EU27_ISO3)
def test_the_weekly_brief_builds_for_every_country_with_no_small_count_in_its_text(reader, country):
    definition = load_definition("weekly-brief").with_run(scope=country)
    report = build_report(definition, reader, now=NOW)
    verify(report)
    k = report.k
    for _, sentence, number in report.numbers():
        if number.label.startswith(("Referrals", "Actionable", "Files", "New media")) and number.value:
            assert number.value >= k, sentence.text
    assert not any(chart.chart_id.startswith("operations") for chart in report.charts())  # EU-wide: withheld
    text = " ".join(s.text for section in report.sections for s in section.sentences)
    assert "not part of a" in text  # says what was left out


# --- comparison with published figures ---------------------------------------------------------------

SYNTHETIC = "Synthetic example (not real data)"


def published_csv(path: Path) -> Path:
    """Synthetic yearly figures for every EU-27 country (2023, 2024), and one IWF-style figure for Germany only."""
    rows = ["period,period_type,country_iso3,platform,metric,value,source,note"]
    for year in (2023, 2024):
        for number, country in enumerate(EU27_ISO3):
            rows.append(f"{year},year,{country},,cybertipline_reports,{500 + 10 * number + year % 10},{SYNTHETIC},")
    rows.append(f"2024,year,DEU,,iwf_reports,321,{SYNTHETIC},")
    rows.append(f"2024,year,,,cybertipline_reports,999999,{SYNTHETIC},a world total: never compared")
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def published_path(warehouse_path, tmp_path_factory):
    """The report warehouse with the synthetic published figures imported (`grace import statistics`)."""
    from etl.statistics import import_statistics
    from warehouse import connect

    folder = tmp_path_factory.mktemp("published")
    copy = folder / "published.duckdb"
    shutil.copy(warehouse_path, copy)
    con = connect(copy)
    try:
        import_statistics(con, published_csv(folder / "statistics.csv"))
    finally:
        con.close()
    return copy


def comparison(path: Path, scope: str, years: int = 2):
    from reporting.definition import PublishedRef
    from reporting.published import published_comparison

    period = resolve_period("month", "last-complete", date(2024, 12, 31))
    countries = None if scope == "EU" else [scope]
    label = "EU-27" if scope == "EU" else scope
    reader = WarehouseReader(path, idle_seconds=60)
    with reader.cursor() as con:
        return published_comparison(
            con, PublishedRef(("cybertipline_reports", "iwf_reports"), years), period, countries, label, 10
        )


def fact_referrals(path: Path, year: int, countries=None) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "SELECT count(*) FROM fact_referral WHERE year(incident_date) = $year "
            "AND ($countries IS NULL OR list_contains($countries, country_iso3))",
            {"year": year, "countries": countries},
        ).fetchone()[0]
    finally:
        con.close()


def test_the_eu_comparison_puts_the_warehouse_year_next_to_the_sum_of_the_countries_published_figures(published_path):
    found = comparison(published_path, "EU")
    first = found.sentences[0]
    assert first.text.startswith("2024, EU-27: GRACE holds ") and SYNTHETIC in first.text
    grace, published, share = first.numbers
    assert grace.value == fact_referrals(published_path, 2024) and grace.matches
    assert published.value == sum(500 + 10 * n + 4 for n in range(27)) and published.matches  # not the world total
    assert share.matches and share.shown.endswith(" %")
    assert "some of its countries only" in found.sentences[1].text and not found.sentences[1].numbers  # IWF: DEU only
    assert found.sentences[2].text.startswith("2023, EU-27") and "bundles duplicate reports" in found.sentences[-1].text
    table = found.table.frame
    assert list(table.columns[:3]) == ["Year", "Country", "GRACE referrals"] and len(table) == 2 * 28
    eu = table[(table["Country"] == "EU-27") & (table["Year"] == "2024")].iloc[0]
    assert eu["GRACE referrals"] == grace.value and eu["cybertipline reports (" + SYNTHETIC + ")"] == published.value
    germany = table[(table["Country"] == "Germany") & (table["Year"] == "2024")].iloc[0]
    assert germany["iwf reports (" + SYNTHETIC + ")"] == 321


def test_a_small_country_comparison_suppresses_the_warehouse_count_but_shows_the_published_figure(published_path):
    assert 0 < fact_referrals(published_path, 2024, ["MLT"]) < 10  # the case the rule is for
    found = comparison(published_path, "MLT", years=1)
    (first, caveat) = found.sentences
    assert "GRACE's referrals are not shown (fewer than 10; small-cell rule)" in first.text
    assert [number.shown for number in first.numbers] == [f"{500 + 10 * EU27_ISO3.index('MLT') + 4:,}"]
    assert all(number.matches for number in first.numbers) and not caveat.numbers
    assert found.table.frame["GRACE referrals"].tolist() == ["suppressed"]
    assert "suppressed" in found.table.note


def test_without_imported_figures_the_comparison_says_so_with_no_number_and_no_table(warehouse_path):
    found = comparison(warehouse_path, "EU")
    assert found.table is None and len(found.sentences) == 1 and not found.sentences[0].numbers
    assert found.sentences[0].text.startswith("No published yearly figures (cybertipline_reports, iwf_reports)")
    assert not re.search(r"\d", found.sentences[0].text.replace("2024", "").replace("EU-27", ""))


def test_a_published_section_is_validated_with_its_line():
    bad = MINIMAL.replace("    figures: [referrals]", "    published: {metrics: [NCMEC Reports]}")
    with pytest.raises(DefinitionError, match=r"bad.yaml, line 8, sections\[0\].published.metrics\[0\]"):
        parse_definition(bad, "bad.yaml")
    for change in ("    published: {years: 2}", "    tables: [everything]", "    outlook: [no_such_metric]"):
        with pytest.raises(DefinitionError, match="line 8, sections"):
            parse_definition(MINIMAL.replace("    figures: [referrals]", change), "bad.yaml")


# --- findings of every checkable kind -----------------------------------------------------------------


def event_findings(path: Path, kinds, scope=None):
    from reporting.findings import finding_sentences

    with WarehouseReader(path, idle_seconds=60).cursor() as con:
        return finding_sentences(con, 50, kinds, [], scope, 10)


def test_a_break_is_worded_with_window_means_that_match_the_fact_table(warehouse_path):
    found = event_findings(warehouse_path, ["changepoint"])
    total = next(s for s in found.sentences if "(EU total) in 2024-01" in s.text)
    before, after, change = total.numbers
    assert all(number.matches for number in total.numbers)
    windows = re.findall(r"over (\d{4}-\d{2}) to (\d{4}-\d{2})", total.text)
    means = []
    for first, last in windows:
        months = pd.period_range(first, last, freq="M")
        con = duckdb.connect(str(warehouse_path), read_only=True)
        count = con.execute(
            "SELECT count(*) FROM fact_referral WHERE incident_date BETWEEN $a AND $b",
            {"a": months[0].start_time.date(), "b": months[-1].end_time.date()},
        ).fetchone()[0]
        con.close()
        means.append(count / len(months))
    assert means == pytest.approx([before.value, after.value])
    assert change.value == pytest.approx(means[1] / means[0] - 1)
    assert "level fell from" not in total.text  # the model's fitted levels are not printed


def test_anomalies_and_forecasts_are_worded_with_checked_numbers_and_small_ones_withheld(warehouse_path):
    found = event_findings(warehouse_path, ["anomaly", "forecast"])
    spikes = [s for s in found.sentences if s.text.startswith(("Spike", "Dip"))]
    assert spikes and all(len(s.numbers) == 3 and all(n.matches for n in s.numbers) for s in spikes)
    forecast = next(s for s in found.sentences if "forecast for 2025-01" in s.text)
    assert [n.label.split(" (")[0] for n in forecast.numbers] == [
        "forecast",
        "interval level",
        "interval low",
        "interval high",
    ]
    low, point, high = (forecast.numbers[i].value for i in (2, 0, 3))
    assert low <= point <= high and all(n.matches for n in forecast.numbers)
    for sentence in found.sentences:
        for number in sentence.numbers:
            assert not 0 < round(number.value) < 10 or number.label.startswith(("interval level", "change")), sentence


def test_a_tampered_anomaly_or_forecast_is_refused_by_verify(warehouse_path, tmp_path):
    copy = tmp_path / "tampered.duckdb"
    shutil.copy(warehouse_path, copy)
    con = duckdb.connect(str(copy))
    spike = con.execute(
        "SELECT series_id, date, split_by, entity FROM analytics_anomaly WHERE split_by = 'platform' "
        "AND value >= 10 AND expected >= 10 ORDER BY date DESC LIMIT 1"
    ).fetchone()
    day = spike[1]
    con.execute(
        "UPDATE rollup_referral_daily SET referrals = referrals + 7 WHERE rowid = (SELECT min(rowid) FROM "
        "rollup_referral_daily WHERE platform_name = $p AND date_trunc('month', date_key) = $d)",
        {"p": spike[3], "d": day},
    )
    con.execute("UPDATE analytics_forecast SET yhat = yhat_upper + 1 WHERE series_id = 'referrals|month|none|total'")
    con.close()
    from reporting.model import Report, Section

    found = event_findings(copy, ["anomaly", "forecast"])
    report = Report("x", "X", "a", "m", "p", "s", "t", "f", "", 10, (Section("What stood out", found.sentences),))
    with pytest.raises(ReportCheckError) as refused:
        verify(report)
    message = str(refused.value)
    assert f"observed ({spike[0]}" in message and "forecast (referrals|month|none|total" in message
    assert "warehouse says nothing" in message  # the forecast's point left its interval: nothing checks it


def test_a_number_changed_after_writing_is_refused_naming_the_sentence(published_path):
    found = comparison(published_path, "EU")
    first = found.sentences[0]
    wrong = replace(first.numbers[1], value=first.numbers[1].value + 1)
    from reporting.model import Report, Section

    tampered = replace(first, numbers=(first.numbers[0], wrong, first.numbers[2]))
    report = Report("x", "X", "a", "m", "p", "s", "t", "f", "", 10, (Section("Published", (tampered,)),))
    with pytest.raises(ReportCheckError, match=r"Published: “2024, EU-27: GRACE holds .* cybertipline reports"):
        verify(report)


# --- capacity and annex tables ----------------------------------------------------------------------------


def test_the_strategic_report_has_capacity_outlook_comparison_and_annex_tables_all_checked(published_path):
    report = build_report(load_definition("strategic-monthly"), WarehouseReader(published_path), now=NOW)
    assert verify(report) == len(report.numbers())
    sections = {section.title: section for section in report.sections}
    capacity = [s.text for s in sections["Capacity"].sentences]
    assert capacity[0].startswith("Backlog (EU-27): ") and "end of November 2024" in capacity[0]
    assert re.match(r"In December 2024 \(EU-27\), [\d,]+ referrals were received and [\d,]+ triaged", capacity[1])
    assert {c.chart_id for c in sections["Capacity"].charts} == {"forecasts-backlog"}
    assert any(s.text.startswith("Referrals (EU-27), forecast for 2025-01: ") for s in sections["Outlook"].sentences)
    assert [t.title for t in sections["Comparison with published figures"].tables] == [
        "GRACE referrals and published yearly figures"
    ]
    countries, platforms = sections["Annex tables"].tables
    assert len(countries.frame) == 28 and countries.frame["Country"].iloc[-1] == "Total"
    shown = countries.frame[countries.frame["Referrals"] != "suppressed"]
    assert all(value == 0 or value >= 10 for value in shown["Referrals"])
    december = fact_referrals(published_path, 2024)  # the whole year: the December total is below it
    assert 0 < countries.frame["Referrals"].iloc[-1] < december
    assert platforms.frame["Referrals"].iloc[-1] == countries.frame["Referrals"].iloc[-1]
    assert "suppressed" in countries.note or "nothing suppressed" in countries.note


def test_the_tables_appear_in_the_html_the_pdf_text_and_the_annex(published_path, tmp_path):
    import io
    import zipfile

    from pypdf import PdfReader

    from reporting.render_annex import render_annex
    from reporting.render_html import render_html
    from reporting.render_pdf import render_pdf

    report = build_report(load_definition("strategic-monthly"), WarehouseReader(published_path), now=NOW)
    html = render_html(report)
    for title in (
        "GRACE referrals and published yearly figures",
        "Referrals per country, December 2024 (EU-27)",
        "Platform mix, December 2024 (EU-27)",
    ):
        assert f"<caption>{title}</caption>" in html
    pdf = render_pdf(report)
    pages = PdfReader(io.BytesIO(pdf)).pages
    text = unicodedata.normalize("NFKC", " ".join(" ".join(page.extract_text().split()) for page in pages))  # ligatures
    assert "GRACE referrals and published yearly figures" in text and "Platform mix, December 2024" in text
    assert "EU-27" in text and SYNTHETIC in text
    with zipfile.ZipFile(io.BytesIO(render_annex(report))) as annex:
        names = annex.namelist()
        assert {"table-01-grace-referrals-and-published-yearly-figures.csv", "annex.json"} <= set(names)
        published = annex.read("table-01-grace-referrals-and-published-yearly-figures.csv").decode()
        assert "# Classification: RESTRICTED" in published and "EU-27" in published and "suppressed" in published
        assert any(name.startswith("table-03-platform-mix") for name in names)


# --- whole runs: every output, archived ----------------------------------------------------------------


def pdf_pages_as_images(pdf: Path, tmp_path: Path) -> list[Image.Image]:
    """The PDF's pages as PNGs through poppler's pdftoppm (what a reader would see), 50 dpi."""
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm not installed (apt-get install poppler-utils)")
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=120)
    return [Image.open(path).convert("L") for path in sorted(tmp_path.glob("page-*.png"))]


@pytest.fixture(scope="module")
def weekly_run(warehouse_path, tmp_path_factory):
    """`grace reports run weekly-brief` end to end (every output), with its archive folder."""
    from click.testing import CliRunner

    from grace_cli import cli

    out = tmp_path_factory.mktemp("archive")
    result = CliRunner().invoke(
        cli, ["reports", "run", "weekly-brief", "--warehouse", str(warehouse_path), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    (folder,) = [path for path in out.iterdir() if path.is_dir()]
    from dashboards.auth.audit import AuditLog

    audited = AuditLog().recent(filters={"event": "report_run"})  # this test's $GRACE_HOME
    return folder, result.output, audited


def test_a_run_archives_every_output_with_a_manifest_of_checksums_and_is_audited(weekly_run):
    folder, output, events = weekly_run
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest["files"]) == {"report.html", "report.pdf", "report.pptx", "annex.zip"}
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == entry["sha256"]
    assert manifest["definition"]["sha256"] == load_definition("weekly-brief").digest
    assert manifest["period"] == "week of 23 Dec 2024" and manifest["scope"] == "EU-27"
    assert manifest["numbers_checked"] > 0 and manifest["analytics_run"] and manifest["triggered_by"].startswith("cli:")
    assert "numbers checked" in output
    assert events and events[0].detail["report"] == "weekly-brief"


def test_the_pdf_has_the_marking_and_page_numbers_on_every_page_no_blank_page_and_the_checked_sentences(
    weekly_run, tmp_path
):
    from pypdf import PdfReader

    folder, _, _ = weekly_run
    pdf = PdfReader(folder / "report.pdf")
    texts = [" ".join(page.extract_text().split()) for page in pdf.pages]
    assert len(texts) >= 6
    for number, text in enumerate(texts, start=1):
        assert "RESTRICTED" in text and f"page {number} of {len(texts)}" in text, number
    everything = " ".join(texts)
    report_sentences = json.loads((folder / "manifest.json").read_text())
    assert report_sentences["numbers_checked"] > 0
    assert re.search(r"Referrals \(EU-27\): [\d,]+ in week of 23 Dec 2024", everything)
    for image in pdf_pages_as_images(folder / "report.pdf", tmp_path):
        width, height = image.size
        body = image.crop((0, int(height * 0.08), width, int(height * 0.92)))  # inside the marking bands
        assert sum(1 for value in body.get_flattened_data() if value < 200) > 50, "a blank page"


def test_the_deck_has_a_slide_per_chart_with_its_image_and_the_marking_on_every_slide(weekly_run):
    from pptx import Presentation

    folder, _, _ = weekly_run
    deck = Presentation(str(folder / "report.pptx"))
    manifest = json.loads((folder / "manifest.json").read_text())
    pictures = [shape for slide in deck.slides for shape in slide.shapes if shape.shape_type == 13]
    assert len(pictures) == len(manifest["charts"])
    for slide in deck.slides:
        text = " ".join(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame)
        assert "RESTRICTED" in text


def test_a_failed_run_leaves_no_half_written_folder(reader, tmp_path, monkeypatch):
    from reporting import archive

    report = build_report(load_definition("weekly-brief"), reader, now=NOW)

    def broken(_report):
        raise RuntimeError("the PDF printer failed")

    writers = archive._writers()
    monkeypatch.setattr(archive, "_writers", lambda: {**writers, "pdf": ("report.pdf", broken)})
    with pytest.raises(RuntimeError, match="PDF printer"):
        archive.write_run(report, load_definition("weekly-brief"), tmp_path, archive.FORMATS, 1, "test")
    assert list(tmp_path.iterdir()) == []


def test_grace_reports_due_runs_a_scheduled_report_into_the_archive_and_lists_it(warehouse_path):
    from click.testing import CliRunner

    from grace_cli import cli

    runner = CliRunner()
    added = runner.invoke(
        cli,
        [
            "reports",
            "schedule",
            "add",
            "weekly-brief",
            "--cron",
            "* * * * *",
            "--scope",
            "MLT",
            "--formats",
            "html,csv",
        ],
    )
    assert added.exit_code == 0 and added.output.startswith("weekly-brief-mlt: weekly-brief at '* * * * *'"), (
        added.output
    )
    refused = runner.invoke(cli, ["reports", "schedule", "add", "weekly-brief", "--cron", "0 25 * * *"])
    assert refused.exit_code != 0 and "not valid" in refused.output
    ran = runner.invoke(cli, ["reports", "due", "--warehouse", str(warehouse_path)])
    assert ran.exit_code == 0 and ran.output.startswith("weekly-brief-mlt: "), ran.output
    folder = Path(ran.output.split(": ", 1)[1].strip())
    assert sorted(path.name for path in folder.iterdir()) == ["annex.zip", "manifest.json", "report.html"]
    assert json.loads((folder / "manifest.json").read_text())["triggered_by"].startswith("schedule weekly-brief-mlt")
    listed = runner.invoke(cli, ["reports", "schedule", "list"])
    assert "weekly-brief-mlt" in listed.output and " done " in listed.output
    assert runner.invoke(cli, ["reports", "schedule", "remove", "weekly-brief-mlt"]).exit_code == 0


def test_a_scheduled_run_is_delivered_to_a_folder_and_by_e_mail_and_a_failed_delivery_fails_the_run(
    warehouse_path, tmp_path, monkeypatch
):
    from aiosmtpd.controller import Controller
    from click.testing import CliRunner

    from grace_cli import cli

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope.rcpt_tos)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.setenv("GRACE_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("GRACE_SMTP_PORT", str(port))
        runner = CliRunner()
        shared = tmp_path / "shared"
        args = ["--cron", "* * * * *", "--scope", "CYP", "--formats", "html,pdf"]
        added = runner.invoke(
            cli,
            ["reports", "schedule", "add", "weekly-brief", *args, "--deliver-to", str(shared), "--email", "a@b.test"],
        )
        assert added.exit_code == 0, added.output
        ran = runner.invoke(cli, ["reports", "due", "--warehouse", str(warehouse_path)])
        assert ran.exit_code == 0, ran.output
    finally:
        controller.stop()
    assert received == [["a@b.test"]]
    (copy,) = shared.iterdir()
    assert sorted(p.name for p in copy.iterdir()) == ["manifest.json", "report.html", "report.pdf"]
    # The SMTP server is gone: the next due run fails, is recorded as failed and exits 1.
    monkeypatch.setenv("GRACE_SMTP_PORT", str(port))
    runner.invoke(cli, ["reports", "schedule", "remove", "weekly-brief-cyp"])
    runner.invoke(cli, ["reports", "schedule", "add", "weekly-brief", *args, "--name", "again", "--email", "a@b.test"])
    failed = runner.invoke(cli, ["reports", "due", "--warehouse", str(warehouse_path)])
    assert failed.exit_code == 1 and "again: failed (attempt 1)" in failed.output
