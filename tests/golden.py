"""Golden-image checks for rendered charts: `assert_matches_golden(png, golden_path)`.

A rendered PNG is compared with a stored one pixel by pixel. A pixel differs when one of its channels
(RGBA, 0–255) lies more than `pixel_threshold` outside the range of the other image's 3 × 3 neighbourhood
around it, checked both ways: antialiasing jitter and sub-pixel shifts of glyph edges stay inside that
range, while added, removed or moved strokes do not. The check fails when the share of differing pixels
exceeds `tolerance`. Measured on a 1920 × 1080 slide chart: a sub-pixel shift of the title (2,500 pixels
not byte-identical) differs in 0 % of pixels, a comma dropped from the title in 0.03 %, a line moved by
about 1 px in 0.07 %, by 3 px in 0.2 %, so the default tolerance of 0.02 % fails all of those. Smaller
changes can pass: a glyph swap that alters a handful of pixels (y → v in a title: 0.001 %) does. The
check is for layout, not for proof-reading; read texts from the SVG for that (tests/rendered_text.py).

On a failure (or a missing golden) the actual image, the golden and a diff image (the golden faded, the
differing pixels red) are written to `test-artifacts/golden/` and the message names them.

To create or regenerate goldens, run the tests with `GRACE_UPDATE_GOLDEN=1`: the helper then writes the
PNG to the golden path instead of comparing, and warns (`GoldenUpdated`) so the run says what it wrote.
Review the new images before committing them.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "golden"
UPDATE_VARIABLE = "GRACE_UPDATE_GOLDEN"
PIXEL_THRESHOLD = 16  # channel levels (of 255) beyond the neighbourhood's range that make a pixel differ
TOLERANCE = 0.0002  # share of differing pixels that still passes (0.02 %)


class GoldenUpdated(UserWarning):
    """A golden image was written (GRACE_UPDATE_GOLDEN=1) instead of compared."""


def updating() -> bool:
    """Whether this run writes goldens ($GRACE_UPDATE_GOLDEN set to 1, true or yes)."""
    return os.environ.get(UPDATE_VARIABLE, "").strip().lower() in ("1", "true", "yes")


def _pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGBA"), dtype=np.int16)


def _neighbourhood_range(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel and channel, the minimum and maximum over its 3 × 3 neighbourhood (edges repeated)."""
    height, width = pixels.shape[:2]
    padded = np.pad(pixels, ((1, 1), (1, 1), (0, 0)), mode="edge")
    low, high = pixels.copy(), pixels.copy()
    for dy in range(3):
        for dx in range(3):
            window = padded[dy : dy + height, dx : dx + width]
            np.minimum(low, window, out=low)
            np.maximum(high, window, out=high)
    return low, high


def differing_pixels(actual: np.ndarray, expected: np.ndarray, pixel_threshold: int = PIXEL_THRESHOLD) -> np.ndarray:
    """Boolean mask (height × width) of pixels that differ between two same-sized RGBA arrays beyond
    antialiasing: outside the other image's neighbourhood range by more than `pixel_threshold`, either way."""

    def outside_range(pixels: np.ndarray, reference: np.ndarray) -> np.ndarray:
        low, high = _neighbourhood_range(reference)
        beyond = (pixels < low - pixel_threshold) | (pixels > high + pixel_threshold)
        return np.asarray(beyond.any(axis=2))

    return outside_range(actual, expected) | outside_range(expected, actual)


def _diff_image(expected: np.ndarray, mask: np.ndarray) -> Image.Image:
    """The golden in faint grey with the differing pixels in red."""
    grey = expected[..., :3].mean(axis=2) * 0.25 + 191
    rgb = np.repeat(grey[..., None], 3, axis=2).astype(np.uint8)
    rgb[mask] = (220, 0, 0)
    return Image.fromarray(rgb, "RGB")


def _write_artifacts(png: bytes, golden_path: Path, artifacts: Path, diff: Image.Image | None) -> list[Path]:
    """Save the actual image (and the golden and the diff, when there are) next to each other."""
    artifacts.mkdir(parents=True, exist_ok=True)
    stem = golden_path.stem
    written = [artifacts / f"{stem}.actual.png"]
    written[0].write_bytes(png)
    if golden_path.exists():
        written.append(artifacts / f"{stem}.expected.png")
        written[-1].write_bytes(golden_path.read_bytes())
    if diff is not None:
        written.append(artifacts / f"{stem}.diff.png")
        diff.save(written[-1])
    return written


def _how_to_update() -> str:
    test = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0] or "<the test>"
    return f"if the change is intended, regenerate the golden with `{UPDATE_VARIABLE}=1 pytest {test}` and review it"


def assert_matches_golden(
    png: bytes,
    golden_path: Path,
    tolerance: float = TOLERANCE,
    pixel_threshold: int = PIXEL_THRESHOLD,
    artifacts: Path = ARTIFACTS,
) -> None:
    """Fail unless `png` matches the golden PNG at `golden_path`: same size, and at most `tolerance` (a share,
    0.0002 = 0.02 %) of pixels differing beyond antialiasing (see the module docstring). Writes the
    golden instead when $GRACE_UPDATE_GOLDEN=1. Failures leave the images in `artifacts`."""
    golden_path = Path(golden_path)
    if updating():
        golden_path.parent.mkdir(parents=True, exist_ok=True)
        golden_path.write_bytes(png)
        warnings.warn(GoldenUpdated(f"{UPDATE_VARIABLE}=1: wrote golden image {golden_path}"), stacklevel=2)
        return
    if not golden_path.exists():
        written = _write_artifacts(png, golden_path, artifacts, None)
        raise AssertionError(
            f"no golden image at {golden_path}; the actual image is {written[0]}; "
            f"create the golden with `{UPDATE_VARIABLE}=1` and review it"
        )
    actual, expected = _pixels(png), _pixels(golden_path.read_bytes())
    if actual.shape != expected.shape:
        written = _write_artifacts(png, golden_path, artifacts, None)
        raise AssertionError(
            f"image size {actual.shape[1]}×{actual.shape[0]} differs from the golden's "
            f"{expected.shape[1]}×{expected.shape[0]} ({golden_path}); actual: {written[0]}; {_how_to_update()}"
        )
    mask = differing_pixels(actual, expected, pixel_threshold)
    share = float(mask.mean())
    if share > tolerance:
        written = _write_artifacts(png, golden_path, artifacts, _diff_image(expected, mask))
        raise AssertionError(
            f"{share:.3%} of pixels differ from {golden_path} (tolerance {tolerance:.3%}, {int(mask.sum())} "
            f"pixels); see {', '.join(str(path) for path in written)}; {_how_to_update()}"
        )
