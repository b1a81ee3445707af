"""A report as a 16:9 slide deck (PPTX): what each slide shows, in order.

1. A title slide: title, the report's facts (audience, period, scope, generated, data freshness, analysis run).
2. Per section: its sentences as bullets on a titled slide (six at most; more continue on the next slide,
   the section's intro in the speaker notes); each chart on a slide of its own, the `slide` preset image
   filling it (the image carries the chart's title, marking and source), its alternative text the chart's
   title and subtitle, the section's narrative and the chart's note in the speaker notes; each table as a
   native table of at most twelve rows a slide, continued, its note under it.
3. "Sources and method": the sources and the small-cell rule (k), continued like the narrative.

Every slide carries the marking as text in a band at its top and bottom (`pptx_kit.mark`). Chart slides
have no title placeholder: the full-slide image would cover it; the title is in the image and the alt text.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image
from pptx.dml.color import RGBColor
from pptx.enum.text import PP_ALIGN
from pptx.util import Emu, Inches

from reporting.cells import PrintedTable, printed_table
from reporting.facts import report_facts, small_cell_rule
from reporting.model import ChartImage, Report, Section, Table
from reporting.pptx_kit import (
    BLANK,
    BODY_PT,
    CONTENT_WIDTH,
    FACT_PT,
    MUTED,
    SIDE,
    SLIDE_HEIGHT,
    SLIDE_WIDTH,
    SMALL_PT,
    TITLE_AND_CONTENT,
    TITLE_ONLY,
    TITLE_SLIDE,
    add_slide,
    add_text,
    drop_empty_placeholders,
    mark,
    new_deck,
    place,
    set_notes,
    set_title,
    write,
)

SLIDE_PRESET = "slide"
BULLETS_PER_SLIDE = 6
TABLE_ROWS_PER_SLIDE = 12
CONTINUED = " (continued)"
TABLE_TOP = Inches(1.5)
TABLE_ROW_HEIGHT = Inches(0.4)
# The template's table style (white on dark blue) is replaced by the HTML's light colours: dark text on each.
HEADER_FILL, STRIPE_FILL, WHITE = RGBColor(0xE8, 0xED, 0xF2), RGBColor(0xF6, 0xF8, 0xFA), RGBColor(0xFF, 0xFF, 0xFF)


def render_pptx(report: Report) -> bytes:
    """The report as PPTX bytes (see the module docstring for the slides)."""
    deck = new_deck(report.title, f"{report.period_label} · {report.scope_label}", report.marking)
    title_slide(deck, report)
    for section in report.sections:
        narrative = [sentence.text for sentence in section.sentences]
        bullet_slides(deck, report, section.title, narrative, notes=[section.intro])
        for chart in section.charts:
            chart_slide(deck, report, chart, section)
        for table in section.tables:
            table_slides(deck, report, table)
    sources = [*report.sources, small_cell_rule(report.k)]
    bullet_slides(deck, report, "Sources and method", sources, notes=[], size=FACT_PT)
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def title_slide(deck, report: Report) -> None:
    slide = add_slide(deck, TITLE_SLIDE)
    set_title(slide, report.title, top=Inches(1.4), height=Inches(1.6))
    facts = slide.placeholders[1]
    place(facts, SIDE, Inches(3.3), CONTENT_WIDTH, Inches(3.4))
    write(facts.text_frame, [f"{label}: {text}" for label, text in report_facts(report)], FACT_PT, space_after=4)
    mark(slide, report.marking)
    set_notes(slide, [report.marking])


def bullet_slides(
    deck, report: Report, title: str, items: Sequence[str], notes: Sequence[str], size: float = BODY_PT
) -> None:
    """`items` as bullets under `title`, `BULLETS_PER_SLIDE` a slide (a section without sentences still gets
    its title slide)."""
    for start in range(0, max(len(items), 1), BULLETS_PER_SLIDE):
        slide = add_slide(deck, TITLE_AND_CONTENT)
        set_title(slide, title + (CONTINUED if start else ""))
        body = slide.placeholders[1]
        place(body, SIDE, Inches(1.6), CONTENT_WIDTH, Inches(5.4))
        write(body.text_frame, items[start : start + BULLETS_PER_SLIDE], size, space_after=10)
        drop_empty_placeholders(slide)
        mark(slide, report.marking)
        set_notes(slide, [report.marking, *notes])


def chart_slide(deck, report: Report, chart: ChartImage, section: Section) -> None:
    """The chart's slide-preset image over the whole slide, alt text = title and subtitle."""
    if SLIDE_PRESET not in chart.images:
        raise ValueError(f"chart {chart.chart_id!r} has no {SLIDE_PRESET!r} image for the deck")
    png = chart.images[SLIDE_PRESET]
    slide = add_slide(deck, BLANK)
    left, top, width, height = _fitted(png)
    picture = slide.shapes.add_picture(io.BytesIO(png), left, top, width, height)
    picture.name = f"Chart: {chart.title}"
    picture._element.nvPicPr.cNvPr.set("descr", alt_text(chart))  # python-pptx has no API for alt text
    mark(slide, report.marking)
    set_notes(
        slide,
        [
            report.marking,
            f"Chart: {alt_text(chart)}",
            f"Note: {chart.note}" if chart.note else "",
            f"{section.title}:",
            *(sentence.text for sentence in section.sentences),
        ],
    )


def alt_text(chart: ChartImage) -> str:
    """What a screen reader says for a chart slide: its title, then its subtitle."""
    return ". ".join(part for part in (chart.title, chart.subtitle) if part)


def table_slides(deck, report: Report, table: Table) -> None:
    """The table as native PPTX tables, `TABLE_ROWS_PER_SLIDE` rows a slide under a repeated header."""
    printed = printed_table(table.frame)
    for start in range(0, max(len(printed.rows), 1), TABLE_ROWS_PER_SLIDE):
        slide = add_slide(deck, TITLE_ONLY)
        set_title(slide, table.title + (CONTINUED if start else ""))
        rows = printed.rows[start : start + TABLE_ROWS_PER_SLIDE]
        _add_table(slide, PrintedTable(printed.header, rows))
        if table.note:
            note_top = TABLE_TOP + TABLE_ROW_HEIGHT * (len(rows) + 1) + Inches(0.1)
            add_text(
                slide, "Table note", [table.note], SIDE, note_top, CONTENT_WIDTH, Inches(0.35), SMALL_PT, colour=MUTED
            )
        mark(slide, report.marking)
        set_notes(slide, [report.marking, table.note])


def _add_table(slide, printed: PrintedTable) -> None:
    columns = max(len(printed.header), 1)
    rows = [printed.header, *printed.rows]
    shape = slide.shapes.add_table(
        len(rows), columns, SIDE, TABLE_TOP, CONTENT_WIDTH, Emu(TABLE_ROW_HEIGHT * len(rows))
    )
    shape.name = "Table"
    grid = shape.table
    for row_index, row in enumerate(rows):
        grid.rows[row_index].height = TABLE_ROW_HEIGHT
        for column_index, cell in enumerate(row):
            frame = grid.cell(row_index, column_index).text_frame
            align = PP_ALIGN.RIGHT if cell.numeric else PP_ALIGN.LEFT
            write(frame, [cell.text], SMALL_PT, bold=row_index == 0, align=align)
            fill = grid.cell(row_index, column_index).fill
            fill.solid()
            fill.fore_color.rgb = HEADER_FILL if row_index == 0 else (STRIPE_FILL if row_index % 2 == 0 else WHITE)


def _fitted(png: bytes) -> tuple[Emu, Emu, Emu, Emu]:
    """(left, top, width, height) of the image as large as the slide allows, centred, its shape kept."""
    with Image.open(io.BytesIO(png)) as image:
        pixels_wide, pixels_high = image.size
    scale = min(SLIDE_WIDTH / pixels_wide, SLIDE_HEIGHT / pixels_high)
    width, height = round(pixels_wide * scale), round(pixels_high * scale)
    return Emu((SLIDE_WIDTH - width) // 2), Emu((SLIDE_HEIGHT - height) // 2), Emu(width), Emu(height)
