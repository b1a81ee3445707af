"""A report table's cells as the outputs print them: text exactly as given, numbers marked for alignment.

The content builder has already suppressed the small cells (they hold the text `suppressed`), so the
renderers add no formatting of their own: a value is printed as it is, a missing one as an empty cell.
Numbers (and the suppression marker in a numeric column) are right-aligned by the HTML and the deck alike.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import pandas as pd

from grace.disclosure import MARKER


@dataclass(frozen=True)
class Cell:
    """One printed cell: its text and whether it lines up as a number (right-aligned)."""

    text: str
    numeric: bool = False


@dataclass(frozen=True)
class PrintedTable:
    """A frame as rows of printed cells, the header first."""

    header: tuple[Cell, ...]
    rows: tuple[tuple[Cell, ...], ...]


def plain_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with a meaningful index (named, or not 0, 1, 2 …) turned into leading columns, so that every
    output shows the same columns; a default index is dropped."""
    default = isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 and frame.index.step == 1
    if default and frame.index.name is None:
        return frame.reset_index(drop=True)
    return frame.reset_index()


def is_missing(value: object) -> bool:
    """None, NaN, NaT or pandas' NA."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def is_number(value: object) -> bool:
    """A real number (not a boolean, not missing)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and not is_missing(value)


def cell_text(value: object) -> str:
    """The value as given; a missing value prints as nothing."""
    return "" if is_missing(value) else str(value)


def printed_table(frame: pd.DataFrame) -> PrintedTable:
    """Header and rows of `frame` as text; a column is numeric when its cells are numbers or the marker."""
    plain = plain_frame(frame)
    numeric = [_numeric_column(plain[column].tolist()) for column in plain.columns]
    header = tuple(Cell(cell_text(column), flag) for column, flag in zip(plain.columns, numeric))
    rows = tuple(
        tuple(Cell(cell_text(value), flag) for value, flag in zip(row, numeric))
        for row in plain.itertuples(index=False, name=None)
    )
    return PrintedTable(header, rows)


def _numeric_column(values: list[object]) -> bool:
    present = [value for value in values if not is_missing(value)]
    return any(is_number(value) for value in present) and all(is_number(value) or value == MARKER for value in present)
