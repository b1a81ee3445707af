"""The dashboard benchmark's raw-SQL reference: a reference query the reader's timeout stopped is reported as
stopped, not as a time (at 100 M referrals a distinct count over the facts passes the 30 s limit)."""

from __future__ import annotations

from benchmarks.dashboard import raw_text


def test_a_raw_reference_is_given_in_milliseconds_or_as_stopped_by_the_query_timeout():
    assert raw_text({"n": 5, "p50_ms": 283.6, "p95_ms": 301.2, "max_ms": 310.0}, "p95_ms") == "301"
    assert raw_text({"stopped_after_s": 30.0}, "p50_ms") == "stopped after 30 s"
