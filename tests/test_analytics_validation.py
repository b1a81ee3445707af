"""Scoring functions of analytics/validation.py: matching, precision/recall, entity flags, MASE, interval coverage."""

import importlib.util
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.results import EmergingParams, ForecastParams
from analytics.series import RegularPanel, RegularSeries
from analytics.validation import (
    EventCounts,
    first_flags,
    forecast_summary,
    held_out_intervals,
    interval_coverage,
    mase,
    match_events,
    period_index,
    rolling_statuses,
    score_changepoints,
    score_entities,
    total_counts,
    window_hits,
)

ROOT = Path(__file__).resolve().parents[1]


def test_period_index_finds_the_month_and_iso_week_holding_each_date():
    months = pd.date_range("2024-01-01", periods=6, freq="MS")
    assert period_index(
        ["2024-01-01", "2024-03-31", "2024-06-30", "2023-12-31", "2024-07-01"], months, "M"
    ).tolist() == [0, 2, 5, -1, -1]
    weeks = pd.date_range("2024-01-01", periods=4, freq="W-MON")  # Mondays
    assert period_index(["2024-01-07", "2024-01-08", "2024-01-28", "2024-01-29"], weeks, "W").tolist() == [0, 1, 3, -1]


def test_each_true_event_matches_at_most_one_detection_within_the_tolerance():
    matching = match_events([10, 30], [9, 11, 50], tolerance=2)
    assert len(matching.pairs) == 1 and matching.pairs[0][0] == 0
    assert match_events([10], [13], tolerance=2).pairs == ()
    assert match_events([10], [12], tolerance=2).pairs == ((0, 0),)


def test_matching_maximises_hits_rather_than_taking_the_nearest_pair_greedily():
    # greedy nearest-first would pair 11 with 10 and leave 12 unmatched; the best matching pairs both
    matching = match_events([10, 12], [11, 14], tolerance=2)
    assert matching.pairs == ((0, 0), (1, 1))


def test_change_point_score_separates_hits_misses_false_alarms_and_explained_detections():
    counts = score_changepoints(expected=[20, 60, -1], detected=[21, 40, 81], tolerance=2, explainable=[80])
    assert counts == EventCounts(tp=1, fp=1, fn=1, explained=1)
    assert counts.precision == 0.5 and counts.recall == 0.5


def test_counts_add_up_across_series_and_precision_is_undefined_without_detections():
    total = total_counts([EventCounts(1, 0, 1), EventCounts(0, 2, 0, 1)])
    assert total == EventCounts(1, 2, 1, 1)
    assert EventCounts(0, 0, 3).precision is None and EventCounts(0, 0, 3).recall == 0.0
    assert EventCounts().recall is None


def test_a_spike_window_counts_as_found_when_a_detection_lies_within_the_tolerance_of_it():
    assert window_hits([(10, 12), (30, 30), (50, 51)], [13, 27, 60], tolerance=1) == [True, False, False]
    assert window_hits([(5, 6)], [], tolerance=3) == [False]


def _panel() -> RegularPanel:
    ds = pd.date_range("2020-01-01", periods=36, freq="MS")
    t = np.arange(36)
    values = {
        "steady": np.full(36, 100.0),
        "newcomer": np.where(t >= 24, 2.0 ** (t - 20), 0.0),  # launched at period 24, growing fast
        "closing": np.where(t < 20, 50.0, 0.0),  # gone from period 20
    }
    frame = pd.concat([pd.DataFrame({"ds": ds, "entity": k, "y": v}) for k, v in values.items()], ignore_index=True)
    return RegularPanel(frame, "M")


def test_rolling_statuses_flag_a_launch_as_emerging_and_a_shutdown_as_vanishing_after_the_event():
    statuses = rolling_statuses(_panel(), EmergingParams())
    emerging, vanishing = first_flags(statuses, "emerging"), first_flags(statuses, "vanishing")
    assert set(emerging) == {"newcomer"} and 24 <= emerging["newcomer"] <= 27
    assert set(vanishing) == {"closing"} and 20 <= vanishing["closing"] <= 23
    assert statuses["cutoff"].min() == 14 and statuses["cutoff"].max() == 35


def test_entity_score_counts_late_flags_as_hits_and_early_or_unexpected_flags_as_false_alarms():
    counts, delays = score_entities({"a": 12, "b": 3, "c": 7}, {"a": 10, "b": 9, "d": 4}, tolerance=2)
    assert delays == {"a": 2, "b": None, "d": None}
    assert counts == EventCounts(tp=1, fp=2, fn=2)


def test_mase_scales_the_error_by_the_seasonal_naive_error_of_the_training_data():
    train = [1, 2, 3, 4, 2, 3, 4, 5]  # lag-4 differences are all 1
    assert mase([6, 7], [5, 5], train, lag=4) == pytest.approx(1.5)
    assert mase([3, 3], [3, 3], [3, 3, 3], lag=1) == 0.0
    assert math.isinf(mase([4], [3], [3, 3, 3], lag=1))
    with pytest.raises(ValueError, match="equally long"):
        mase([1, 2], [1], train)


def test_forecast_summary_reports_medians_and_how_often_the_reference_model_wins():
    frame = pd.DataFrame({"chosen": [0.5, 1.0, 2.0, np.nan], "naive": [1.0, 1.0, 1.0, 3.0]})
    summary = forecast_summary(frame, "chosen", ["naive"]).set_index("model")
    assert summary.loc["chosen", "median_mase"] == 1.0 and summary.loc["chosen", "series"] == 3
    assert summary.loc["naive", "median_mase"] == 1.0 and summary.loc["naive", "series"] == 4
    assert summary.loc["naive", "reference_wins"] == pytest.approx(0.5)  # one win, one tie, one loss


def test_interval_coverage_counts_the_bounds_as_inside():
    assert interval_coverage([1.0, 2.0, 3.0, 4.0], [1.0, 0.0, 3.5, 0.0], [1.0, 1.0, 4.0, 4.0]) == 0.5
    with pytest.raises(ValueError, match="equally long"):
        interval_coverage([1.0], [0.0, 0.0], [2.0, 2.0])


def test_a_held_out_forecast_scores_the_models_own_and_the_calibrated_interval_on_the_same_model():
    rng = np.random.default_rng(3)
    t = np.arange(96)
    y = 100 + 2 * t + 20 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 4, 96)
    series = RegularSeries(pd.DataFrame({"ds": pd.date_range("2015-01-01", periods=96, freq="MS"), "y": y}), "M")
    held = held_out_intervals(series, 84, ForecastParams(horizon=24))
    assert len(held.actual) == 12 and held.actual.tolist() == y[84:].tolist()  # only what there is after the cut
    assert 0 <= held.own <= 1 and 0 <= held.calibrated <= 1 and held.calibration_factor > 0
    assert held.backtest.model == held.model and held.backtest.calibrated_coverage is not None
    with pytest.raises(ValueError, match="nothing is held out"):
        held_out_intervals(series, 96, ForecastParams(horizon=12))


def _script():
    spec = importlib.util.spec_from_file_location("validate_analytics", ROOT / "scripts" / "validate_analytics.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_validation_script_explains_its_options_and_refuses_bad_ones(capsys):
    script = _script()
    with pytest.raises(SystemExit) as done:
        script.parse_args(["--help"])
    assert done.value.code == 0
    help_text = capsys.readouterr().out
    for option in ("--seeds", "--scale", "--out", "--jobs", "--parts"):
        assert option in help_text
    args = script.parse_args(["--seeds", "4,5", "--parts", "real,intervals"])
    assert args.seeds == [4, 5] and args.parts == ["real", "intervals"]
    for bad in (["--seeds", "x"], ["--parts", "everything"], ["--scale", "0"]):
        with pytest.raises(SystemExit) as refused:
            script.parse_args(bad)
        assert refused.value.code == 2


def test_validation_script_rewrites_only_the_text_between_its_markers(tmp_path):
    script = _script()
    doc = tmp_path / "doc.md"
    script.write_block(doc, "real", "first table")
    doc.write_text(doc.read_text().replace("# Analytics validation", "# Analytics validation\n\nHand-written."))
    script.write_block(doc, "real", "second table")
    text = doc.read_text()
    assert "Hand-written." in text and "second table" in text and "first table" not in text


def test_the_suite_table_reports_the_development_blocks_coverage_beside_the_held_out_one():
    script = _script()
    frame = pd.DataFrame(
        {
            "key": ["a", "b"],
            "name": ["Series A", "Series B"],
            "freq": ["Q", "M"],
            "points": [100, 300],
            "horizon": [8, 24],
            "ours_model": ["ets", "drift"],
            "ours_spec": ["ETS(A,A,N)", "drift"],
            "ours": [1.0, 2.0],
            "ours_cover": [0.5, 1.0],
            "ours_seconds": [0.1, 0.2],
            "seasonal_naive": [1.5, 1.5],
            "seasonal_naive_cover": [0.75, 0.75],
            "seasonal_naive_seconds": [0.0, 0.0],
            "dev_cover": [[1.0, 0.5], [0.75]],
        }
    )
    text = script.suite_tables(frame)
    assert "| mean coverage | | | | | 75 % | 75 % |" in text
    assert "| coverage pooled over every held-out point | | | | | 88 % | 75 % |" in text  # (8 x 0.5 + 24) / 32
    # blocks 1.0, 0.5 (8 points each) and 0.75 (24 points): mean 75 %, pooled (8 + 4 + 18) / 40 = 75 %
    assert "Development set (ours only): 3 blocks" in text and "coverage 75 % on average" in text
    assert "1 of 3 blocks within 10 points" in text
