"""Colour arithmetic (dashboards/figures/colour.py): CSS colour parsing, WCAG 2.x contrast, readable labels."""

from __future__ import annotations

import colorsys

import pytest

from dashboards.figures import OKABE_ITO
from dashboards.figures.colour import (
    WCAG_AA,
    Colour,
    composite,
    contrast_ratio,
    parse_colour,
    readable_on,
    relative_luminance,
)


def hue_degrees(colour: str) -> float:
    parsed = parse_colour(colour)
    return colorsys.rgb_to_hls(parsed.red / 255, parsed.green / 255, parsed.blue / 255)[0] * 360


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#E69F00", Colour(230, 159, 0, 1.0)),
        ("#e69f00", Colour(230, 159, 0, 1.0)),
        ("#fa0", Colour(255, 170, 0, 1.0)),
        ("rgb(230, 159, 0)", Colour(230, 159, 0, 1.0)),
        ("rgba(230, 159, 0, 0.25)", Colour(230, 159, 0, 0.25)),
        ("rgb(230 159 0 / 50%)", Colour(230, 159, 0, 0.5)),
        (" RGBA(0,0,0,0) ", Colour(0, 0, 0, 0.0)),
        ("#00000080", Colour(0, 0, 0, 128 / 255)),
        ("transparent", Colour(0, 0, 0, 0.0)),
    ],
)
def test_css_colours_parse_to_channels_and_alpha(text, expected):
    assert parse_colour(text) == expected


@pytest.mark.parametrize(
    "text", ["orange", "#12345", "rgb(1, 2)", "rgb(256, 0, 0)", "rgba(0, 0, 0, 2)", "hsl(0,0%,0%)"]
)
def test_what_is_not_a_supported_colour_is_refused_by_name(text):
    with pytest.raises(ValueError, match="not a colour"):
        parse_colour(text)


def test_a_colour_prints_as_six_digit_hex():
    assert parse_colour("rgb(230, 159, 0)").hex == "#E69F00"


def test_relative_luminance_runs_from_black_to_white():
    assert relative_luminance("#000000") == 0
    assert relative_luminance("#FFFFFF") == pytest.approx(1)
    assert relative_luminance("#808080") == pytest.approx(0.2159, abs=1e-4)


@pytest.mark.parametrize(
    ("foreground", "background", "ratio"),
    [
        ("#000000", "#FFFFFF", 21.0),
        ("#FFFFFF", "#000000", 21.0),
        ("#777777", "#FFFFFF", 4.48),
        ("#767676", "#FFFFFF", 4.54),  # the lightest grey that passes AA on white
        ("#0072B2", "#FFFFFF", 5.19),
        ("#E69F00", "#FFFFFF", 2.25),
        ("#FFFFFF", "#FFFFFF", 1.0),
    ],
)
def test_contrast_ratios_match_known_wcag_values(foreground, background, ratio):
    assert contrast_ratio(foreground, background) == pytest.approx(ratio, abs=0.01)


def test_a_translucent_foreground_is_judged_as_drawn_on_the_background():
    assert composite("rgba(0, 0, 0, 0.5)", "#FFFFFF") == Colour(128, 128, 128)
    assert contrast_ratio("rgba(0, 0, 0, 0.5)") == pytest.approx(contrast_ratio("#808080"))
    assert contrast_ratio("rgba(0, 0, 0, 0)") == 1.0


def test_a_colour_that_already_contrasts_is_returned_unchanged():
    assert readable_on("#0072B2") == "#0072B2"
    assert readable_on("#000") == "#000"


@pytest.mark.parametrize("colour", ["#E69F00", "#56B4E9", "#F0E442", "#009E73", "#CC79A7"])
def test_readable_on_darkens_a_pale_colour_to_aa_keeping_its_hue(colour):
    assert contrast_ratio(colour) < WCAG_AA
    readable = readable_on(colour)
    assert contrast_ratio(readable) >= WCAG_AA
    assert contrast_ratio(readable) < WCAG_AA + 0.3  # darkened no further than needed (one step)
    assert abs(hue_degrees(readable) - hue_degrees(colour)) < 3
    assert relative_luminance(readable) < relative_luminance(colour)


def test_readable_on_lightens_on_a_dark_background():
    dark = "#1F2933"
    readable = readable_on("#0072B2", background=dark)
    assert contrast_ratio(readable, dark) >= WCAG_AA
    assert relative_luminance(readable) > relative_luminance("#0072B2")
    assert abs(hue_degrees(readable) - hue_degrees("#0072B2")) < 3


def test_readable_on_takes_a_stricter_minimum():
    readable = readable_on("#E69F00", minimum=7)
    assert contrast_ratio(readable) >= 7


def test_readable_on_refuses_a_contrast_no_lightness_reaches():
    with pytest.raises(ValueError, match="no lightness"):
        readable_on("#808080", background="#808080", minimum=10)


def test_every_palette_colour_can_be_made_readable_text_on_white():
    assert all(contrast_ratio(readable_on(colour)) >= WCAG_AA for colour in OKABE_ITO)
