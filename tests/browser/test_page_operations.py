"""Operations & data quality page in Chromium: the accounting verdict, batches, and the record-kind control."""

from __future__ import annotations

import json

import pytest

from dashboards import ids

pytestmark = pytest.mark.browser

ACCOUNTING = ids.chart_graph("operations-row-accounting")
QUARANTINE = ids.chart_graph("operations-quarantine-reasons")


def plotted(graph_id: str) -> str:
    return f"""() => {{
        const plot = document.querySelector('#{graph_id} .js-plotly-plot');
        if (!plot || !plot.data || plot.data.length === 0) return null;
        return JSON.stringify(plot.data.map(t => [t.name, Array.from(t.y || [])]));
    }}"""


def test_operations_shows_balanced_batches_and_the_records_control_switches_to_files(
    demo_server, logged_in_page, browser_problems, artifacts_dir
):
    page = logged_in_page
    problems = browser_problems(page)
    page.set_viewport_size({"width": 1400, "height": 1000})

    page.goto(demo_server[0] + "operations")
    page.wait_for_function(
        f"() => (document.getElementById('{ids.OPERATIONS_ACCOUNTING}')?.textContent ?? '').includes('balances')"
    )
    verdict = page.inner_text(f"#{ids.OPERATIONS_ACCOUNTING}")
    assert "✓ Row accounting balances in all" in verdict and "referrals read =" in verdict
    page.wait_for_selector(f"#{ids.OPERATIONS_BATCH_TABLE} td")
    assert page.locator(f"#{ids.OPERATIONS_BATCH_TABLE} tbody tr").count() > 2
    page.wait_for_function(f"() => ({plotted(ACCOUNTING)})() !== null")
    page.wait_for_function(f"() => ({plotted(QUARANTINE)})() !== null")
    before = page.evaluate(plotted(ACCOUNTING))
    referrals = json.loads(before)
    assert [name for name, _ in referrals] == ["Loaded", "Duplicate", "Quarantined", "Read (in)"]
    assert "Incidents up to" in page.inner_text("#operations-freshness")

    page.get_by_label("Files").check()
    page.wait_for_function(f"before => ({plotted(ACCOUNTING)})() !== before", arg=before)
    files = json.loads(page.evaluate(plotted(ACCOUNTING)))
    assert sum(files[-1][1]) > sum(referrals[-1][1])  # more files than referrals were read
    page.wait_for_function("() => window.location.search.includes('metric=files')")

    page.screenshot(path=str(artifacts_dir / "operations.png"), full_page=True)
    assert problems == [], problems
