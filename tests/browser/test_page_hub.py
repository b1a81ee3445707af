"""The dashboard serving a hub's EU warehouse of differentially private releases, in Chromium: every page
header marks the figures as noisy and shows ε, the charts' notes say so too, the Overview's cards for what
the releases do not carry say so instead of showing 0, and Operations lists the merged releases.

Its own `python app.py` process (`own_server`) on a hub warehouse merged from synthetic releases, with an
analyst added by `grace users add`; stopped by its PID.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from dashboards import ids
from dashboards.components import freshness_id

pytestmark = pytest.mark.browser

MARKING = "Differentially private counts: ε = 1 per agency-month (δ = 0)"


def _release(folder, agency: str, country: str, month: str, counts: tuple[int | None, int | None]):
    from federation.release_file import release_document

    cells = pd.DataFrame(
        {
            "country_iso3": [country, country],
            "platform_name": ["Chatterly", "Glimmr"],
            "referrals": pd.array(list(counts), dtype="Int64"),
            "suppressed": [value is None for value in counts],
        }
    )
    path = folder / f"{agency}-{month}.json"
    path.write_text(json.dumps(release_document(agency, month, 1.0, 10, "discrete Laplace", cells)))
    return path


@pytest.fixture(scope="module")
def hub_url(tmp_path_factory, own_server):
    """`python app.py` on a hub warehouse of two agencies × 14 months, with an analyst `eu-analyst`."""
    from federation.hub_warehouse import merge_releases

    home = tmp_path_factory.mktemp("hub_home")
    folder = home / "incoming"
    folder.mkdir()
    months = [str(month) for month in pd.period_range("2023-01", "2024-02", freq="M")]
    files = [
        _release(folder, "AGY-NLD", "NLD", month, (100 + 3 * i, 20 + i if i % 3 else None))
        for i, month in enumerate(months)
    ] + [_release(folder, "AGY-BEL", "BEL", month, (40 + i, None)) for i, month in enumerate(months)]
    hub = home / "eu-hub.duckdb"
    merge_releases(files, hub)
    return own_server(home, hub, {"eu-analyst": "analyst"})


def test_the_hub_dashboard_marks_every_figure_as_differentially_private_and_shows_epsilon(
    hub_url, sign_in_at, page, browser_problems
):
    url = hub_url
    problems = browser_problems(page)
    sign_in_at(page, url, "eu-analyst")
    page.goto(url)
    header = page.locator(f"#{freshness_id('overview')}")
    page.wait_for_function(
        f"() => (document.getElementById('{freshness_id('overview')}')?.textContent ?? '').includes('ε = 1')"
    )
    text = header.inner_text()
    assert text.startswith(MARKING) and "k = 10 suppressed by the agencies" in text
    assert "28 releases from 2 agencies, Jan 2023 – Feb 2024" in text
    note = page.locator(f"#{ids.chart_note('overview-monthly-referrals')}")
    note.wait_for()
    page.wait_for_function(
        f"() => (document.getElementById('{ids.chart_note('overview-monthly-referrals')}')?.textContent ?? '')"
        ".includes('Differentially private counts')"
    )
    page.wait_for_function(
        f"() => (document.getElementById('{ids.kpi_note(ids.OVERVIEW_KPI_FILES)}')?.textContent ?? '')"
        ".includes('not in the')"
    )
    assert "differentially private releases" in page.inner_text(f"#{ids.kpi_note(ids.OVERVIEW_KPI_FILES)}")

    page.goto(url + "trends")  # every page's header carries the same marking
    page.wait_for_function(
        f"() => (document.getElementById('{freshness_id('trends')}')?.textContent ?? '').includes('ε = 1')"
    )
    assert page.inner_text(f"#{freshness_id('trends')}").startswith(MARKING)
    week = page.locator(f"#{ids.TRENDS_GRAIN} input[value='week']")
    page.wait_for_function(f"() => document.querySelector(\"#{ids.TRENDS_GRAIN} input[value='week']\")?.disabled")
    assert week.is_disabled() and not page.locator(f"#{ids.TRENDS_GRAIN} input[value='month']").is_disabled()
    page.wait_for_function(
        f"() => (document.getElementById('{ids.chart_note('trends-explorer')}')?.textContent ?? '')"
        ".includes('Differentially private counts (ε = 1 per agency-month)')"
    )

    page.goto(url + "operations")  # the lineage of every figure: the merged releases
    page.wait_for_function(
        f"() => (document.getElementById('{ids.OPERATIONS_DP_RELEASES}')?.textContent ?? '').includes('AGY-NLD')"
    )
    releases = page.inner_text(f"#{ids.OPERATIONS_DP_RELEASES}")
    assert "merged into this hub warehouse (28)" in releases and "sha256:" in releases
    assert page.inner_text(f"#{freshness_id('operations')}").startswith(MARKING)
    assert problems == []
