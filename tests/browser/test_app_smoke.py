"""Smoke test: a fresh `python app.py` builds the demo, serves the overview, and filters work."""

from __future__ import annotations

import json
import re

import pytest

from dashboards import ids

pytestmark = pytest.mark.browser

KPI_CARDS = (
    ids.OVERVIEW_KPI_REFERRALS,
    ids.OVERVIEW_KPI_FILES,
    ids.OVERVIEW_KPI_MEDIA_CLUSTERS,
    ids.OVERVIEW_KPI_QUARANTINED,
)
PLOTTED_VALUES = f"""() => {{
    const plot = document.querySelector('#{ids.OVERVIEW_MONTHLY_GRAPH} .js-plotly-plot');
    if (!plot || !plot.data || plot.data.length === 0) return null;
    return JSON.stringify(plot.data.map(trace => Array.from(trace.y || [])));
}}"""


def kpi_number(page, card_id: str) -> int:
    text = page.inner_text(f"#{ids.kpi_value(card_id)}")
    return int(text.replace(",", ""))


def test_a_fresh_start_builds_the_demo_and_says_where_to_browse(demo_server):
    url, log, home = demo_server
    output = log.read_text()
    assert "building the demo warehouse at scale 0.002" in output
    assert "Demo warehouse ready" in output
    assert f"Open {url} in a browser" in output
    assert (home / "warehouse.duckdb").is_file()


def test_the_overview_shows_kpis_and_the_chart_follows_the_country_filter(demo_server, page, artifacts_dir):
    url, _log, _home = demo_server
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(url)
    assert page.inner_text(f"#{ids.CLASSIFICATION_BANNER}").upper() == "RESTRICTED — LAW-ENFORCEMENT USE ONLY"
    assert "GRACE Trends" in page.inner_text(f"#{ids.TITLE_BAR}")

    # KPI cards fill in with non-zero counts, formatted with thousands separators.
    page.wait_for_function(
        f"() => /[0-9]/.test(document.getElementById('{ids.kpi_value(ids.OVERVIEW_KPI_REFERRALS)}')?.textContent ?? '')"
    )
    numbers = {card: kpi_number(page, card) for card in KPI_CARDS}
    assert all(value > 0 for value in numbers.values()), numbers
    for card in KPI_CARDS:
        assert re.fullmatch(r"\d{1,3}(,\d{3})*", page.inner_text(f"#{ids.kpi_value(card)}"))
    page.wait_for_function(
        f"() => (document.getElementById('{ids.OVERVIEW_FRESHNESS}')?.textContent ?? '').startsWith('Incidents up to')"
    )

    page.wait_for_function(f"() => ({PLOTTED_VALUES})() !== null")
    before = page.evaluate(PLOTTED_VALUES)

    # Pick the first country the dropdown offers.
    page.click(f"#{ids.OVERVIEW_COUNTRY_FILTER}")
    first_option = page.get_by_role("option").first
    first_option.wait_for()
    country = first_option.inner_text().strip()
    page.get_by_role("option", name=country).click()
    page.keyboard.press("Escape")

    page.wait_for_function(f"before => ({PLOTTED_VALUES})() !== before", arg=before)
    after = page.evaluate(PLOTTED_VALUES)
    assert sum(map(sum, json.loads(after))) < sum(map(sum, json.loads(before)))
    page.wait_for_function(
        f"() => (document.getElementById('{ids.OVERVIEW_SCOPE}')?.textContent ?? '').includes('1 country')"
    )
    assert kpi_number(page, ids.OVERVIEW_KPI_REFERRALS) < numbers[ids.OVERVIEW_KPI_REFERRALS]
    assert country in page.text_content(f"#{ids.OVERVIEW_MONTHLY_GRAPH}")  # the chart title names it

    page.screenshot(path=str(artifacts_dir / "overview-smoke.png"), full_page=True)
    assert problems == [], problems
