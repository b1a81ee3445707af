"""The small-cell rule: what may leave the agency in an export, a report or a federated aggregate.

Rule 3 of the design: counts below a threshold *k* (default 10; `$GRACE_MIN_CELL` or the `k`
argument) never leave, and the cells hidden that way cannot be recomputed from totals. This
module applies that rule to a tidy frame — one row per *cell*, identified by its `cell_columns`
(e.g. `month`, `country`), holding one or more `count_columns` — and returns the same frame with
the suppressed values blanked. It is shared by the dashboard exports, reports and federated
aggregates, so it knows nothing about charts or Dash.

How it decides, row by row (a row is one cell; all its counts are hidden together):

1. **Primary suppression**: a cell with any count `0 < count < k` is suppressed.
   **Zero counts are shown**: a zero says that no referral exists, which identifies nobody, and
   hiding zeros would blank most sparse tables for no protection. A zero can still be hidden as
   a complement (below) when nothing else is left to hide.
2. **Complementary suppression**, per *margin group*: the cells that share every cell column but
   one add up to a total that may be shown or derived (all countries of one month, all months of
   one country; with a single cell column, the grand total). Every such group of two or more
   cells must end with either no suppressed cell, or at least two whose combined counts are not
   themselves a small cell (0 or ≥ k). While a group has one suppressed cell, or suppressed cells
   summing to `0 < s < k`, its next-smallest visible cell is suppressed too (positive counts
   before zeros; ties broken by row order, so the result is deterministic). Groups are revisited
   until nothing changes.
3. **Linear audit**: the per-group rule alone can leave a cell that is determined by *several*
   margins together (a suppressed cell linking two otherwise separate suppression cycles in a
   two-way table). `recoverable_cells` solves that exactly — a suppressed cell is recoverable iff
   its unit vector lies in the row space of the margin equations restricted to the suppressed
   cells — and `suppress` keeps adding the smallest visible neighbour of any recoverable cell
   until none is left (or none is visible: `Suppression.residual`).
4. **Derived values**: every other numeric column of a suppressed row (shares, rates per capita,
   ratios computed from its counts) is suppressed with it, unless `derived_columns` names exactly
   which columns to blank.

Which margins count as published: every group of two or more cells whose total is not itself a
small count. A group of a single cell is not a margin (its "total" is the cell itself), and a
total of 1 to k-1 is a small cell that the same rule hides wherever it would be published. A
hidden zero that the margins pin down (a group totalling 0) is allowed: it reveals a zero, and
zeros are shown anyway. The exact check is a bridge search in a graph when at most two margins
touch the hidden cells (one- and two-way tables: milliseconds even for thousands of hidden cells),
and dense linear algebra per connected block of hidden cells otherwise (seconds for thousands of
hidden cells in three-way tables). What this protects against is exact recomputation
from margins (and small sums of hidden cells); it does not promise wide bounds on a hidden value
to an attacker who also knows this algorithm — the usual limit of cell-suppression heuristics.

Suppressed values become NaN in the returned frame (figures draw gaps) and the literal `MARKER`
in `Suppression.csv_frame()`, with `Suppression.note` explaining the rule in one line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.linalg import qr
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from grace import settings
from grace.errors import GraceError

DEFAULT_MIN_CELL = 10
MIN_CELL_ENV = "GRACE_MIN_CELL"
MARKER = "suppressed"  # one marker for every hidden cell: primary and complementary look alike

_NULL_TOLERANCE = 1e-8


class DisclosureError(GraceError):
    """The small-cell rule cannot be applied: bad threshold, missing or invalid count column."""


def min_cell(k: int | str | None = None) -> int:
    """The threshold k: the argument, else `$GRACE_MIN_CELL`, else 10. Must be a whole number ≥ 2."""
    origin = "k"
    if k is None:
        configured = settings.min_cell_text()
        if not configured:
            return DEFAULT_MIN_CELL
        k, origin = configured, f"${MIN_CELL_ENV}"
    try:
        value = int(k)
        if str(k).strip() != str(value) and not isinstance(k, (int, np.integer)):
            raise ValueError
    except (TypeError, ValueError):
        raise DisclosureError(f"{origin}: {k!r} is not a whole number") from None
    if value < 2:
        raise DisclosureError(f"{origin}: must be at least 2 (k={value} would disable the small-cell rule)")
    return value


@dataclass(frozen=True)
class Suppression:
    """A frame after the small-cell rule, with which rows were hidden and why (kept internal)."""

    frame: pd.DataFrame  # suppressed values are NaN (their columns become float)
    original: pd.DataFrame  # the input, index reset; never export this
    suppressed: pd.Series  # bool per row: hidden (primary or complementary)
    primary: pd.Series  # bool per row: hidden because it is a small cell itself
    k: int
    blanked_columns: tuple[str, ...]  # count and derived columns blanked in suppressed rows
    # Hidden rows that the published margin totals alone (not the visible cells) would still fix:
    # every cell sharing a margin with them is hidden already. Happens only in tiny ragged tables;
    # a publisher of those totals must apply this rule to them too.
    residual: pd.Series | None = None

    @property
    def reveals_nothing(self) -> bool:
        """True when some cell is hidden and every cell still shown has zero counts: a chart of it would
        draw nothing but empty axes, so it should say so instead."""
        if not bool(self.suppressed.any()):
            return False
        counts = [column for column in self.blanked_columns if column in self.original.columns]
        shown = self.original.loc[~self.suppressed, counts].apply(pd.to_numeric, errors="coerce")
        return not bool((shown.fillna(0) != 0).any().any())

    @property
    def complementary(self) -> pd.Series:
        """Rows hidden only so that margins cannot reveal a small cell."""
        return self.suppressed & ~self.primary

    @property
    def note(self) -> str:
        """One line explaining the rule, for chart notes and CSV headers."""
        hidden = int(self.suppressed.sum())
        if not self.blanked_columns:
            return f"Small-cell rule (k={self.k}): this table holds no counts the rule applies to."
        if hidden == 0:
            return f"Small-cell rule (k={self.k}): no count below {self.k}; nothing suppressed. Zero counts are shown."
        return (
            f"Small-cell rule (k={self.k}): counts from 1 to {self.k - 1} are suppressed, and further cells are "
            f"suppressed so that totals cannot reveal them ({hidden} of {len(self.frame)} cells, "
            f"marked '{MARKER}' in CSV, gaps in charts). Zero counts are shown."
        )

    @property
    def short_note(self) -> str:
        """The rule in few words, for the footer of a chart image (the CSV carries `note`)."""
        hidden = int(self.suppressed.sum())
        if not self.blanked_columns or hidden == 0:
            return f"Small-cell rule k={self.k}: nothing suppressed."
        return (
            f"Small-cell rule k={self.k}: {hidden} of {len(self.frame)} cells suppressed (counts 1–{self.k - 1} and "
            "cells that would reveal them), drawn as gaps."
        )

    def csv_frame(self, marker: str = MARKER) -> pd.DataFrame:
        """The frame for CSV: original values (integers stay integers), hidden ones as `marker`."""
        out = self.original.copy()
        for column in self.blanked_columns:
            out[column] = out[column].astype(object).where(~self.suppressed, marker)
        return out


def no_counts(frame: pd.DataFrame, k: int | None = None) -> Suppression:
    """The result for a table declared to hold no counts the rule protects (e.g. ETL run times).

    Nothing is hidden and the note says so; a caller must choose this explicitly — `suppress`
    refuses a frame without count columns.
    """
    original = frame.reset_index(drop=True)
    nothing = pd.Series(False, index=original.index)
    return Suppression(
        frame=original.copy(),
        original=original,
        suppressed=nothing,
        primary=nothing.copy(),
        k=min_cell(k),
        blanked_columns=(),
        residual=nothing.copy(),
    )


def default_margins(cell_columns: Sequence[str]) -> list[tuple[str, ...]]:
    """Margin groupings: for each cell column, the cells sharing all the others (one: grand total)."""
    columns = tuple(cell_columns)
    return [tuple(c for c in columns if c != dropped) for dropped in columns]


def suppress(
    frame: pd.DataFrame,
    count_columns: Sequence[str],
    cell_columns: Sequence[str] = (),
    k: int | None = None,
    derived_columns: Sequence[str] | None = None,
    margins: Sequence[Sequence[str]] | None = None,
) -> Suppression:
    """Apply the small-cell rule (see the module docstring) and return the result.

    `margins` overrides `default_margins(cell_columns)`: each entry names the columns a margin
    total is grouped by (an empty entry is the grand total).
    """
    k = min_cell(k)
    original = frame.reset_index(drop=True)
    counts = _checked_counts(original, tuple(count_columns))
    cell_columns = tuple(cell_columns)
    _check_cells(original, cell_columns)
    margins = [tuple(m) for m in (default_margins(cell_columns) if margins is None else margins)]
    for margin in margins:
        _require_columns(original, margin, "margin")
    derived = _derived(original, tuple(count_columns), cell_columns, derived_columns)

    eligible = counts.notna().any(axis=1).to_numpy()
    primary = (((counts > 0) & (counts < k)).any(axis=1)).to_numpy() & eligible
    groups = _group_ids(original, margins, eligible)
    hidden, residual = _complement(primary.copy(), counts.fillna(0).to_numpy(dtype=float), eligible, groups, k)

    blanked = tuple(count_columns) + derived
    out = original.copy()
    mask = pd.Series(hidden, index=out.index)
    for column in blanked:
        out[column] = pd.to_numeric(out[column], errors="coerce").astype(float).mask(mask)
    return Suppression(
        frame=out,
        original=original,
        suppressed=mask,
        primary=pd.Series(primary, index=out.index),
        k=k,
        blanked_columns=blanked,
        residual=pd.Series(residual, index=out.index),
    )


def recoverable_cells(
    frame: pd.DataFrame,
    suppressed: Iterable[bool],
    cell_columns: Sequence[str] = (),
    margins: Sequence[Sequence[str]] | None = None,
    count_columns: Sequence[str] = (),
    k: int | None = None,
) -> pd.Series:
    """Which suppressed rows an attacker could recompute exactly from the visible cells and margins.

    Every margin group of two or more cells is assumed published. A suppressed cell is
    recoverable iff it is fixed by the linear system "sum of hidden cells of each group = margin
    minus its visible cells", i.e. iff every vector of that system's null space is zero on it.
    Without `count_columns` this is a check of the pattern alone. With them, rows whose counts are
    all missing are not cells, margins whose total is itself small (0 < total < k) are taken as
    unpublished, and only hidden cells with a positive count are reported (a recovered zero
    reveals nothing that is not shown anyway).
    """
    original = frame.reset_index(drop=True)
    margins = [tuple(m) for m in (default_margins(cell_columns) if margins is None else margins)]
    hidden = np.asarray(list(suppressed), dtype=bool)
    if not count_columns:
        groups = _group_ids(original, margins, np.ones(len(original), dtype=bool))
        return pd.Series(_recoverable(hidden, groups), index=original.index)
    counts = _checked_counts(original, tuple(count_columns))
    eligible = counts.notna().any(axis=1).to_numpy()
    values = counts.fillna(0).to_numpy(dtype=float)
    groups = _published(_group_ids(original, margins, eligible), values, min_cell(k))
    positive = (values > 0).any(axis=1)
    return pd.Series(_recoverable(hidden & eligible, groups) & positive, index=original.index)


# --- internals ----------------------------------------------------------------------------------


def _require_columns(frame: pd.DataFrame, columns: Sequence[str], role: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DisclosureError(f"{role} column(s) not in the frame: {', '.join(missing)}")


def _checked_counts(frame: pd.DataFrame, count_columns: tuple[str, ...]) -> pd.DataFrame:
    if not count_columns:
        raise DisclosureError("no count column given: the small-cell rule needs the counts it protects")
    _require_columns(frame, count_columns, "count")
    counts = pd.DataFrame(index=frame.index)
    for column in count_columns:
        values = frame[column]
        if pd.api.types.is_bool_dtype(values) or not (pd.api.types.is_numeric_dtype(values) or values.isna().all()):
            raise DisclosureError(f"count column '{column}' is not numeric (dtype {values.dtype})")
        values = values.astype(float)
        bad = values.lt(0) | (values.notna() & values.ne(np.floor(values)))
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DisclosureError(
                f"count column '{column}', row {row}: {frame[column].iloc[row]} is not a non-negative whole count"
            )
        counts[column] = values
    return counts


def _check_cells(frame: pd.DataFrame, cell_columns: tuple[str, ...]) -> None:
    _require_columns(frame, cell_columns, "cell")
    if not cell_columns:
        return
    duplicated = frame.duplicated(list(cell_columns), keep=False)
    if duplicated.any():
        row = int(np.flatnonzero(duplicated.to_numpy())[0])
        key = ", ".join(f"{c}={frame[c].iloc[row]!r}" for c in cell_columns)
        raise DisclosureError(f"row {row}: cell ({key}) appears more than once; cells must be unique")


def _derived(
    frame: pd.DataFrame,
    count_columns: tuple[str, ...],
    cell_columns: tuple[str, ...],
    derived_columns: Sequence[str] | None,
) -> tuple[str, ...]:
    if derived_columns is not None:
        _require_columns(frame, derived_columns, "derived")
        return tuple(c for c in derived_columns if c not in count_columns)
    skip = set(count_columns) | set(cell_columns)
    return tuple(
        column
        for column in frame.columns
        if column not in skip
        and pd.api.types.is_numeric_dtype(frame[column])
        and not pd.api.types.is_bool_dtype(frame[column])
    )


def _group_ids(frame: pd.DataFrame, margins: Sequence[Sequence[str]], eligible: np.ndarray) -> list[np.ndarray]:
    """For each margin, a group number per row; -1 for rows outside any group of ≥ 2 cells."""
    out = []
    for margin in margins:
        if margin:
            ids = frame.groupby(list(margin), dropna=False, sort=True).ngroup().to_numpy().copy()
        else:
            ids = np.zeros(len(frame), dtype=np.int64)
        ids[~eligible] = -1
        sizes = np.bincount(ids[ids >= 0], minlength=int(ids.max()) + 1 if len(ids) else 0)
        ids[(ids >= 0) & (sizes[np.maximum(ids, 0)] < 2)] = -1
        out.append(ids)
    return out


def _published(groups: list[np.ndarray], counts: np.ndarray, k: int) -> list[np.ndarray]:
    """The groups whose totals may be published: not themselves small (0 < total < k in any count)."""
    out = []
    for ids in groups:
        ids = ids.copy()
        inside = ids >= 0
        if not inside.any():
            out.append(ids)
            continue
        size = int(ids.max()) + 1
        small = np.zeros(size, dtype=bool)
        for column in range(counts.shape[1]):
            totals = np.bincount(ids[inside], weights=counts[inside, column], minlength=size)
            small |= (totals > 0) & (totals < k)
        ids[inside & small[np.maximum(ids, 0)]] = -1
        out.append(ids)
    return out


def _complement(
    hidden: np.ndarray, counts: np.ndarray, eligible: np.ndarray, groups: list[np.ndarray], k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Grow the suppressed set until every group is safe and no positive hidden cell is recoverable.

    Returns the hidden rows and the residual ones that only published totals could still reveal.
    """
    order_key = counts[:, 0] if counts.shape[1] else np.zeros(len(hidden))
    positive = (counts > 0).any(axis=1)
    published = _published(groups, counts, k)
    for _ in range(len(hidden) + 1):
        changed = False
        for ids in groups:
            needy = _needy_groups(hidden, counts, ids, k)
            if needy.any():
                changed |= _hide_smallest(hidden, eligible, ids, needy, order_key)
        if changed:
            continue
        # A hidden zero that margins pin down reveals only a zero, which is shown anyway.
        recoverable = _recoverable(hidden, published) & positive
        if not recoverable.any():
            return hidden, recoverable
        # Hide the smallest visible cell sharing a group with a recoverable cell; failing that,
        # sharing a group with any hidden cell (the margins that pin it down involve those).
        if not (
            _hide_near(hidden, eligible, groups, recoverable, order_key)
            or _hide_near(hidden, eligible, groups, hidden.copy(), order_key)
        ):
            # Every cell near them is hidden already: only totals published elsewhere could
            # still pin these down (see `Suppression.residual`).
            return hidden, recoverable
    raise DisclosureError("complementary suppression did not converge")  # pragma: no cover - bounded above


def _hide_near(
    hidden: np.ndarray, eligible: np.ndarray, groups: list[np.ndarray], around: np.ndarray, order_key: np.ndarray
) -> bool:
    """Hide, in the first margin where one exists, the smallest visible cell of each group touching `around`."""
    for ids in groups:
        needy = np.zeros(int(ids.max()) + 1 if len(ids) and ids.max() >= 0 else 0, dtype=bool)
        needy[ids[around & (ids >= 0)]] = True
        if _hide_smallest(hidden, eligible, ids, needy, order_key):
            return True
    return False


def _needy_groups(hidden: np.ndarray, counts: np.ndarray, ids: np.ndarray, k: int) -> np.ndarray:
    """Groups with exactly one hidden cell, or hidden cells whose sum (any count column) is 0 < s < k."""
    size = int(ids.max()) + 1 if len(ids) and ids.max() >= 0 else 0
    inside = (ids >= 0) & hidden
    n_hidden = np.bincount(ids[inside], minlength=size)
    needy = n_hidden == 1
    for column in range(counts.shape[1]):
        sums = np.bincount(ids[inside], weights=counts[inside, column], minlength=size)
        needy |= (n_hidden > 0) & (sums > 0) & (sums < k)
    return needy


def _hide_smallest(
    hidden: np.ndarray, eligible: np.ndarray, ids: np.ndarray, needy: np.ndarray, order_key: np.ndarray
) -> bool:
    """In each needy group, hide its smallest visible cell (positive before zero, then row order)."""
    if not needy.any():
        return False
    rows = np.flatnonzero(eligible & ~hidden & (ids >= 0))
    rows = rows[needy[ids[rows]]]
    if rows.size == 0:
        return False
    # lexsort: last key is primary → group, then zero-last, then value, then row position.
    order = np.lexsort((rows, order_key[rows], order_key[rows] == 0, ids[rows]))
    ranked = rows[order]
    first = np.r_[True, ids[ranked][1:] != ids[ranked][:-1]]
    hidden[ranked[first]] = True
    return True


def _in_row_space(matrix: np.ndarray) -> np.ndarray:
    """For each column j of `matrix`, whether the unit vector e_j lies in its row space.

    An orthonormal basis Q of the row space comes from a pivoted QR of the transpose; e_j lies in
    it iff its projection keeps unit length, i.e. the j-th row of Q has norm 1.
    """
    q, r, _ = qr(matrix.T, mode="economic", pivoting=True)
    diagonal = np.abs(np.diag(r))
    rank = int((diagonal > diagonal.max(initial=0.0) * max(matrix.shape) * np.finfo(float).eps).sum())
    norms = np.einsum("ij,ij->i", q[:, :rank], q[:, :rank])
    return norms > 1.0 - _NULL_TOLERANCE


def _recoverable(hidden: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """Exact check: which hidden cells are fixed by the margin equations.

    With at most two margins touching the hidden cells (one- and two-way tables, the usual case),
    the equations form a graph and the check is a linear-time bridge search
    (`_recoverable_two_way`); otherwise dense linear algebra per connected block (`_recoverable_by_rank`).
    """
    cells = np.flatnonzero(hidden)
    if cells.size == 0:
        return np.zeros(len(hidden), dtype=bool)
    touching = [ids for ids in groups if (ids[cells] >= 0).any()]
    if len(touching) <= 2:
        return _recoverable_two_way(hidden, cells, touching)
    return _recoverable_by_rank(hidden, cells, touching)


def _recoverable_two_way(hidden: np.ndarray, cells: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """Hidden cells fixed by the equations of (at most) two margins, as bridges of a graph.

    Nodes: the groups of each margin that hold a hidden cell, plus one "free" node standing for "no
    published total"; edges: the hidden cells, joining their group in the first margin to their group
    in the second (or to the free node). Orienting every edge from the first margin to the second, the
    values the equations leave undetermined are exactly the circulations of this graph, i.e. its cycle
    space: a cell is fixed iff it lies on no cycle, i.e. iff it is a bridge.
    """
    ends, offset = [], 1  # node 0 is the free node
    for ids in groups:
        member = ids[cells]
        node = np.zeros(cells.size, dtype=np.int64)
        inside = member >= 0
        _, local = np.unique(member[inside], return_inverse=True)
        node[inside] = local + offset
        offset += int(local.max()) + 1 if inside.any() else 0
        ends.append(node)
    while len(ends) < 2:
        ends.append(np.zeros(cells.size, dtype=np.int64))
    result = np.zeros(len(hidden), dtype=bool)
    result[cells[_bridges(offset, ends[0], ends[1])]] = True
    return result


def _bridges(n_nodes: int, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Which edges (first[i], second[i]) of an undirected multigraph are bridges (iterative Tarjan).

    Parallel edges and self-loops are never bridges.
    """
    m = len(first)
    heads = np.concatenate([first, second])
    order = np.argsort(heads, kind="stable")
    starts = np.searchsorted(heads[order], np.arange(n_nodes + 1)).tolist()
    neighbour = np.concatenate([second, first])[order].tolist()
    edge_of = np.concatenate([np.arange(m), np.arange(m)])[order].tolist()
    loops = (first == second).tolist()
    discovered = [-1] * n_nodes
    low = [0] * n_nodes
    bridge = [False] * m
    clock = 0
    for root in range(n_nodes):
        if discovered[root] >= 0:
            continue
        discovered[root] = low[root] = clock
        clock += 1
        stack = [[root, -1, starts[root]]]  # node, the edge it was reached by, next adjacency index
        while stack:
            frame = stack[-1]
            node, via, index = frame
            if index < starts[node + 1]:
                frame[2] = index + 1
                edge, other = edge_of[index], neighbour[index]
                if edge == via or loops[edge]:
                    continue
                if discovered[other] < 0:
                    discovered[other] = low[other] = clock
                    clock += 1
                    stack.append([other, edge, starts[other]])
                elif discovered[other] < low[node]:
                    low[node] = discovered[other]
            else:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    if low[node] < low[parent]:
                        low[parent] = low[node]
                    if low[node] > discovered[parent]:
                        bridge[via] = True
    return np.array(bridge, dtype=bool)


def _recoverable_by_rank(hidden: np.ndarray, cells: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """Exact check, per connected block of hidden cells: whose unit vector lies in the row space of
    the margin equations restricted to the hidden cells."""
    result = np.zeros(len(hidden), dtype=bool)
    # Equations: one per (margin, group) that contains a hidden cell; columns: hidden cells.
    eq_rows, eq_cols, offset = [], [], 0
    for ids in groups:
        member = ids[cells] >= 0
        if not member.any():
            continue
        _, local = np.unique(ids[cells][member], return_inverse=True)
        eq_rows.append(local + offset)
        eq_cols.append(np.flatnonzero(member))
        offset += int(local.max()) + 1
    rows, cols = np.concatenate(eq_rows), np.concatenate(eq_cols)
    n_eq, n_cells = offset, cells.size
    # Connected blocks of the bipartite graph equations–cells keep each null-space problem small.
    graph = coo_matrix((np.ones(rows.size), (rows, cols + n_eq)), shape=(n_eq + n_cells,) * 2)
    _, labels = connected_components(graph, directed=False)
    cell_labels = labels[n_eq:]
    for label in np.unique(cell_labels):
        block_cells = np.flatnonzero(cell_labels == label)
        in_block = np.isin(cols, block_cells)
        if not in_block.any():
            continue  # a hidden cell in no margin: nothing constrains it
        block_rows = np.unique(rows[in_block])
        matrix = np.zeros((block_rows.size, block_cells.size))
        matrix[np.searchsorted(block_rows, rows[in_block]), np.searchsorted(block_cells, cols[in_block])] = 1.0
        result[cells[block_cells[_in_row_space(matrix)]]] = True
    return result
