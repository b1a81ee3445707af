"""Where the text of a rendered chart really is: boxes measured by Chromium in an exported SVG.

Figure specs say where plotly is asked to put text, not where it ends up (auto-margins, rotated ticks,
multi-line titles, font fallback). `text_boxes(svg)` opens the SVG in headless Debian Chromium (the
browser kaleido renders with, so the fonts and metrics match) and returns, for every visible `<text>`,
its text, its box in SVG user units (a rotated label gets its rotated rectangle, as four corners, plus
the axis-aligned box around them), its fill, opacity and font size. The checks on top of it:

- `overlaps(boxes)`: pairs of texts that collide (rotated rectangles, not their axis-aligned bounds, so
  adjacent 45° tick labels do not count as colliding);
- `outside(boxes, width, height)`: texts reaching past the image's edges;
- `contrast_problems(boxes)`: texts below WCAG 2.x contrast on the (given) background, using
  `dashboards.figures.colour`.

One Chromium per process, started on the first call in a thread of its own and closed at exit: the
Playwright sync API refuses to run two instances in one thread, and pytest-playwright's browser tests may
hold one in the main thread. A call loads the SVG into one reused page, so it takes tens of milliseconds.

Plotly's SVG: one `<svg>` (kaleido merges plotly's layers), one `<text>` per label; a multi-line label is
one `<text>` with a `<tspan class="line">` per line (joined here with newlines). Hidden labels are kept
in the DOM with `display: none` on the text or a group, or with zero opacity, so visibility is decided from
the computed style of the text and its ancestors. Clip paths are not applied: a label clipped away by
the plot area still has its box.
"""

from __future__ import annotations

import atexit
import math
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from itertools import combinations
from typing import Any, NamedTuple

from chromium import CHROMIUM, CHROMIUM_ARGS

from dashboards.figures.colour import WCAG_AA, WCAG_AA_LARGE, Colour, contrast_ratio, parse_colour

LARGE_TEXT_PX = 24.0  # 18 pt: WCAG's "large text"
LARGE_BOLD_TEXT_PX = 18.66  # 14 pt, when bold
BOLD_WEIGHT = 700
CALL_TIMEOUT_S = 60

Point = tuple[float, float]


@dataclass(frozen=True)
class TextBox:
    """One visible `<text>` of a rendered SVG, in the SVG's user units (its viewBox; CSS px for kaleido)."""

    text: str  # lines of a multi-line label joined with "\n"
    corners: tuple[Point, Point, Point, Point]  # the (possibly rotated) text rectangle, in drawing order
    fill: str  # '#RRGGBB'
    opacity: float  # fill alpha × fill-opacity × the opacity of the text and its groups
    font_size: float  # px in user units (a scaled text's size is scaled too)
    font_weight: int  # 400 normal, 700 bold
    angle: float  # rotation in degrees, as SVG measures it (clockwise; -90 is a y-axis title)
    role: str  # class of the text or of its nearest classed ancestor: 'gtitle', 'xtick', 'annotation-text'

    @property
    def left(self) -> float:
        return min(x for x, _ in self.corners)

    @property
    def right(self) -> float:
        return max(x for x, _ in self.corners)

    @property
    def top(self) -> float:
        return min(y for _, y in self.corners)

    @property
    def bottom(self) -> float:
        return max(y for _, y in self.corners)

    @property
    def width(self) -> float:
        """Width of the axis-aligned box around the text (a -90° label is narrow and tall)."""
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def bold(self) -> bool:
        return self.font_weight >= BOLD_WEIGHT

    def __str__(self) -> str:
        text = self.text.replace("\n", " / ")
        return (
            f"{self.role or 'text'} {text!r} at ({self.left:.1f}, {self.top:.1f})–({self.right:.1f}, {self.bottom:.1f})"
        )


class ContrastProblem(NamedTuple):
    """A text whose contrast on the background is below what WCAG asks for its size."""

    box: TextBox
    ratio: float
    minimum: float

    def __str__(self) -> str:
        return f"{self.box}: {self.box.fill} at opacity {self.box.opacity:.2f} has contrast {self.ratio:.2f} < {self.minimum}"


# Runs in the page: parses the SVG, puts it in the document and measures every <text>.
_MEASURE_JS = """
(source) => {
  const parsed = new DOMParser().parseFromString(source, "image/svg+xml");
  const error = parsed.querySelector("parsererror");
  if (error) throw new Error("not a well-formed SVG: " + error.textContent);
  const svg = document.importNode(parsed.documentElement, true);
  document.body.replaceChildren(svg);
  const toUser = svg.getScreenCTM().inverse();
  const found = [];
  for (const text of svg.querySelectorAll("text")) {
    const lines = text.querySelectorAll("tspan.line");
    const content = lines.length ? Array.from(lines, (line) => line.textContent).join("\\n") : text.textContent;
    if (!content.replace(/[\\s\\u200b]/g, "")) continue;  // plotly pads <sub>/<sup> with zero-width spaces
    let opacity = 1, hidden = false, role = "";
    for (let node = text; node && node !== svg.parentNode; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.display === "none") { hidden = true; break; }
      opacity *= parseFloat(style.opacity);
      const classes = node.getAttribute("class");
      if (!role && classes) role = classes.split(/\\s+/)[0];
    }
    const style = getComputedStyle(text);
    if (hidden || style.visibility !== "visible" || opacity === 0 || style.fill === "none") continue;
    const box = text.getBBox();
    if (box.width === 0 || box.height === 0) continue;
    const matrix = toUser.multiply(text.getScreenCTM());
    const corners = [
      [box.x, box.y], [box.x + box.width, box.y], [box.x + box.width, box.y + box.height], [box.x, box.y + box.height],
    ].map(([x, y]) => { const p = new DOMPoint(x, y).matrixTransform(matrix); return [p.x, p.y]; });
    found.push({
      text: content, corners, fill: style.fill, opacity: opacity * parseFloat(style.fillOpacity),
      fontSize: parseFloat(style.fontSize) * Math.sqrt(Math.abs(matrix.a * matrix.d - matrix.b * matrix.c)),
      fontWeight: parseInt(style.fontWeight, 10) || 400,
      angle: Math.atan2(matrix.b, matrix.a) * 180 / Math.PI, role,
    });
  }
  document.body.replaceChildren();
  return found;
}
"""


class _Browser:
    """A headless Chromium page owned by one daemon thread; `run(job)` runs `job(page)` there."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[[Any], Any], Future] | None] = queue.Queue()
        self._started = False
        self._lock = threading.Lock()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name="rendered-text-chromium", daemon=True)

    def run(self, job: Callable[[Any], Any]) -> Any:
        with self._lock:
            if not self._started:
                self._thread.start()
                self._started = True
                atexit.register(self.close)
        result: Future = Future()
        self._jobs.put((job, result))
        deadline = time.monotonic() + CALL_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                return result.result(timeout=0.2)
            except FutureTimeout:
                if not self._thread.is_alive():  # Chromium did not start, or died
                    raise RuntimeError(f"the measuring browser is not running: {self._failure!r}") from self._failure
        raise TimeoutError(f"measuring took over {CALL_TIMEOUT_S} s")

    def close(self) -> None:
        """Close the browser (at exit; waits for it briefly)."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join(timeout=10)

    def _serve(self) -> None:
        try:
            self._serve_jobs()
        except BaseException as error:
            self._failure = error

    def _serve_jobs(self) -> None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.set_content("<!doctype html><html><body style='margin:0'></body></html>")
                while (item := self._jobs.get()) is not None:
                    job, result = item
                    try:
                        result.set_result(job(page))
                    except BaseException as error:
                        result.set_exception(error)
            finally:
                browser.close()


_BROWSER = _Browser()


def text_boxes(svg: bytes) -> list[TextBox]:
    """Every visible, non-blank `<text>` of `svg` as measured by Chromium, in document order."""
    measured = _BROWSER.run(lambda page: page.evaluate(_MEASURE_JS, svg.decode("utf-8")))
    boxes = []
    for item in measured:
        colour = parse_colour(item["fill"])
        opacity = colour.alpha * item["opacity"]
        if opacity == 0:
            continue  # transparent fill
        boxes.append(
            TextBox(
                text=item["text"].replace("\u200b", ""),
                corners=tuple((float(x), float(y)) for x, y in item["corners"]),  # type: ignore[arg-type]
                fill=colour.hex,
                opacity=opacity,
                font_size=item["fontSize"],
                font_weight=item["fontWeight"],
                angle=item["angle"],
                role=item["role"],
            )
        )
    return boxes


def _overlap_depth(a: Sequence[Point], b: Sequence[Point]) -> float:
    """How deep two convex quadrilaterals overlap: the least overlap of their projections on the edge
    normals of both (separating axis theorem); ≤ 0 when they are apart, in user units."""
    depth = math.inf
    for corners in (a, b):
        for (x1, y1), (x2, y2) in zip(corners, [*corners[1:], corners[0]]):
            length = math.hypot(x2 - x1, y2 - y1)
            if length == 0:
                continue
            nx, ny = (y1 - y2) / length, (x2 - x1) / length
            pa = [x * nx + y * ny for x, y in a]
            pb = [x * nx + y * ny for x, y in b]
            depth = min(depth, min(max(pa), max(pb)) - max(min(pa), min(pb)))
    return depth


def overlaps(boxes: Iterable[TextBox], tolerance_px: float = 1.0) -> list[tuple[TextBox, TextBox]]:
    """Pairs of texts whose rectangles overlap by more than `tolerance_px` across every separating axis (for
    unrotated texts: in both x and y). Rotated texts are compared as rotated rectangles."""
    return [(a, b) for a, b in combinations(boxes, 2) if _overlap_depth(a.corners, b.corners) > tolerance_px]


def outside(boxes: Iterable[TextBox], width: float, height: float, tolerance_px: float = 0.0) -> list[TextBox]:
    """Texts reaching outside the image (0, 0)–(width, height) by more than `tolerance_px`."""
    return [
        box
        for box in boxes
        if box.left < -tolerance_px
        or box.top < -tolerance_px
        or box.right > width + tolerance_px
        or box.bottom > height + tolerance_px
    ]


def required_contrast(box: TextBox, minimum: float = WCAG_AA, large_minimum: float = WCAG_AA_LARGE) -> float:
    """The contrast WCAG 2.x asks of this text: `large_minimum` from 24 px (18 pt), or 18.66 px (14 pt)
    bold; else `minimum`."""
    large = box.font_size >= LARGE_TEXT_PX or (box.bold and box.font_size >= LARGE_BOLD_TEXT_PX)
    return large_minimum if large else minimum


def contrast_problems(
    boxes: Iterable[TextBox],
    background: str = "#FFFFFF",
    minimum: float = WCAG_AA,
    large_minimum: float = WCAG_AA_LARGE,
) -> list[ContrastProblem]:
    """Texts whose fill, at its opacity on `background`, has less contrast than WCAG 2.x asks for its size.
    The background is given, not measured: a label on a coloured bar or shape needs that colour passed."""
    problems = []
    for box in boxes:
        drawn = parse_colour(box.fill)
        ratio = contrast_ratio(Colour(drawn.red, drawn.green, drawn.blue, box.opacity), background)
        required = required_contrast(box, minimum, large_minimum)
        if ratio < required:
            problems.append(ContrastProblem(box, ratio, required))
    return problems
