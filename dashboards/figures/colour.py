"""Colour arithmetic for readable charts: parsing CSS colours, WCAG 2.x contrast, readable label colours.

Labels drawn in a series' colour (a line's end label, an annotation) must still be readable text: WCAG
2.x asks for a contrast ratio of at least 4.5 against the background (3 for large text). Some Okabe-Ito
colours fail that on white (orange #E69F00 is 2.25, sky blue #56B4E9 2.31), so
`readable_on` darkens such a colour, keeping its hue, until it passes. The same functions let tests
check the text of rendered charts (tests/rendered_text.py). Plain Python: no Dash, no plotly.
"""

from __future__ import annotations

import colorsys
import re
from functools import lru_cache
from typing import NamedTuple

WCAG_AA = 4.5  # normal text
WCAG_AA_LARGE = 3.0  # large text: at least 18 pt, or 14 pt bold
LIGHTNESS_STEP = 0.005  # how far `readable_on` moves the HLS lightness per step

_HEX = re.compile(r"#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})")
_FUNCTION = re.compile(r"(rgba?)\(([^()]*)\)")


class Colour(NamedTuple):
    """An sRGB colour: channels 0–255 and alpha 0–1 (1 is opaque)."""

    red: int
    green: int
    blue: int
    alpha: float = 1.0

    @property
    def hex(self) -> str:
        """'#RRGGBB' (alpha dropped)."""
        return f"#{self.red:02X}{self.green:02X}{self.blue:02X}"


def parse_colour(value: str | Colour) -> Colour:
    """A colour from CSS text: `#RGB`, `#RRGGBB` (and `#RGBA`, `#RRGGBBAA`), `rgb(r, g, b)`, `rgba(r, g, b, a)`
    or `transparent`. Raises ValueError for anything else (colour names other than `transparent` included)."""
    if isinstance(value, Colour):
        return value
    text = value.strip().lower()
    if text == "transparent":
        return Colour(0, 0, 0, 0.0)
    if match := _HEX.fullmatch(text):
        digits = match.group(1)
        if len(digits) <= 4:
            digits = "".join(digit * 2 for digit in digits)
        channels = [int(digits[i : i + 2], 16) for i in range(0, len(digits), 2)]
        alpha = channels[3] / 255 if len(channels) == 4 else 1.0
        return Colour(channels[0], channels[1], channels[2], alpha)
    if match := _FUNCTION.fullmatch(text):
        return _from_function(match.group(1), match.group(2), value)
    raise ValueError(f"not a colour: {value!r} (expected #RGB, #RRGGBB, rgb(...) or rgba(...))")


def _from_function(name: str, arguments: str, original: str) -> Colour:
    """The colour of `rgb(...)` / `rgba(...)` (CSS Color 4: either takes an optional alpha; commas or spaces
    between values, '/' before alpha; percentages allowed)."""
    parts = [part for part in re.split(r"[\s,/]+", arguments.strip()) if part]
    if len(parts) not in (3, 4):
        raise ValueError(f"not a colour: {original!r} ({name}() takes 3 channels and an optional alpha)")
    try:
        red, green, blue = (_channel(part) for part in parts[:3])
        alpha = _alpha(parts[3]) if len(parts) == 4 else 1.0
    except ValueError as error:
        raise ValueError(f"not a colour: {original!r} ({error})") from None
    return Colour(red, green, blue, alpha)


def _channel(text: str) -> int:
    value = float(text[:-1]) * 2.55 if text.endswith("%") else float(text)
    if not 0 <= value <= 255:
        raise ValueError(f"channel {text} outside 0–255")
    return round(value)


def _alpha(text: str) -> float:
    value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    if not 0 <= value <= 1:
        raise ValueError(f"alpha {text} outside 0–1")
    return value


def composite(colour: str | Colour, background: str | Colour = "#FFFFFF") -> Colour:
    """The opaque colour seen when `colour` (with its alpha, times `opacity` already applied) is drawn on
    `background` (taken as opaque)."""
    top, bottom = parse_colour(colour), parse_colour(background)
    mix = [round(a * top.alpha + b * (1 - top.alpha)) for a, b in zip(top[:3], bottom[:3])]
    return Colour(mix[0], mix[1], mix[2])


def relative_luminance(colour: str | Colour) -> float:
    """WCAG 2.x relative luminance of an opaque colour (alpha ignored): 0 for black, 1 for white."""
    parsed = parse_colour(colour)

    def linear(channel: int) -> float:
        # 0.04045 is the sRGB standard's knee; WCAG 2.0 printed 0.03928, which gives the same result for
        # every 8-bit value.
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(parsed.red) + 0.7152 * linear(parsed.green) + 0.0722 * linear(parsed.blue)


def contrast_ratio(foreground: str | Colour, background: str | Colour = "#FFFFFF") -> float:
    """WCAG 2.x contrast ratio, 1 (none) to 21 (black on white). A translucent foreground is composited over
    the background first; the background is taken as opaque. Symmetric for opaque colours."""
    lighter, darker = sorted(
        (relative_luminance(composite(foreground, background)), relative_luminance(background)), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)


@lru_cache(maxsize=512)  # a pure function of a few palette colours, asked for every label of a chart
def readable_on(colour: str, background: str = "#FFFFFF", minimum: float = WCAG_AA) -> str:
    """`colour` itself when it already has `minimum` contrast on `background`; else the same hue and
    saturation with the HLS lightness moved step by step (darker on a light background, lighter on a dark
    one) until it does, as '#RRGGBB'. For drawing text in a series' colour: `readable_on('#E69F00')` is a
    brown-orange that passes WCAG AA on white. A translucent colour is judged as drawn (composited on the
    background); the adjusted colour is opaque. Raises ValueError when no lightness reaches `minimum`."""
    if contrast_ratio(colour, background) >= minimum:
        return colour
    seen = composite(colour, background)
    hue, lightness, saturation = colorsys.rgb_to_hls(*(channel / 255 for channel in seen[:3]))
    # On a light background black contrasts most, so darken; on a dark one, lighten.
    direction = -1 if contrast_ratio("#000000", background) >= contrast_ratio("#FFFFFF", background) else 1
    while 0 < lightness < 1:
        lightness = min(1.0, max(0.0, lightness + direction * LIGHTNESS_STEP))
        red, green, blue = (round(channel * 255) for channel in colorsys.hls_to_rgb(hue, lightness, saturation))
        candidate = Colour(red, green, blue)
        if contrast_ratio(candidate, background) >= minimum:
            return candidate.hex
    raise ValueError(f"no lightness of {colour} reaches a contrast of {minimum} on {background}")
