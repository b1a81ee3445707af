"""Triage page in Chromium: an analyst scoped to one agency signs in, sees the queue (only that agency's
referrals), finds a referral by a report number of the simulated delivery the demo warehouse loaded, and
records a review. The session's demo warehouse gets a triage model first (`grace model train --promote`,
`grace model score`, as an operator would run them)."""

from __future__ import annotations

import csv
import os
import subprocess
from pathlib import Path

import pytest

from dashboards import ids

pytestmark = [pytest.mark.browser]

AGENCY, COUNTRY = "AGY-NLD", "NLD"
REPO_ROOT = Path(__file__).resolve().parents[2]


def grace(home, *args: str, stdin: str | None = None) -> str:
    """`grace …` on the running server's $GRACE_HOME (as `make_user` runs it)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GRACE_")}
    done = subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "grace"), *args],
        input=stdin,
        env={**env, "GRACE_HOME": str(home), "OMP_NUM_THREADS": "1"},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0 or "exists" in done.stderr, f"grace {' '.join(args)}: {done.stderr[-2000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def scored_demo(demo_server, make_user):
    """The session's demo warehouse with an active triage model and every referral scored, and an analyst
    scoped to one agency (`grace users add --agency`)."""
    home = demo_server[2]
    from warehouse import connect

    con = connect(home / "warehouse.duckdb", read_only=True)
    try:
        scored = con.execute("SELECT count(*) FROM triage_score WHERE is_current").fetchone()[0]
    finally:
        con.close()
    if not scored:
        grace(home, "model", "train", "--promote")
        grace(home, "model", "score", "--quiet")
    return demo_server, make_user("nia", "analyst", agency=AGENCY)


def open_report_number(home) -> str:
    """A report number of the simulated exports whose referral is open, scored and of AGENCY."""
    from grace.config import PseudonymKey
    from grace.pseudonyms import referral_key
    from warehouse import connect

    key = PseudonymKey((home / "secrets" / "hmac.key").read_bytes().strip(), "demo")
    con = connect(home / "warehouse.duckdb", read_only=True)
    try:
        wanted = {
            str(k)
            for (k,) in con.execute(
                "SELECT r.referral_key FROM fact_referral r JOIN triage_score s ON s.referral_key = r.referral_key "
                "AND s.is_current WHERE r.agency_code = ? AND r.status <> 'closed'",
                [AGENCY],
            ).fetchall()
        }
    finally:
        con.close()
    for path in sorted((home / "demo" / "exports").glob("*/referrals.csv"), reverse=True):
        with open(path, newline="", encoding="utf-8", errors="replace") as handle:
            for row in csv.DictReader(handle):
                number = (row.get("report_id") or "").strip()
                if number and referral_key(key, number) in wanted:
                    return number
    raise AssertionError(f"no open, scored {AGENCY} referral in the simulated exports")


def test_an_agency_analyst_sees_their_queue_finds_a_referral_by_report_number_and_reviews_it(
    scored_demo, sign_in, page, browser_problems, artifacts_dir
):
    (url, _log, home), password = scored_demo
    number = open_report_number(home)
    problems = browser_problems(page)
    page.set_viewport_size({"width": 1400, "height": 1400})
    sign_in(page, "nia", password)
    triage_link = page.locator("a.grace-nav__link", has_text="Triage")
    triage_link.first.wait_for()  # the shell's navigation is drawn after the page loads
    assert triage_link.count() == 1
    page.goto(url + "triage")

    # The queue: only the analyst's agency.
    page.wait_for_selector(f"#{ids.TRIAGE_TABLE} td[data-dash-column=agency]")
    agencies = set(page.locator(f"#{ids.TRIAGE_TABLE} td[data-dash-column=agency]").all_inner_texts())
    assert agencies == {AGENCY}
    assert f"in {AGENCY} ({COUNTRY})" in page.inner_text(f"#{ids.TRIAGE_COUNT}")
    ids_shown = page.locator(f"#{ids.TRIAGE_TABLE} td[data-dash-column=short_id]").all_inner_texts()
    assert ids_shown and all(text.startswith("R-") for text in ids_shown)

    # Find by report number: the referral opens in the review panel; the number leaves the page.
    page.fill(f"#{ids.TRIAGE_SEARCH_INPUT}", number)
    page.click(f"#{ids.TRIAGE_SEARCH_BUTTON}")
    page.wait_for_function(
        f"() => document.getElementById('{ids.TRIAGE_SEARCH_STATUS}').textContent.startsWith('Found R-')"
    )
    page.wait_for_selector(f"#{ids.TRIAGE_DETAIL}-table")
    detail = page.inner_text(f"#{ids.TRIAGE_DETAIL}")
    assert AGENCY in detail and number not in detail
    assert page.input_value(f"#{ids.TRIAGE_SEARCH_INPUT}") == ""
    assert number not in page.content()

    # A review: priority P2, actionable.
    page.locator(f"#{ids.TRIAGE_REVIEW_TIER}").get_by_label("P2").check()
    page.locator(f"#{ids.TRIAGE_REVIEW_ACTIONABLE}").get_by_label("Yes").check()
    page.click(f"#{ids.TRIAGE_REVIEW_BUTTON}")
    page.wait_for_function(
        f"() => document.getElementById('{ids.TRIAGE_REVIEW_STATUS}').textContent.startsWith('Review recorded by nia')"
    )
    page.wait_for_function(
        f"() => document.getElementById('{ids.TRIAGE_DETAIL}').textContent.includes('P2 · actionable')"
    )
    page.screenshot(path=str(artifacts_dir / "page-triage.png"), full_page=True)
    assert problems == [], problems

    audit = grace(home, "audit", "list", "--user", "nia", "--json", "--limit", "50")
    assert "triage_reviewed" in audit and "triage_search" in audit and number not in audit
