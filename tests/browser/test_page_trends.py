"""Trend explorer in Chromium: grain and log-scale controls redraw the chart and land in the URL,
a click on a line drills into that entity, and a shared link restores the controls."""

from __future__ import annotations

import json
import re

import pytest

from dashboards import ids

pytestmark = pytest.mark.browser

PLOT = f"document.querySelector('#{ids.TRENDS_GRAPH} .js-plotly-plot')"
PLOTTED = f"""() => {{
    const plot = {PLOT};
    if (!plot || !plot.data || plot.data.length === 0) return null;
    return JSON.stringify(plot.data.map(trace => [trace.name, Array.from(trace.x || []).length]));
}}"""


def test_controls_redraw_the_chart_and_a_click_drills_into_a_platform(
    demo_server, logged_in_page, browser_problems, artifacts_dir
):
    url = demo_server[0]
    page = logged_in_page
    problems = browser_problems(page)
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(url + "trends?split=platform")
    page.wait_for_function(f"() => ({PLOTTED})() !== null")
    monthly = page.evaluate(PLOTTED)
    assert len(json.loads(monthly)) >= 2  # one line per platform

    # Grain: quarters give fewer points per line; the URL says so.
    page.get_by_label("Quarter").check()
    page.wait_for_function(f"before => ({PLOTTED})() !== before", arg=monthly)
    quarterly = json.loads(page.evaluate(PLOTTED))
    assert quarterly[0][1] < json.loads(monthly)[0][1]
    page.wait_for_url(re.compile(r"grain=quarter"))

    # Log scale.
    page.get_by_label("Log scale").check()
    page.wait_for_function(f"() => {PLOT}?.layout?.yaxis?.type === 'log'")
    page.wait_for_url(re.compile(r"log=1"))
    page.screenshot(path=str(artifacts_dir / "page-trends.png"), full_page=True)

    # Drill-down: a click on the first line's point (Plotly's click event, as a mouse click emits it).
    platform = page.evaluate(f"() => {PLOT}.data[0].name")
    page.evaluate(
        f"() => {PLOT}.emit('plotly_click', {{points: [{{curveNumber: 0, pointNumber: 1, "
        f"x: {PLOT}.data[0].x[1], y: {PLOT}.data[0].y[1]}}]}})"
    )
    page.wait_for_url(re.compile(r"platform="))
    assert "split=" not in page.url
    page.wait_for_function(
        f"name => (document.getElementById('{ids.filter_control('trends', 'platform')}')?.textContent ?? '')"
        ".includes(name)",
        arg=platform,
    )
    page.wait_for_function(f"() => {PLOT}?.data?.length === 1")
    assert problems == [], problems


def test_a_shared_trend_link_restores_the_controls(demo_server, logged_in_page, browser_problems):
    url = demo_server[0]
    page = logged_in_page
    problems = browser_problems(page)
    page.goto(url + "trends?metric=files&grain=year&compare=referrals&country=DEU")
    page.wait_for_function(f"() => {PLOT}?.data?.some(trace => trace.yaxis === 'y2')")
    assert page.get_by_label("Year").is_checked()
    assert "Files" in page.inner_text(f"#{ids.TRENDS_METRIC}")
    assert "Referrals" in page.inner_text(f"#{ids.TRENDS_COMPARE}")
    assert "Germany" in page.inner_text(f"#{ids.filter_control('trends', 'country')}")
    assert "compared with referrals" in page.inner_text(f"#{ids.chart_subtitle('trends-explorer')}")
    assert problems == [], problems
