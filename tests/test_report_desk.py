"""The Reports page's back end: the archive, background runs, previews and schedules, all through the user's scope.

Real parts: a simulated warehouse, reports built and archived by `reporting` (HTML only, for speed), the
SQLite schedule store, and the real dashboard app's download route through Flask's test client.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from builders import simulated_warehouse

from dashboards.auth.context import auth_context
from dashboards.auth.session import CurrentUser
from dashboards.auth.testing import ensure_user, log_in
from dashboards.callbacks import reports as logic
from dashboards.report_desk import ReportDeskError
from grace.scope import Scope, ScopeError
from reporting.desk import ArchiveDesk
from reporting.schedule import ScheduleStore

EVERYTHING = Scope.everything()
MALTA = Scope.of_countries(["MLT"])
ADMIN = CurrentUser("adm", "admin", None)
ANALYST = CurrentUser("ana", "analyst", None)
VIEWER = CurrentUser("vic", "viewer", None)
MALTA_ADMIN = CurrentUser("mla", "admin", "MLT")
MALTA_ANALYST = CurrentUser("mlt", "analyst", "MLT")


@pytest.fixture(scope="module")
def warehouse_path(tmp_path_factory):
    return simulated_warehouse(tmp_path_factory.mktemp("desk"), scale=0.003)


@pytest.fixture(scope="module")
def archived(warehouse_path, tmp_path_factory):
    """A desk whose archive holds one EU-27 and one Malta weekly brief, asked for through the page's logic."""
    desk = ArchiveDesk(warehouse_path, tmp_path_factory.mktemp("archive"), formats=("html",))
    outcomes = []
    logic.request_run(desk, ANALYST, EVERYTHING, "weekly-brief", "EU", on_done=outcomes.append)
    logic.request_run(desk, MALTA_ANALYST, MALTA, "weekly-brief", "MLT", on_done=outcomes.append)
    desk.wait(timeout=300)
    return desk, outcomes


def test_runs_asked_for_on_the_page_are_built_in_the_background_and_archived(archived):
    desk, outcomes = archived
    assert [job.status for job in outcomes] == ["done", "done"], [job.message for job in outcomes]
    runs = desk.archive()
    assert {run.scope for run in runs} == {"EU-27", "Malta"}
    assert {run.run_id for run in runs} == {job.run_id for job in outcomes}
    assert all(run.numbers_checked > 0 and "report.html" in run.files for run in runs)
    assert [run.generated_at for run in runs] == sorted((run.generated_at for run in runs), reverse=True)
    eu = next(run for run in runs if run.scope == "EU-27")
    assert eu.scope_countries is None and eu.triggered_by == "dashboard:ana"
    assert next(job for job in outcomes if job.run_id == eu.run_id).audit_detail["report"] == "weekly-brief"


def test_a_user_scoped_to_malta_sees_only_malta_reports_and_an_unscoped_one_sees_all(archived):
    desk, _ = archived
    assert {row.scope for row in logic.archive_rows(desk, MALTA_ANALYST, MALTA)} == {"Malta"}
    assert {row.scope for row in logic.archive_rows(desk, ANALYST, EVERYTHING)} == {"EU-27", "Malta"}
    agency = Scope.of_agency("AGY-MLT", "MLT")
    assert {row.scope for row in logic.archive_rows(desk, MALTA_ANALYST, agency)} == {"Malta"}
    assert logic.archive_rows(desk, MALTA_ANALYST, Scope.of_countries(["DEU"])) == []


def test_viewers_see_the_archive_without_download_links(archived):
    desk, _ = archived
    assert all(not row.links for row in logic.archive_rows(desk, VIEWER, EVERYTHING))
    links = logic.archive_rows(desk, ANALYST, EVERYTHING)[0].links
    assert {link.label for link in links} == {"HTML", "manifest"}
    assert all(link.href.startswith("/reports/file/") for link in links)


def test_a_scoped_analyst_may_run_only_within_the_scope_and_a_viewer_not_at_all(archived):
    desk, _ = archived
    with pytest.raises(ScopeError):
        logic.request_run(desk, MALTA_ANALYST, MALTA, "weekly-brief", "EU")
    with pytest.raises(ScopeError):
        logic.request_run(desk, MALTA_ANALYST, MALTA, "weekly-brief", "DEU")
    with pytest.raises(PermissionError):
        logic.request_run(desk, VIEWER, EVERYTHING, "weekly-brief", "EU")
    assert [choice["value"] for choice in logic.scope_choices(MALTA)] == ["MLT"]
    assert len(logic.scope_choices(EVERYTHING)) == 28


def test_the_desk_runs_only_shipped_templates_never_a_path_it_is_given(archived, tmp_path):
    desk, _ = archived
    definition = tmp_path / "mine.yaml"
    definition.write_text("name: mine\n", encoding="utf-8")
    for template in (str(definition), "../reporting/templates/weekly-brief", "no-such-template"):
        with pytest.raises(ReportDeskError, match="no report template"):
            desk.submit(template, "EU", "ana")
    with pytest.raises(ReportDeskError, match=r"no agency .XYZ."):
        desk.submit("weekly-brief", "agency:XYZ", "ana")


def test_an_archived_file_is_served_only_when_its_manifest_lists_it(archived):
    desk, _ = archived
    run = desk.archive()[0]
    found, path = desk.archived_file(run.run_id, "report.html")
    assert found == run and path.read_bytes().startswith(b"<!DOCTYPE html>")
    for run_id, name in (
        (run.run_id, "report.pdf"),
        (run.run_id, "../manifest.json"),
        ("../" + run.run_id, "report.html"),
        ("no-such-run", "report.html"),
    ):
        with pytest.raises(ReportDeskError):
            desk.archived_file(run_id, name)


def test_a_folder_still_being_written_or_with_a_broken_manifest_is_not_listed(archived):
    desk, _ = archived
    before = {run.run_id for run in desk.archive()}
    (desk.archive_dir / ".weekly-brief_partial").mkdir()
    (desk.archive_dir / ".weekly-brief_partial" / "manifest.json").write_text("{}", encoding="utf-8")
    (desk.archive_dir / "broken").mkdir()
    (desk.archive_dir / "broken" / "manifest.json").write_text("{not json", encoding="utf-8")
    assert {run.run_id for run in desk.archive()} == before


def test_a_preview_names_the_period_scope_and_contents_and_what_a_country_report_leaves_out(archived):
    desk, _ = archived
    eu = logic.preview(desk, EVERYTHING, "strategic-monthly", "EU")
    malta = logic.preview(desk, MALTA, "strategic-monthly", "MLT")
    assert eu.scope == "EU-27" and malta.scope == "Malta" and eu.period == malta.period
    assert eu.sections[0].title == "Key findings"
    contents = [item for section in eu.sections for item in section.contents]
    assert any(item.startswith("Chart: ") for item in contents)
    assert any(item.startswith("Outlook: ") for item in contents)
    assert any(item.startswith("Table: ") for item in contents)
    weekly_eu = logic.preview(desk, EVERYTHING, "weekly-brief", "EU")
    weekly_malta = logic.preview(desk, MALTA, "weekly-brief", "MLT")
    assert weekly_malta.left_out and not weekly_eu.left_out  # the EU backlog and row accounting
    with pytest.raises(ScopeError):
        logic.preview(desk, MALTA, "strategic-monthly", "EU")


def test_schedules_are_for_admins_within_their_scope(archived, tmp_path):
    desk = ArchiveDesk(archived[0].warehouse, tmp_path, formats=("html",))
    added = logic.add_schedule(desk, ADMIN, EVERYTHING, "weekly-eu", "weekly-brief", "0 6 * * MON", "EU")
    assert added.next_run and added.scope_countries is None
    logic.add_schedule(desk, MALTA_ADMIN, MALTA, "weekly-mlt", "weekly-brief", "0 7 * * MON", "MLT")
    with pytest.raises(PermissionError):
        logic.add_schedule(desk, ANALYST, EVERYTHING, "weekly-x", "weekly-brief", "0 6 * * MON", "EU")
    with pytest.raises(ScopeError):
        logic.add_schedule(desk, MALTA_ADMIN, MALTA, "weekly-y", "weekly-brief", "0 6 * * MON", "EU")
    with pytest.raises(ReportDeskError, match="cron"):
        logic.add_schedule(desk, ADMIN, EVERYTHING, "weekly-z", "weekly-brief", "every monday", "EU")
    with pytest.raises(ReportDeskError, match="name"):
        logic.add_schedule(desk, ADMIN, EVERYTHING, "Weekly Z!", "weekly-brief", "0 6 * * MON", "EU")
    assert [row["name"] for row in logic.schedule_rows(desk, ADMIN, EVERYTHING)] == ["weekly-eu", "weekly-mlt"]
    assert [row["name"] for row in logic.schedule_rows(desk, MALTA_ADMIN, MALTA)] == ["weekly-mlt"]
    with pytest.raises(ReportDeskError, match="no schedule"):  # outside the scope: as if it did not exist
        logic.remove_schedule(desk, MALTA_ADMIN, MALTA, "weekly-eu")
    logic.remove_schedule(desk, ADMIN, EVERYTHING, "weekly-eu")
    assert [row["name"] for row in logic.schedule_rows(desk, ADMIN, EVERYTHING)] == ["weekly-mlt"]


def test_scheduled_runs_that_failed_every_attempt_are_listed_for_operations_within_the_scope(archived, tmp_path):
    store = ScheduleStore(tmp_path / "schedule.sqlite", max_attempts=1)
    desk = ArchiveDesk(archived[0].warehouse, tmp_path, store=store, formats=("html",))
    created = datetime(2026, 11, 30, tzinfo=UTC)
    store.add("brief-eu", "weekly-brief", "0 6 * * MON", "EU", ("html",), "test", now=created)
    store.add("brief-mlt", "weekly-brief", "0 6 * * MON", "MLT", ("html",), "test", now=created)
    for claim in store.claim_due(datetime(2026, 12, 7, 6, 5, tzinfo=UTC)):
        store.finish(claim, error="ExportUnavailable: Chromium is not installed")
    assert {row["schedule"] for row in logic.failure_rows(desk, EVERYTHING)} == {"brief-eu", "brief-mlt"}
    malta = logic.failure_rows(desk, MALTA)
    assert [row["schedule"] for row in malta] == ["brief-mlt"] and "Chromium" in malta[0]["error"]
    assert logic.failure_rows(None, EVERYTHING) == []


@pytest.fixture(scope="module")
def app(archived, tmp_path_factory):
    desk, _ = archived
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRACE_HOME", str(tmp_path_factory.mktemp("desk_home")))
        patch.setenv("GRACE_ARGON2_PROFILE", "test-only-cheapest")
        from dashboards.app_factory import create_app

        app = create_app(desk.warehouse, reports=desk)
        for name, role, country in (("ana", "analyst", None), ("mlt", "analyst", "MLT"), ("vic", "viewer", None)):
            ensure_user(app, name, role, country=country)
    return app


def _client(app, name):
    client = app.server.test_client()
    assert log_in(client, name).status_code == 302
    return client


def test_the_download_route_serves_archived_files_within_the_scope_and_audits_them(app, archived):
    desk, _ = archived
    runs = {run.scope: run for run in desk.archive()}
    eu, malta = runs["EU-27"], runs["Malta"]
    analyst, scoped, viewer = _client(app, "ana"), _client(app, "mlt"), _client(app, "vic")

    answer = analyst.get(logic.file_href(eu.run_id, "report.html"))
    assert answer.status_code == 200 and answer.headers["Content-Disposition"].startswith("attachment")
    manifest = json.loads(analyst.get(logic.file_href(eu.run_id, "manifest.json")).data)
    assert manifest["scope_countries"] is None and manifest["numbers_checked"] == eu.numbers_checked

    assert scoped.get(logic.file_href(malta.run_id, "report.html")).status_code == 200
    refused = scoped.get(logic.file_href(eu.run_id, "report.html"))
    assert refused.status_code == 404 and eu.run_id in refused.get_json()["error"]
    assert viewer.get(logic.file_href(eu.run_id, "report.html")).status_code == 403
    assert analyst.get(logic.file_href(eu.run_id, "report.pdf")).status_code == 404
    assert app.server.test_client().get(logic.file_href(eu.run_id, "report.html")).status_code == 302  # log in first

    audit = auth_context(app.server).audit
    downloads = audit.recent(100, {"event": "report_download"})
    assert {(row.user, row.detail["run"]) for row in downloads} >= {("ana", eu.run_id), ("mlt", malta.run_id)}
    denied = audit.recent(100, {"event": "access_denied", "user": "mlt"})
    assert any(eu.run_id in row.detail["path"] for row in denied)
