"""The gate in front of every route: log in first, then only what your role allows.

Public: the login page and its stylesheet, Dash's static bundles (`/assets/…`,
`/_dash-component-suites/…`) and the favicon — none of them carry data. Everything else needs an
enabled, logged-in user: a page request is redirected to `/login?next=…`; Dash's JSON endpoints
(`/_dash-layout`, `/_dash-dependencies`, `/_dash-update-component`, `/_reload-hash`, any `/_…`)
and `/export/…` get a 401 JSON answer. Then the role rules: `/export/…` needs analyst or admin; a
page registered with `roles=(…)` (e.g. `/admin`) needs one of them, whether it is requested as a
full page or routed to inside the app. Each routing of the Dash pages (a page opened, reloaded or
navigated to) is audited as a `page_view` of the page the router will render (its path normalised
the way Dash's router matches it, so `//admin` and `admin` are `/admin`) with the query-string
filters (an exact repeat within 2 s is one view); a routing to a page the role may not see is
audited as `access_denied` instead. The views whose filters change without routing are audited by
the pages' own state callbacks (`dashboards.wiring.record_view`), with the state the server computed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import dash
import flask
from werkzeug.wrappers import Response as BaseResponse

from dashboards.auth.context import EXPORT_ROLES, audit_event, auth_context, current_user, json_error
from dashboards.auth.session import session_user

PUBLIC_PATHS = ("/login", "/favicon.ico", "/_favicon.ico")
ASSETS_PREFIX = "/assets/"
PUBLIC_PREFIXES = (ASSETS_PREFIX, "/_dash-component-suites/", "/auth-static/")
EXPORT_PREFIX = "/export/"
DASH_UPDATE = "/_dash-update-component"
PAGES_LOCATION = "_pages_location"
MAX_QUERY_CHARS = 2000
REPEAT_SECONDS = 2.0  # the same view again within this is one view (Dash may route twice on load)


def is_public(path: str) -> bool:
    """The login page, the favicon and static files. Under `/assets/` only files that exist are public:
    for any other path there Dash answers with the app shell, which is for signed-in users only."""
    if path in PUBLIC_PATHS:
        return True
    if path.startswith(ASSETS_PREFIX):
        return _is_asset_file(path[len(ASSETS_PREFIX) :])
    return path.startswith(PUBLIC_PREFIXES)


def _is_asset_file(relative: str) -> bool:
    folder = Path(dash.get_app().config.assets_folder).resolve()
    target = (folder / relative).resolve()
    return bool(relative) and target.is_file() and folder in target.parents


def is_api(path: str) -> bool:
    """Dash's internal endpoints and exports answer JSON, not a login redirect."""
    return path.startswith(("/_", EXPORT_PREFIX))


def login_redirect() -> BaseResponse:
    target = flask.request.full_path if flask.request.query_string else flask.request.path
    return flask.redirect(f"/login?next={quote(target, safe='')}", code=302)


def page_path(path: str) -> str:
    """A path as Dash's page router matches it (slashes at either end do not count): `/admin`."""
    return "/" + path.strip("/")


def page_roles(path: str) -> tuple[str, ...] | None:
    """Roles a registered Dash page asks for (`dash.register_page(..., roles=(...))`), if any."""
    wanted = page_path(path)
    for page in dash.page_registry.values():
        roles = page.get("roles")
        if roles and page_path(str(page.get("path") or "")) == wanted:
            return tuple(roles)
    return None


def _inputs(payload: Any) -> Iterator[dict]:
    """Flatten Dash's `inputs` (lists, nested for pattern-matching and dict-style callbacks)."""
    items = payload if isinstance(payload, list) else list(payload.values()) if isinstance(payload, dict) else []
    for item in items:
        if isinstance(item, dict) and "id" in item:
            yield item
        elif isinstance(item, (list, dict)):
            yield from _inputs(item)


def routed_location(payload: Any) -> tuple[str, str] | None:
    """(pathname, search) when this callback request is the Dash pages router, else None."""
    if not isinstance(payload, dict):
        return None
    values = {
        item.get("property"): item.get("value")
        for item in _inputs(payload.get("inputs", []))
        if item.get("id") == PAGES_LOCATION
    }
    if "pathname" not in values:
        return None
    return page_path(str(values.get("pathname") or "/")), str(values.get("search") or "")


def page_view_detail(pathname: str, search: str) -> dict:
    """Path and the filters of its query string (truncated, and marked so, when very long)."""
    query = search[1:] if search.startswith("?") else search
    detail: dict = {"path": pathname[:500]}
    if len(query) > MAX_QUERY_CHARS:
        detail["truncated"] = True
        query = query[:MAX_QUERY_CHARS]
    detail["filters"] = dict(sorted(parse_qs(query, keep_blank_values=True).items()))
    return detail


def guard() -> BaseResponse | None:
    """`before_request`: None lets the request through; otherwise the refusal to send."""
    path = flask.request.path
    if is_public(path):
        return None
    context = auth_context()
    user = session_user(context.users, context.lifetime)
    if user is None:
        if is_api(path):
            return json_error(401, "authentication required", login="/login")
        return login_redirect()
    flask.g.grace_user = user
    if path.startswith(EXPORT_PREFIX) and user.role not in EXPORT_ROLES:
        audit_event("access_denied", {"path": path, "needs": list(EXPORT_ROLES)})
        return json_error(403, f"exports need the analyst or admin role; you are {user.role}")
    roles = page_roles(path)
    if roles and user.role not in roles:
        audit_event("access_denied", {"path": path, "needs": list(roles)})
        return forbidden_page(roles)
    if path == DASH_UPDATE and flask.request.method == "POST":
        return _check_routing()
    return None


def _check_routing() -> flask.Response | None:
    routed = routed_location(flask.request.get_json(silent=True))
    if routed is None:
        return None
    pathname, search = routed
    roles = page_roles(pathname)
    user = current_user()
    if user is None:  # `guard` signs the user in before it checks the routing
        raise RuntimeError("page routing checked without a signed-in user")
    if roles and user.role not in roles:
        audit_event("access_denied", {"path": pathname, "needs": list(roles)})
        return json_error(403, f"this page needs the {' or '.join(roles)} role; you are {user.role}")
    audit_event("page_view", page_view_detail(pathname, search), merge_within=REPEAT_SECONDS)
    return None


def forbidden_page(roles: tuple[str, ...]) -> flask.Response:
    from dashboards.auth.views import render_message

    return render_message("Not permitted", f"This page needs the {' or '.join(roles)} role.", 403)
