"""Dissemination page in Chromium: the map draws from local shapes (no request leaves the server),
the near-duplicate re-shares draw and the hash-bank chart says no bank is imported (the demo has
none), the grain control redraws the platform mix, and clicking a country on the map filters the page."""

from __future__ import annotations

import json
from urllib.parse import urlparse

import pytest

from dashboards import ids

pytestmark = pytest.mark.browser

MAP = ids.chart_graph("dissemination-map")
MIX = ids.chart_graph("dissemination-platform-mix")
MATRIX = ids.chart_graph("dissemination-platform-country")
RESHARES = ids.chart_graph("dissemination-near-duplicate-reshares")
BANKS = ids.chart_graph("dissemination-bank-matches")


def plotted(graph_id: str) -> str:
    """JS: the graph's traces (x, y, z, locations) as JSON, or null before the first draw."""
    return f"""() => {{
        const plot = document.querySelector('#{graph_id} .js-plotly-plot');
        if (!plot || !plot.data || plot.data.length === 0) return null;
        return JSON.stringify(plot.data.map(t => [t.x || null, t.y || null, t.z || null, t.locations || null]));
    }}"""


def test_the_map_draws_offline_and_a_click_on_a_country_filters_the_page(
    demo_server, logged_in_page, browser_problems, artifacts_dir
):
    page = logged_in_page
    url = demo_server[0]
    problems = browser_problems(page)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.set_viewport_size({"width": 1400, "height": 1000})

    page.goto(url + "dissemination")
    page.wait_for_function(f"() => ({plotted(MIX)})() !== null")
    page.wait_for_function(f"() => ({plotted(MATRIX)})() !== null")
    page.wait_for_function(f"() => ({plotted(RESHARES)})() !== null")
    reshares = json.loads(page.evaluate(plotted(RESHARES)))
    assert len(reshares) == 2 and any(v for v in reshares[1][1])  # cross-country shares of files
    # No hash bank in the demo: the chart says so instead of drawing empty bars or an error.
    page.wait_for_function(
        f"() => (document.querySelector('#{BANKS} .annotation-text')?.textContent ?? '').includes('No positive hash bank')"
    )
    # The map is drawn: country shapes from the local topojson file became paths.
    page.wait_for_function(f"() => document.querySelectorAll('#{MAP} .choroplethlocation').length >= 27")
    assert any(request.endswith("/assets/topojson/world_50m.json") for request in requests)

    # A control: the grain redraws the platform mix with fewer, coarser periods.
    before = page.evaluate(plotted(MIX))
    page.get_by_label("Year").check()
    page.wait_for_function(f"before => ({plotted(MIX)})() !== before", arg=before)
    monthly, yearly = json.loads(before), json.loads(page.evaluate(plotted(MIX)))
    assert len(yearly[0][0]) < len(monthly[0][0])
    page.wait_for_function("() => window.location.search.includes('grain=year')")

    # Cross-filtering: click Germany on the map.
    matrix_before = page.evaluate(plotted(MATRIX))
    box = page.evaluate(f"""() => {{
        const path = Array.from(document.querySelectorAll('#{MAP} .choroplethlocation'))
            .find(p => p.__data__ && p.__data__.loc === 'DEU');
        const r = path.getBoundingClientRect();
        return {{x: r.x + r.width / 2, y: r.y + r.height / 2}};
    }}""")
    page.mouse.click(box["x"], box["y"])
    page.wait_for_function("() => window.location.search.includes('country=DEU')")
    page.wait_for_function(f"before => ({plotted(MATRIX)})() !== before", arg=matrix_before)
    matrix = json.loads(page.evaluate(plotted(MATRIX)))
    assert matrix[0][0] == ["DEU"]  # the platform x country matrix now has Germany's column only
    page.wait_for_function(
        f"() => (document.getElementById('{ids.DISSEMINATION_SCOPE}')?.textContent ?? '').includes('DEU')"
    )
    assert "Germany" in page.inner_text(f"#{ids.filter_control('dissemination', 'country')}")

    page.screenshot(path=str(artifacts_dir / "dissemination.png"), full_page=True)
    server = urlparse(url).netloc
    outside = [r for r in requests if not r.startswith(("data:", "blob:")) and urlparse(r).netloc != server]
    assert outside == [], outside  # no map tiles, shapes or scripts from the internet
    assert problems == [], problems


def map_state(graph_id: str) -> str:
    """JS: the map's colour-bar title and the selected countries' outline, as JSON, or null before the first draw."""
    return f"""() => {{
        const plot = document.querySelector('#{graph_id} .js-plotly-plot');
        if (!plot || !plot.data || plot.data.length === 0 || !plot.data[0].colorbar) return null;
        const selected = plot.data.find(t => t.name === 'Selected');
        return JSON.stringify([plot.data[0].colorbar.title.text, selected ? selected.locations : []]);
    }}"""


def test_the_map_measure_radio_switches_rate_and_count_in_the_url_and_a_click_on_a_small_state_filters(
    demo_server, logged_in_page, browser_problems, artifacts_dir
):
    page = logged_in_page
    url = demo_server[0]
    problems = browser_problems(page)
    page.set_viewport_size({"width": 1400, "height": 1000})

    page.goto(url + "dissemination")
    page.wait_for_function(f"() => ({map_state(MAP)})() !== null")
    assert json.loads(page.evaluate(map_state(MAP))) == ["Referrals per 100,000 inhabitants", []]  # the default
    assert page.get_by_label("Per 100,000 inhabitants").is_checked()

    page.get_by_label("Referrals", exact=True).check()
    page.wait_for_function("() => window.location.search.includes('map_measure=count')")
    page.wait_for_function(f"() => JSON.parse(({map_state(MAP)})() || '[]')[0] === 'Referrals'")
    page.get_by_label("Per 100,000 inhabitants").check()
    page.wait_for_function("() => !window.location.search.includes('map_measure')")  # the default is not written
    page.wait_for_function(f"() => JSON.parse(({map_state(MAP)})() || '[]')[0] === 'Referrals per 100,000 inhabitants'")

    # Malta is a few pixels on a map of Europe: its labelled marker is what a user clicks.
    matrix_before = page.evaluate(plotted(MATRIX))
    box = page.evaluate(f"""() => {{
        const plot = document.querySelector('#{MAP} .js-plotly-plot');
        const markers = plot.data.find(t => t.name === 'Small states');
        const index = markers.customdata.indexOf('MLT');
        const point = document.querySelectorAll('#{MAP} .scattergeo path.point')[index];
        const r = point.getBoundingClientRect();
        return {{x: r.x + r.width / 2, y: r.y + r.height / 2, width: r.width}};
    }}""")
    assert box["width"] >= 10  # big enough to see and to hit
    page.mouse.click(box["x"], box["y"])
    page.wait_for_function("() => window.location.search.includes('country=MLT')")
    page.wait_for_function(f"before => ({plotted(MATRIX)})() !== before", arg=matrix_before)
    assert json.loads(page.evaluate(plotted(MATRIX)))[0][0] == ["MLT"]
    page.wait_for_function(f"() => JSON.parse(({map_state(MAP)})() || '[]')[1]?.[0] === 'MLT'")  # outlined
    page.screenshot(path=str(artifacts_dir / "dissemination-map-malta.png"), full_page=True)
    assert problems == [], problems
