"""The dashboard's report desk: the archive, templates, background runs and schedules of one server.

Implements `dashboards.report_desk.ReportDesk` over the archive folder (`$GRACE_HOME/reports`, one folder
per run with its `manifest.json`, `reporting/archive.py`) and the schedule store (`reporting/schedule.py`).
`grace_cli/server.py` builds one per server and hands it to `create_app`.

Runs asked for on the Reports page are built one at a time on a background thread (a report renders its
charts with kaleido and prints its PDF with Chromium: two at once would only slow each other down), so
the request that asks returns at once and the page polls `jobs()`. Jobs live in this process only; the
archive is the record that lasts. Scope is not decided here: the dashboard filters what a user sees with
the user's `Scope`, and refuses a run outside it before it reaches `submit`.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from dashboards.catalogue import UnknownChartError, get_chart
from dashboards.report_desk import (
    ArchivedReport,
    PreviewSection,
    ReportDeskError,
    ReportJob,
    ReportSchedule,
    ReportTemplate,
    RunPreview,
    ScheduleFailure,
)
from grace.disclosure import min_cell
from grace.errors import GraceError
from reporting.archive import FORMATS
from reporting.audit import run_audit_detail
from reporting.content import monthly_warehouse, report_period, resolve_scope
from reporting.definition import Definition, load_definition, template_names
from reporting.releases import NOT_RELEASED, chart_view, grain_note, released
from reporting.run import run_report
from reporting.schedule import ScheduleStore
from warehouse import WarehouseReader

log = logging.getLogger(__name__)
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,200}$")
MANIFEST = "manifest.json"
MAX_JOBS_KEPT = 50


class ArchiveDesk:
    """`ReportDesk` over an archive folder and a schedule store (see the module docstring)."""

    def __init__(
        self,
        warehouse: Path,
        archive: Path,
        store: ScheduleStore | None = None,
        formats: Sequence[str] = FORMATS,
    ):
        self.warehouse = Path(warehouse)
        self.archive_dir = Path(archive)
        self.store = store or ScheduleStore(self.archive_dir / "schedule.sqlite")
        self.formats = tuple(formats)  # what a run asked for on the page produces (and a schedule added there)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="grace-report")
        self._jobs: dict[str, ReportJob] = {}
        self._templates: list[ReportTemplate] | None = None
        self._lock = threading.Lock()

    # --- the archive ------------------------------------------------------------------------------

    def archive(self) -> list[ArchivedReport]:
        """Every archived run, newest first (folders being written, `.…partial`, are not listed)."""
        runs = []
        for path in self.archive_dir.glob(f"*/{MANIFEST}"):
            if path.parent.name.startswith("."):
                continue
            try:
                runs.append(_archived(path.parent.name, json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError, KeyError, TypeError) as error:
                log.warning("report archive: %s cannot be read (%s); not listed", path, error)
        return sorted(runs, key=lambda run: (run.generated_at, run.run_id), reverse=True)

    def archived_file(self, run_id: str, filename: str) -> tuple[ArchivedReport, Path]:
        """One file of one archived run: only names its manifest lists (or the manifest itself)."""
        if not RUN_ID.match(run_id or ""):
            raise ReportDeskError(f"{run_id!r} is not an archived run")
        folder = self.archive_dir / run_id
        try:
            run = _archived(run_id, json.loads((folder / MANIFEST).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ReportDeskError(f"no archived run {run_id!r}") from error
        if filename not in run.files:
            raise ReportDeskError(f"run {run_id} has no file {filename!r}")
        return run, folder / filename

    # --- templates and previews -------------------------------------------------------------------

    def templates(self) -> list[ReportTemplate]:
        """The shipped templates (read and validated once: they do not change while the server runs)."""
        if self._templates is None:
            self._templates = [
                ReportTemplate(name, found.title, found.kind, found.grain)
                for name in template_names()
                for found in [load_definition(name)]
            ]
        return list(self._templates)

    def scope_countries(self, scope: str) -> tuple[str, ...] | None:
        """The countries a scope ('EU', an ISO-3 code, agency:CODE) covers (None: every country)."""
        try:
            resolved = resolve_scope(scope, self._reader())
        except GraceError as error:
            raise ReportDeskError(str(error)) from error
        countries = resolved.scope.sql_countries
        return None if countries is None else tuple(countries)

    def preview(self, template: str, scope: str) -> RunPreview:
        """What a run would hold with today's data: period, scope and contents, nothing rendered."""
        definition = self._definition(template, scope)
        reader = self._reader()
        try:
            period = report_period(definition, reader)
        except GraceError as error:
            raise ReportDeskError(str(error)) from error
        resolved = resolve_scope(definition.scope, reader)
        sections, left_out = _preview_sections(definition, resolved.scope.eu_wide, monthly_warehouse(reader))
        countries = resolved.scope.sql_countries
        return RunPreview(
            title=definition.title,
            audience=definition.audience,
            marking=definition.marking,
            period=_period_text(period.label, grain_note(definition.grain, period.grain)),
            scope=resolved.label,
            scope_countries=None if countries is None else tuple(countries),
            k=min_cell(definition.k),
            sections=sections,
            left_out=left_out,
        )

    # --- runs ---------------------------------------------------------------------------------------

    def submit(
        self, template: str, scope: str, requested_by: str, on_done: Callable[[ReportJob], None] | None = None
    ) -> ReportJob:
        """Queue one run (all formats) of a template for a scope; returns at once (see `jobs`)."""
        self._definition(template, scope)  # refuse a bad template or scope now, not in the background
        job = ReportJob(
            job_id=uuid.uuid4().hex[:12],
            template=template,
            scope=scope,
            scope_countries=self.scope_countries(scope),
            requested_by=requested_by,
            status="queued",
            submitted_at=_now(),
        )
        self._keep(job)
        self._executor.submit(self._run, job, on_done)
        return job

    def jobs(self) -> list[ReportJob]:
        """The runs asked for in this process, newest first."""
        with self._lock:
            return sorted(self._jobs.values(), key=lambda job: (job.submitted_at, job.job_id), reverse=True)

    def wait(self, timeout: float | None = None) -> None:
        """Block until every queued run has finished (for tests and a clean shutdown)."""
        self._executor.submit(lambda: None).result(timeout=timeout)

    def _run(self, job: ReportJob, on_done: Callable[[ReportJob], None] | None) -> None:
        self._keep(job := replace(job, status="running"))
        trigger = f"dashboard:{job.requested_by}"
        try:
            archived = run_report(
                job.template, self.warehouse, self.archive_dir, self.formats, trigger, scope=job.scope
            )
        except Exception as error:  # reported on the page and in the audit log; the server keeps serving
            log.exception("report run %s (%s, %s) failed", job.job_id, job.template, job.scope)
            job = replace(
                job,
                status="failed",
                message=f"{type(error).__name__}: {error}",
                audit_detail={"report": job.template, "scope": job.scope, "error": type(error).__name__},
            )
        else:
            job = replace(
                job,
                status="done",
                run_id=archived.folder.name,
                audit_detail=run_audit_detail(archived.manifest, trigger),
            )
        self._keep(job)
        if on_done is not None:
            try:
                on_done(job)
            except Exception:  # an audit failure is logged loudly; the run itself is archived
                log.exception("report run %s: recording its outcome failed", job.job_id)

    def _keep(self, job: ReportJob) -> None:
        with self._lock:
            self._jobs[job.job_id] = job
            for stale in sorted(self._jobs.values(), key=lambda j: j.submitted_at)[:-MAX_JOBS_KEPT]:
                if stale.status in ("done", "failed"):
                    del self._jobs[stale.job_id]

    # --- schedules ----------------------------------------------------------------------------------

    def schedules(self) -> list[ReportSchedule]:
        now = datetime.now(UTC)
        found = []
        for item in self.store.schedules():
            latest = self.store.runs(schedule=item.name, limit=1)
            last = f"{latest[0]['fire_time']} {latest[0]['status']}" if latest else ""
            delivery = ", ".join(filter(None, [item.deliver_to, *item.emails]))
            found.append(
                ReportSchedule(
                    name=item.name,
                    definition=item.definition,
                    cron=item.cron,
                    scope=item.scope or "",
                    scope_countries=self._countries_or_all(item.scope or self._default_scope(item.definition)),
                    formats=item.formats,
                    next_run=f"{item.next_fire(now):%Y-%m-%d %H:%M}",
                    last_run=last,
                    delivery=delivery,
                )
            )
        return found

    def add_schedule(self, name: str, template: str, cron: str, scope: str, created_by: str) -> ReportSchedule:
        self._definition(template, scope)
        try:
            self.store.add(name, template, cron, scope, self.formats, created_by)
        except GraceError as error:
            raise ReportDeskError(str(error)) from error
        return next(item for item in self.schedules() if item.name == name)

    def remove_schedule(self, name: str) -> None:
        try:
            self.store.remove(name)
        except GraceError as error:
            raise ReportDeskError(str(error)) from error

    def failures(self) -> list[ScheduleFailure]:
        scopes = {item.name: item.scope or self._default_scope(item.definition) for item in self.store.schedules()}
        return [
            ScheduleFailure(
                schedule=row["schedule"],
                fire_time=row["fire_time"],
                attempts=int(row["attempts"]),
                finished_at=row["finished_at"] or "",
                error=row["error"] or "",
                # a removed schedule's failure is EU-wide for safety: only unscoped users see it
                scope_countries=self._countries_or_all(scopes.get(row["schedule"], "EU")),
            )
            for row in self.store.failures()
        ]

    # --- helpers ------------------------------------------------------------------------------------

    def _reader(self) -> WarehouseReader:
        return WarehouseReader(self.warehouse)

    def _definition(self, template: str, scope: str) -> Definition:
        """A shipped template for a scope (the dashboard never reads a definition from a path it is given)."""
        if template not in template_names():
            raise ReportDeskError(f"no report template {template!r}; templates: {', '.join(template_names())}")
        try:
            definition = load_definition(template).with_run(scope=scope or None)
            resolve_scope(definition.scope, self._reader())
        except GraceError as error:
            raise ReportDeskError(str(error)) from error
        return definition

    def _default_scope(self, template: str) -> str:
        try:
            return load_definition(template).scope
        except GraceError:
            return "EU"

    def _countries_or_all(self, scope: str) -> tuple[str, ...] | None:
        """The scope's countries; a scope that no longer resolves counts as EU-wide (shown to fewer users)."""
        try:
            return self.scope_countries(scope)
        except ReportDeskError:
            return None


def _archived(run_id: str, manifest: dict) -> ArchivedReport:
    # null, or missing in a run archived before runs recorded it: EU-wide, so only unscoped users see it
    countries = manifest.get("scope_countries")
    return ArchivedReport(
        run_id=run_id,
        title=str(manifest["title"]),
        report=str(manifest["report"]),
        period=str(manifest["period"]),
        scope=str(manifest["scope"]),
        scope_countries=None if countries is None else tuple(str(code) for code in countries),
        generated_at=str(manifest["generated_at"]),
        triggered_by=str(manifest.get("triggered_by", "")),
        numbers_checked=int(manifest.get("numbers_checked", 0)),
        files=(*sorted(manifest.get("files", {})), MANIFEST),
    )


def _preview_sections(
    definition: Definition, eu_wide: bool, monthly: bool = False
) -> tuple[tuple[PreviewSection, ...], tuple[str, ...]]:
    """Each section's contents and what the run leaves out: charts covering every country for a narrower
    scope; on a hub warehouse, whatever the differentially private releases do not carry."""
    sections: list[PreviewSection] = []
    left_out: list[str] = []
    for section in definition.sections:
        contents = []
        figures = [name for name in section.figures if not monthly or released(name)]
        left_out.extend(f"{name.replace('_', ' ')} ({NOT_RELEASED})" for name in section.figures if name not in figures)
        if figures:
            contents.append("Key figures: " + ", ".join(name.replace("_", " ") for name in figures))
        if section.findings is not None:
            kinds = ", ".join(section.findings.kinds) or "every checkable kind"
            contents.append(f"Findings of the latest analysis run ({kinds}), up to {section.findings.limit}")
        outlook = [name for name in section.outlook if not monthly or released(name)]
        left_out.extend(
            f"outlook for {name.replace('_', ' ')} ({NOT_RELEASED})" for name in section.outlook if name not in outlook
        )
        if outlook:
            contents.append("Outlook: next-period forecasts with intervals for " + ", ".join(outlook))
        if section.capacity and monthly:
            left_out.append(f"capacity: the backlog and referrals triaged ({NOT_RELEASED})")
        elif section.capacity:
            contents.append("Capacity: the backlog, and referrals received against triaged")
        if section.published is not None and monthly:
            left_out.append(f"comparison with published yearly figures ({NOT_RELEASED})")
        elif section.published is not None:
            contents.append("Comparison with imported published yearly figures (where imported)")
        for table in section.tables:
            contents.append(f"Table: {table.replace('-', ' ')}")
        for ref in section.charts:
            try:
                chart = get_chart(ref.chart)
            except UnknownChartError:
                continue
            if monthly and chart_view(chart, ref.view) is None:
                left_out.append(f"{chart.title} ({NOT_RELEASED})")
                continue
            if chart.eu_wide and not eu_wide:
                left_out.append(chart.title)
                continue
            contents.append(f"Chart: {chart.title}")
        if section.text:
            contents.append("Fixed text")
        sections.append(PreviewSection(section.title, tuple(contents)))
    return tuple(sections), tuple(left_out)


def _period_text(label: str, note: str) -> str:
    """'December 2024', or on a hub for a weekly template 'December 2024 (a whole month: …)'."""
    return f"{label} ({note})" if note else label


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
