"""The four report renderers (HTML, PDF, PPTX, CSV annex) read one synthetic `Report` and say the same things.

The report is built here, not by the content builder: three sections of sentences with checked numbers, two
real chart images (a plotly figure laid out by `static_figure` and rendered by kaleido on Debian's Chromium at
the `slide` and `a4-landscape` presets), a small table with a suppressed cell and a 60-row table that has to
break across pages and slides. All data are synthetic.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
import stat
import zipfile
from dataclasses import replace

import pandas as pd
import plotly.graph_objects as go
import pytest
from pptx import Presentation
from pptx.util import Pt
from pypdf import PdfReader

from dashboards.exports.marking import CLASSIFICATION, Marking, csv_bytes
from dashboards.exports.presets import A4_LANDSCAPE, SLIDE
from dashboards.exports.renderer import ExportUnavailable, renderer
from dashboards.exports.static import static_figure
from reporting.model import ChartImage, CheckedNumber, Report, Section, Sentence, Table
from reporting.render_annex import render_annex
from reporting.render_html import render_html
from reporting.render_pdf import PdfPrintError, render_pdf
from reporting.render_pptx import render_pptx
from reporting.svg_inline import UnsafeSvgError, inline_svg

GENERATED = "2024-04-02T08:00:00Z"
K = 10
SOURCE = "GRACE warehouse (synthetic test data)"


def sentence(text: str, *numbers: tuple[str, str, float]) -> Sentence:
    checked = tuple(CheckedNumber(label, shown, value, recomputed=value) for label, shown, value in numbers)
    return Sentence(text, checked, source="test fixture")


def chart_image(chart_id: str, title: str, subtitle: str, note: str, frame: pd.DataFrame, figure: go.Figure):
    """A chart as the content builder hands it over: marked images at two presets, and its marked CSV."""
    marking = Marking(
        title=title,
        subtitle=subtitle,
        source=SOURCE,
        filters="All countries, all platforms",
        freshness="Data to 31 Mar 2024",
        rule=f"Small-cell rule k={K}: nothing suppressed.",
        generated_at=GENERATED,
        note=note,
    )
    images, svgs = {}, {}
    for preset in (SLIDE, A4_LANDSCAPE):
        static = static_figure(figure, marking, preset)
        size = {"width": static.layout.width, "height": static.layout.height}
        images[preset.name] = renderer().render(static, "png", scale=preset.scale, **size)
        svgs[preset.name] = renderer().render(static, "svg", **size)
    return ChartImage(chart_id, title, subtitle, note, images, svgs, csv_bytes(frame, marking), 0, len(frame))


@pytest.fixture(scope="module")
def report():
    months = pd.DataFrame({"month": ["2024-01-01", "2024-02-01", "2024-03-01"], "referrals": [1102, 1098, 1234]})
    monthly = chart_image(
        "overview-monthly-referrals",
        "Referrals per month, EU-27",
        "January to March 2024",
        "March is provisional.",
        months,
        go.Figure(go.Scatter(x=months["month"], y=months["referrals"], name="Referrals")),
    )
    platforms = pd.DataFrame({"platform": ["PLT-A", "PLT-B", "PLT-C"], "referrals": [640, 410, 184]})
    by_platform = chart_image(
        "dissemination-platform-mix",
        "Referrals by platform, March 2024, EU-27",
        "Platforms by code",
        "",
        platforms,
        go.Figure(go.Bar(x=platforms["platform"], y=platforms["referrals"], name="Referrals")),
    )
    renderer().shutdown()
    countries = Table(
        "Referrals by country, March 2024",
        pd.DataFrame({"country": ["DEU", "MLT", "FRA"], "referrals": [612, "suppressed", 0]}),
        note="Counts from 1 to 9 are suppressed.",
    )
    long_table = Table(
        "Referrals by platform code, March 2024",
        pd.DataFrame(
            {
                "platform_code": [f"PLT-{n:03d}" for n in range(1, 61)],
                "referrals": [("suppressed" if n % 17 == 0 else 100 + n) for n in range(1, 61)],
            }
        ),
        note="Platform codes are synthetic.",
    )
    volumes = Section(
        "Referral volumes",
        sentences=(
            sentence("Referrals rose to 1,234 in March 2024.", ("referrals, March 2024", "1,234", 1234)),
            sentence("That is 12 % more than in February.", ("change on February", "12 %", 12.4)),
            sentence("Germany accounted for 612 referrals.", ("referrals, Germany", "612", 612)),
        ),
        charts=(monthly,),
        tables=(countries,),
        intro="Counts are distinct referrals by the month they were received.",
    )
    platform_sentences = tuple(
        sentence(f"Platform PLT-{chr(65 + n)} reported {100 + n} referrals.", ("referrals", str(100 + n), 100 + n))
        for n in range(8)
    )
    platform_section = Section("Platforms", sentences=platform_sentences, charts=(by_platform,), tables=(long_table,))
    method = Section(
        "Method notes",
        sentences=(
            sentence("Figures were checked against the warehouse at render time."),
            sentence("Small cells are suppressed throughout."),
        ),
    )
    return Report(
        name="monthly-brief",
        title="Monthly strategic brief",
        audience="Europol analysts",
        marking=CLASSIFICATION,
        period_label="March 2024",
        scope_label="EU-27",
        generated_at=GENERATED,
        data_freshness="Data to 31 Mar 2024",
        analytics_run="run 42",
        k=K,
        sections=(volumes, platform_section, method),
        sources=(SOURCE, "Eurostat population (for rates)", "Analysis run 42 of 2 Apr 2024"),
    )


def every_sentence(report: Report) -> list[str]:
    return [sentence.text for section in report.sections for sentence in section.sentences]


# --- HTML ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report_html(report):
    return render_html(report)


def test_the_html_is_one_file_that_refers_to_nothing_outside_itself(report_html):
    references = re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']*)""", report_html)
    assert references, "the table of contents links to its sections"
    assert all(reference.startswith(("#", "data:")) for reference in references), references
    assert "<link" not in report_html and "<script" not in report_html and "@import" not in report_html
    assert "default-src 'none'" in report_html  # and the browser is told not to fetch anything


def test_the_html_prints_every_sentence_the_marking_twice_and_a_working_table_of_contents(report, report_html):
    for text in every_sentence(report):
        assert f"<p>{html.escape(text)}</p>" in report_html
    assert report_html.count(f'role="note">{html.escape(CLASSIFICATION)}</p>') == 2
    assert report_html.index("marking-top") < report_html.index("<h1>") < report_html.rindex("marking-bottom")
    targets = re.findall(r'href="#([^"]+)"', report_html)
    assert {"section-1", "section-2", "section-3", "sources", "figure-1", "table-2"} <= set(targets)
    for target in targets:
        assert f'id="{target}"' in report_html
    for label in ("Europol analysts", "March 2024", "EU-27", GENERATED, "Data to 31 Mar 2024", "run 42"):
        assert f"<dd>{label}</dd>" in report_html


def test_the_html_places_the_a4_landscape_svg_of_each_chart_inline_and_labelled(report, report_html):
    assert report_html.count("<svg ") == 2
    for number, chart in enumerate(report.charts(), start=1):
        label = html.escape(f"{chart.title}. {chart.subtitle}")
        assert f'aria-label="{label}"' in report_html
        assert f'id="figure-{number}-defs-' in report_html  # ids prefixed per chart: no collision
    assert report_html.count(f'viewBox="0 0 {A4_LANDSCAPE.width_px} {A4_LANDSCAPE.height_px}"') == 2


def test_the_html_falls_back_to_a_png_data_uri_when_a_chart_has_no_svg(report):
    chart = report.sections[0].charts[0]
    only_png = replace(chart, svg={})
    section = replace(report.sections[0], charts=(only_png,))
    report_html = render_html(replace(report, sections=(section,)))
    assert '<img src="data:image/png;base64,' in report_html
    assert f'alt="{html.escape(chart.title)}.' in report_html


def test_the_html_shows_table_cells_as_given_with_their_note(report_html):
    assert '<td class="num">suppressed</td>' in report_html
    assert '<td class="num">0</td>' in report_html
    assert '<th scope="col">platform_code</th>' in report_html
    assert report_html.count("<td>PLT-0") == 60
    assert '<p class="note">Counts from 1 to 9 are suppressed.</p>' in report_html


def test_the_html_escapes_hostile_text_everywhere(report):
    hostile = '<script>alert("x")</script>'
    section = replace(report.sections[2], title=f"Notes {hostile}", sentences=(sentence(f"A finding {hostile}"),))
    hostile_report = replace(
        report,
        title=f"Brief <b>{hostile}</b>",
        marking=f'RESTRICTED"; }} </style>{hostile}',
        sections=(report.sections[0], section),
    )
    page = render_html(hostile_report)
    assert "<script" not in page
    assert page.count("</style>") == 1  # the marking in the @page rules cannot end the style sheet
    assert "<p>A finding &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</p>" in page


@pytest.mark.parametrize(
    "svg, problem",
    [
        ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><script>alert(1)</script></svg>', "<script>"),
        ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><style>body{}</style></svg>', "<style>"),
        ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1" onload="x()"/>', "event handler"),
        (
            '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 1 1">'
            '<image xlink:href="https://example.org/x.png"/></svg>',
            "outside itself",
        ),
        (
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1">'
            '<rect style="fill: url(http://example.org/p.svg#g)"/></svg>',
            "outside itself",
        ),
        ("<html/>", "not an SVG"),
    ],
)
def test_an_svg_that_would_run_or_fetch_something_is_refused(svg, problem):
    with pytest.raises(UnsafeSvgError, match=problem):
        inline_svg(svg.encode(), "figure-1-", "label")


def test_an_inline_svg_keeps_its_own_references_under_prefixed_ids():
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50"><defs><clipPath id="c1"><rect/></clipPath>'
        b'</defs><g clip-path="url(#c1)" style="clip-path: url(\'#c1\')"/></svg>'
    )
    inline = inline_svg(svg, "figure-2-", 'a "quoted" label')
    assert 'id="figure-2-c1"' in inline
    assert inline.count("url(&quot;#figure-2-c1&quot;)") == 2 and "#c1" not in inline
    assert 'viewBox="0 0 100 50"' in inline and "width=" not in inline
    assert 'aria-label="a &quot;quoted&quot; label"' in inline


# --- PDF -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pdf_pages(report):
    reader = PdfReader(io.BytesIO(render_pdf(report)))
    return reader.pages


def page_texts(pages) -> list[str]:
    return [page.extract_text() for page in pages]


def test_the_pdf_pages_are_a4_each_marked_and_numbered(report, pdf_pages):
    # title and contents; the sections' narrative flowing on portrait pages, a landscape page per chart, the
    # long table over two pages at least, then the sources
    assert len(pdf_pages) >= 7
    texts = page_texts(pdf_pages)
    chart_titles = [chart.title for chart in report.charts()]
    for number, (page, text) in enumerate(zip(pdf_pages, texts), start=1):
        size = (round(float(page.mediabox.width)), round(float(page.mediabox.height)))
        on_chart_page = number > 1 and any(title in text for title in chart_titles)
        assert size == ((842, 595) if on_chart_page else (595, 842)), f"page {number}"  # charts: landscape
        # the page margins: marking at the top, then the bottom's page number and marking (charts carry theirs too)
        assert text.startswith(f"{CLASSIFICATION}\npage {number} of {len(pdf_pages)}{CLASSIFICATION}\n"), text[:200]
    assert sum(page.mediabox.width > page.mediabox.height for page in pdf_pages) == len(chart_titles)


def test_no_pdf_page_is_blank_and_each_chart_has_a_page_of_its_own(report, pdf_pages):
    texts = page_texts(pdf_pages)
    bodies = [re.sub(r"page \d+ of \d+", "", text).replace(CLASSIFICATION, "").strip() for text in texts]
    assert all(bodies), [number for number, body in enumerate(bodies, start=1) if not body]
    assert "Contents" in texts[0] and report.title in texts[0]
    for chart in report.charts():
        (chart_page,) = [text for text in texts[1:] if chart.title in text]  # page 1 names it in the contents
        assert not any(sentence in chart_page for sentence in every_sentence(report))
        assert "platform_code" not in chart_page and "Referrals by country" not in chart_page


def test_the_long_table_breaks_across_pdf_pages_with_its_header_on_each(pdf_pages):
    texts = page_texts(pdf_pages)
    spanned = [text for text in texts if "PLT-0" in text]
    assert len(spanned) >= 2
    assert all("platform_code" in text for text in spanned)
    rows = [row for text in spanned for row in re.findall(r"PLT-\d{3}", text)]
    assert rows == [f"PLT-{n:03d}" for n in range(1, 61)]  # every row once: none split or lost


def test_the_pdf_fails_clearly_without_a_working_chromium(report, tmp_path, monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-chromium"))
    with pytest.raises(ExportUnavailable, match="not an executable"):
        render_pdf(report)
    failing = tmp_path / "failing-chromium"
    failing.write_text("#!/bin/sh\necho 'cannot open display' >&2\nexit 3\n")
    failing.chmod(failing.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("BROWSER_PATH", str(failing))
    with pytest.raises(PdfPrintError, match=r"exit code 3\b.*cannot open display"):
        render_pdf(report)
    hanging = tmp_path / "hanging-chromium"
    hanging.write_text("#!/bin/sh\nsleep 30\n")
    hanging.chmod(hanging.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("BROWSER_PATH", str(hanging))
    with pytest.raises(PdfPrintError, match=r"longer than 0\.5 s"):
        render_pdf(report, timeout=0.5)


# --- PPTX ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def deck(report):
    return Presentation(io.BytesIO(render_pptx(report)))


def slide_texts(slide) -> list[str]:
    return [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]


def chart_slides(deck) -> list:
    return [slide for slide in deck.slides if any(shape.shape_type == 13 for shape in slide.shapes)]


def test_the_deck_is_16_9_with_a_title_slide_and_every_slide_marked(report, deck):
    # title; volumes: narrative, chart, table; platforms: 2 narrative (8 sentences), chart, 5 table (60 rows);
    # method notes; sources and method
    assert len(deck.slides) == 1 + 3 + (2 + 1 + 5) + 1 + 1
    assert (deck.slide_width.inches, deck.slide_height.inches) == (pytest.approx(13.333, abs=0.001), 7.5)
    first = deck.slides[0]
    assert first.shapes.title.text_frame.text == report.title
    assert "Audience: Europol analysts" in first.placeholders[1].text_frame.text
    for number, slide in enumerate(deck.slides, start=1):
        assert slide_texts(slide).count(CLASSIFICATION) == 2, f"slide {number}"


def test_each_chart_slide_is_its_full_slide_image_with_alt_text_and_the_narrative_in_the_notes(report, deck):
    slides = chart_slides(deck)
    assert len(slides) == 2
    for slide, (section, chart) in zip(slides, [(s, c) for s in report.sections for c in s.charts]):
        pictures = [shape for shape in slide.shapes if shape.shape_type == 13]
        assert len(pictures) == 1
        picture = pictures[0]
        assert picture._element.nvPicPr.cNvPr.get("descr") == f"{chart.title}. {chart.subtitle}"
        assert (picture.width, picture.height) == (deck.slide_width, deck.slide_height)
        assert picture.image.blob == chart.images["slide"]
        notes = slide.notes_slide.notes_text_frame.text
        assert all(sentence.text in notes for sentence in section.sentences)
        assert chart.note in notes


def test_narrative_slides_hold_six_bullets_at_most_at_18_pt_or_more(report, deck):
    titles = [slide.shapes.title.text_frame.text for slide in deck.slides if slide.shapes.title is not None]
    assert "Platforms" in titles and "Platforms (continued)" in titles
    for slide in deck.slides:
        if slide.shapes.title is None or len(slide.placeholders) < 2:
            continue
        body = slide.placeholders[1].text_frame
        assert len(body.paragraphs) <= 6
        assert all(run.font.size >= Pt(18) for paragraph in body.paragraphs for run in paragraph.runs)
    platforms = [
        slide
        for slide in deck.slides
        if slide.shapes.title is not None and slide.shapes.title.text_frame.text.startswith("Platforms")
    ]
    bullets = [p.text for slide in platforms for p in slide.placeholders[1].text_frame.paragraphs]
    assert bullets == [sentence.text for sentence in report.sections[1].sentences]


def test_tables_are_native_pptx_tables_of_twelve_rows_at_most_continued(deck):
    tables = {}
    for slide in deck.slides:
        for shape in slide.shapes:
            if shape.has_table:
                title = slide.shapes.title.text_frame.text.removesuffix(" (continued)")
                tables.setdefault(title, []).append(shape.table)
    long_parts = tables["Referrals by platform code, March 2024"]
    assert len(long_parts) == 5
    assert all(len(part.rows) <= 13 and part.cell(0, 0).text == "platform_code" for part in long_parts)
    codes = [part.cell(row, 0).text for part in long_parts for row in range(1, len(part.rows))]
    assert codes == [f"PLT-{n:03d}" for n in range(1, 61)]
    (small,) = tables["Referrals by country, March 2024"]
    assert [small.cell(row, 1).text for row in range(1, 4)] == ["612", "suppressed", "0"]


def test_the_last_slide_lists_the_sources_and_the_small_cell_rule(report, deck):
    last = deck.slides[-1]
    assert last.shapes.title.text_frame.text == "Sources and method"
    body = last.placeholders[1].text_frame.text
    assert all(source in body for source in report.sources)
    assert f"k = {K}" in body


# --- annex -----------------------------------------------------------------------------------------------


def test_the_annex_holds_a_csv_per_chart_and_table_and_their_checksums(report):
    archive = zipfile.ZipFile(io.BytesIO(render_annex(report)))
    names = archive.namelist()
    assert names == [
        "chart-01-overview-monthly-referrals.csv",
        "table-01-referrals-by-country-march-2024.csv",
        "chart-02-dissemination-platform-mix.csv",
        "table-02-referrals-by-platform-code-march-2024.csv",
        "annex.json",
    ]
    assert all(re.fullmatch(r"[a-z0-9-]+\.(csv|json)", name) for name in names)
    manifest = json.loads(archive.read("annex.json"))
    assert manifest["k"] == K and manifest["classification"] == CLASSIFICATION
    assert [entry["name"] for entry in manifest["files"]] == names[:-1]
    for entry in manifest["files"]:
        assert entry["sha256"] == hashlib.sha256(archive.read(entry["name"])).hexdigest()
    assert archive.read(names[0]) == report.sections[0].charts[0].csv
    table = archive.read(names[1]).decode()
    head = [line for line in table.splitlines() if line.startswith("#")]
    assert head[0] == f"# Classification: {CLASSIFICATION}"
    assert "# Period: March 2024" in head and "# Scope: EU-27" in head
    assert any(f"k = {K}" in line for line in head) and "# Note: Counts from 1 to 9 are suppressed." in head
    cells = pd.read_csv(io.StringIO(table), comment="#", dtype=str)
    assert cells.to_dict("list") == {"country": ["DEU", "MLT", "FRA"], "referrals": ["612", "suppressed", "0"]}


def test_the_annex_neutralises_formulas_and_is_the_same_bytes_for_the_same_report(report):
    formula = Table("Hostile codes", pd.DataFrame({"platform": ["=HYPERLINK(1)", "PLT-A"], "referrals": [12, -3]}))
    section = replace(report.sections[2], tables=(formula,))
    hostile = replace(report, sections=(section,))
    body = zipfile.ZipFile(io.BytesIO(render_annex(hostile))).read("table-01-hostile-codes.csv").decode()
    assert "'=HYPERLINK(1)" in body and ",-3" in body
    assert render_annex(report) == render_annex(report)
