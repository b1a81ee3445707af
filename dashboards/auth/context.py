"""Helpers for pages, callbacks and Flask routes: who is asking, what they may do, audit it.

All of them work inside a request (Flask routes and Dash callbacks both run in one); outside a
request `current_user()` is None and `scoped_countries` passes the request through unchanged, so
callback logic stays testable as plain functions.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import flask

from dashboards.auth.audit import AuditLog
from dashboards.auth.ratelimit import LoginRateLimit
from dashboards.auth.reviews import AlertReviews
from dashboards.auth.session import CurrentUser
from dashboards.auth.triage_reviews import TriageReview, TriageReviews
from dashboards.auth.users import UserStore
from grace.scope import Scope

EXTENSION = "grace_auth"
EXPORT_ROLES = ("analyst", "admin")
REVIEW_ROLES = ("analyst", "admin")  # who may acknowledge or dismiss alerts


@dataclass(frozen=True)
class AuthContext:
    """The auth state of one app: its store, audit log, rate limit and session lifetime."""

    users: UserStore
    audit: AuditLog
    rate_limit: LoginRateLimit
    lifetime: timedelta
    reviews: AlertReviews
    triage_reviews: TriageReviews


def auth_context(app: flask.Flask | None = None) -> AuthContext:
    """The `AuthContext` installed on `app` (default: the current Flask app)."""
    return (app or flask.current_app).extensions[EXTENSION]


def current_user() -> CurrentUser | None:
    """The logged-in user (name, role, country scope) of this request, or None."""
    if not flask.has_request_context():
        return None
    return flask.g.get("grace_user")


def client_address() -> str | None:
    return flask.request.remote_addr if flask.has_request_context() else None


def user_may_export() -> bool:
    """Analysts and admins may export; viewers see aggregates only."""
    user = current_user()
    return user is not None and user.role in EXPORT_ROLES


def current_scope() -> Scope:
    """What the user of this request may see (`grace.scope.Scope`): the one answer every data path uses.

    Outside a request (plain-function tests, jobs) and for unscoped users: everything.
    """
    user = current_user()
    return Scope.everything() if user is None else Scope.of_user(user.country, user.agency)


def scoped_countries(requested: Iterable[str] | None) -> list[str]:
    """The country filter to apply for this request's user (`Scope.countries_for`)."""
    return list(current_scope().countries_for(requested or []))


def audit_event(event: str, detail: Mapping[str, Any] | None = None, merge_within: float | None = None) -> None:
    """Record an audit event for the current user and client (e.g. `audit_event("export", {...})`).

    `merge_within` (seconds) skips an exact repeat of the user's last such event (see `AuditLog.record`).
    """
    user = current_user()
    auth_context().audit.record(event, user.name if user else None, detail or {}, client_address(), merge_within)


def reviewed_alerts() -> dict[str, str]:
    """alert key -> 'acknowledged' | 'dismissed' for this request's user ({} outside a request)."""
    user = current_user()
    if user is None or not flask.has_app_context() or EXTENSION not in flask.current_app.extensions:
        return {}
    return auth_context().reviews.of_user(user.name)


def review_alerts(keys: Iterable[str], action: str) -> int:
    """Acknowledge, dismiss or reopen alerts for this request's user, audited (`AlertReviews.review`).

    Raises `PermissionError` for a user whose role may not review; the caller checks the user's scope."""
    user = current_user()
    if user is None or user.role not in REVIEW_ROLES:
        raise PermissionError("only analysts and admins can acknowledge or dismiss alerts")
    return auth_context().reviews.review(user.name, keys, action, client_address())


def my_triage_reviews(keys: Iterable[str]) -> dict[str, TriageReview]:
    """This request's user's reviews of these referrals ({} outside a request)."""
    user = current_user()
    if user is None or not flask.has_app_context() or EXTENSION not in flask.current_app.extensions:
        return {}
    return auth_context().triage_reviews.of_user(user.name, keys)


def review_referral(
    key: str, tier_before: str, tier_after: str, actionable: bool, run_id: str, model_version: str | None
) -> TriageReview:
    """Record this request's user's review of one referral, audited (`TriageReviews.review`).

    Raises `PermissionError` for a role that may not triage; the caller has checked the key against the user's
    scope and read `tier_before`, `run_id` and `model_version` from the warehouse."""
    user = current_user()
    if user is None or user.role not in REVIEW_ROLES:
        raise PermissionError("only analysts and admins can review referrals")
    return auth_context().triage_reviews.review(
        user.name, key, tier_before, tier_after, actionable, run_id, model_version, client_address()
    )


def audit_refusal(path: str, error: Exception) -> None:
    """Audit a request refused because it asked for data outside the user's scope (`access_denied`)."""
    audit_event("access_denied", {"path": path[:500], "reason": str(error)})


def json_error(status: int, message: str, **extra: Any) -> flask.Response:
    response = flask.jsonify({"error": message, **extra})
    response.status_code = status
    return response


def require_role(*roles: str):
    """Decorator for Flask routes: 401 without a login, 403 (audited) without one of `roles`."""
    unknown = set(roles) - {"viewer", "analyst", "admin"}
    if not roles or unknown:
        raise ValueError(f"require_role{roles}: name one or more of viewer, analyst, admin")

    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                return json_error(401, "authentication required", login="/login")
            if user.role not in roles:
                audit_event("access_denied", {"path": flask.request.path, "needs": list(roles)})
                return json_error(403, f"this needs the {' or '.join(roles)} role; you are {user.role}")
            return view(*args, **kwargs)

        return wrapped

    return decorate
