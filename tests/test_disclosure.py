"""The small-cell rule (`grace.disclosure`): primary and complementary suppression, on synthetic counts."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grace.disclosure import (
    DEFAULT_MIN_CELL,
    MARKER,
    DisclosureError,
    default_margins,
    min_cell,
    no_counts,
    recoverable_cells,
    suppress,
)


def table(values: dict[tuple, int], columns=("month", "country")) -> pd.DataFrame:
    """A tidy frame from {(cell key…): count}."""
    return pd.DataFrame([(*key, n) for key, n in values.items()], columns=[*columns, "referrals"])


def hidden_keys(result, columns=("month", "country")) -> set[tuple]:
    rows = result.original[result.suppressed]
    return set(map(tuple, rows[list(columns)].itertuples(index=False, name=None)))


def independently_recoverable(frame, hidden, cell_columns, k=None) -> set[int]:
    """Oracle written apart from the module: e_j is in the margins' row space iff adding it keeps the rank.

    With `k`, margins totalling 1 … k-1 are unpublished and only positive hidden cells count.
    """
    hidden_rows = np.flatnonzero(hidden)
    equations = []
    for dropped in cell_columns:
        keep = [c for c in cell_columns if c != dropped]
        keys = frame[keep].astype(str).agg("|".join, axis=1) if keep else pd.Series("all", index=frame.index)
        for key in keys.unique():
            members = np.flatnonzero((keys == key).to_numpy())
            total = frame["n"].to_numpy()[members].sum() if "n" in frame else None
            if len(members) < 2 or (k is not None and 0 < total < k):
                continue
            equations.append([1.0 if row in members else 0.0 for row in hidden_rows])
    if not equations or not len(hidden_rows):
        return set()
    matrix = np.array(equations)
    rank = np.linalg.matrix_rank(matrix)
    out = set()
    for j, row in enumerate(hidden_rows):
        unit = np.zeros(len(hidden_rows))
        unit[j] = 1.0
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank and (k is None or frame["n"].iloc[row] > 0):
            out.add(int(row))
    return out


# --- the threshold -----------------------------------------------------------------------------


def test_the_threshold_defaults_to_ten(monkeypatch):
    monkeypatch.delenv("GRACE_MIN_CELL", raising=False)
    assert min_cell() == DEFAULT_MIN_CELL == 10


def test_the_threshold_comes_from_the_environment_unless_an_argument_overrides_it(monkeypatch):
    monkeypatch.setenv("GRACE_MIN_CELL", "25")
    assert min_cell() == 25
    assert min_cell(5) == 5
    frame = table({("2024-01", "DEU"): 20, ("2024-01", "FRA"): 30, ("2024-01", "ITA"): 40})
    assert suppress(frame, ["referrals"], ["month", "country"]).k == 25


@pytest.mark.parametrize("value", ["ten", "10.5", "1", "0", "-3"])
def test_a_bad_threshold_in_the_environment_is_refused_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("GRACE_MIN_CELL", value)
    with pytest.raises(DisclosureError, match=r"\$GRACE_MIN_CELL"):
        min_cell()


# --- primary suppression -----------------------------------------------------------------------


def test_counts_from_one_to_k_minus_one_are_suppressed_and_zeros_and_k_are_shown():
    frame = table(
        {("2024-01", c): n for c, n in zip(("AUT", "BEL", "DEU", "FRA", "ITA", "NLD"), (0, 1, 9, 10, 50, 60))}
    )
    result = suppress(frame, ["referrals"], ["country"], k=10)
    assert set(result.original.loc[result.primary, "country"]) == {"BEL", "DEU"}
    shown = result.frame.set_index("country")["referrals"]
    assert shown["AUT"] == 0 and shown["FRA"] == 10 and shown["ITA"] == 50
    assert np.isnan(shown["BEL"]) and np.isnan(shown["DEU"])


def test_a_single_small_cell_takes_the_next_smallest_positive_cell_with_it():
    # Total of the month is derivable; BEL alone hidden would be total minus the others.
    frame = table(
        {
            ("2024-01", "AUT"): 0,
            ("2024-01", "BEL"): 4,
            ("2024-01", "DEU"): 40,
            ("2024-01", "FRA"): 12,
            ("2024-01", "ITA"): 12,
        }
    )
    result = suppress(frame, ["referrals"], ["country"])
    # FRA and ITA tie at 12: row order breaks the tie; the zero is not preferred.
    assert hidden_keys(result) == {("2024-01", "BEL"), ("2024-01", "FRA")}
    assert result.complementary.sum() == 1


def test_a_zero_is_hidden_as_a_complement_only_when_no_positive_cell_is_left():
    frame = table({("2024-01", "AUT"): 0, ("2024-01", "BEL"): 4})
    result = suppress(frame, ["referrals"], ["country"])
    assert hidden_keys(result) == {("2024-01", "AUT"), ("2024-01", "BEL")}


def test_two_small_cells_whose_sum_is_still_small_take_a_third_with_them():
    # BEL + DEU = 3 could be derived from the total; that sum is itself a small cell.
    frame = table({("2024-01", "BEL"): 1, ("2024-01", "DEU"): 2, ("2024-01", "FRA"): 30, ("2024-01", "ITA"): 31})
    result = suppress(frame, ["referrals"], ["country"])
    assert hidden_keys(result) == {("2024-01", "BEL"), ("2024-01", "DEU"), ("2024-01", "FRA")}


def test_complementary_suppression_protects_both_the_row_and_the_column_totals():
    values = {(m, c): 50 for m in ("2024-01", "2024-02", "2024-03") for c in ("DEU", "FRA", "ITA")}
    values[("2024-02", "FRA")] = 3
    values[("2024-01", "ITA")] = 20
    values[("2024-03", "DEU")] = 21
    values[("2024-01", "DEU")] = 22
    result = suppress(table(values), ["referrals"], ["month", "country"])
    hidden = hidden_keys(result)
    assert ("2024-02", "FRA") in hidden
    frame = result.original.assign(hidden=result.suppressed)
    for column in ("month", "country"):
        per_group = frame.groupby(column)["hidden"].sum()
        assert set(per_group) <= {0, 2, 3}, per_group
    assert not recoverable_cells(frame, result.suppressed, ["month", "country"]).any()


def test_a_cell_fixed_only_by_several_margins_together_is_found_and_protected():
    # Two 2×2 blocks of hidden cells joined by one hidden cell (1, 2): every row and column has
    # two or more hidden cells summing to ≥ k, yet (1, 2) follows from the margins.
    cells = list(itertools.product(range(4), range(4)))
    pattern = {(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (1, 2)}
    frame = pd.DataFrame([(r, c, 5 if (r, c) in pattern else 50) for r, c in cells], columns=["r", "c", "n"])
    flagged = recoverable_cells(frame, [cell in pattern for cell in cells], ["r", "c"])
    assert [cells[i] for i in np.flatnonzero(flagged)] == [(1, 2)]

    result = suppress(frame, ["n"], ["r", "c"])
    assert result.suppressed.sum() > len(pattern)
    assert not recoverable_cells(frame, result.suppressed, ["r", "c"]).any()
    assert independently_recoverable(frame, result.suppressed.to_numpy(), ["r", "c"]) == set()


def test_a_cell_alone_in_its_group_has_no_margin_to_protect():
    frame = table({("2024-01", "DEU"): 3, ("2024-02", "FRA"): 40})
    result = suppress(frame, ["referrals"], ["month", "country"])
    assert hidden_keys(result) == {("2024-01", "DEU")}


def test_without_cell_columns_only_primary_suppression_applies():
    frame = pd.DataFrame({"referrals": [3, 40, 0]})
    result = suppress(frame, ["referrals"])
    assert result.suppressed.tolist() == [True, False, False]


# --- what is blanked ---------------------------------------------------------------------------


def test_shares_and_rates_of_a_suppressed_row_are_blanked_but_labels_and_flags_are_kept():
    frame = pd.DataFrame(
        {
            "month": ["2024-01"] * 3,
            "country": ["DEU", "FRA", "ITA"],
            "referrals": [4, 30, 66],
            "share": [0.04, 0.30, 0.66],
            "per_100k": [0.005, 0.04, 0.11],
            "is_partial": [True, True, True],
            "country_name": ["Germany", "France", "Italy"],
        }
    )
    result = suppress(frame, ["referrals"], ["country"])
    hidden = result.frame[result.suppressed]
    assert hidden[["referrals", "share", "per_100k"]].isna().all().all()
    assert hidden["is_partial"].tolist() == [True, True]
    assert hidden["country_name"].tolist() == ["Germany", "France"]
    assert result.blanked_columns == ("referrals", "share", "per_100k")


def test_derived_columns_can_be_named_explicitly():
    frame = pd.DataFrame(
        {
            "country": ["DEU", "FRA", "ITA"],
            "referrals": [4, 30, 66],
            "population": [83, 68, 59],
            "share": [0.04, 0.30, 0.66],
        }
    )
    result = suppress(frame, ["referrals"], ["country"], derived_columns=["share"])
    assert result.frame["population"].tolist() == [83, 68, 59]


def test_several_count_columns_hide_the_whole_row_when_any_is_small():
    frame = pd.DataFrame(
        {"country": ["DEU", "FRA", "ITA", "NLD"], "referrals": [40, 30, 66, 50], "files": [400, 5, 660, 500]}
    )
    result = suppress(frame, ["referrals", "files"], ["country"])
    # FRA has 5 files; its complement is the smallest referral count left (DEU, 40).
    assert result.original.loc[result.suppressed, "country"].tolist() == ["DEU", "FRA"]
    assert result.frame.loc[result.suppressed, ["referrals", "files"]].isna().all().all()


def test_the_csv_frame_keeps_integers_and_marks_hidden_cells():
    frame = table({("2024-01", "DEU"): 4, ("2024-01", "FRA"): 30, ("2024-01", "ITA"): 66})
    result = suppress(frame, ["referrals"], ["country"])
    csv = result.csv_frame().to_csv(index=False)
    assert "2024-01,DEU,suppressed" in csv and "2024-01,FRA,suppressed" in csv
    assert "2024-01,ITA,66\n" in csv
    assert MARKER == "suppressed"


def test_the_note_states_k_and_how_many_cells_are_hidden_without_saying_which_were_small():
    frame = table({("2024-01", "DEU"): 4, ("2024-01", "FRA"): 30, ("2024-01", "ITA"): 66})
    note = suppress(frame, ["referrals"], ["country"], k=10).note
    assert "k=10" in note and "2 of 3 cells" in note and "Zero counts are shown" in note
    assert "DEU" not in note and "FRA" not in note
    clean = suppress(table({("2024-01", "DEU"): 40}), ["referrals"], ["country"]).note
    assert "nothing suppressed" in clean


def test_missing_counts_are_not_cells_and_stay_missing():
    frame = pd.DataFrame({"country": ["DEU", "FRA", "ITA"], "referrals": [4.0, np.nan, 66.0]})
    result = suppress(frame, ["referrals"], ["country"])
    # FRA is not a cell: DEU needs ITA as its complement.
    assert result.suppressed.tolist() == [True, False, True]


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"country": ["DEU"], "n": [-1]}), r"count column 'n', row 0: -1"),
        (pd.DataFrame({"country": ["DEU", "FRA"], "n": [1, 2.5]}), r"row 1: 2.5 is not a non-negative whole"),
        (pd.DataFrame({"country": ["DEU"], "n": ["7"]}), r"'n' is not numeric"),
        (pd.DataFrame({"country": ["DEU", "DEU"], "n": [1, 2]}), r"row 0: cell \(country='DEU'\) appears more"),
        (pd.DataFrame({"country": ["DEU"], "m": [1]}), r"count column\(s\) not in the frame: n"),
    ],
)
def test_frames_the_rule_cannot_apply_to_are_refused_naming_the_row_and_column(frame, message):
    with pytest.raises(DisclosureError, match=message):
        suppress(frame, ["n"], ["country"])


def test_default_margins_drop_one_cell_column_at_a_time():
    assert default_margins(["month", "country", "platform"]) == [
        ("country", "platform"),
        ("month", "platform"),
        ("month", "country"),
    ]
    assert default_margins(["month"]) == [()]


def test_the_result_is_deterministic():
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        [(m, c, int(rng.integers(0, 30))) for m in range(12) for c in range(8)],
        columns=["month", "country", "referrals"],
    )
    first = suppress(frame, ["referrals"], ["month", "country"])
    second = suppress(frame.copy(), ["referrals"], ["month", "country"])
    assert first.suppressed.tolist() == second.suppressed.tolist()


# --- properties --------------------------------------------------------------------------------

counts = st.one_of(st.integers(0, 12), st.integers(0, 200))


@st.composite
def tables(draw, dims: int):
    sizes = [draw(st.integers(1, 5)) for _ in range(dims)]
    names = [f"d{i}" for i in range(dims)]
    keys = list(itertools.product(*[range(n) for n in sizes]))
    # Some cells absent (ragged tables) — but keep at least one.
    present = draw(st.lists(st.booleans(), min_size=len(keys), max_size=len(keys)))
    keys = [key for key, keep in zip(keys, present) if keep] or keys[:1]
    values = draw(st.lists(counts, min_size=len(keys), max_size=len(keys)))
    frame = pd.DataFrame(keys, columns=names).assign(n=values)
    return frame, names, draw(st.integers(2, 15))


def check_protected(frame: pd.DataFrame, names: list[str], k: int) -> None:
    result = suppress(frame, ["n"], names, k=k)
    hidden = result.suppressed.to_numpy()
    n = frame["n"].to_numpy()
    # Every small cell is hidden; every visible value is the true one.
    assert hidden[(n > 0) & (n < k)].all()
    shown = result.frame["n"].to_numpy()
    assert np.array_equal(shown[~hidden], n[~hidden])
    assert np.isnan(shown[hidden]).all()
    # Per margin: no lone hidden cell, and what a margin minus its visible cells reveals is 0 or ≥ k.
    data = frame.assign(hidden=hidden, hidden_n=np.where(hidden, n, 0))
    for margin in default_margins(names):
        grouped = data.groupby(list(margin)) if margin else data.groupby(lambda _: 0)
        stats = grouped.agg(size=("n", "size"), hidden=("hidden", "sum"), derivable=("hidden_n", "sum"))
        stats = stats[stats["size"] >= 2]
        assert not (stats["hidden"] == 1).any()
        # (A wholly hidden group reveals only its own total: a cell of its own that the rule governs.)
        partly_hidden = stats["hidden"] < stats["size"]
        assert not (partly_hidden & (stats["derivable"] > 0) & (stats["derivable"] < k)).any()
    # No hidden cell follows from the visible cells and margins — except residual ones, which
    # only totals can fix because every cell sharing a margin with them is hidden too.
    residual = set(np.flatnonzero(result.residual.to_numpy()))
    assert independently_recoverable(frame, hidden, names, k=k) == residual
    assert set(np.flatnonzero(recoverable_cells(frame, hidden, names, count_columns=["n"], k=k))) == residual
    data = frame.assign(hidden=hidden)
    for row in residual:
        for margin in default_margins(names):
            same = (data[list(margin)] == data.loc[row, list(margin)]).all(axis=1) if margin else data.index >= 0
            assert data.loc[same, "hidden"].all()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(dims=2))
def test_no_suppressed_count_of_a_two_way_table_can_be_recovered_from_its_margins(case):
    check_protected(*case)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(tables(dims=1), tables(dims=3)))
def test_no_suppressed_count_of_a_one_or_three_way_table_can_be_recovered_from_its_margins(case):
    check_protected(*case)


def test_a_table_without_counts_is_passed_through_only_when_asked_for_explicitly():
    frame = pd.DataFrame({"batch": ["b1", "b2"], "seconds": [3.5, 4.0]})
    with pytest.raises(DisclosureError, match="no count column"):
        suppress(frame, [])
    result = no_counts(frame)
    assert result.csv_frame().equals(frame) and not result.suppressed.any()
    assert "holds no counts" in result.note


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.integers(1, 6), columns=st.integers(1, 6), data=st.data())
def test_the_graph_check_of_two_way_tables_agrees_with_the_rank_oracle(rows, columns, data):
    """Any hidden pattern in a one- or two-way table: the bridge search finds exactly the cells the
    margins pin down (each cell is in a row group and a column group; lone rows/columns are no margin)."""
    frame = pd.DataFrame([(r, c) for r in range(rows) for c in range(columns)], columns=["r", "c"])
    hidden = np.array(data.draw(st.lists(st.booleans(), min_size=len(frame), max_size=len(frame))))
    flagged = set(np.flatnonzero(recoverable_cells(frame, hidden, ["r", "c"])))
    assert flagged == independently_recoverable(frame, hidden, ["r", "c"])


def test_a_large_sparse_two_way_table_is_protected_without_dense_algebra():
    """Days × countries with many small cells (the Trend explorer split by country at day grain): one
    connected block of thousands of hidden cells, which the graph check handles exactly."""
    rng = np.random.default_rng(3)
    days = pd.date_range("2020-01-01", periods=1500, freq="D")
    frame = pd.DataFrame([(day, country) for day in days for country in range(27)], columns=["ds", "entity"])
    frame["n"] = rng.poisson(np.tile(np.geomspace(0.5, 400, 27), len(days)))
    result = suppress(frame, ["n"], ["ds", "entity"])
    assert result.suppressed.sum() > 5_000
    recoverable = recoverable_cells(frame, result.suppressed, ["ds", "entity"], count_columns=["n"])
    assert recoverable.equals(result.residual)  # only what totals published elsewhere could pin down
