"""`install_security(app)`: login, roles, audit and headers on a Dash app (called by `create_app`)."""

from __future__ import annotations

from pathlib import Path

import dash
import flask
from dash.exceptions import DependencyException, UnsupportedRelativePath
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboards.auth.audit import AuditLog
from dashboards.auth.context import EXTENSION, AuthContext, audit_refusal, json_error
from dashboards.auth.guard import guard
from dashboards.auth.headers import SecurityHeaders
from dashboards.auth.ratelimit import LoginRateLimit
from dashboards.auth.reviews import AlertReviews
from dashboards.auth.session import configure_session, session_lifetime
from dashboards.auth.triage_reviews import TriageReviews
from dashboards.auth.users import UserStore
from dashboards.auth.views import blueprint
from grace import settings
from grace.scope import ScopeError


def install_security(app: dash.Dash, store_path: Path | str | None = None) -> AuthContext:
    """Wire the store (default `$GRACE_HOME/auth/auth.sqlite`), the guard, the login routes,
    the security headers, the request-size limit and the error answers into `app`; returns the
    app's `AuthContext`.

    The Admin page itself is `dashboards/pages/admin.py` (registered with `roles=("admin",)`,
    which the guard enforces)."""
    server = app.server
    users = UserStore(store_path)
    audit = AuditLog(users.path)
    context = AuthContext(
        users, audit, LoginRateLimit(audit), session_lifetime(), AlertReviews(users.path), TriageReviews(users.path)
    )
    server.extensions[EXTENSION] = context
    configure_session(server)
    server.register_blueprint(blueprint)
    proxies = settings.trusted_proxies()
    if proxies:  # client addresses (audit, rate limit) from X-Forwarded-For set by our own proxies
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=proxies, x_proto=proxies)
    # First, before Dash's own hooks: nothing runs for a request that is refused.
    server.before_request_funcs.setdefault(None, []).insert(0, guard)
    server.after_request(SecurityHeaders(app))
    server.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes()
    install_error_answers(server)
    return context


def install_error_answers(server: flask.Flask) -> None:
    """Clear 4xx answers instead of a 500 for requests that ask for too much or for nothing real.

    - A view outside the user's scope (`ScopeError`, raised by any callback, export or pack): 403,
      audited as `access_denied`.
    - A body over `GRACE_MAX_REQUEST_BYTES`: 413.
    - A bundle Dash does not serve (`/_dash-component-suites/<unknown>`): 404.
    - A routed pathname Dash cannot place (no leading slash): 400.
    """

    @server.errorhandler(ScopeError)
    def _outside_scope(error: ScopeError):
        audit_refusal(flask.request.path, error)
        return json_error(403, str(error))

    @server.errorhandler(RequestEntityTooLarge)
    def _too_large(_error):
        return json_error(
            413, f"request body larger than {server.config['MAX_CONTENT_LENGTH']:,} bytes (GRACE_MAX_REQUEST_BYTES)"
        )

    @server.errorhandler(DependencyException)
    def _unknown_bundle(_error):
        return json_error(404, "no such script or style bundle")

    @server.errorhandler(UnsupportedRelativePath)
    def _unplaceable_path(_error):
        return json_error(400, "a page path must start with '/'")
