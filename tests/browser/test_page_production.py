"""Production & consumption page in Chromium: the six charts draw (the perceptual ones too), the grain control redraws them
and puts the grain in the URL, and clicking a point zooms the page into that period."""

from __future__ import annotations

import json

import pytest

from dashboards import ids

pytestmark = pytest.mark.browser

MATERIAL = ids.chart_graph("production-new-known")
SHARES = ids.chart_graph("production-annotation-shares")
ACCOUNTS = ids.chart_graph("production-accounts")
REPEAT = ids.chart_graph("production-repeat-reporting")
PERCEPTUAL = ids.chart_graph("production-perceptual-new-known")
VARIANTS = ids.chart_graph("production-near-duplicate-variants")


def plotted(graph_id: str) -> str:
    """JS: the graph's traces (name, x, y) as JSON, or null before the first draw."""
    return f"""() => {{
        const plot = document.querySelector('#{graph_id} .js-plotly-plot');
        if (!plot || !plot.data || plot.data.length === 0) return null;
        return JSON.stringify(plot.data.map(t => [t.name, t.x || null, t.y || null]));
    }}"""


def test_the_grain_redraws_the_charts_and_a_click_zooms_into_a_period(
    demo_server, logged_in_page, browser_problems, artifacts_dir
):
    page = logged_in_page
    url = demo_server[0]
    problems = browser_problems(page)
    page.set_viewport_size({"width": 1400, "height": 1000})

    page.goto(url + "production?grain=quarter")
    for graph in (MATERIAL, SHARES, PERCEPTUAL, VARIANTS, ACCOUNTS, REPEAT):
        page.wait_for_function(f"() => ({plotted(graph)})() !== null")
    perceptual = json.loads(page.evaluate(plotted(PERCEPTUAL)))
    assert [trace[0] for trace in perceptual] == [
        "New material (first of its near-duplicates)",
        "Material seen before",
        "Share new (right axis)",
    ]
    assert sum(v or 0 for v in perceptual[0][2]) > 0  # the demo's files were matched perceptually
    variants = json.loads(page.evaluate(plotted(VARIANTS)))
    assert variants[1][0] == "New variant of material seen before" and sum(v or 0 for v in variants[1][2]) > 0
    before = page.evaluate(plotted(MATERIAL))
    quarterly = json.loads(before)
    assert [trace[0] for trace in quarterly] == [
        "New media clusters (first sightings)",
        "Files of known material",
        "All files",
    ]
    assert page.get_by_role("link", name="Production & consumption").count() == 1

    # A control: the grain redraws every chart with coarser periods and lands in the URL.
    page.get_by_label("Year").check()
    page.wait_for_function(f"before => ({plotted(MATERIAL)})() !== before", arg=before)
    yearly = json.loads(page.evaluate(plotted(MATERIAL)))
    assert len(yearly[0][1]) < len(quarterly[0][1])
    page.wait_for_function("() => window.location.search.includes('grain=year')")
    # The scope line is its own callback: it may land after the charts under load.
    page.wait_for_function(
        f"() => (document.getElementById('{ids.PRODUCTION_SCOPE}')?.textContent ?? '').includes('per year')"
    )

    # A click on a point zooms into its year: the period filter and the URL follow.
    repeat_before = page.evaluate(plotted(REPEAT))
    first_year = yearly[0][1][0][:4]
    box = page.evaluate(f"""() => {{
        const point = document.querySelector('#{MATERIAL} .scatterlayer .trace .points path');
        const r = point.getBoundingClientRect();
        return {{x: r.x + r.width / 2, y: r.y + r.height / 2}};
    }}""")
    page.mouse.move(box["x"], box["y"])
    page.mouse.click(box["x"], box["y"])
    page.wait_for_function(f"() => window.location.search.includes('start={first_year}-01-01')")
    assert f"end={first_year}-12-31" in page.evaluate("() => window.location.search")
    # Wait for the zoomed drawing itself: under load a redraw for an earlier state may land first.
    page.wait_for_function(
        f"""year => {{
        const traces = JSON.parse(({plotted(REPEAT)})() || '[]');
        return traces.length > 0 && traces.every(t => t[1] && t[1].length === 1 && String(t[1][0]).startsWith(year));
    }}""",
        arg=first_year,
        timeout=30_000,
    )
    zoomed = json.loads(page.evaluate(plotted(REPEAT)))
    assert zoomed != json.loads(repeat_before)
    assert all(len(trace[1]) == 1 and trace[1][0].startswith(first_year) for trace in zoomed)

    page.screenshot(path=str(artifacts_dir / "production.png"), full_page=True)
    assert problems == [], problems
