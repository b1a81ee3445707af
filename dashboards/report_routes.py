"""`GET /reports/file/<run>/<file>`: one file of an archived report run, for the Reports page's links.

Analysts and admins only (the roles that may export). The run must be within the user's scope
(`Scope.allows_aggregates_of` on the countries the run covers): a run outside it answers 404 exactly like
a missing one, and is audited as `access_denied`. Only files the run's manifest lists are served, never
a path built from the request. Every download is audited (`report_download`).
"""

from __future__ import annotations

import dash
import flask

from dashboards.auth import audit_event, current_scope, require_role
from dashboards.auth.context import json_error
from dashboards.callbacks.reports import DOWNLOAD_ROLES
from dashboards.readers import desk_of
from dashboards.report_desk import ReportDeskError

CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".html": "text/html; charset=utf-8",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".zip": "application/zip",
    ".json": "application/json",
}


def install_report_files(app: dash.Dash) -> None:
    """Register the download route on the app's Flask server (called once by `create_app`)."""

    @app.server.get("/reports/file/<run_id>/<filename>")
    @require_role(*DOWNLOAD_ROLES)
    def report_file(run_id: str, filename: str):
        desk = desk_of(app)
        if desk is None:
            return json_error(404, "reports are not set up on this server")
        try:
            run, path = desk.archived_file(run_id, filename)
        except ReportDeskError as error:
            return json_error(404, str(error))
        if not current_scope().allows_aggregates_of(run.scope_countries):
            audit_event("access_denied", {"path": flask.request.path[:500], "reason": f"report scope {run.scope}"})
            return json_error(404, f"no archived run {run_id!r}")
        try:
            body = path.read_bytes()
        except OSError:
            return json_error(404, f"run {run_id} has no file {filename!r} any more")
        audit_event("report_download", {"run": run_id, "file": filename, "report": run.report, "scope": run.scope})
        response = flask.Response(body, content_type=CONTENT_TYPES.get(path.suffix, "application/octet-stream"))
        response.headers["Content-Disposition"] = f'attachment; filename="{run_id}_{filename}"'
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
