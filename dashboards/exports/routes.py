"""Flask routes of the exports: one chart in one format, or a page's briefing pack.

- `GET /export/<chart_id>.<png|svg|pdf|csv>?<view query>` — a registered chart rebuilt for the
  view in the query string (the page's own URL query), small cells suppressed, marked.
- `GET /export/pack/<page>.zip?<view query>` — every chart of a page (`overview`, `trends`, …).

Only analysts and admins may export (`dashboards.auth.require_role`); a user scoped to one country
exports only that country (`scope_state`); every export is written to
the audit log (chart, format, filters). Errors are JSON with a clear message: 404 for an unknown
chart, page or format, 400 for an invalid view, 503 when the warehouse or Chromium is unavailable.
"""

from __future__ import annotations

import re

import dash
import flask

from dashboards.auth import audit_event, require_role
from dashboards.charts import UnknownChartError, get_chart
from dashboards.exports.build import (
    EXPORT_FORMATS,
    ExportFile,
    UnknownPageError,
    briefing_pack,
    export_chart,
    page_of_slug,
)
from dashboards.exports.renderer import ExportUnavailable
from dashboards.state import ViewState, ViewStateError
from dashboards.wiring import scope_state
from grace.disclosure import DisclosureError
from grace.errors import WarehouseError

_CHART_FILE = re.compile(r"^(?P<chart>[a-z0-9][a-z0-9-]{0,99})\.(?P<fmt>[a-z]{3})$")
_PACK_FILE = re.compile(r"^(?P<page>[a-z0-9][a-z0-9-]{0,99})\.zip$")
EXPORT_ROLES = ("analyst", "admin")


def install_exports(app: dash.Dash) -> None:
    """Register the export routes on the app's Flask server (called once by `create_app`)."""
    from dashboards.app_factory import reader_of
    import dashboards.exports.ui  # noqa: F401 - registers the menu's callback before the app serves

    server = app.server

    @server.get("/export/pack/<name>")
    @require_role(*EXPORT_ROLES)
    def export_pack(name: str):
        match = _PACK_FILE.match(name)
        if not match:
            return _error(404, f"{name!r}: ask for /export/pack/<page>.zip")
        try:
            state = scope_state(ViewState.from_query(flask.request.query_string.decode()))
            page = page_of_slug(match["page"])
            exported = briefing_pack(page, reader_of(app), state)
        except UnknownPageError:
            return _error(404, f"no page {match['page']!r} with exportable charts")
        except Exception as error:  # noqa: BLE001 - mapped to a clear response below
            return _failure(error)
        audit_event("export", {"chart": f"pack:{match['page']}", "format": "zip", "filters": state.filters_text(),
                               "query": state.to_query()})
        return _send(exported)

    @server.get("/export/<name>")
    @require_role(*EXPORT_ROLES)
    def export_one(name: str):
        match = _CHART_FILE.match(name)
        if not match or match["fmt"] not in EXPORT_FORMATS:
            return _error(404, f"{name!r}: ask for /export/<chart>.<{'|'.join(EXPORT_FORMATS)}>")
        try:
            state = scope_state(ViewState.from_query(flask.request.query_string.decode()))
            chart = get_chart(match["chart"])
            exported = export_chart(chart, reader_of(app), state, match["fmt"])
        except UnknownChartError:
            return _error(404, f"no chart {match['chart']!r}")
        except Exception as error:  # noqa: BLE001 - mapped to a clear response below
            return _failure(error)
        audit_event("export", {"chart": chart.chart_id, "format": match["fmt"], "filters": state.filters_text(),
                               "query": state.to_query()})
        return _send(exported)


def _send(exported: ExportFile) -> flask.Response:
    response = flask.Response(exported.body, content_type=exported.content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _failure(error: Exception) -> flask.Response:
    if isinstance(error, ViewStateError):
        return _error(400, f"invalid view: {error}")
    if isinstance(error, (WarehouseError, ExportUnavailable)):
        return _error(503, str(error))
    if isinstance(error, DisclosureError):
        return _error(500, f"the small-cell rule could not be applied: {error}")
    raise error


def _error(status: int, message: str) -> flask.Response:
    response = flask.jsonify({"error": message})
    response.status_code = status
    return response
