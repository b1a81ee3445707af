"""The deck's geometry and the few shapes every slide is made of (python-pptx).

A 16:9 deck (13.333 × 7.5 in, PowerPoint's default, the size the `slide` chart preset is drawn for) from
python-pptx's default template, whose layouts are 4:3: each placeholder used is placed explicitly. Type is
never smaller than 14 pt (`SLIDE_MIN_PT`, what projected slides need); narrative is 20 pt. The marking sits in
a thin band at the top and the bottom of every slide: a chart image (`slide` preset) leaves that band white
(its own margin), so the bands print over nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.util import Emu, Inches, Length, Pt

from dashboards.exports.presets import SLIDE_MIN_PT

SLIDE_WIDTH = Emu(12_192_000)  # 13.333 in
SLIDE_HEIGHT = Emu(6_858_000)  # 7.5 in
SIDE = Inches(0.6)  # left and right margin of text and tables
CONTENT_WIDTH = Emu(SLIDE_WIDTH - 2 * SIDE)
MARKING_INSET = Inches(0.04)  # the band starts this far from the slide's edge …
MARKING_HEIGHT = Inches(0.26)  # … and stays inside the 0.3 in white margin of a slide-preset chart
TITLE_TOP, TITLE_HEIGHT = Inches(0.45), Inches(0.95)

TITLE_PT = 32
BODY_PT = 20  # narrative bullets (≥ 18 pt)
FACT_PT = 18
SMALL_PT = SLIDE_MIN_PT  # marking, tables, notes under tables

TEXT = RGBColor(0x1F, 0x29, 0x33)
MUTED = RGBColor(0x3D, 0x48, 0x52)
MARKING = RGBColor(0x8B, 0x1A, 0x1A)

TITLE_SLIDE, TITLE_AND_CONTENT, TITLE_ONLY, BLANK = "Title Slide", "Title and Content", "Title Only", "Blank"


def new_deck(title: str, subject: str, category: str):
    """An empty 16:9 presentation whose document properties name the report (title, period and scope, marking)."""
    deck = Presentation()
    deck.slide_width, deck.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
    properties = deck.core_properties
    properties.title, properties.subject, properties.category = title, subject, category
    properties.author = properties.last_modified_by = "GRACE Trends"
    return deck


def add_slide(deck, layout_name: str):
    """A new slide from the template's layout called `layout_name`."""
    layouts = {layout.name: layout for layout in deck.slide_layouts}
    return deck.slides.add_slide(layouts[layout_name])


def place(shape, left: Length, top: Length, width: Length, height: Length) -> None:
    shape.left, shape.top, shape.width, shape.height = left, top, width, height


def write(
    frame,
    paragraphs: Iterable[str],
    size: float,
    *,
    bold: bool = False,
    colour: RGBColor = TEXT,
    align: PP_ALIGN = PP_ALIGN.LEFT,
    space_after: float = 0,
) -> None:
    """Replace the text of a text frame with `paragraphs`, one run each at `size` points (no autofit: sizes
    are what the deck promises)."""
    frame.clear()
    frame.word_wrap = True
    frame.auto_size = MSO_AUTO_SIZE.NONE
    for index, text in enumerate(paragraphs):
        paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
        paragraph.alignment = align
        if space_after:
            paragraph.space_after = Pt(space_after)
        run = paragraph.add_run()
        run.text = text
        run.font.size = Pt(size)
        run.font.bold = bold
        run.font.color.rgb = colour


def set_title(slide, text: str, top: Length = TITLE_TOP, height: Length = TITLE_HEIGHT) -> None:
    """The slide's title placeholder (what screen readers and the outline call the slide), left-aligned."""
    title = slide.shapes.title
    place(title, SIDE, top, CONTENT_WIDTH, height)
    title.text_frame.vertical_anchor = MSO_ANCHOR.MIDDLE
    write(title.text_frame, [text], TITLE_PT, bold=True)


def add_text(slide, name: str, paragraphs: Iterable[str], left, top, width, height, size: float, **style) -> None:
    """A text box called `name` with `paragraphs` (see `write` for the style keywords)."""
    box = slide.shapes.add_textbox(left, top, width, height)
    box.name = name
    write(box.text_frame, paragraphs, size, **style)


def mark(slide, marking: str) -> None:
    """The marking in the top and the bottom band of the slide, as text (searchable, read aloud)."""
    for name, top in (
        ("Marking (top)", MARKING_INSET),
        ("Marking (bottom)", SLIDE_HEIGHT - MARKING_INSET - MARKING_HEIGHT),
    ):
        box = slide.shapes.add_textbox(SIDE, top, CONTENT_WIDTH, MARKING_HEIGHT)
        box.name = name
        frame = box.text_frame
        frame.margin_top = frame.margin_bottom = frame.margin_left = frame.margin_right = 0
        frame.vertical_anchor = MSO_ANCHOR.MIDDLE
        write(frame, [marking], SMALL_PT, bold=True, colour=MARKING, align=PP_ALIGN.CENTER)


def set_notes(slide, lines: Iterable[str]) -> None:
    """The slide's speaker notes, one paragraph per line."""
    slide.notes_slide.notes_text_frame.text = "\n".join(line for line in lines if line)


def drop_empty_placeholders(slide) -> None:
    """Remove placeholders left empty (they would show "Click to add text" when the deck is edited)."""
    for placeholder in list(slide.placeholders):
        if placeholder.has_text_frame and not placeholder.text_frame.text.strip():
            element = placeholder.element
            element.getparent().remove(element)
