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
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from builders import simulated_warehouse
from PIL import Image

from reporting.content import ReportCheckError, build_report, verify
from reporting.definition import DefinitionError, load_definition, parse_definition, template_names
from reporting.period import resolve_period
from warehouse import WarehouseReader
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
