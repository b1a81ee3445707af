"""Audit of views whose filters change without a page load.

The guard records a `page_view` each time Dash's page router runs (a page opened, navigated
to). Pages built on the shell's kit then keep their filters in the address bar through the
`url-sync` location (`dashboards.ids.URL_SYNC`) without routing again; this output-less
callback records those filtered views too; when a navigation changes both, the router's row and
this one are the same view within seconds and are merged (`AuditLog.record(merge_within=…)`).
"""

from __future__ import annotations

from typing import Optional

import dash
import flask
from dash import Input, State

from dashboards.auth.context import audit_event, current_user


def record_filtered_view(search: Optional[str], pathname: Optional[str]) -> None:
    """Callback body: a `page_view` row for the new query string of the current page."""
    from dashboards.auth.guard import REPEAT_SECONDS, page_view_detail

    if not flask.has_request_context() or current_user() is None:
        return
    audit_event("page_view", page_view_detail(pathname or "/", search or ""), merge_within=REPEAT_SECONDS)


def register(app: dash.Dash) -> None:
    """Listen to the shell's `url-sync` query string, when the shell has one."""
    from dashboards import ids

    sync, url = getattr(ids, "URL_SYNC", None), getattr(ids, "URL", None)
    if not sync or not url:
        return
    app.callback(Input(sync, "search"), State(url, "pathname"), prevent_initial_call=True)(record_filtered_view)
