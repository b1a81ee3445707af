"""Where a static chart goes, and the size and type scale that go with it.

A preset is a page in physical units: a 16:9 slide (13.33 × 7.5 in, the PowerPoint default, exported
at 1920 × 1080 pixels), A4 portrait and A4 landscape. The figure is laid out in CSS pixels (96 per
inch, so SVG and PDF come out at the page's real size) and the PNG is rasterised at `dpi`. Type sizes
are in points, so "≥ 14 pt on a slide" means what it says when the image fills the slide: every text
of a slide export is at least 14 pt (28 px in the 1920-pixel PNG), as projected slides need.

Chosen by `?preset=slide|a4|a4-landscape` on an export URL; `slide` is the default.
"""

from __future__ import annotations

from dataclasses import dataclass

CSS_PX_PER_INCH = 96
PT_PER_INCH = 72
MM_PER_INCH = 25.4


@dataclass(frozen=True)
class Preset:
    """One destination of a static chart: page size, raster resolution and type scale (points)."""

    name: str
    label: str
    width_in: float
    height_in: float
    dpi: int  # PNG resolution; SVG and PDF are vector at the page's physical size
    title_pt: float
    subtitle_pt: float
    body_pt: float  # axis ticks, legend, labels on the plot
    small_pt: float  # the marking footer, captions: the smallest text of the export
    margin_in: float  # white space around everything

    @property
    def width_px(self) -> int:
        """Layout width in CSS pixels."""
        return round(self.width_in * CSS_PX_PER_INCH)

    @property
    def height_px(self) -> int:
        """Layout height in CSS pixels."""
        return round(self.height_in * CSS_PX_PER_INCH)

    @property
    def scale(self) -> float:
        """PNG pixels per layout pixel."""
        return self.dpi / CSS_PX_PER_INCH

    @property
    def png_size(self) -> tuple[int, int]:
        """(width, height) of the PNG in pixels (the browser truncates fractional pixels)."""
        return int(self.width_px * self.scale), int(self.height_px * self.scale)

    @property
    def margin_px(self) -> int:
        return round(self.margin_in * CSS_PX_PER_INCH)

    def px(self, points: float) -> float:
        """A type size in points as layout pixels."""
        return points * CSS_PX_PER_INCH / PT_PER_INCH

    @property
    def smallest_pt(self) -> float:
        """The smallest type size the preset uses."""
        return min(self.title_pt, self.subtitle_pt, self.body_pt, self.small_pt)


SLIDE = Preset(
    name="slide",
    label="16:9 slide, 1920 × 1080",
    width_in=40 / 3,
    height_in=7.5,
    dpi=144,
    title_pt=24,
    subtitle_pt=16,
    body_pt=15,
    small_pt=14,
    margin_in=0.3,
)
A4 = Preset(
    name="a4",
    label="A4 portrait",
    width_in=210 / MM_PER_INCH,
    height_in=297 / MM_PER_INCH,
    dpi=200,
    title_pt=15,
    subtitle_pt=10.5,
    body_pt=9.5,
    small_pt=8.5,
    margin_in=0.5,
)
A4_LANDSCAPE = Preset(
    name="a4-landscape",
    label="A4 landscape",
    width_in=297 / MM_PER_INCH,
    height_in=210 / MM_PER_INCH,
    dpi=200,
    title_pt=16,
    subtitle_pt=11,
    body_pt=10,
    small_pt=8.5,
    margin_in=0.45,
)
PRESETS = {preset.name: preset for preset in (SLIDE, A4, A4_LANDSCAPE)}
DEFAULT_PRESET = SLIDE.name
SLIDE_MIN_PT = 14  # projected slides: nothing smaller


class UnknownPresetError(ValueError):
    """The preset asked for is not one of `PRESETS`."""


def preset_named(name: str | None) -> Preset:
    """The preset called `name` (None or empty: the default, `slide`)."""
    try:
        return PRESETS[name or DEFAULT_PRESET]
    except KeyError:
        raise UnknownPresetError(f"preset {name!r} is not one of {', '.join(PRESETS)}") from None
