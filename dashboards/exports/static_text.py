"""The words of a static chart: wrapped text blocks, the footer (caption, notes, provenance, marking) and
the annotations that place them outside the plot.

Text is wrapped before plotly sees it, from a conservative average glyph width, so each block's height is
known and the layout (`dashboards/exports/static.py`) can give it its band.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from dashboards.exports.marking import Marking
from dashboards.exports.presets import Preset
from dashboards.figures.colour import readable_on

MARK_COLOUR = "#8A1C1C"

MUTED = "#3E4C59"  # secondary text: 9.6:1 on white (WCAG AA needs 4.5)
# Average glyph width in em of the sans-serif font Chromium uses here (Liberation Sans for Arial: about 0.47
# on mixed text, 0.45 bold at title size), with room for capitals and digits.

GLYPH_EM = 0.52

BOLD_GLYPH_EM = 0.55

LINE_EM = 1.32  # line height

MAX_CAPTION_ITEMS = 12


@dataclass(frozen=True)
class TextBlock:
    """Lines of wrapped text at one size: what it takes vertically."""

    lines: tuple[str, ...]
    size_px: float

    @property
    def height(self) -> float:
        return len(self.lines) * self.size_px * LINE_EM

    def html(self) -> str:
        return "<br>".join(self.lines)


def wrap(text: str, width_px: float, size_px: float, bold: bool = False) -> TextBlock:
    """`text` (already HTML-escaped, no markup) wrapped to `width_px` at `size_px`."""
    per_char = size_px * (BOLD_GLYPH_EM if bold else GLYPH_EM)
    chars = max(12, int(width_px / per_char))
    return TextBlock(tuple(textwrap.wrap(text, chars, break_on_hyphens=False)) or ("",), size_px)


def escape(text: str) -> str:
    return html.escape(" ".join(str(text).split()), quote=False)


def footer_blocks(
    marking: Marking,
    preset: Preset,
    width: float,
    caption_title: str,
    caption: Sequence[tuple],
    figure_note: str,
) -> list[TextBlock]:
    """The footer, top to bottom: caption, legend note, chart note, then one run of marking lines."""
    small = preset.px(preset.small_pt)
    blocks = []
    if caption:
        blocks.append(_caption_block(caption_title, caption, width, small))
    notes = " ".join(part for part in (escape(figure_note), escape(marking.note)) if part)
    if notes:
        blocks.append(wrap(notes, width, small))
    provenance = " · ".join(
        part
        for part in (
            f"Source: {escape(marking.source)}",
            f"Data: {escape(marking.freshness)}" if marking.freshness else "",
            escape(marking.rule_in_brief or marking.rule),
            f"Exported {escape(marking.generated_at)}",
        )
        if part
    )
    blocks.append(wrap(provenance, width, small))
    blocks.append(wrap(escape(marking.classification), width, small, bold=True))
    return blocks  # the last one is the classification, printed in its colour


def footer_height(blocks: Sequence[TextBlock], small: float) -> float:
    return sum(block.height for block in blocks) + 0.35 * small * (len(blocks) - 1)


def _caption_block(title: str, items: Sequence[tuple], width: float, size: float) -> TextBlock:
    """'Change points: ■ Spain 1 Mar 2024 −12 % · ■ Italy …' — each square in its series' colour,
    wrapped on item boundaries (markup is added after wrapping so it does not count as width)."""
    shown = list(items)[:MAX_CAPTION_ITEMS]
    words = [f"{escape(title)}:"] + [f"■ {escape(text)}" for _, text in shown]
    if len(items) > len(shown):
        words.append(f"and {len(items) - len(shown)} more")
    per_char = size * GLYPH_EM
    limit = max(12, int(width / per_char))
    lines, current = [], ""
    for word in words:
        candidate = f"{current} · {word}" if current and not current.endswith(":") else f"{current} {word}".strip()
        if current and len(candidate) > limit:
            lines.append(current)
            current = word
        else:
            current = candidate
    lines.append(current)
    colours = iter(readable_on(str(colour)) for colour, _ in shown)
    painted = []
    for line in lines:
        parts = line.split("■")
        out = parts[0]
        for part in parts[1:]:
            out += f'<span style="color:{next(colours)}">■</span>{part}'
        painted.append(out)
    return TextBlock(tuple(painted), size)


def text_annotation(
    block: TextBlock,
    colour: str,
    shift: float,
    left: float,
    pad: float,
    bold: bool = False,
    centred: bool = False,
    anchor_y: float = 1,
) -> dict:
    """A block of text outside the plot, its top `shift` px above the plot's top (`anchor_y` 1) or below its
    bottom (`anchor_y` 0, negative shift), starting at the page's left margin or centred on the plot."""
    text = block.html()
    return {
        "text": f"<b>{text}</b>" if bold else text,
        "xref": "paper",
        "yref": "paper",
        "x": 0.5 if centred else 0,
        "y": anchor_y,
        "xanchor": "center" if centred else "left",
        "yanchor": "top",
        "xshift": 0 if centred else pad - left,
        "yshift": shift,
        "showarrow": False,
        "align": "left",
        "font": {"size": block.size_px, "color": colour},
    }
