"""Static images of plotly figures (PNG, SVG, PDF) through kaleido 1.x and Debian's Chromium.

kaleido launches a browser per call (about 2 s) unless a sync server runs; `ExportRenderer`
starts one server per process, lazily on the first export, and serialises calls with a lock
because kaleido's server answers requests through one shared queue (two threads asking at once
could swap their answers). The server is stopped at interpreter exit (kaleido registers that)
or by `shutdown()`. MathJax is switched off so nothing is fetched from a CDN; plotly.js comes
from the installed plotly package.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import kaleido
import plotly.graph_objects as go

from dashboards.figures.dissemination import topojson_uri
from grace import settings
from grace.errors import GraceError

FORMATS = ("png", "svg", "pdf")
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")
RENDER_TIMEOUT_S = 60


class ExportUnavailable(GraceError):
    """Static image export cannot run here (no Chromium found)."""


def find_chromium() -> Path:
    """The browser kaleido will drive: `$BROWSER_PATH`, else the first Chromium on PATH."""
    configured = settings.browser_path()
    if configured:
        path = Path(configured)
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise ExportUnavailable(f"$BROWSER_PATH={configured}: not an executable file")
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise ExportUnavailable(
        "no Chromium found for image export: install Debian's chromium (apt-get install chromium) or set $BROWSER_PATH"
    )


class ExportRenderer:
    """One kaleido server for the process, started on first use; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started = False

    @property
    def running(self) -> bool:
        return self._started

    def _ensure_started(self) -> None:
        if self._started:
            return
        find_chromium()  # fail clearly now: kaleido's server thread would die silently without one
        kaleido.start_sync_server(n=1, timeout=RENDER_TIMEOUT_S, mathjax=False, silence_warnings=True)
        self._started = True

    def render(self, figure: go.Figure, fmt: str, width: int = 1200, height: int = 700, scale: float = 1.0) -> bytes:
        """The figure as PNG, SVG or PDF bytes."""
        if fmt not in FORMATS:
            raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
        with self._lock:
            self._ensure_started()
            # Map shapes come from the bundled topojson; without it plotly.js would fetch them online.
            return kaleido.calc_fig_sync(
                figure,
                opts={"format": fmt, "width": width, "height": height, "scale": scale},
                topojson=topojson_uri(),
            )

    def shutdown(self) -> None:
        """Stop the server (it starts again on the next render)."""
        with self._lock:
            if self._started:
                kaleido.stop_sync_server(silence_warnings=True)
                self._started = False


_RENDERER = ExportRenderer()


def renderer() -> ExportRenderer:
    """The process's renderer (kaleido's server is a process-wide singleton, so this is one too)."""
    return _RENDERER
