"""Building regular series from tables: parsing, validation with row/column-naming errors, calendars."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.series import SeriesInputError, TooFewPointsError, infer_freq, read_series, to_panel, to_series


def table(dates, values, date_col="date", value_col="value"):
    return pd.DataFrame({date_col: [str(d) for d in dates], value_col: [str(v) for v in values]})


def test_missing_months_become_explicit_zeros_labelled_by_their_first_day():
    series = to_series(table(["2023-01", "2023-02", "2023-05"], [5, 7, 9]), "date", "value")
    assert series.freq == "M"
    assert series.frame["ds"].dt.strftime("%Y-%m-%d").tolist() == [
        "2023-01-01",
        "2023-02-01",
        "2023-03-01",
        "2023-04-01",
        "2023-05-01",
    ]
    assert series.y.tolist() == [5, 7, 0, 0, 9]
    assert any("explicit zeros" in note for note in series.notes)


def test_daily_rows_add_up_to_iso_weeks_starting_on_monday():
    days = pd.date_range("2024-01-01", "2024-01-28", freq="D")  # Monday 1 January to Sunday 28 January
    series = to_series(table(days.strftime("%Y-%m-%d"), [1] * len(days)), "date", "value", freq="W")
    assert series.frame["ds"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-01-01",
        "2024-01-08",
        "2024-01-15",
        "2024-01-22",
    ]
    assert series.y.tolist() == [7, 7, 7, 7]


@pytest.mark.parametrize(
    "dates, expected",
    [
        (pd.date_range("2024-01-01", periods=10, freq="D"), "D"),
        (pd.date_range("2024-01-01", periods=10, freq="W-MON"), "W"),
        (pd.date_range("2024-01-01", periods=10, freq="MS"), "M"),
        (pd.date_range("2024-01-01", periods=10, freq="QS"), "Q"),
        (pd.date_range("2014-01-01", periods=10, freq="YS"), "Y"),
    ],
)
def test_the_frequency_is_inferred_from_the_spacing_of_the_dates(dates, expected):
    assert infer_freq(pd.Series(dates)) == expected


def test_iso_weeks_and_quarters_are_understood():
    weeks = to_series(table(["2024-W01", "2024-W02", "2024-W04"], [1, 2, 4]), "date", "value")
    assert weeks.freq == "W" and weeks.y.tolist() == [1, 2, 0, 4]
    assert weeks.ds[0] == pd.Timestamp("2024-01-01")
    quarters = to_series(table(["2023-Q1", "2023Q2", "2023-Q4"], [1, 2, 4]), "date", "value")
    assert quarters.freq == "Q" and quarters.y.tolist() == [1, 2, 0, 4]


def test_a_half_observed_last_month_is_dropped_rather_than_reported_as_a_dip():
    days = pd.date_range("2024-01-01", "2024-04-15", freq="D")
    series = to_series(table(days.strftime("%Y-%m-%d"), [10] * len(days)), "date", "value", freq="M")
    assert series.ds[-1] == pd.Timestamp("2024-03-01")
    assert any("2024-04" in note and "partly" in note for note in series.notes)


def test_an_unparseable_date_is_refused_naming_the_row_and_column():
    with pytest.raises(SeriesInputError, match=r"row 2, field 'date': cannot parse date '03/02/2023'"):
        to_series(table(["2023-01-01", "03/02/2023"], [1, 2]), "date", "value")


def test_a_missing_date_is_refused():
    with pytest.raises(SeriesInputError, match=r"row 3, field 'date': missing date"):
        to_series(table(["2023-01-01", "2023-01-02", ""], [1, 2, 3]), "date", "value")


def test_a_duplicated_date_is_refused_naming_both_rows():
    with pytest.raises(SeriesInputError, match=r"row 3, field 'date': duplicated date 2023-01-01 \(first at row 1\)"):
        to_series(table(["2023-01-01", "2023-01-02", "2023-01-01"], [1, 2, 3]), "date", "value")


@pytest.mark.parametrize(
    "bad, reason",
    [("twelve", "not a finite number: 'twelve'"), ("", "missing value"), ("inf", "not a finite number: 'inf'")],
)
def test_a_non_numeric_value_is_refused_naming_the_row_and_column(bad, reason):
    with pytest.raises(SeriesInputError, match=rf"row 2, field 'value': {reason}"):
        to_series(table(["2023-01-01", "2023-01-02"], [1, bad]), "date", "value")


def test_a_missing_column_is_refused_naming_it_and_the_columns_there_are(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("day,count\n2023-01-01,1\n", encoding="utf-8")
    with pytest.raises(SeriesInputError, match=r"field 'value': column not found \(the header has: day, count\)"):
        read_series(path, "day", "value")


def test_too_few_points_for_the_analysis_is_refused():
    series = to_series(table(["2023-01", "2023-02", "2023-03"], [1, 2, 3]), "date", "value")
    with pytest.raises(TooFewPointsError, match="only 3 monthly point"):
        series.require(8, "trend analysis")


def test_asking_for_a_finer_frequency_than_the_dates_have_is_refused():
    with pytest.raises(SeriesInputError, match="the dates are monthly; cannot analyse them per day"):
        to_series(table(["2023-01", "2023-02", "2023-03"], [1, 2, 3]), "date", "value", freq="D")


def test_a_panel_puts_every_entity_on_one_calendar_with_zeros():
    frame = pd.DataFrame(
        {
            "date": ["2023-01", "2023-02", "2023-03", "2023-03"],
            "country": ["AUT", "AUT", "AUT", "BEL"],
            "n": ["1", "2", "3", "4"],
        }
    )
    panel = to_panel(frame, "date", "country", "n")
    wide = panel.wide()
    assert wide.columns.tolist() == ["AUT", "BEL"]
    assert wide["BEL"].tolist() == [0, 0, 4]
    assert panel.total().y.tolist() == [1, 2, 7]


def test_the_same_date_may_repeat_across_entities_but_not_within_one():
    frame = pd.DataFrame(
        {"date": ["2023-01", "2023-01", "2023-01"], "country": ["AUT", "BEL", "AUT"], "n": ["1", "2", "3"]}
    )
    with pytest.raises(SeriesInputError, match=r"row 3, field 'date': duplicated date 2023-01-01 for entity 'AUT'"):
        to_panel(frame, "date", "country", "n")
