"""Admin page in Chromium: an admin sees users and the verified audit chain, adds a user, changes their role and
disables them through the forms (each change shows up in the audit log) and filters the log; a viewer neither sees
the page in the navigation nor gets it when asking for it."""

from __future__ import annotations

import pytest

from dashboards import ids

pytestmark = pytest.mark.browser

USERS = f"#{ids.ADMIN_USERS_TABLE}-rows"
AUDIT = f"#{ids.ADMIN_AUDIT_TABLE}-rows"
NEW_USER = "pat.admin-test"
PASSWORD = "browser-admin-test-passphrase"


def choose(page, dropdown_id: str, option: str) -> None:
    page.click(f"#{dropdown_id}")
    page.get_by_role("option", name=option, exact=True).click()


def test_an_admin_adds_changes_and_disables_a_user_and_sees_it_in_the_audit_log(
    demo_server, logged_in_page, browser_problems, artifacts_dir
):
    page = logged_in_page
    url = demo_server[0]
    problems = browser_problems(page)
    page.set_viewport_size({"width": 1400, "height": 1100})

    page.goto(url + "admin")
    page.wait_for_selector(f"{USERS} >> text=demo")
    page.wait_for_function(
        f"() => document.getElementById('{ids.ADMIN_CHAIN}').textContent.startsWith('Audit chain intact')"
    )
    assert page.get_by_role("link", name="Admin").count() == 1

    # Add a user through the form.
    page.fill(f"#{ids.ADMIN_NEW_NAME}", NEW_USER)
    choose(page, ids.ADMIN_NEW_ROLE, "analyst")
    page.fill(f"#{ids.ADMIN_NEW_PASSWORD}", PASSWORD)
    page.click(f"#{ids.ADMIN_ADD}")
    page.wait_for_selector(f"#{ids.ADMIN_RESULT} >> text=Added {NEW_USER} as analyst.")
    page.wait_for_selector(f"{USERS} >> text={NEW_USER}")
    assert page.input_value(f"#{ids.ADMIN_NEW_PASSWORD}") == ""  # the password does not linger in the form
    assert page.input_value(f"#{ids.ADMIN_NEW_NAME}") == ""
    first_event = page.locator(f"{AUDIT} tbody tr").first
    assert "user_added" in first_event.inner_text() and NEW_USER in first_event.inner_text()

    # Make them a viewer, then disable them: the users table and the audit log follow.
    choose(page, ids.ADMIN_TARGET, NEW_USER)
    choose(page, ids.ADMIN_TARGET_ROLE, "viewer")
    page.click(f"#{ids.ADMIN_SET_ROLE}")
    page.wait_for_selector(f"#{ids.ADMIN_RESULT} >> text={NEW_USER} is now viewer.")
    page.wait_for_function(
        f"() => Array.from(document.querySelectorAll('{USERS} tbody tr'))"
        f".some(r => r.textContent.includes('{NEW_USER}') && r.children[1].textContent === 'viewer')"
    )
    assert "role_changed" in page.locator(f"{AUDIT} tbody tr").first.inner_text()
    page.click(f"#{ids.ADMIN_DISABLE}")
    page.wait_for_selector(f"#{ids.ADMIN_RESULT} >> text=their open sessions have ended")
    row = page.locator(f"{USERS} tbody tr", has_text=NEW_USER)
    page.wait_for_function(
        f"() => Array.from(document.querySelectorAll('{USERS} tbody tr'))"
        f".some(r => r.textContent.includes('{NEW_USER}') && r.children[3].textContent === 'no')"
    )
    assert row.locator("td").nth(3).inner_text() == "no"

    # A control of the audit log: only one event type.
    before = page.locator(f"{AUDIT} tbody tr").count()
    choose(page, ids.ADMIN_AUDIT_EVENT, "user_disabled")
    page.wait_for_function(
        f"() => {{ const rows = document.querySelectorAll('{AUDIT} tbody tr');"
        f" return rows.length > 0 && Array.from(rows).every(r => r.children[2].textContent === 'user_disabled'); }}"
    )
    assert page.locator(f"{AUDIT} tbody tr").count() < before
    assert "chain intact" in page.inner_text(f"#{ids.ADMIN_CHAIN}")

    page.screenshot(path=str(artifacts_dir / "admin.png"), full_page=True)
    assert problems == [], problems


def test_a_viewer_does_not_see_or_get_the_admin_page(demo_server, browser, make_user, sign_in):
    password = make_user("vera", "viewer")
    context = browser.new_context()
    try:
        page = context.new_page()
        sign_in(page, "vera", password)
        page.wait_for_selector(f"#{ids.NAVBAR}")
        assert page.get_by_role("link", name="Admin").count() == 0
        response = page.goto(demo_server[0] + "admin")
        assert response.status == 403
        assert "needs the admin role" in page.inner_text("body")
    finally:
        context.close()
