"""The chart catalogue works without Dash: a plain Python job builds every chart of every page in every
format (the briefing pack of each page: PNG, SVG, PDF and CSV of each chart), and Dash is never imported.

Scheduled reports rely on this. The job runs in a fresh interpreter, on a small real warehouse analysed by
the real `grace analyse` code, with real Chromium behind kaleido for the images.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dashboard_warehouse as synthetic
import pytest

REPO = Path(__file__).resolve().parents[1]

JOB = """
import io, json, sys, zipfile
from dashboards.catalogue import all_charts, charts_for_page
from dashboards.exports.build import briefing_pack, page_slug
from dashboards.state import ViewState
from warehouse import WarehouseReader

reader = WarehouseReader(sys.argv[1], idle_seconds=60)
pages = sorted({chart.page for chart in all_charts()})
report = {"pages": {}, "charts": [chart.chart_id for chart in all_charts()]}
for page in pages:
    state = ViewState.from_query("metric=referrals" if page != "/operations" else "")
    pack = briefing_pack(page, reader, state)
    with zipfile.ZipFile(io.BytesIO(pack.body)) as archive:
        names = archive.namelist()
        sizes = {name: len(archive.read(name)) for name in names}
    report["pages"][page_slug(page)] = {"files": names, "empty": [n for n, size in sizes.items() if size == 0],
                                        "expected": [c.chart_id for c in charts_for_page(page)]}
report["dash_imported"] = sorted(m for m in sys.modules if m == "dash" or m.startswith("dash."))
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    from analytics.warehouse_run import run_analysis

    path = synthetic.build(tmp_path_factory.mktemp("catalogue") / "warehouse.duckdb")
    run_analysis(path, metrics=["referrals"], grains=["month"])
    return path


def test_a_plain_python_job_builds_every_chart_of_every_page_in_every_format_without_dash(analysed, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "GRACE_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", JOB, str(analysed)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["dash_imported"] == []
    assert set(report["pages"]) == {
        "overview",
        "trends",
        "forecasts",
        "alerts",
        "dissemination",
        "production",
        "operations",
    }
    assert len(report["charts"]) >= 19
    for slug, page in report["pages"].items():
        assert page["empty"] == [], slug
        for chart_id in page["expected"]:
            for fmt in ("png", "svg", "pdf", "csv"):
                assert any(name.startswith(chart_id) and name.endswith(f".{fmt}") for name in page["files"]), (
                    slug,
                    chart_id,
                    fmt,
                )
        assert {"manifest.json", "README.txt"} <= set(page["files"])
