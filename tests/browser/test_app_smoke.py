"""Smoke test: a fresh `python app.py` builds the demo and its user, asks for a login, serves the
overview under the Content-Security-Policy without console errors, and filters work."""

from __future__ import annotations

import json
import re
import time

import pytest

from dashboards import ids
from warehouse import connect

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
    deadline = time.monotonic() + 60  # the server says so once its background child has exited
    while "The demo is finished" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    output = log.read_text()
    assert "building the demo warehouse at scale 0.002" in output
    assert "Demo referrals loaded" in output
    assert f"Open {url} in a browser" in output
    assert "being added in the background" in output and "The demo is finished" in output
    assert "Sign in as user 'demo' (role admin, sees every page) with password: (from $GRACE_DEMO_PASSWORD)" in output
    assert (home / "warehouse.duckdb").is_file()
    assert (home / "auth" / "auth.sqlite").is_file()
    # finished in the background: the first analysis and triage model replaced the served file, no copy left
    con = connect(home / "warehouse.duckdb", read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM analytics_run").fetchone()[0] == 1
        assert con.execute("SELECT count(*) FROM triage_model WHERE status = 'active'").fetchone()[0] == 1
    finally:
        con.close()
    assert [p.name for p in home.iterdir() if "finishing" in p.name] == []


def test_a_browser_without_a_session_gets_the_login_page_and_can_sign_in_and_out(
    demo_server, page, sign_in, browser_problems, artifacts_dir
):
    url, _log, _home = demo_server
    problems = browser_problems(page)
    page.goto(url + "?country=DEU")
    assert "/login?next=" in page.url
    assert page.inner_text("#classification-banner").upper() == "RESTRICTED — LAW-ENFORCEMENT USE ONLY"
    page.fill("#username", "demo")
    page.fill("#password", "not the password at all")
    page.click("#login-submit")
    assert "Wrong user name or password." in page.inner_text("#auth-error")
    page.screenshot(path=str(artifacts_dir / "login-refused.png"))
    page.wait_for_timeout(1100)  # one failure of this name at this address: the next try waits 1 s (back-off)
    sign_in(page)
    page.wait_for_selector(f"#{ids.CLASSIFICATION_BANNER}")
    page.goto(url + "logout")
    page.click("#logout-submit")
    page.wait_for_url(lambda address: address.endswith("/login?signed_out=1"))
    assert "You have signed out." in page.inner_text("main")
    page.goto(url)
    assert "/login" in page.url
    # The only error is the deliberate wrong password's 401 answer.
    assert problems == ["Failed to load resource: the server responded with a status of 401 (UNAUTHORIZED)"], problems


def test_the_overview_shows_kpis_and_the_chart_follows_the_country_filter(
    demo_server, logged_in_page, browser_problems, artifacts_dir
):
    url, _log, _home = demo_server
    page = logged_in_page
    problems = browser_problems(page)
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


def test_page_views_with_their_filters_are_audited_and_the_admin_page_shows_the_intact_chain(
    demo_server, logged_in_page, browser_problems, artifacts_dir
):
    from dashboards.auth.audit import AuditLog

    url, _log, home = demo_server
    page = logged_in_page
    problems = browser_problems(page)
    page.goto(url + "?country=DEU")
    page.wait_for_selector(f"#{ids.OVERVIEW_PAGE}")
    page.goto(url + "admin")
    page.wait_for_function(
        f"() => (document.getElementById('{ids.ADMIN_CHAIN}')?.textContent ?? '').startsWith('Audit chain intact')"
    )
    views = AuditLog(home / "auth" / "auth.sqlite").recent(50, {"event": "page_view", "user": "demo"})
    assert {"path": "/", "filters": {"country": ["DEU"]}} in [view.detail for view in views]
    assert {"path": "/admin", "filters": {}} in [view.detail for view in views]
    assert problems == [], problems


def test_the_shell_says_what_still_runs_in_the_background_and_asks_for_a_reload_when_it_is_done(
    demo_server, logged_in_page, browser_problems
):
    """The served demo is finished (the fixture waits for it); a status file written as if it were still
    running must show on the page, and its end must turn into a request to reload."""
    from grace.background import DONE, RUNNING, BackgroundStatus, read_status, write_status

    url, _log, home = demo_server
    warehouse = home / "warehouse.duckdb"
    finished = read_status(warehouse)
    assert finished is not None and finished.state == DONE
    page = logged_in_page
    problems = browser_problems(page)
    note = page.locator(f"#{ids.BACKGROUND_NOTE}")
    assert note.is_hidden()
    running = BackgroundStatus(task="finishing the demo", state=RUNNING, step="Scoring referrals", completed=1, total=2)
    write_status(warehouse, running)
    try:
        page.goto(url + "trends")
        note.wait_for(state="visible")
        assert "Still running in the background: finishing the demo — now scoring referrals (50 %)" in note.inner_text()
        write_status(warehouse, finished)
        page.wait_for_function(
            f"() => document.querySelector('#{ids.BACKGROUND_NOTE}').innerText.includes('Reload the page')",
            timeout=15_000,
        )
    finally:
        write_status(warehouse, finished)
    page.reload()
    page.wait_for_selector(f"#{ids.CLASSIFICATION_BANNER}")
    page.wait_for_timeout(500)
    assert note.is_hidden()
    assert problems == [], problems
