"""Monitoring the triage model: PSI and its sampling noise, a shift flagged within two weeks, weekly ECE."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from classification.features import BOOLEAN, CATEGORICAL, NUMERIC
from classification.monitoring import DriftParams, psi, weekly_calibration, weekly_drift


def frame_of(n: int, start: date, rng: np.random.Generator, live_share: float = 0.1) -> pd.DataFrame:
    """Synthetic feature rows over consecutive days (codes only)."""
    days = [start + timedelta(days=int(d)) for d in rng.integers(0, max(7, 7 * (n // 700)), n)]
    frame = pd.DataFrame({"received_date": days})
    for name in CATEGORICAL:
        frame[name] = rng.choice(["a", "b", "c"], n)
    for name in BOOLEAN:
        frame[name] = rng.random(n) < 0.3
    for name in NUMERIC:
        frame[name] = rng.poisson(2, n)
    frame["files_live_streaming"] = (rng.random(n) < live_share).astype(int)
    frame["label"] = pd.array(rng.random(n) < 0.2, dtype="Int64")
    return frame


def test_psi_is_zero_for_equal_distributions_and_grows_with_the_shift():
    assert psi([50, 50], [50, 50]) == 0
    assert 0 < psi([50, 50], [60, 40]) < psi([50, 50], [90, 10])


def test_a_shift_is_flagged_from_its_first_full_week_and_the_same_distribution_is_not():
    rng = np.random.default_rng(5)
    reference = frame_of(20_000, date(2024, 1, 1), rng)
    steady = frame_of(2_100, date(2024, 6, 3), rng)  # three weeks, same distribution
    shifted = frame_of(1_400, date(2024, 6, 24), rng, live_share=0.5)  # two weeks, live streaming 10 % -> 50 %
    watched = pd.concat([steady, shifted], ignore_index=True)
    probability = rng.random(len(watched))
    drift = weekly_drift(watched, reference, probability, rng.random(5_000), DriftParams())
    flagged = drift.loc[drift["drifted"]]
    assert set(flagged["feature"]) == {"files_live_streaming"}
    assert sorted(flagged["week"]) == [date(2024, 6, 24), date(2024, 7, 1)]
    assert (drift.loc[drift["feature"] == "files_live_streaming", "noise"] > 0).all()


def test_weekly_calibration_reports_ece_for_weeks_with_enough_labels():
    rng = np.random.default_rng(1)
    frame = frame_of(3_000, date(2024, 3, 4), rng)
    probability = np.full(len(frame), 0.2)
    table = weekly_calibration(frame, probability)
    assert len(table) >= 3 and (table["ece"] < 0.06).all() and np.allclose(table["predicted"], 0.2)


def test_a_step_change_is_a_sudden_shift_in_its_first_week_while_steady_weeks_are_not():
    from classification.monitoring import weekly_shift

    rng = np.random.default_rng(9)
    steady = frame_of(12 * 700, date(2024, 3, 4), rng)  # twelve weeks of 700
    step = frame_of(1_400, date(2024, 5, 27), rng, live_share=0.5)
    frame = pd.concat([steady, step], ignore_index=True)
    table = weekly_shift(frame, rng.random(len(frame)), since=date(2024, 5, 20))
    flagged = table.loc[table["drifted"]]
    assert set(flagged["feature"]) == {"files_live_streaming"}
    assert sorted(flagged["week"])[0] == date(2024, 5, 27)
    assert not table.loc[table["week"] == date(2024, 5, 20), "drifted"].any()


def test_a_flag_that_is_mostly_false_in_training_and_turns_true_is_flagged():
    """Deciles that collapse to 0 still separate zeros from non-zeros (a rare flag, a count mostly 0)."""
    rng = np.random.default_rng(2)
    reference = frame_of(20_000, date(2024, 1, 1), rng)
    reference["has_minor_to_minor"] = rng.random(len(reference)) < 0.03
    watched = frame_of(700, date(2024, 6, 3), rng)
    watched["has_minor_to_minor"] = True
    drift = weekly_drift(watched, reference, rng.random(len(watched)), rng.random(5_000), DriftParams())
    row = drift.loc[drift["feature"] == "has_minor_to_minor"].iloc[0]
    assert row["drifted"] and row["value"] > 3


def test_sudden_shifts_bin_each_week_exactly_as_binning_its_own_window_would():
    """`weekly_shift` prepares each column once; every week must still get the bins `_bins` defines on
    that week's 12 weeks before, including codes missing or absent from a window and many-valued counts."""
    from classification.features import FEATURES
    from classification.monitoring import SHIFT_WEEKS, _bins, _row, _weeks, weekly_shift

    rng = np.random.default_rng(4)
    frame = frame_of(20 * 700, date(2024, 1, 1), rng)
    frame["country_iso3"] = pd.Series(rng.choice(["a", "b", "c", None], len(frame)), dtype=object)
    late = pd.to_datetime(frame["received_date"]) >= pd.Timestamp(2024, 4, 1)
    frame.loc[late, "platform_name"] = "d"  # a code no earlier window holds
    frame["file_count"] = rng.poisson(30, len(frame))  # more than 10 values: deciles
    probability = rng.random(len(frame))
    since = date(2024, 3, 4)

    table = weekly_shift(frame, probability, since)

    weeks = _weeks(frame)
    expected = []
    for week in sorted({w for w in weeks if w >= since}):
        current = weeks == week
        before = (weeks < week) & (weeks >= week - timedelta(weeks=SHIFT_WEEKS))
        for column in [*FEATURES, "__score__"]:
            values = pd.Series(probability) if column == "__score__" else frame[column]
            categorical = column in CATEGORICAL
            index, size = _bins(values[current | before], values[before], categorical)
            bins = np.full(len(values), -1)
            bins[np.flatnonzero(current | before)] = index
            measure = "score_shift" if column == "__score__" else "feature_shift"
            expected.append(
                _row(
                    week,
                    measure,
                    column,
                    np.bincount(bins[before], minlength=size),
                    np.bincount(bins[current], minlength=size),
                    DriftParams(),
                )
            )
    assert table.to_dict("records") == expected
