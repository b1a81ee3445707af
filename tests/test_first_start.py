"""The first start: serving once the demo's referrals are loaded, the rest finished in the background.

`grace.background` (the status file), `grace_cli.demo_warehouse.finish_demo_warehouse` (the work on a
copy), `grace_cli.demo_finish.BackgroundFinish` (the child process) and the shell's note
(`dashboards.background`), against real demo warehouses.
"""

from __future__ import annotations

import json
import shutil

import pytest

from dashboards.background import background_note
from grace.background import (
    DONE,
    FAILED,
    PENDING,
    RUNNING,
    BackgroundStatus,
    StatusWriter,
    mark_pending,
    read_status,
    status_path,
    write_status,
)
from grace_cli.demo_finish import BackgroundFinish
from grace_cli.demo_warehouse import FINISH_TASK, build_demo_warehouse, demo_needs_finishing, finish_demo_warehouse
from warehouse import connect

SCALE = 0.002


def count(path, table: str) -> int:
    con = connect(path, read_only=True)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def loaded_demo(tmp_path_factory):
    """A demo warehouse as the first start serves it: referrals loaded, finishing left for later."""
    root = tmp_path_factory.mktemp("first-start")
    path = root / "warehouse.duckdb"
    result = build_demo_warehouse(path, scale=SCALE, inputs=root / "demo", finish_later=True)
    assert result.analysis_series == 0 and result.triage_model is None
    return path


def copy_demo(source, folder):
    """A private copy of a demo warehouse (with its index and status file)."""
    path = folder / "warehouse.duckdb"
    shutil.copyfile(source, path)
    shutil.copytree(str(source) + ".pdq-index", str(path) + ".pdq-index")
    shutil.copyfile(status_path(source), status_path(path))
    return path


@pytest.fixture
def demo_copy(loaded_demo, tmp_path):
    """A private copy of the loaded demo, so a test may finish or break it."""
    return copy_demo(loaded_demo, tmp_path)


@pytest.fixture(scope="module")
def finished_demo(loaded_demo, tmp_path_factory):
    """A copy of the loaded demo, finished once (first triage model, first analysis): (path, result, referrals)."""
    path = copy_demo(loaded_demo, tmp_path_factory.mktemp("finished"))
    referrals = count(path, "fact_referral")
    return path, finish_demo_warehouse(path, jobs=1), referrals


def test_a_status_written_beside_a_warehouse_reads_back_the_same(tmp_path):
    status = BackgroundStatus(task="t", state=RUNNING, step="Scoring referrals", completed=3, total=12)
    write_status(tmp_path / "w.duckdb", status)
    assert read_status(tmp_path / "w.duckdb") == status
    assert status.percent == 25 and status.unfinished


@pytest.mark.parametrize("content", ["", "{not json", '{"task": "t", "state": "sleeping"}', "[1, 2]"])
def test_a_missing_or_unreadable_status_says_nothing(tmp_path, content):
    assert read_status(tmp_path / "w.duckdb") is None
    status_path(tmp_path / "w.duckdb").write_text(content)
    assert read_status(tmp_path / "w.duckdb") is None


def test_the_status_writer_writes_each_step_boundary_but_not_every_tick(tmp_path):
    path = tmp_path / "w.duckdb"
    writer = StatusWriter(path, "finishing", interval=3600)
    writer("Scoring referrals", 0, 1000)
    for tick in range(1, 1000):
        writer("Scoring referrals", tick, 1000)
    assert read_status(path).completed == 0  # the ticks in between were not written (interval not reached)
    writer("Scoring referrals", 1000, 1000)
    assert read_status(path).completed == 1000
    writer.done("12 series analysed")
    final = read_status(path)
    assert final.state == DONE and final.message == "12 series analysed" and not final.unfinished
    assert json.loads(status_path(path).read_text())["step"] == "Scoring referrals"


def test_the_note_follows_a_running_task_and_asks_for_a_reload_when_it_finishes():
    running = BackgroundStatus(task="finishing the demo", state=RUNNING, step="Scoring referrals", completed=1, total=4)
    note = background_note(running, shown_before=False)
    assert note.poll and "finishing the demo — now scoring referrals (25 %)" in note.text
    done = BackgroundStatus(task="finishing the demo", state=DONE)
    assert background_note(done, shown_before=True).text.endswith("Reload the page to see the results.")
    assert background_note(done, shown_before=True).poll is False
    assert background_note(done, shown_before=False) == (None, False)
    assert background_note(None, shown_before=False) == (None, False)
    failed = background_note(BackgroundStatus(task="x", state=FAILED, message="disk full"), shown_before=False)
    assert "Stopped in the background: x (disk full)" in failed.text and not failed.poll
    pending = background_note(BackgroundStatus(task="x", state=PENDING), shown_before=False)
    assert pending.poll and pending.text.startswith("Still running in the background: x.")


def test_the_first_start_serves_a_warehouse_with_referrals_and_marks_it_unfinished(loaded_demo):
    assert count(loaded_demo, "fact_referral") > 0
    assert count(loaded_demo, "analytics_run") == 0 and count(loaded_demo, "triage_model") == 0
    assert read_status(loaded_demo).state == PENDING and demo_needs_finishing(loaded_demo)


@pytest.mark.slow  # about a minute (the first analysis of every demo series); the browser tests' server runs it too
def test_finishing_adds_the_triage_model_and_the_analysis_and_leaves_no_copy_behind(finished_demo):
    demo_copy, result, referrals = finished_demo
    assert result.analysis_series > 0 and result.triage_model is not None
    assert count(demo_copy, "analytics_run") == 1 and count(demo_copy, "triage_model") == 1
    assert count(demo_copy, "triage_score") == referrals == count(demo_copy, "fact_referral")
    assert (demo_copy.parent / "warehouse.duckdb.models").is_dir()
    # the analyses kept for the next run's reuse moved with the warehouse (analytics/reuse.py)
    assert len(list((demo_copy.parent / "warehouse.duckdb.analysis-cache").glob("*.pkl"))) == 1
    assert sorted(p.name for p in demo_copy.parent.iterdir() if "finishing" in p.name) == []
    status = read_status(demo_copy)
    assert status.state == DONE and f"{result.analysis_series:,} series analysed" in status.message
    assert not demo_needs_finishing(demo_copy)


def test_a_finishing_that_fails_says_why_and_leaves_the_served_warehouse_as_it_was(demo_copy):
    before = demo_copy.read_bytes()
    (demo_copy.parent / "warehouse.duckdb.finishing").mkdir()  # in the way of the copy: the run must fail
    with pytest.raises(OSError):
        finish_demo_warehouse(demo_copy, jobs=1)
    status = read_status(demo_copy)
    assert status.state == FAILED and "finishing" in status.message
    assert demo_copy.read_bytes() == before and demo_needs_finishing(demo_copy)


@pytest.mark.slow
def test_the_background_process_finishes_the_demo_and_then_calls_back(demo_copy):
    called = []
    finish = BackgroundFinish(demo_copy, on_done=lambda: called.append(True), echo=lambda _line: None)
    finish.start()
    assert finish.wait(timeout=300) == 0
    assert called == [True] and read_status(demo_copy).state == DONE
    assert count(demo_copy, "analytics_run") == 1


def test_stopping_the_background_process_leaves_the_demo_to_finish_at_the_next_start(demo_copy):
    mark_pending(demo_copy, FINISH_TASK)
    finish = BackgroundFinish(demo_copy, echo=lambda _line: None)
    finish.start()
    finish.stop()
    assert finish.wait(timeout=30) not in (0, None)
    assert count(demo_copy, "analytics_run") == 0 and demo_needs_finishing(demo_copy)


def test_a_demo_rebuilt_in_full_is_not_finished_again(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    mark_pending(path, FINISH_TASK)  # left by an earlier first start that never finished
    build_demo_warehouse(path, scale=0.001, inputs=tmp_path / "demo", analyse=False, triage=False)
    assert read_status(path) is None and not demo_needs_finishing(path)
