"""Flask routes of the exports: one chart in one format, or a page's briefing pack.

- `GET /export/<chart_id>.<png|svg|pdf|csv>?<view query>` — a registered chart rebuilt for the
  view in the query string (the page's own URL query), small cells suppressed, marked.
- `GET /export/pack/<page>.zip?<view query>` — every chart of a page (`overview`, `trends`, …).
- `&preset=slide|a4|a4-landscape` on either: where the images go (size and type scale,
  `dashboards/exports/presets.py`); the slide is the default.

Only analysts and admins may export (`dashboards.auth.require_role`). The view is bound to the
user's scope (`ViewState.within(current_scope())`): a user scoped to one country exports only that country, and asking
for anything outside the scope (another country's series, the EU total, an EU-wide chart) is a
403 audited as `access_denied`. Each user may have `GRACE_EXPORTS_PER_USER` exports running at
once (429 beyond). Every export is written to the audit log (chart, format, filters), and so is
every failed one (`export_failed`). Errors are JSON with a clear message: 404 for an unknown
chart, page or format, 400 for an invalid view, 503 when the warehouse or Chromium is unavailable
(or a query ran past `GRACE_QUERY_TIMEOUT_SECONDS`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import dash
import flask

from analytics.warehouse_series import SeriesRequestError
from dashboards.auth import audit_event, current_scope, current_user, require_role
from dashboards.auth.context import json_error
from dashboards.catalogue import UnknownChartError, get_chart
from dashboards.exports.build import (
    EXPORT_FORMATS,
    ExportFile,
    UnknownPageError,
    briefing_pack,
    export_chart,
    page_of_slug,
)
from dashboards.exports.presets import Preset, UnknownPresetError, preset_named
from dashboards.exports.renderer import ExportUnavailable
from dashboards.state import ViewState, ViewStateError
from grace.disclosure import DisclosureError
from grace.errors import WarehouseError
from grace.settings import exports_per_user

_CHART_FILE = re.compile(r"^(?P<chart>[a-z0-9][a-z0-9-]{0,99})\.(?P<fmt>[a-z]{3})$")
_PACK_FILE = re.compile(r"^(?P<page>[a-z0-9][a-z0-9-]{0,99})\.zip$")
EXPORT_ROLES = ("analyst", "admin")


class ExportSlots:
    """How many exports each user has running in this process; more than `exports_per_user()` at
    once are refused (429), so one analyst cannot occupy every worker."""

    def __init__(self, limit: int):
        self.limit = limit
        self._running: dict[str, int] = {}
        self._lock = threading.Lock()

    @contextmanager
    def slot(self, user: str) -> Iterator[bool]:
        """Yields whether the user got a slot (released on exit)."""
        with self._lock:
            granted = self._running.get(user, 0) < self.limit
            if granted:
                self._running[user] = self._running.get(user, 0) + 1
        try:
            yield granted
        finally:
            if granted:
                with self._lock:
                    self._running[user] -= 1
                    if not self._running[user]:
                        del self._running[user]


def install_exports(app: dash.Dash) -> None:
    """Register the export routes on the app's Flask server (called once by `create_app`)."""
    import dashboards.exports.ui  # noqa: F401 - registers the menu's callback before the app serves
    from dashboards.readers import reader_of

    server = app.server
    slots = ExportSlots(exports_per_user())

    def run_export(what: str, fmt: str, build: Callable[[ViewState, Preset], ExportFile]) -> flask.Response:
        """Scope the view, build the file in one of the user's export slots, audit the outcome."""
        user = current_user()
        with slots.slot(user.name if user else "") as granted:
            if not granted:
                return json_error(429, f"you have {slots.limit} export(s) running; wait for them to finish")
            try:
                asked = ViewState.from_query(flask.request.query_string.decode())
                preset = preset_named(flask.request.args.get("preset"))
            except (ViewStateError, UnknownPresetError) as error:
                return json_error(400, f"invalid view: {error}")
            state = asked.within(current_scope())  # outside the scope: ScopeError, answered 403 and audited
            try:
                exported = build(state, preset)
            except Exception as error:
                audit_event(
                    "export_failed",
                    {
                        "chart": what,
                        "format": fmt,
                        "preset": preset.name,
                        "error": type(error).__name__,
                        "query": state.to_query(),
                    },
                )
                return _failure(error)
        audit_event(
            "export",
            {
                "chart": what,
                "format": fmt,
                "preset": preset.name,
                "filters": state.filters_text(),
                "query": state.to_query(),
            },
        )
        return _send(exported)

    @server.get("/export/pack/<name>")
    @require_role(*EXPORT_ROLES)
    def export_pack(name: str):
        match = _PACK_FILE.match(name)
        if not match:
            return json_error(404, f"{name!r}: ask for /export/pack/<page>.zip")
        try:
            page = page_of_slug(match["page"])
        except UnknownPageError:
            return json_error(404, f"no page {match['page']!r} with exportable charts")
        return run_export(
            f"pack:{match['page']}",
            "zip",
            lambda state, preset: briefing_pack(page, reader_of(app), state, preset=preset),
        )

    @server.get("/export/<name>")
    @require_role(*EXPORT_ROLES)
    def export_one(name: str):
        match = _CHART_FILE.match(name)
        if not match or match["fmt"] not in EXPORT_FORMATS:
            return json_error(404, f"{name!r}: ask for /export/<chart>.<{'|'.join(EXPORT_FORMATS)}>")
        try:
            chart = get_chart(match["chart"])
        except UnknownChartError:
            return json_error(404, f"no chart {match['chart']!r}")
        return run_export(
            chart.chart_id,
            match["fmt"],
            lambda state, preset: export_chart(chart, reader_of(app), state, match["fmt"], preset=preset),
        )


def _send(exported: ExportFile) -> flask.Response:
    response = flask.Response(exported.body, content_type=exported.content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _failure(error: Exception) -> flask.Response:
    """The answer for an export that could not be built; anything unexpected is raised (500)."""
    if isinstance(error, (ViewStateError, SeriesRequestError)):
        return json_error(400, f"invalid view: {error}")
    if isinstance(error, (WarehouseError, ExportUnavailable)):
        return json_error(503, str(error))
    if isinstance(error, DisclosureError):
        return json_error(500, f"the small-cell rule could not be applied: {error}")
    raise error
