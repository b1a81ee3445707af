"""The warehouse-growing benchmark's bookkeeping: when it stops, what it records, how it marks the stamp."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.extend_warehouse import (  # noqa: E402
    EXTENDED,
    deadline_at,
    mark_extended,
    next_year_fits,
    stage_totals,
)

MORNING = datetime(2026, 12, 7, 8, 0)


def test_a_deadline_later_today_is_today_and_one_already_past_is_tomorrow():
    assert deadline_at("09:40", MORNING) == datetime(2026, 12, 7, 9, 40)
    assert deadline_at("07:00", MORNING) == datetime(2026, 12, 8, 7, 0)
    assert deadline_at(None, MORNING) is None


def test_another_year_is_started_only_when_it_would_end_before_the_deadline():
    years = {"2026": {"simulate_s": 60.0, "etl_s": 540.0}}  # ten minutes a year
    assert next_year_fits(years, datetime(2026, 12, 7, 8, 10), MORNING)
    assert not next_year_fits(years, datetime(2026, 12, 7, 8, 9), MORNING)
    assert next_year_fits(years, None, MORNING)
    assert next_year_fits({}, datetime(2026, 12, 7, 8, 1), MORNING)
    assert not next_year_fits({}, datetime(2026, 12, 7, 7, 59), MORNING)


def test_the_latest_year_judges_the_next_not_the_first():
    years = {"2026": {"simulate_s": 10.0, "etl_s": 50.0}, "2027": {"simulate_s": 10.0, "etl_s": 890.0}}
    assert not next_year_fits(years, datetime(2026, 12, 7, 8, 10), MORNING)


def test_stage_seconds_are_summed_over_the_batches_of_a_run():
    report = {"batches": [{"stage_seconds": {"match": 1.25, "rollup": 2.0}}, {"stage_seconds": {"match": 0.5}}]}
    assert stage_totals(report) == {"match": 1.75, "rollup": 2.0}


def test_a_grown_warehouse_stamp_is_marked_once_and_keeps_its_scale(tmp_path):
    stamp = tmp_path / "stamp.json"
    stamp.write_text(json.dumps({"stamp": "abc", "scale": 1.2878}))
    mark_extended(stamp, {"years": {"2027": {}, "2026": {}}, "fact_referral": 12})
    mark_extended(stamp, {"years": {"2027": {}, "2026": {}, "2028": {}}, "fact_referral": 15})
    marked = json.loads(stamp.read_text())
    assert marked["stamp"] == EXTENDED + "abc"
    assert marked["scale"] == 1.2878
    assert marked["extended"] == {"years": ["2026", "2027", "2028"], "fact_referral": 15}
