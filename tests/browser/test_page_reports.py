"""Reports page in Chromium: the first start's archived weekly brief with downloads, the schedule `grace demo`
set up, a preview, "run now" for another scope, and a country-scoped analyst who sees only their country."""

from __future__ import annotations

import pytest

from dashboards import ids

pytestmark = pytest.mark.browser

FIRST_REPORT_TIMEOUT_MS = 300_000  # the first start builds the weekly brief (HTML, PDF, PPTX, CSV) in the background
ARCHIVE_ROWS = f"#{ids.REPORTS_ARCHIVE}-rows tbody tr"


def archived_runs(page) -> int:
    return page.locator(ARCHIVE_ROWS).count()


def wait_for_runs(page, at_least: int) -> None:
    page.wait_for_function(
        f"n => document.querySelectorAll('{ARCHIVE_ROWS}').length >= n", arg=at_least, timeout=FIRST_REPORT_TIMEOUT_MS
    )


def test_the_first_start_archives_one_weekly_brief_with_downloads_and_a_schedule(
    demo_server, logged_in_page, browser_problems, artifacts_dir
):
    url, log, _home = demo_server
    page = logged_in_page
    problems = browser_problems(page)
    page.set_viewport_size({"width": 1400, "height": 1100})
    page.goto(url + "reports")
    wait_for_runs(page, 1)
    assert "Scheduled the weekly-brief report" in log.read_text()

    first = page.locator(ARCHIVE_ROWS).last  # the oldest run: the first start's
    assert "Weekly" in first.inner_text() and "EU-27" in first.inner_text()
    assert "dashboard:first start (demo)" in first.inner_text()
    links = {label: first.locator(f"a[data-file='{label}']").get_attribute("href") for label in ("PDF", "PPTX")}
    pdf = page.request.get(url.rstrip("/") + links["PDF"])
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    pptx = page.request.get(url.rstrip("/") + links["PPTX"])
    assert pptx.status == 200 and pptx.body().startswith(b"PK")

    page.wait_for_selector(f"#{ids.REPORTS_SCHEDULES}-rows")
    assert "weekly-brief" in page.inner_text(f"#{ids.REPORTS_SCHEDULES}-rows")
    assert "0 6 * * MON" in page.inner_text(f"#{ids.REPORTS_SCHEDULES}-rows")
    page.wait_for_function(
        f"() => (document.getElementById('{ids.REPORTS_PREVIEW}')?.textContent ?? '').includes('Period')"
    )
    assert "EU-27" in page.inner_text(f"#{ids.REPORTS_PREVIEW}")
    page.screenshot(path=str(artifacts_dir / "reports.png"), full_page=True)
    assert problems == [], problems


def test_run_now_builds_a_report_for_malta_that_a_malta_analyst_sees_alone(
    demo_server, logged_in_page, sign_in, make_user, browser_problems, artifacts_dir, browser
):
    url = demo_server[0]
    page = logged_in_page
    problems = browser_problems(page)
    page.goto(url + "reports")
    wait_for_runs(page, 1)
    before = archived_runs(page)

    page.click(f"#{ids.REPORTS_SCOPE}")
    page.get_by_role("option", name="Malta (MLT)", exact=True).click()
    page.wait_for_function(
        f"() => (document.getElementById('{ids.REPORTS_PREVIEW}')?.textContent ?? '').includes('Malta')"
    )
    page.click(f"#{ids.REPORTS_RUN}")
    page.wait_for_function(
        f"() => (document.getElementById('{ids.REPORTS_RUN_STATUS}')?.textContent ?? '').includes('Queued')"
    )
    wait_for_runs(page, before + 1)
    assert "Malta" in page.locator(ARCHIVE_ROWS).first.inner_text()

    password = make_user("mla", "analyst", country="MLT")
    other = browser.new_context().new_page()
    other_problems = browser_problems(other)
    sign_in(other, "mla", password)
    other.goto(url + "reports")
    wait_for_runs(other, 1)
    rows = other.locator(ARCHIVE_ROWS).all_inner_texts()
    assert rows and all("Malta" in row and "EU-27" not in row for row in rows), rows
    assert other.locator(f"#{ids.REPORTS_SCHEDULES}-rows").count() == 0  # schedules are for admins
    other.screenshot(path=str(artifacts_dir / "reports-malta.png"), full_page=True)
    assert problems == [] and other_problems == [], problems + other_problems


def test_operations_lists_no_failed_scheduled_report(demo_server, logged_in_page, browser_problems):
    page = logged_in_page
    problems = browser_problems(page)
    page.goto(demo_server[0] + "operations")
    page.wait_for_function(
        f"() => (document.getElementById('{ids.OPERATIONS_REPORT_FAILURES}')?.textContent ?? '').startsWith('None')"
    )
    assert problems == [], problems
