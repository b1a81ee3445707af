"""Overview in Chromium: KPI cards with sparklines, cross-filtering from a mover, filters in the URL
and carried by the navbar to the Trend explorer, and a shared link restoring the filters."""

from __future__ import annotations

import json
import re

import pytest

from dashboards import ids

pytestmark = pytest.mark.browser

PLOTTED = f"""() => {{
    const plot = document.querySelector('#{ids.OVERVIEW_MONTHLY_GRAPH} .js-plotly-plot');
    if (!plot || !plot.data || plot.data.length === 0) return null;
    return JSON.stringify(plot.data.map(trace => Array.from(trace.y || [])));
}}"""


def text_of(page, element_id: str) -> str:
    return page.inner_text(f"#{element_id}")


def test_a_mover_filters_the_overview_and_the_filter_follows_to_the_trend_explorer(
    demo_server, logged_in_page, browser_problems, artifacts_dir
):
    url = demo_server[0]
    page = logged_in_page
    problems = browser_problems(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(url)

    # KPI cards: a number with separators, a change badge and a drawn sparkline.
    page.wait_for_function(
        f"() => /[0-9]/.test(document.getElementById('{ids.kpi_value(ids.OVERVIEW_KPI_REFERRALS)}')?.textContent ?? '')"
    )
    assert re.fullmatch(r"\d{1,3}(,\d{3})*", text_of(page, ids.kpi_value(ids.OVERVIEW_KPI_REFERRALS)))
    page.wait_for_selector(f"#{ids.kpi_sparkline(ids.OVERVIEW_KPI_REFERRALS)} .js-plotly-plot .scatterlayer path")
    assert re.search(r"(vs|previous)", text_of(page, ids.kpi_change(ids.OVERVIEW_KPI_REFERRALS)))
    assert page.get_by_role("link", name="Trend explorer").is_visible()

    page.wait_for_function(f"() => ({PLOTTED})() !== null")
    before = page.evaluate(PLOTTED)

    # Cross-filtering: the first country among the top movers becomes the filter.
    mover = page.locator(f"#{ids.OVERVIEW_MOVERS} .mover-list button").first
    mover.wait_for()
    country_name = mover.inner_text().strip()
    mover.click()
    page.wait_for_function(f"before => ({PLOTTED})() !== before", arg=before)
    after = page.evaluate(PLOTTED)
    assert sum(map(sum, json.loads(after))) < sum(map(sum, json.loads(before)))
    page.wait_for_function(
        f"() => (document.getElementById('{ids.OVERVIEW_SCOPE}')?.textContent ?? '').includes('1 country')"
    )
    assert country_name in page.inner_text(f"#{ids.OVERVIEW_COUNTRY_FILTER}")
    page.wait_for_url(re.compile(r"\?country=[A-Z]{3}$"))
    country_code = page.url.rsplit("=", 1)[1]

    page.screenshot(path=str(artifacts_dir / "page-overview.png"), full_page=True)

    # The navbar carries the global filter to the next page.
    trends_link = page.get_by_role("link", name="Trend explorer")
    page.wait_for_function(
        "code => [...document.querySelectorAll('#grace-navbar a')].some(a => a.href.endsWith('/trends?country=' + code))",
        arg=country_code,
    )
    trends_link.click()
    page.wait_for_url(re.compile(rf"/trends\?country={country_code}$"))
    page.wait_for_selector(f"#{ids.TRENDS_GRAPH} .js-plotly-plot")
    page.wait_for_function(  # the dropdown names the country once its options have loaded
        f"name => (document.getElementById('{ids.filter_control('trends', 'country')}')?.textContent ?? '')"
        ".includes(name)",
        arg=country_name,
    )
    assert problems == [], problems


def test_a_shared_overview_link_restores_its_filters(demo_server, logged_in_page, browser_problems):
    url = demo_server[0]
    page = logged_in_page
    problems = browser_problems(page)
    page.goto(url + "?country=DEU&start=2020-01-01&end=2020-12-31")
    page.wait_for_function(
        f"() => (document.getElementById('{ids.OVERVIEW_SCOPE}')?.textContent ?? '')"
        ".includes('1 country, all platforms, 2020-01-01 to 2020-12-31')"
    )
    page.wait_for_function(
        f"() => (document.getElementById('{ids.OVERVIEW_COUNTRY_FILTER}')?.textContent ?? '').includes('Germany')"
    )
    page.goto(url + "?country=Germany")
    page.wait_for_function(
        "() => (document.querySelector('.invalid-view')?.textContent ?? '').includes('This link cannot be shown')"
    )
    assert "'Germany' is not a valid value" in page.locator(".invalid-view").inner_text()
    assert problems == [], problems
