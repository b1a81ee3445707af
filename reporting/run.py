"""One report run from start to archive: definition → content → checked numbers → outputs in a folder.

The command line (`grace reports run`, `grace reports due`) and, later, the Reports page call this; the
caller records the run in the audit log (the audit store belongs to the dashboard's auth layer).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from reporting.archive import ArchivedRun, write_run
from reporting.content import build_report, verify
from reporting.definition import load_definition
from warehouse import WarehouseReader


def run_report(
    definition: str | Path,
    warehouse: Path,
    out: Path,
    formats: Sequence[str],
    trigger: str,
    period: str | None = None,
    scope: str | None = None,
    k: int | None = None,
    now: datetime | None = None,
) -> ArchivedRun:
    """Build, check and archive one report; raises `DefinitionError`, `ReportCheckError` or a warehouse error."""
    chosen = load_definition(definition).with_run(period=period or None, scope=scope or None)
    reader = WarehouseReader(warehouse)
    reader.check()
    report = build_report(chosen, reader, now=now, k=k)
    checked = verify(report)
    return write_run(report, chosen, out, formats, checked, trigger)
