"""Reports page (and the Operations page's failed runs): what the callbacks compute, as plain functions.

Everything goes through the user's `Scope` (`grace.scope.Scope.allows_aggregates_of`): a user sees an
archived run, a background run, a schedule or a failure only when every country it covers is in the
scope, so a user scoped to Malta sees Malta's reports and never an EU-27 one, and may run or schedule
only for Malta (or an agency of Malta). Roles:
- everyone signed in: the archive and the preview;
- analysts and admins (the roles that may export): downloads and "run now";
- admins: the schedules (add, remove).
A refused request raises `PermissionError` (role) or `ScopeError` (scope); the page audits it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from dashboards.auth.session import CurrentUser
from dashboards.report_desk import ReportDesk, ReportDeskError, ReportJob, RunPreview
from dashboards.titles import country_name
from grace.scope import Scope
from warehouse.reference import EU27

PAGE = "/reports"
DOWNLOAD_ROLES = ("analyst", "admin")
RUN_ROLES = ("analyst", "admin")
SCHEDULE_ROLES = ("admin",)
FILE_LABELS = {
    "report.pdf": "PDF",
    "report.html": "HTML",
    "report.pptx": "PPTX",
    "annex.zip": "CSV annex",
    "manifest.json": "manifest",
}
NOT_SET_UP = "Reports are not set up on this server (start it with `grace serve` or `python app.py`)."


@dataclass(frozen=True)
class FileLink:
    label: str
    href: str


@dataclass(frozen=True)
class ArchiveRow:
    run_id: str
    generated: str
    title: str
    period: str
    scope: str
    triggered_by: str
    numbers_checked: int
    links: tuple[FileLink, ...]  # empty for a role that may not download


def file_href(run_id: str, filename: str) -> str:
    """The download address of one archived file (served by `dashboards.report_routes`)."""
    return f"/reports/file/{quote(run_id)}/{quote(filename)}"


def may_download(user: CurrentUser | None) -> bool:
    return user is not None and user.role in DOWNLOAD_ROLES


def may_run(user: CurrentUser | None) -> bool:
    return user is not None and user.role in RUN_ROLES


def may_schedule(user: CurrentUser | None) -> bool:
    return user is not None and user.role in SCHEDULE_ROLES


def archive_rows(desk: ReportDesk, user: CurrentUser | None, scope: Scope) -> list[ArchiveRow]:
    """The archived runs the user's scope allows, newest first, with download links for those who may."""
    download = may_download(user)
    return [
        ArchiveRow(
            run_id=run.run_id,
            generated=run.generated_at.replace("T", " ").rstrip("Z"),
            title=run.title,
            period=run.period,
            scope=run.scope,
            triggered_by=run.triggered_by,
            numbers_checked=run.numbers_checked,
            links=tuple(FileLink(FILE_LABELS.get(name, name), file_href(run.run_id, name)) for name in run.files)
            if download
            else (),
        )
        for run in desk.archive()
        if scope.allows_aggregates_of(run.scope_countries)
    ]


def scope_choices(scope: Scope) -> list[dict]:
    """The scopes a user may run or schedule a report for: EU-27 and every country, or their own."""
    if scope.countries is None:
        return [{"label": "EU-27 (all countries)", "value": "EU"}] + [
            {"label": f"{name} ({code})", "value": code} for code, _alpha2, name in EU27
        ]
    choices = [{"label": f"{country_name(code)} ({code})", "value": code} for code in sorted(scope.countries)]
    return choices + [{"label": f"Agency {code}", "value": f"agency:{code}"} for code in sorted(scope.agencies or ())]


def default_scope(scope: Scope) -> str:
    return str(scope_choices(scope)[0]["value"])


def _require(allowed: bool, what: str, roles: tuple[str, ...]) -> None:
    if not allowed:
        raise PermissionError(f"{what} needs the {' or '.join(roles)} role")


def _require_scope(desk: ReportDesk, scope: Scope, report_scope: str) -> tuple[str, ...] | None:
    countries = desk.scope_countries(report_scope)
    scope.require_aggregates_of(countries, f"a report for {report_scope}")
    return countries


def preview(desk: ReportDesk, scope: Scope, template: str, report_scope: str) -> RunPreview:
    """What a run of the template for the report scope would hold (the scope must be the user's)."""
    _require_scope(desk, scope, report_scope)
    return desk.preview(template, report_scope)


def request_run(
    desk: ReportDesk,
    user: CurrentUser | None,
    scope: Scope,
    template: str,
    report_scope: str,
    on_done: Callable[[ReportJob], None] | None = None,
) -> ReportJob:
    """Queue a run now for an analyst or admin, within their scope."""
    _require(may_run(user), "Running a report", RUN_ROLES)
    assert user is not None
    _require_scope(desk, scope, report_scope)
    return desk.submit(template, report_scope, user.name, on_done)


def job_rows(desk: ReportDesk, scope: Scope) -> list[dict]:
    """The runs asked for on this server (newest first) that the scope allows."""
    return [
        {
            "submitted": job.submitted_at.replace("T", " ").rstrip("Z"),
            "template": job.template,
            "scope": job.scope,
            "by": job.requested_by,
            "status": job.status,
            "detail": job.message or job.run_id,
        }
        for job in desk.jobs()
        if scope.allows_aggregates_of(job.scope_countries)
    ]


def running_jobs(desk: ReportDesk, scope: Scope) -> int:
    return sum(1 for row in job_rows(desk, scope) if row["status"] in ("queued", "running"))


def schedule_rows(desk: ReportDesk, user: CurrentUser | None, scope: Scope) -> list[dict]:
    """The schedules (admins only) within the scope, with their next run and their latest outcome."""
    _require(may_schedule(user), "Report schedules", SCHEDULE_ROLES)
    return [
        {
            "name": item.name,
            "template": item.definition,
            "cron": item.cron,
            "scope": item.scope or "(the definition's)",
            "next_run": item.next_run,
            "last_run": item.last_run or "not yet",
            "delivery": item.delivery or "archive only",
        }
        for item in desk.schedules()
        if scope.allows_aggregates_of(item.scope_countries)
    ]


def add_schedule(
    desk: ReportDesk, user: CurrentUser | None, scope: Scope, name: str, template: str, cron: str, report_scope: str
):
    """Add a schedule (admins only, within their scope); `ReportDeskError` for a bad name or cron."""
    _require(may_schedule(user), "Scheduling a report", SCHEDULE_ROLES)
    assert user is not None
    _require_scope(desk, scope, report_scope)
    return desk.add_schedule(name.strip(), template, cron.strip(), report_scope, f"dashboard:{user.name}")


def remove_schedule(desk: ReportDesk, user: CurrentUser | None, scope: Scope, name: str) -> None:
    """Remove a schedule (admins only); a schedule outside the scope answers like a missing one."""
    _require(may_schedule(user), "Removing a schedule", SCHEDULE_ROLES)
    visible = {row["name"] for row in schedule_rows(desk, user, scope)}
    if name not in visible:
        raise ReportDeskError(f"no schedule named {name!r}")
    desk.remove_schedule(name)


def failure_rows(desk: ReportDesk | None, scope: Scope) -> list[dict]:
    """Scheduled runs that failed every attempt, within the scope (the Operations page's list)."""
    if desk is None:
        return []
    return [
        {
            "schedule": failure.schedule,
            "fire_time": failure.fire_time,
            "attempts": failure.attempts,
            "finished": failure.finished_at,
            "error": failure.error,
        }
        for failure in desk.failures()
        if scope.allows_aggregates_of(failure.scope_countries)
    ]
