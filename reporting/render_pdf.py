"""A report as a PDF: its HTML printed to A4 pages by headless Chromium.

The page layout is the HTML's print stylesheet (`html/report.css.j2`: A4 portrait `@page` with margin boxes
for the marking and "page N of M", a landscape page per chart, repeating table headers), so the PDF and the
HTML cannot say different things. Chromium runs as a subprocess (Debian's, found by `find_chromium`, the
browser the chart exports already use; Playwright is a test dependency only), in a throw-away profile,
with a time limit; the HTML is self-contained and forbids every fetch, so printing needs no network.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
from pathlib import Path

from dashboards.exports.renderer import ExportUnavailable, find_chromium
from reporting.model import Report
from reporting.render_html import render_html

PRINT_TIMEOUT_S = 120.0
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--no-pdf-header-footer",  # the page margins are the stylesheet's: marking and page numbers
)


class PdfPrintError(ExportUnavailable):
    """Chromium was found but did not print the report (it failed, timed out or wrote no PDF)."""


def render_pdf(report: Report, timeout: float = PRINT_TIMEOUT_S) -> bytes:
    """The report as PDF bytes (A4 portrait pages); `ExportUnavailable` when there is no Chromium,
    `PdfPrintError` (a kind of it) when printing fails or takes longer than `timeout` seconds."""
    return print_html(render_html(report), timeout)


def print_html(html: str, timeout: float = PRINT_TIMEOUT_S) -> bytes:
    """A self-contained HTML document printed to PDF by headless Chromium, as its print stylesheet lays it out."""
    chromium = find_chromium()
    # A helper process still closing its profile must not turn a printed PDF into a clean-up error.
    with tempfile.TemporaryDirectory(prefix="grace-report-pdf-", ignore_cleanup_errors=True) as work:
        folder = Path(work)
        page, out = folder / "report.html", folder / "report.pdf"
        page.write_text(html, encoding="utf-8")
        command = [
            str(chromium),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={folder / 'profile'}",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        returncode, errors = _run(command, timeout)
        body = out.read_bytes() if out.is_file() else b""
        if returncode != 0 or not body.startswith(b"%PDF-"):
            raise PdfPrintError(f"Chromium ({chromium}) did not print the report (exit code {returncode}): {errors}")
        return body


def _run(command: list[str], timeout: float) -> tuple[int, str]:
    """Run Chromium in its own process group; on timeout end that group (Chromium's helpers included)."""
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True, text=True
    )
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):  # it may have ended on its own meanwhile
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise PdfPrintError(f"Chromium took longer than {timeout:g} s to print the report") from None
    return process.returncode, _last_lines(stderr)


def _last_lines(stderr: str, count: int = 5) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    return " | ".join(lines[-count:]) or "no message"
