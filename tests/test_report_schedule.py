"""Report schedules: what is due, caught up once, never run twice, retried, and stale claims recovered."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reporting.schedule import ScheduleError, ScheduleStore

MONDAY_6 = "0 6 * * MON"
CREATED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)  # a Sunday


@pytest.fixture
def store(tmp_path) -> ScheduleStore:
    store = ScheduleStore(tmp_path / "schedule.sqlite")
    store.add("weekly", "weekly-brief", MONDAY_6, "", ("html",), "test", now=CREATED)
    return store


def test_a_schedule_needs_a_valid_cron_expression_and_a_free_name(store):
    with pytest.raises(ScheduleError, match="not valid"):
        store.add("bad", "weekly-brief", "every monday", "", ("html",), "test")
    with pytest.raises(ScheduleError, match="exists"):
        store.add("weekly", "weekly-brief", MONDAY_6, "", ("html",), "test")
    with pytest.raises(ScheduleError, match="no schedule"):
        store.remove("nope")


def test_nothing_is_due_before_the_first_fire_time_after_the_schedule_was_added(store):
    assert store.claim_due(CREATED + timedelta(hours=1)) == []


def test_a_due_run_is_claimed_once_and_then_not_again(store):
    monday = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
    (claim,) = store.claim_due(monday)
    assert claim.fire_time == "2026-11-02T06:00:00Z" and claim.attempt == 1
    assert store.claim_due(monday + timedelta(minutes=5)) == []  # still running: not claimed again
    store.finish(claim, folder="/archive/run-1")
    assert store.claim_due(monday + timedelta(minutes=10)) == []  # done
    assert [run["status"] for run in store.runs()] == ["done"]


def test_missed_fire_times_are_caught_up_once_with_the_latest(store):
    three_weeks_later = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # Mondays 2, 9 and 16 Nov were missed
    (claim,) = store.claim_due(three_weeks_later)
    assert claim.fire_time == "2026-11-16T06:00:00Z"
    store.finish(claim, folder="/archive/run")
    assert store.claim_due(three_weeks_later + timedelta(hours=1)) == []
    assert len(store.runs()) == 1


def test_a_failed_run_is_retried_until_its_attempts_are_used_then_reported(store):
    monday = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
    for attempt in (1, 2, 3):
        (claim,) = store.claim_due(monday + timedelta(minutes=attempt))
        assert claim.attempt == attempt
        store.finish(claim, error="ExportUnavailable: no Chromium")
    assert store.claim_due(monday + timedelta(minutes=10)) == []
    (failure,) = store.failures()
    assert failure["attempts"] == 3 and "no Chromium" in failure["error"]


def test_a_run_left_running_by_a_dead_process_is_claimed_again_after_two_hours(store):
    monday = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
    (first,) = store.claim_due(monday)
    assert store.claim_due(monday + timedelta(hours=1)) == []
    (again,) = store.claim_due(monday + timedelta(hours=3))
    assert again.fire_time == first.fire_time and again.attempt == 2


def _claim_in_another_process(path: str, start, results) -> None:
    store = ScheduleStore(Path(path))
    start.wait()
    results.put(len(store.claim_due(datetime(2026, 11, 2, 6, 1, tzinfo=UTC))))


def test_two_processes_asking_at_the_same_moment_produce_one_run(store):
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    workers = [
        context.Process(target=_claim_in_another_process, args=(str(store.path), start, results)) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(timeout=60)
    claimed = [results.get(timeout=5) for _ in workers]
    assert sorted(claimed) == [0, 0, 0, 1]
    assert len(store.runs()) == 1
