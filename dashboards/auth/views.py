"""The login and logout routes and their plain HTML pages (no Dash: they must work logged out).

`GET /login` shows the form; `POST /login` checks the CSRF token, the rate limit, then the
password, and redirects to `next` (same-site paths only). `GET /logout` asks for confirmation
(a plain link can point there); `POST /logout` (CSRF-checked) ends the session on the server:
the user's session version is bumped, so every cookie issued before (this browser's, a copy of it,
another device's) stops working. Every outcome is audited.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import flask
from flask_wtf.csrf import generate_csrf, validate_csrf
from wtforms.validators import ValidationError

from dashboards.auth.context import auth_context, client_address, current_user
from dashboards.auth.session import end_session, session_user, start_session
from dashboards.auth.validation import NAME_PATTERN

HERE = Path(__file__).resolve().parent
CLASSIFICATION = "RESTRICTED — law-enforcement use only"
BAD_LOGIN = "Wrong user name or password."
BAD_FORM = "This form has expired or did not come from this site. Please try again."

blueprint = flask.Blueprint("grace_auth", __name__, static_folder=str(HERE / "static"), static_url_path="/auth-static")


@cache
def _template(name: str) -> str:
    return (HERE / "templates" / name).read_text(encoding="utf-8")


def render(kind: str, status: int = 200, **values) -> flask.Response:
    """Render the `kind` variant (login, logout, message) of the page template (values autoescaped)."""
    html = flask.render_template_string(_template("page.html"), kind=kind, classification=CLASSIFICATION, **values)
    response = flask.make_response(html, status)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    return response


def render_message(title: str, message: str, status: int) -> flask.Response:
    return render("message", status, title=title, message=message)


def safe_next(target: str | None) -> str:
    """`target` when it is a path on this site (not `//host`, no scheme, not the login pages), else `/`."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ord(char) < 32 or char == "\\" for char in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path in ("/login", "/logout"):
        return "/"
    return target


def _login_form(
    status: int = 200, error: str | None = None, name: str = "", next_: str = "/", notice: str | None = None
) -> flask.Response:
    return render(
        "login",
        status,
        title="Sign in",
        csrf_token=generate_csrf(),
        error=error,
        name=name,
        next=safe_next(next_),
        notice=notice,
    )


def _csrf_ok() -> bool:
    try:
        validate_csrf(flask.request.form.get("csrf_token"))
    except ValidationError:
        return False
    return True


@blueprint.get("/login")
def login_page():
    context = auth_context()
    next_ = safe_next(flask.request.args.get("next"))
    if session_user(context.users, context.lifetime) is not None:
        return flask.redirect(next_)
    notice = "You have signed out." if flask.request.args.get("signed_out") else None
    return _login_form(next_=next_, notice=notice)


@blueprint.post("/login")
def login_submit():
    context = auth_context()
    form = flask.request.form
    next_ = safe_next(form.get("next"))
    name = (form.get("username") or "").strip().lower()
    if not _csrf_ok():
        return _login_form(400, BAD_FORM, name, next_)
    audited_name = name if NAME_PATTERN.fullmatch(name) else None  # never log a password typed as a name
    client = client_address()
    attempt = context.rate_limit.begin(audited_name, client)  # checked and reserved atomically
    if not attempt.allowed:
        response = _login_form(429, f"Too many failed sign-ins. Wait {attempt.wait_text} and try again.", name, next_)
        response.headers["Retry-After"] = str(attempt.retry_after)
        return response
    user = context.users.authenticate(name, form.get("password") or "") if audited_name else None
    if user is None:
        context.rate_limit.finish(attempt, "login_failure", audited_name, client)
        return _login_form(401, BAD_LOGIN, name, next_)
    start_session(user)
    context.rate_limit.finish(attempt, "login_success", user.name, client, {"role": user.role, "country": user.country})
    return flask.redirect(next_)


@blueprint.get("/logout")
def logout_page():
    if current_user() is None:
        return flask.redirect("/login")
    return render("logout", title="Sign out", csrf_token=generate_csrf(), user=current_user())


@blueprint.post("/logout")
def logout_submit():
    if not _csrf_ok():
        return render_message("Sign-out failed", BAD_FORM, 400)
    user = current_user()
    if user is not None:
        auth_context().users.sign_out(user.name, client_address())  # a replayed cookie is refused from now on
    end_session()
    return flask.redirect("/login?signed_out=1")
