"""Golden-image comparison (tests/golden.py): tolerant of antialiasing, strict about layout changes.

Mostly synthetic images drawn with Pillow; two tests render a real chart through the export renderer.
Goldens and artifacts go to tmp_path.
"""

from __future__ import annotations

import io

import numpy as np
import plotly.graph_objects as go
import pytest
from golden import UPDATE_VARIABLE, GoldenUpdated, assert_matches_golden
from PIL import Image, ImageDraw

from dashboards.exports.renderer import renderer
from dashboards.figures import base_layout


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def picture() -> Image.Image:
    """A chart-like image: white, a dark polyline and some text."""
    image = Image.new("RGB", (400, 300), "white")
    draw = ImageDraw.Draw(image)
    draw.line([(40, 250), (150, 120), (260, 180), (370, 60)], fill="#0072B2", width=3)
    draw.text((40, 20), "Referrals per month", fill="#1F2933")
    return image


@pytest.fixture
def golden(tmp_path):
    path = tmp_path / "goldens" / "chart.png"
    path.parent.mkdir()
    path.write_bytes(png_bytes(picture()))
    return path


@pytest.fixture(autouse=True)
def comparing(monkeypatch):
    monkeypatch.delenv(UPDATE_VARIABLE, raising=False)


def test_an_identical_image_matches(golden, tmp_path):
    assert_matches_golden(png_bytes(picture()), golden, artifacts=tmp_path / "artifacts")
    assert not (tmp_path / "artifacts").exists()


def test_a_few_pixels_off_by_two_levels_match(golden, tmp_path):
    pixels = np.asarray(picture(), dtype=np.int16)
    rng = np.random.default_rng(7)
    rows, columns = rng.integers(0, 300, 200), rng.integers(0, 400, 200)
    pixels[rows, columns] += rng.choice([-2, 2], size=(200, 3))
    noised = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    assert_matches_golden(png_bytes(noised), golden, artifacts=tmp_path / "artifacts")


def test_a_drawn_rectangle_fails_and_leaves_the_actual_and_a_diff_image(golden, tmp_path):
    changed = picture()
    ImageDraw.Draw(changed).rectangle([200, 200, 240, 230], outline="black", width=2)
    artifacts = tmp_path / "artifacts"
    with pytest.raises(AssertionError) as failure:
        assert_matches_golden(png_bytes(changed), golden, artifacts=artifacts)
    message = str(failure.value)
    for name in ("chart.actual.png", "chart.expected.png", "chart.diff.png"):
        assert (artifacts / name).is_file()
        assert str(artifacts / name) in message
    assert UPDATE_VARIABLE in message
    assert Image.open(artifacts / "chart.actual.png").size == (400, 300)
    diff = np.asarray(Image.open(artifacts / "chart.diff.png"))
    assert tuple(diff[200, 220]) == (220, 0, 0)  # the rectangle's top edge is marked
    assert tuple(diff[10, 10]) != (220, 0, 0)


def test_a_different_size_fails_clearly(golden, tmp_path):
    with pytest.raises(AssertionError, match="size 401×300 differs from the golden's 400×300"):
        assert_matches_golden(png_bytes(Image.new("RGB", (401, 300), "white")), golden, artifacts=tmp_path)


def test_a_missing_golden_fails_and_says_how_to_create_it(tmp_path):
    with pytest.raises(AssertionError, match=f"no golden image.*{UPDATE_VARIABLE}=1"):
        assert_matches_golden(png_bytes(picture()), tmp_path / "absent.png", artifacts=tmp_path / "artifacts")
    assert (tmp_path / "artifacts" / "absent.actual.png").is_file()


def test_the_update_variable_writes_the_golden_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv(UPDATE_VARIABLE, "1")
    golden = tmp_path / "new" / "chart.png"
    with pytest.warns(GoldenUpdated, match=str(golden)):
        assert_matches_golden(png_bytes(picture()), golden)
    assert golden.read_bytes() == png_bytes(picture())
    monkeypatch.delenv(UPDATE_VARIABLE)
    assert_matches_golden(png_bytes(picture()), golden)


def slide(title: str = "Referrals per month, by country", title_x: float = 0.0, last: float = 130) -> bytes:
    """A real chart rendered as a 1920 × 1080 slide PNG."""
    fig = go.Figure(go.Scatter(x=["2024-01", "2024-02", "2024-03"], y=[120, 80, last], name="Referrals"))
    fig.update_layout(base_layout(title))
    fig.update_layout(title_x=title_x)
    return renderer().render(fig, "png", width=1280, height=720, scale=1.5)


def test_a_rendered_chart_matches_itself_when_its_title_moves_by_a_fraction_of_a_pixel(tmp_path):
    golden = tmp_path / "slide.png"
    golden.write_bytes(slide())
    shifted = slide(title_x=0.0004)
    assert shifted != golden.read_bytes()  # about 2,500 pixels of the title's glyph edges differ
    assert_matches_golden(shifted, golden, artifacts=tmp_path / "artifacts")


@pytest.mark.parametrize(
    "changed",
    [{"title": "Referrals per month by country"}, {"last": 131}],
    ids=["a comma less in the title", "one more referral in the last month"],
)
def test_a_rendered_chart_with_a_changed_title_or_a_moved_line_does_not_match(tmp_path, changed):
    golden = tmp_path / "slide.png"
    golden.write_bytes(slide())
    with pytest.raises(AssertionError, match="of pixels differ"):
        assert_matches_golden(slide(**changed), golden, artifacts=tmp_path / "artifacts")
