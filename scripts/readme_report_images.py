"""The README's report pictures: one page of each output of the strategic report, as small PNGs.

`python scripts/readme_report_images.py [--warehouse FILE] [--out docs/images]` writes
- `report-pdf-page-1.png`, `report-pdf-page-2.png`: the PDF's first two pages (poppler's `pdftoppm`);
- `report-html.png`: the top of the HTML (title, facts, contents) in headless Chromium (`--screenshot`);
- `report-pptx-slide.png`: the deck's first chart slide, composed from the slide's own parts — its picture
  at its place and size and the marking text boxes — by python-pptx and Pillow, since no office suite
  renders PPTX here (the chart picture is the very PNG the slide embeds);
each at most `WIDTH` pixels wide and quantised to a palette so that it stays small (≤ 250 KB).

Without --warehouse it builds the demo warehouse (the real simulator, ETL, synthetic published figures and
first analysis run, as `grace demo` does) in a temporary $GRACE_HOME first, which takes a few minutes.
The report is checked (`verify`) before anything is drawn.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from PIL import Image, ImageDraw, ImageFont  # noqa: E402

WIDTH = 1000
MAX_BYTES = 250_000
DEFINITION = "strategic-monthly"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, help="a built warehouse (default: build the demo one)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "images")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grace-readme-report-") as work:
        folder = Path(work)
        os.environ.setdefault("GRACE_HOME", str(folder / "home"))
        warehouse = args.warehouse or demo_warehouse(folder / "warehouse.duckdb")
        html, pdf, pptx = outputs(warehouse)
        args.out.mkdir(parents=True, exist_ok=True)
        written = [
            *pdf_pages(pdf, folder, args.out),
            html_page(html, folder, args.out / "report-html.png"),
            slide_preview(pptx, args.out / "report-pptx-slide.png"),
        ]
    for path in written:
        print(
            f"{path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}: {path.stat().st_size:,} bytes"
        )


def demo_warehouse(path: Path) -> Path:
    from grace_cli.demo_warehouse import build_demo_warehouse

    return build_demo_warehouse(path, jobs=1, triage=False).warehouse


def outputs(warehouse: Path) -> tuple[str, bytes, bytes]:
    """The strategic report's HTML, PDF and PPTX for the warehouse's last complete month (EU-27), checked."""
    from reporting.content import build_report, verify
    from reporting.definition import load_definition
    from reporting.render_html import render_html
    from reporting.render_pdf import render_pdf
    from reporting.render_pptx import render_pptx
    from warehouse import WarehouseReader

    report = build_report(load_definition(DEFINITION), WarehouseReader(warehouse), now=datetime.now(UTC))
    print(f"{DEFINITION}: {verify(report)} numbers checked")
    return render_html(report), render_pdf(report), render_pptx(report)


def pdf_pages(pdf: bytes, work: Path, out: Path) -> list[Path]:
    """Pages 1 and 2 of the PDF at `WIDTH` pixels."""
    source = work / "report.pdf"
    source.write_bytes(pdf)
    prefix = work / "page"
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-f",
            "1",
            "-l",
            "2",
            "-scale-to-x",
            str(WIDTH),
            "-scale-to-y",
            "-1",
            str(source),
            str(prefix),
        ],
        check=True,
        timeout=120,
    )
    pages = sorted(work.glob("page-*.png"))
    return [save_small(Image.open(page), out / f"report-pdf-page-{number}.png") for number, page in enumerate(pages, 1)]


def html_page(html: str, work: Path, target: Path) -> Path:
    """The top of the HTML as a reader opens it: title, facts and contents, `WIDTH` wide."""
    from dashboards.exports.renderer import find_chromium

    page = work / "report.html"
    page.write_text(html, encoding="utf-8")
    shot = work / "html.png"
    subprocess.run(
        [
            str(find_chromium()),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={work / 'profile'}",
            f"--window-size={WIDTH},1300",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        check=True,
        timeout=120,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return save_small(Image.open(shot), target)


def slide_preview(pptx: bytes, target: Path) -> Path:
    """The first chart slide composed from its own parts: white slide, its picture, its text boxes."""
    from pptx import Presentation

    deck = Presentation(io.BytesIO(pptx))
    scale = WIDTH / deck.slide_width
    canvas = Image.new("RGB", (WIDTH, round(deck.slide_height * scale)), "white")
    draw = ImageDraw.Draw(canvas)
    slide = next(s for s in deck.slides if any(shape.shape_type == 13 for shape in s.shapes))
    for shape in slide.shapes:
        box = [round(value * scale) for value in (shape.left, shape.top, shape.width, shape.height)]
        if shape.shape_type == 13:  # the chart: the PNG the slide embeds, at its place and size
            picture = Image.open(io.BytesIO(shape.image.blob)).convert("RGB").resize((box[2], box[3]), Image.LANCZOS)
            canvas.paste(picture, (box[0], box[1]))
        elif shape.has_text_frame and shape.text_frame.text.strip():  # the marking bands: centred, as on the slide
            text = shape.text_frame.text.strip()
            middle = (box[0] + box[2] / 2, box[1] + box[3] / 2)
            draw.text(middle, text, fill=(120, 20, 20), font=font(11), anchor="mm")
    return save_small(canvas, target)


def font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """DejaVu Sans (Debian's fonts-dejavu) when installed, else Pillow's own."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size)


def save_small(image: Image.Image, target: Path) -> Path:
    """`image` at most `WIDTH` wide, as a palette PNG (fewer colours until it fits `MAX_BYTES`)."""
    image = image.convert("RGB")
    if image.width > WIDTH:
        image = image.resize((WIDTH, round(image.height * WIDTH / image.width)), Image.LANCZOS)
    for colours in (256, 128, 64, 32):
        buffer = io.BytesIO()
        image.quantize(colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            buffer, "PNG", optimize=True
        )
        if buffer.tell() <= MAX_BYTES:
            break
    target.write_bytes(buffer.getvalue())
    return target


if __name__ == "__main__":
    main()
