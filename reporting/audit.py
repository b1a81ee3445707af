"""A report run in the audit log: the same record whoever triggered it (command line, schedule, dashboard).

The audit store belongs to the dashboard's auth layer (`dashboards.auth.audit`); reports sit above it.
"""

from __future__ import annotations


def run_audit_detail(manifest: dict, trigger: str) -> dict:
    """What the audit log keeps of one archived run: what, for when and where, from which definition."""
    return {
        "report": manifest["report"],
        "period": manifest["period"],
        "scope": manifest["scope"],
        "definition_sha256": manifest["definition"]["sha256"],
        "files": sorted(manifest["files"]),
        "trigger": trigger,
    }


def record_run(manifest: dict, trigger: str, user: str | None = None) -> None:
    """Append the run to the audit log (`report_run`): the actor is the user, else the trigger."""
    from dashboards.auth.audit import AuditLog

    AuditLog().record("report_run", user or trigger, run_audit_detail(manifest, trigger))
