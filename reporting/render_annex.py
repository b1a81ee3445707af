"""A report's data annex: a ZIP of one CSV per chart and per table, and `annex.json` listing them.

The annex is what a reader re-uses numbers from, so every file says what it is on its own: a chart's CSV
is its export as it is (`ChartImage.csv`, already headed by `#` marking lines), a table's CSV gets the same
kind of head (marking, report, period, scope, k, the table's note) and cells that would run as spreadsheet
formulas are neutralised (`without_formulas`). `annex.json` names each file with its SHA-256, so a copy
can be checked against the report it came with. File names are letters, digits and dashes; the ZIP's
entries are dated with the report's generation time, so the same report gives the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import unicodedata
import zipfile
from datetime import datetime

from dashboards.exports.marking import without_formulas
from reporting.cells import plain_frame
from reporting.facts import one_line, small_cell_rule
from reporting.model import Report, Section, Table

MANIFEST = "annex.json"
NAME_LENGTH = 60
_NOT_NAME = re.compile(r"[^a-z0-9]+")
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date a ZIP entry can carry

AnnexFile = tuple[str, bytes, dict[str, object]]  # name, bytes, what annex.json says about it


def render_annex(report: Report) -> bytes:
    """The annex ZIP's bytes (see the module docstring)."""
    files: list[AnnexFile] = []
    charts = tables = 0
    for section_number, section in enumerate(report.sections, start=1):
        for chart in section.charts:
            charts += 1
            about: dict[str, object] = {"kind": "chart", "section": section_number, "chart_id": chart.chart_id}
            about |= {"title": chart.title, "cells": chart.cells, "suppressed_cells": chart.suppressed_cells}
            files.append((f"chart-{charts:02d}-{safe_name(chart.chart_id)}.csv", chart.csv, about))
        for table in section.tables:
            tables += 1
            about = {"kind": "table", "section": section_number, "title": table.title, "rows": len(table.frame)}
            files.append((f"table-{tables:02d}-{safe_name(table.title)}.csv", table_csv(report, section, table), about))
    manifest = annex_manifest(report, files)
    stamp = _zip_time(report.generated_at)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, body, _ in files:
            archive.writestr(zipfile.ZipInfo(name, stamp), body, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(zipfile.ZipInfo(MANIFEST, stamp), manifest, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def table_csv(report: Report, section: Section, table: Table) -> bytes:
    """A table's CSV: `# label: text` lines saying what it is and how it was protected, then its cells."""
    head = [
        ("Classification", report.marking),
        ("Report", report.title),
        ("Section", section.title),
        ("Table", table.title),
        ("Period", report.period_label),
        ("Scope", report.scope_label),
        ("Disclosure control", small_cell_rule(report.k)),
        ("Note", table.note),
        ("Data", report.data_freshness),
        ("Generated", report.generated_at),
    ]
    lines = "".join(f"# {label}: {one_line(text)}\n" for label, text in head if text)
    cells = without_formulas(plain_frame(table.frame)).to_csv(index=False, lineterminator="\n")
    return (lines + cells).encode("utf-8")


def annex_manifest(report: Report, files: list[AnnexFile]) -> bytes:
    """`annex.json`: the report it belongs to and every file with its size and SHA-256."""
    sections = [{"number": number, "title": section.title} for number, section in enumerate(report.sections, 1)]
    manifest = {
        "classification": report.marking,
        "report": report.name,
        "title": report.title,
        "period": report.period_label,
        "scope": report.scope_label,
        "generated_at": report.generated_at,
        "data_freshness": report.data_freshness,
        "analytics_run": report.analytics_run,
        "k": report.k,
        "disclosure_control": small_cell_rule(report.k),
        "sections": sections,
        "files": [
            {"name": name, **about, "bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}
            for name, body, about in files
        ],
    }
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def safe_name(text: str) -> str:
    """`text` as a file-name part: lower-case ASCII letters and digits (accents dropped), runs of anything else
    as one dash."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NOT_NAME.sub("-", ascii_text.lower()).strip("-")[:NAME_LENGTH].strip("-") or "untitled"


def _zip_time(generated_at: str) -> tuple[int, int, int, int, int, int]:
    try:
        when = datetime.fromisoformat(generated_at.replace("Z", "+00:00"))
    except ValueError:
        return _ZIP_EPOCH
    return max((when.year, when.month, when.day, when.hour, when.minute, when.second), _ZIP_EPOCH)
