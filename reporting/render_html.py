"""A report as one self-contained HTML file: the page to read on screen and the source of the PDF.

Nothing in the file points outside it: the stylesheet is inline, chart images are inline SVG (or PNG as
`data:` URIs when a chart has no SVG) and a Content-Security-Policy forbids scripts and any fetch, so the
file can be mailed, archived and opened offline. The Jinja2 template (`html/report.html.j2`) escapes
every value: all text in a `Report` is data. The print stylesheet (`html/report.css.j2`) lays the same
file out as A4 pages for `render_pdf`: the marking and "page N of M" in the page margins, each chart on
an A4 landscape page of its own, tables whose header row repeats.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2
from markupsafe import Markup

from reporting.cells import PrintedTable, printed_table
from reporting.facts import report_facts, small_cell_rule
from reporting.model import ChartImage, Report
from reporting.svg_inline import inline_svg

TEMPLATES = Path(__file__).with_name("html")
PREFERRED_PRESET = "a4-landscape"  # a chart at the text width of an A4 page


@dataclass(frozen=True)
class FigureView:
    """One chart as the template places it."""

    anchor: str
    title: str
    subtitle: str
    note: str
    image: Markup  # inline <svg> or <img src="data:…">


@dataclass(frozen=True)
class TableView:
    anchor: str
    title: str
    note: str
    table: PrintedTable


@dataclass(frozen=True)
class SectionView:
    anchor: str
    title: str
    intro: str
    paragraphs: tuple[str, ...]
    figures: tuple[FigureView, ...]
    tables: tuple[TableView, ...]


def render_html(report: Report) -> str:
    """The report as one HTML document (see the module docstring)."""
    figure_number = table_number = 0
    sections = []
    for section_number, section in enumerate(report.sections, start=1):
        figures = []
        for chart in section.charts:
            figure_number += 1
            figures.append(figure_view(chart, f"figure-{figure_number}"))
        tables = []
        for table in section.tables:
            table_number += 1
            tables.append(TableView(f"table-{table_number}", table.title, table.note, printed_table(table.frame)))
        sections.append(
            SectionView(
                anchor=f"section-{section_number}",
                title=section.title,
                intro=section.intro,
                paragraphs=tuple(sentence.text for sentence in section.sentences),
                figures=tuple(figures),
                tables=tuple(tables),
            )
        )
    return _template().render(
        report=report,
        facts=report_facts(report),
        sections=sections,
        rule=small_cell_rule(report.k),
        marking_css=css_string(report.marking),
    )


def figure_view(chart: ChartImage, anchor: str) -> FigureView:
    """A chart with its picture: the SVG of the A4-landscape preset when there is one, else its PNG, else
    any preset's SVG or PNG. A chart with no image at all is a builder's error (`ValueError`)."""
    label = ". ".join(part for part in (chart.title, chart.subtitle) if part)
    for preset in _presets(chart):
        if preset in chart.svg:
            image = Markup(inline_svg(chart.svg[preset], f"{anchor}-", label))  # checked; ElementTree escapes text
            break
        if preset in chart.images:
            encoded = base64.b64encode(chart.images[preset]).decode("ascii")
            image = Markup('<img src="data:image/png;base64,{}" alt="{}">').format(encoded, label)
            break
    else:
        raise ValueError(f"chart {chart.chart_id!r} has no image to place in the report")
    return FigureView(anchor, chart.title, chart.subtitle, chart.note, image)


def css_string(text: str) -> Markup:
    """`text` as a quoted CSS string for the style sheet: every character but ASCII letters, digits and spaces
    as a CSS escape (hex code and the one space that ends it), so no quote, backslash or `</style>` in the text
    can end the string or the element."""
    escaped = "".join(
        char if char.isascii() and (char.isalnum() or char == " ") else f"\\{ord(char):x} " for char in text
    )
    return Markup(f'"{escaped}"')  # nothing but [A-Za-z0-9 ] and escapes


def _presets(chart: ChartImage) -> list[str]:
    others = sorted((set(chart.svg) | set(chart.images)) - {PREFERRED_PRESET})
    return [PREFERRED_PRESET, *others]


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("report.html.j2")
