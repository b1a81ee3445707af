"""Forecasts page in Chromium: the stored forecast with its interval and the candidates' backtest
scores, the grain control redraws it, and the capacity slider re-projects the backlog into the URL."""

from __future__ import annotations

import json
import re

import pytest

from dashboards import ids

pytestmark = [pytest.mark.browser]


def ensure_analysed(home) -> None:
    """The demo that `python app.py` builds includes a first `grace analyse` run (grace_cli/demo_warehouse.py)."""
    from warehouse import connect

    con = connect(home / "warehouse.duckdb", read_only=True)
    try:
        runs = con.execute("SELECT count(*) FROM analytics_run").fetchone()[0]
    finally:
        con.close()
    assert runs >= 1, "the demo warehouse should come with an analysis run"


@pytest.fixture(scope="module")
def analysed_demo(demo_server):
    """The session server's demo warehouse with a `grace analyse` run, made before any page is open."""
    ensure_analysed(demo_server[2])
    return demo_server


def plotted(graph_id: str) -> str:
    return f"""() => {{
        const plot = document.querySelector('#{graph_id} .js-plotly-plot');
        if (!plot || !plot.data || plot.data.length === 0) return null;
        return JSON.stringify(plot.data.map(t => [t.name, Array.from(t.y || []).map(v => Math.round(v))]));
    }}"""


def test_the_forecast_its_scores_and_a_capacity_slider_that_reprojects_the_backlog(
    analysed_demo, logged_in_page, browser_problems, artifacts_dir
):
    url = analysed_demo[0]
    page = logged_in_page
    problems = browser_problems(page)
    page.set_viewport_size({"width": 1400, "height": 1100})
    page.goto(url + "forecasts")

    page.wait_for_function(f"() => ({plotted(ids.FORECASTS_GRAPH)})() !== null")
    monthly = page.evaluate(plotted(ids.FORECASTS_GRAPH))
    names = [name for name, _ in json.loads(monthly)]
    assert names[0] == "Observed" and any(name.startswith("Forecast (") for name in names)
    assert "80% prediction interval" in names
    page.wait_for_function(
        f"() => (document.getElementById('{ids.FORECASTS_WHY}')?.textContent ?? '').includes('was chosen')"
    )
    page.wait_for_selector(f"#{ids.FORECASTS_CANDIDATES} td")
    assert page.locator(f"#{ids.FORECASTS_CANDIDATES} tbody tr").count() >= 3  # header + the candidates
    assert "✓ chosen" in page.inner_text(f"#{ids.FORECASTS_CANDIDATES}")

    # Capacity: the slider's largest value drains the backlog faster than the recent rate.
    page.wait_for_function(f"() => ({plotted(ids.FORECASTS_BACKLOG_GRAPH)})() !== null")
    before = page.evaluate(plotted(ids.FORECASTS_BACKLOG_GRAPH))
    handle = page.locator(f"#{ids.FORECASTS_CAPACITY} [role=slider]").first
    handle.focus()
    handle.press("End")
    page.wait_for_url(re.compile(r"capacity=\d+"))
    page.wait_for_function(f"before => ({plotted(ids.FORECASTS_BACKLOG_GRAPH)})() !== before", arg=before)
    after = dict(json.loads(page.evaluate(plotted(ids.FORECASTS_BACKLOG_GRAPH))))
    first = dict(json.loads(before))
    assert after["Backlog (median)"][-1] <= first["Backlog (median)"][-1]
    assert after["Capacity per period"][0] > first["Capacity per period"][0]

    # Grain: weekly forecasts replace the monthly ones; the URL says so.
    page.get_by_label("Week").check()
    page.wait_for_url(re.compile(r"grain=week"))
    # Under load the weekly drawing can take a while (forecast, candidates and backlog are redrawn together).
    page.wait_for_function(f"before => ({plotted(ids.FORECASTS_GRAPH)})() !== before", arg=monthly, timeout=90_000)
    page.get_by_label("Month").check()
    page.wait_for_url(lambda address: "grain=week" not in address)
    page.screenshot(path=str(artifacts_dir / "page-forecasts.png"), full_page=True)
    assert problems == [], problems
