"""The server's report archive and schedules, and what a demo adds to them.

- `reports_home()`: `$GRACE_HOME/reports`, the archive folder and its schedule store (`schedule.sqlite`);
- `report_desk(warehouse)`: the `reporting.desk.ArchiveDesk` the dashboard's Reports page works with;
- the demo's weekly brief: `grace demo` and a first `python app.py` schedule it (Mondays 06:00 UTC, run by
  `grace reports due` from cron), and a server on the demo warehouse with an empty archive builds its first
  run in the background, so the Reports page has one report to show from the start.
"""

from __future__ import annotations

from pathlib import Path

from grace.config import grace_home
from grace.progress import print_now

DEMO_TEMPLATE = "weekly-brief"
DEMO_CRON = "0 6 * * MON"
FIRST_RUN_TRIGGER = "first start (demo)"


def reports_home() -> Path:
    return grace_home() / "reports"


def schedule_store():
    from reporting.schedule import ScheduleStore

    return ScheduleStore(reports_home() / "schedule.sqlite")


def report_desk(warehouse: Path):
    from reporting.desk import ArchiveDesk

    return ArchiveDesk(warehouse, reports_home(), schedule_store())


def schedule_demo_brief(echo=print_now) -> None:
    """Schedule the weekly brief for the EU (once: an existing schedule of that name is kept)."""
    store = schedule_store()
    if any(item.name == DEMO_TEMPLATE for item in store.schedules()):
        return
    added = store.add(DEMO_TEMPLATE, DEMO_TEMPLATE, DEMO_CRON, "", ("html", "pdf", "pptx", "csv"), "grace demo")
    echo(f"Scheduled the {DEMO_TEMPLATE} report at '{added.cron}' UTC (run by `grace reports due` from cron).")


def start_first_report(desk, echo=print_now) -> bool:
    """On an empty archive, build the weekly brief in the background (audited); True when one was queued."""
    if desk.archive():
        return False
    from dashboards.auth.audit import AuditLog

    audit = AuditLog()

    def record(job) -> None:
        event = "report_run" if job.status == "done" else "report_run_failed"
        audit.record(event, FIRST_RUN_TRIGGER, {**job.audit_detail, "message": job.message[:500]})

    desk.submit(DEMO_TEMPLATE, "EU", FIRST_RUN_TRIGGER, on_done=record)
    echo("Building the first weekly brief in the background (Reports page).")
    return True
