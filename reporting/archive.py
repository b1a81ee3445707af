"""A report run written to its own folder: every output and a manifest that says what it is made of.

`<out>/<name>_<period start>_<scope>_<UTC time>/` holds `report.html`, `report.pdf`, `report.pptx`,
`annex.zip` (those asked for) and `manifest.json`: the definition (name, file, SHA-256), period, scope, k,
data freshness, the analysis run, how many numbers were checked, who or what triggered the run, and each
file's SHA-256. Files are written to a temporary folder that is renamed into place at the end, so a failed
run leaves no half-written report behind.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from reporting.definition import Definition
from reporting.model import Report

FORMATS = ("html", "pdf", "pptx", "csv")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class ArchivedRun:
    folder: Path
    manifest: dict


def _writers() -> dict[str, tuple[str, Callable[[Report], bytes]]]:
    from reporting.render_annex import render_annex
    from reporting.render_html import render_html
    from reporting.render_pdf import render_pdf
    from reporting.render_pptx import render_pptx

    return {
        "html": ("report.html", lambda report: render_html(report).encode("utf-8")),
        "pdf": ("report.pdf", render_pdf),
        "pptx": ("report.pptx", render_pptx),
        "csv": ("annex.zip", render_annex),
    }


def write_run(
    report: Report, definition: Definition, out: Path, formats: Sequence[str], checked: int, trigger: str
) -> ArchivedRun:
    """Write the outputs and the manifest; return the folder (see the module docstring)."""
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ValueError(f"format(s) {', '.join(unknown)}: use {', '.join(FORMATS)}")
    stamp = report.generated_at.replace(":", "").replace("-", "")
    name = _UNSAFE.sub("-", f"{report.name}_{report.extras.get('period_start', '')}_{report.scope_label}_{stamp}")
    folder = out / name
    partial = out / f".{name}.partial"
    partial.mkdir(parents=True, exist_ok=False)
    try:
        files = {}
        writers = _writers()
        for fmt in FORMATS:
            if fmt not in formats:
                continue
            filename, write = writers[fmt]
            body = write(report)
            (partial / filename).write_bytes(body)
            files[filename] = {"sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
        manifest = {
            "report": report.name,
            "title": report.title,
            "definition": {"file": definition.path, "sha256": definition.digest},
            "period": report.period_label,
            "period_start": report.extras.get("period_start"),
            "period_end": report.extras.get("period_end"),
            "scope": report.scope_label,
            "scope_code": report.extras.get("scope_code"),
            "scope_countries": report.extras.get("scope_countries"),  # who may see the run (null: EU-wide)
            "k": report.k,
            "marking": report.marking,
            "data_freshness": report.data_freshness,
            "analytics_run": report.analytics_run,
            "numbers_checked": checked,
            "charts": [
                {"chart": chart.chart_id, "title": chart.title, "suppressed_cells": chart.suppressed_cells}
                for chart in report.charts()
            ],
            "generated_at": report.generated_at,
            "triggered_by": trigger,
            "files": files,
        }
        (partial / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        partial.rename(folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return ArchivedRun(folder, manifest)
