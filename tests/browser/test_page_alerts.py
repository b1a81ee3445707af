"""Alerts page in Chromium: the latest run's alerts in a table, a click on a row draws that series
with the alert ringed (and the selection lands in the URL), acknowledging a ticked row takes it off the list
of what needs attention, and the kind filter narrows the table."""

from __future__ import annotations

import re

import pytest
from test_page_forecasts import ensure_analysed, plotted

from dashboards import ids

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def analysed_demo(demo_server):
    """The session server's demo warehouse with a `grace analyse` run, made before any page is open."""
    ensure_analysed(demo_server[2])
    return demo_server


def test_a_row_opens_its_chart_and_the_kind_filter_narrows_the_table(
    analysed_demo, logged_in_page, browser_problems, artifacts_dir
):
    url = analysed_demo[0]
    page = logged_in_page
    problems = browser_problems(page)
    page.set_viewport_size({"width": 1400, "height": 1200})
    page.goto(url + "alerts")

    page.wait_for_selector(f"#{ids.ALERTS_TABLE} td")
    assert "alert(s) need your attention" in page.inner_text(f"#{ids.ALERTS_COUNT}")
    page.wait_for_selector(f"#{ids.ALERTS_FINDINGS_TABLE} td")
    assert page.evaluate(f"() => ({plotted(ids.ALERTS_GRAPH)})()") is None  # nothing selected yet

    # A click on a row's cell draws its series, rings the alert and puts the selection in the URL.
    page.locator(f"#{ids.ALERTS_TABLE} td[data-dash-column=metric]").first.click()
    page.wait_for_url(re.compile(r"series=.+&at=\d{4}-\d\d-\d\d"))
    page.wait_for_function(f"() => ({plotted(ids.ALERTS_GRAPH)})() !== null")
    names = [name for name, _ in __import__("json").loads(page.evaluate(plotted(ids.ALERTS_GRAPH)))]
    assert names[0] == "Observed" and "Selected alert" in names
    assert page.get_attribute(f"#{ids.ALERTS_OPEN}", "href").startswith("/trends?")

    # A review: tick the first row and acknowledge it; it leaves the list of what needs attention.
    page.wait_for_load_state("networkidle")  # the row click's redraw of the tables has landed (it clears ticks)
    before = page.inner_text(f"#{ids.ALERTS_COUNT}")
    page.locator(f"#{ids.ALERTS_TABLE} td.dash-select-cell input").first.check()
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_function(
        f"before => document.getElementById('{ids.ALERTS_COUNT}').textContent !== before", arg=before
    )
    assert "1 alert(s) acknowledged by" in page.inner_text(f"#{ids.ALERTS_REVIEW_STATUS}")
    after = page.inner_text(f"#{ids.ALERTS_COUNT}")
    assert int(after.split(" ")[0].replace(",", "")) == int(before.split(" ")[0].replace(",", "")) - 1

    # Kinds: only change points.
    total = page.inner_text(f"#{ids.ALERTS_COUNT}")
    page.get_by_label("Change point").check()
    page.wait_for_function(f"before => document.getElementById('{ids.ALERTS_COUNT}').textContent !== before", arg=total)
    page.wait_for_url(re.compile(r"kind=changepoint"))
    kinds = page.locator(f"#{ids.ALERTS_TABLE} td[data-dash-column=kind]").all_inner_texts()
    assert kinds and set(kinds) == {"Change point"}
    page.screenshot(path=str(artifacts_dir / "page-alerts.png"), full_page=True)
    assert problems == [], problems
