"""What the dashboard needs from the report archive and schedules (`ReportDesk`), as plain data.

The report machinery (`reporting/`) sits above the dashboard in the layers: it draws the dashboard's
catalogue charts, so the dashboard cannot import it. Instead the dashboard states here what its Reports
page and its Operations page need, and the composition layer hands `create_app` an implementation
(`reporting.desk.ArchiveDesk`, wired by `grace_cli/server.py`). An app built without one shows that
reports are not set up on this server.

A desk answers for the whole archive. Who may see what is decided by the dashboard, with the user's
`grace.scope.Scope` (`dashboards.callbacks.reports`), never by the desk. No Dash here: `reporting` imports
these types (an app finds its desk with `dashboards.readers.desk_of`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class ArchivedReport:
    """One archived run (its folder's manifest)."""

    run_id: str  # the archive folder's name
    title: str
    report: str  # the definition's name
    period: str
    scope: str  # as labelled in the report, e.g. "EU-27" or "Malta"
    scope_countries: tuple[str, ...] | None  # None: every country (an EU-27 report)
    generated_at: str
    triggered_by: str
    numbers_checked: int
    files: tuple[str, ...]  # e.g. report.pdf, report.html, report.pptx, annex.zip, manifest.json


@dataclass(frozen=True)
class ReportTemplate:
    name: str
    title: str
    kind: str  # "report" or "deck"
    grain: str  # week, month or quarter


@dataclass(frozen=True)
class PreviewSection:
    title: str
    contents: tuple[str, ...]  # what the section will hold: key figures, findings, charts' titles, text


@dataclass(frozen=True)
class RunPreview:
    """What a run of a definition for a scope would hold, with today's data (nothing rendered)."""

    title: str
    audience: str
    marking: str
    period: str  # the period it would cover, e.g. "Week 48 2026 (23–29 November)"
    scope: str
    scope_countries: tuple[str, ...] | None
    k: int
    sections: tuple[PreviewSection, ...]
    left_out: tuple[str, ...] = ()  # charts a scope this narrow does not get (they cover every country)


@dataclass(frozen=True)
class ReportSchedule:
    name: str
    definition: str
    cron: str
    scope: str  # 'EU' (or empty: the definition's), an ISO-3 code or agency:CODE
    scope_countries: tuple[str, ...] | None
    formats: tuple[str, ...]
    next_run: str  # UTC, "YYYY-MM-DD HH:MM"
    last_run: str  # the latest fire time with its status, or ""
    delivery: str  # where runs go besides the archive


@dataclass(frozen=True)
class ScheduleFailure:
    """A scheduled run that failed every attempt (shown on the Operations page)."""

    schedule: str
    fire_time: str
    attempts: int
    finished_at: str
    error: str
    scope_countries: tuple[str, ...] | None


@dataclass(frozen=True)
class ReportJob:
    """A run asked for from the dashboard, built in the background."""

    job_id: str
    template: str
    scope: str
    scope_countries: tuple[str, ...] | None
    requested_by: str
    status: str  # queued, running, done or failed
    submitted_at: str
    message: str = ""  # the error of a failed run
    run_id: str = ""  # the archive folder of a finished run
    audit_detail: dict = field(default_factory=dict, compare=False)  # what the audit log records for it


class ReportDeskError(ValueError):
    """A request the desk cannot do (unknown template, scope, schedule, file; a bad cron expression)."""


class ReportDesk(Protocol):
    """The report archive, templates, background runs and schedules of one server."""

    def archive(self) -> list[ArchivedReport]: ...

    def archived_file(self, run_id: str, filename: str) -> tuple[ArchivedReport, Path]: ...

    def templates(self) -> list[ReportTemplate]: ...

    def scope_countries(self, scope: str) -> tuple[str, ...] | None: ...

    def preview(self, template: str, scope: str) -> RunPreview: ...

    def submit(
        self, template: str, scope: str, requested_by: str, on_done: Callable[[ReportJob], None] | None = None
    ) -> ReportJob: ...

    def jobs(self) -> list[ReportJob]: ...

    def schedules(self) -> list[ReportSchedule]: ...

    def add_schedule(self, name: str, template: str, cron: str, scope: str, created_by: str) -> ReportSchedule: ...

    def remove_schedule(self, name: str) -> None: ...

    def failures(self) -> list[ScheduleFailure]: ...
