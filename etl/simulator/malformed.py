"""Inject malformed records, and record exactly what was injected where.

Kinds: bad_date, missing_required, wrong_type, invalid_code (cell changes in an export row),
broken_encoding (invalid UTF-8 bytes in a CSV field, or in a JSONL package line when exports
are Parquet), truncated_file (one delivery file cut mid-row; the rows after the cut are lost)
and redelivered (an identical referral row delivered again in a later delivery). Each
malformed record is listed with its delivery file and 1-based data-row number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.simulator.deliveries import DeliveryPlan
from etl.simulator.layout import files_path, package_path, referrals_path

KINDS = (
    "bad_date",
    "missing_required",
    "wrong_type",
    "invalid_code",
    "broken_encoding",
    "truncated_file",
    "redelivered",
)
BAD_UTF8_MARKER = "~~GRACE-BAD-UTF8~~"  # replaced by BAD_UTF8_BYTES when a file is written
BAD_UTF8_BYTES = b"\xff\xfe"
BAD_UTF8_TEXT = "\u00ff\u00fe"  # what a database (which only holds valid UTF-8) gets instead: mojibake
MAX_TRUNCATED_ROWS = 10
TRUNCATE_IN_COLUMN = "md5"  # the files column in which the partial row is cut

BAD_DATE_FIELDS = ("incident_datetime", "received_date")
MISSING_FIELDS = ("report_id", "esp_name", "reporting_country")
WRONG_TYPES = (("is_actionable", "maybe"), ("victim_age", "twelve"), ("bundle_size", "x"), ("is_escalated", "unknown"))
INVALID_CODES = (
    ("incident_type", "IT_XX"),
    ("industry_classification", "Z9"),
    ("reporting_country", "XXX"),
    ("esp_service", "fax"),
)
BROKEN_FIELDS = ("additional_info", "reported_display_name", "reported_screen_name")
RECORD_COLUMNS = ("kind", "delivery_file", "row", "report_id", "field", "detail")


@dataclass(frozen=True)
class Mutation:
    """Replace one cell of the sorted referrals or files table."""

    table: str
    row: int
    column: str
    value: str | None


@dataclass(frozen=True)
class Truncation:
    """Cut a delivery file: `rows` rows from its end are affected (the first partial, the rest lost)."""

    target: str  # "files" (CSV exports) or "packages" (JSONL)
    period: int
    rows: int
    path: str
    column: str | None


@dataclass
class MalformedPlan:
    """Everything to inject, with one record per malformed row."""

    mutations: list = field(default_factory=list)
    redeliveries: list = field(default_factory=list)  # (sorted referral row, target period), in append order
    broken_packages: set = field(default_factory=set)  # sorted referral rows whose package line gets bad bytes
    truncation: Truncation | None = None
    counts: dict = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    records: list = field(default_factory=list)

    def record(self, kind: str, path: str, row: int, report_id: str, column: str, detail: str) -> None:
        self.records.append((kind, path, int(row), report_id or "", column, detail))
        self.counts[kind] += 1

    def sorted_records(self) -> list:
        return sorted(self.records, key=lambda r: (r[1], r[2], r[0], r[4]))


def allocate(total: int, kinds: tuple[str, ...]) -> dict[str, int]:
    """Split `total` malformed records over the active kinds (truncation capped at a few rows)."""
    counts = dict.fromkeys(KINDS, 0)
    if total <= 0 or not kinds:
        return counts
    rest = list(kinds)
    if "truncated_file" in rest:
        counts["truncated_file"] = min(MAX_TRUNCATED_ROWS, math.ceil(total / len(kinds)))
        total -= counts["truncated_file"]
        rest.remove("truncated_file")
    base, remainder = divmod(max(total, 0), len(rest))
    for i, kind in enumerate(rest):
        counts[kind] = base + (1 if i < remainder else 0)
    return counts


class _Context:
    """Shared look-ups for planning: tables, periods, paths."""

    def __init__(self, referrals: pa.Table, files: pa.Table, plan: DeliveryPlan, fmt: str, packaged: np.ndarray):
        self.referrals, self.files, self.plan, self.fmt = referrals, files, plan, fmt
        self.packaged = packaged
        self.report_ids = referrals.column("report_id")

    def referral_place(self, row: int) -> tuple[str, int]:
        period = int(self.plan.period_of_referral(np.array([row]))[0])
        return referrals_path(self.plan.periods[period], self.fmt), row - int(self.plan.referral_bounds[period]) + 1

    def file_place(self, file_row: int) -> tuple[str, int]:
        period = int(np.searchsorted(self.plan.file_bounds, file_row, side="right") - 1)
        return files_path(self.plan.periods[period], self.fmt), file_row - int(self.plan.file_bounds[period]) + 1

    def package_place(self, row: int) -> tuple[str, int]:
        period = int(self.plan.period_of_referral(np.array([row]))[0])
        start = int(self.plan.referral_bounds[period])
        line = int(self.packaged[start : row + 1].sum())
        return package_path(self.plan.periods[period]), line

    def report_id(self, row: int) -> str:
        return self.report_ids[row].as_py()

    def value(self, table: str, column: str, row: int):
        source = self.referrals if table == "referrals" else self.files
        return source.column(column)[row].as_py()


def plan_malformed(
    referrals: pa.Table,
    files: pa.Table,
    plan: DeliveryPlan,
    fmt: str,
    packaged: np.ndarray,
    rate: float,
    rng: np.random.Generator,
) -> MalformedPlan:
    """Choose the malformed records of a run (distinct referrals for distinct injections)."""
    ctx = _Context(referrals, files, plan, fmt, packaged)
    result = MalformedPlan()
    n = referrals.num_rows
    csv = fmt == "csv"
    active = tuple(k for k in KINDS if csv or packaged.any() or k not in ("broken_encoding", "truncated_file"))
    wanted = allocate(round(rate * n), active)
    excluded = np.zeros(n, dtype=bool)
    if wanted["truncated_file"]:
        _plan_truncation(ctx, result, wanted["truncated_file"], excluded, rng)
    order = rng.permutation(n)
    order = order[~excluded[order]]
    order = _plan_redeliveries(ctx, result, wanted["redelivered"], order, rng)
    if csv:
        order = _plan_cells(ctx, result, "broken_encoding", wanted["broken_encoding"], order, _broken_cell)
    else:
        order = _plan_broken_packages(ctx, result, wanted["broken_encoding"], order)
    order = _plan_cells(ctx, result, "bad_date", wanted["bad_date"], order, _bad_date_cell)
    order = _plan_cells(ctx, result, "missing_required", wanted["missing_required"], order, _missing_cell)
    order = _plan_cells(ctx, result, "wrong_type", wanted["wrong_type"], order, _wrong_type_cell)
    _plan_cells(ctx, result, "invalid_code", wanted["invalid_code"], order, _invalid_code_cell)
    return result


def _plan_truncation(ctx: _Context, result: MalformedPlan, count: int, excluded: np.ndarray, rng) -> None:
    """Pick the delivery file to cut and mark the referrals whose rows it loses."""
    plan = ctx.plan
    if ctx.fmt == "csv":
        sizes = np.diff(plan.file_bounds)
        target, column = "files", TRUNCATE_IN_COLUMN
    else:
        sizes = (
            np.add.reduceat(ctx.packaged.astype(np.int64), plan.referral_bounds[:-1])
            if len(ctx.packaged)
            else np.zeros(len(plan.periods), dtype=np.int64)
        )
        sizes = np.where(np.diff(plan.referral_bounds) > 0, sizes, 0)
        target, column = "packages", None
    if sizes.max(initial=0) < 2:
        return
    count = int(min(count, sizes.max() - 1))
    candidates = np.flatnonzero(sizes > count)
    period = int(rng.choice(candidates))
    label = plan.periods[period]
    path = files_path(label, ctx.fmt) if target == "files" else package_path(label)
    result.truncation = Truncation(target, period, count, path, column)
    first_row = int(sizes[period]) - count + 1
    if target == "files":
        stop = int(plan.file_bounds[period + 1])
        lost_files = np.arange(stop - count, stop)
        owners = np.searchsorted(plan.file_offsets, lost_files, side="right") - 1
        ids = ctx.files.column("report_id").take(pa.array(lost_files)).to_pylist()
    else:
        start, stop = plan.referral_slice(period)
        owners = (start + np.flatnonzero(ctx.packaged[start:stop]))[-count:]
        ids = ctx.report_ids.take(pa.array(owners)).to_pylist()
    # every referral with a lost row is kept out of the other injections
    first_owner = owners.min()
    excluded[owners] = True
    if target == "files":
        excluded[first_owner : int(plan.referral_bounds[period + 1])] = True
    for i, report_id in enumerate(ids):
        detail = "partial row (file cut inside it)" if i == 0 else "lost (after the cut)"
        result.record("truncated_file", path, first_row + i, report_id, column or "" if i == 0 else "", detail)


def _plan_redeliveries(ctx: _Context, result: MalformedPlan, count: int, order: np.ndarray, rng) -> np.ndarray:
    """Referral rows delivered again, identical, in one of the next deliveries."""
    plan = ctx.plan
    last = len(plan.periods) - 1
    periods = plan.period_of_referral(order)
    eligible = order[periods < last] if last > 0 else order
    chosen = eligible[:count]
    pairs = []
    for row in chosen:
        period = int(plan.period_of_referral(np.array([row]))[0])
        target = min(period + int(rng.integers(1, 4)), last)
        pairs.append((target, int(row)))
    pairs.sort()
    appended: dict[int, int] = {}
    for target, row in pairs:
        label = plan.periods[target]
        start, stop = plan.referral_slice(target)
        appended[target] = appended.get(target, 0) + 1
        source_path, source_row = ctx.referral_place(row)
        result.redeliveries.append((row, target))
        result.record(
            "redelivered",
            referrals_path(label, ctx.fmt),
            stop - start + appended[target],
            ctx.report_id(row),
            "",
            f"identical to row {source_row} of {source_path}",
        )
    return np.setdiff1d(order, chosen, assume_unique=True) if len(chosen) else order


def _plan_broken_packages(ctx: _Context, result: MalformedPlan, count: int, order: np.ndarray) -> np.ndarray:
    """Package lines (Parquet runs) that get invalid UTF-8 bytes."""
    chosen = [int(row) for row in order[ctx.packaged[order]][:count]]
    for row in chosen:
        path, line = ctx.package_place(row)
        result.broken_packages.add(row)
        result.record(
            "broken_encoding",
            path,
            line,
            ctx.report_id(row),
            "incidentSummary.additionalInfo",
            "invalid UTF-8 bytes 0xFF 0xFE",
        )
    return np.setdiff1d(order, np.array(chosen, dtype=np.int64), assume_unique=True) if chosen else order


def _plan_cells(ctx: _Context, result: MalformedPlan, kind: str, count: int, order: np.ndarray, make) -> np.ndarray:
    """Take the next `count` referrals of the shuffled order and change one cell of each."""
    chosen, rest = order[:count], order[count:]
    for i, row in enumerate(chosen):
        table, target_row, column, value, detail = make(ctx, int(row), i)
        result.mutations.append(Mutation(table, target_row, column, value))
        if table == "referrals":
            path, number = ctx.referral_place(target_row)
        else:
            path, number = ctx.file_place(target_row)
        report_id = "" if column == "report_id" else ctx.report_id(int(row))
        result.record(kind, path, number, report_id, column, detail)
    return rest


def _bad_date_cell(ctx: _Context, row: int, i: int):
    column = BAD_DATE_FIELDS[i % len(BAD_DATE_FIELDS)]
    original = ctx.value("referrals", column, row)
    year, variant = original[:4], (i // 2) % 3
    if column == "incident_datetime":
        value = (f"{year}-13-45{original[10:]}", f"{year}-02-30{original[10:]}", f"{original[:10]}T25:61:00Z")[variant]
    else:
        value = (f"{year}-13-45", f"{year}-02-30", f"45/13/{year}")[variant]
    return "referrals", row, column, value, f"unparseable date '{value}'"


def _missing_cell(ctx: _Context, row: int, i: int):
    column = MISSING_FIELDS[i % len(MISSING_FIELDS)]
    detail = f"required field empty (was {ctx.value('referrals', column, row)})"
    return "referrals", row, column, None, detail


def _wrong_type_cell(ctx: _Context, row: int, i: int):
    column, value = WRONG_TYPES[i % len(WRONG_TYPES)]
    return "referrals", row, column, value, f"wrong type '{value}'"


def _invalid_code_cell(ctx: _Context, row: int, i: int):
    column, value = INVALID_CODES[i % len(INVALID_CODES)]
    if column == "industry_classification":
        return "files", int(ctx.plan.file_offsets[row]), column, value, f"invalid code '{value}'"
    return "referrals", row, column, value, f"invalid code '{value}'"


def _broken_cell(ctx: _Context, row: int, i: int):
    column = BROKEN_FIELDS[i % len(BROKEN_FIELDS)]
    original = ctx.value("referrals", column, row) or "Automated report"
    middle = len(original) // 2
    value = original[:middle] + BAD_UTF8_MARKER + original[middle:]
    return "referrals", row, column, value, "invalid UTF-8 bytes 0xFF 0xFE"


def apply_mutations(table: pa.Table, mutations: list, name: str) -> pa.Table:
    """The table with the planned cell changes of `name` applied (vectorised per column)."""
    by_column: dict[str, list] = {}
    for mutation in mutations:
        if mutation.table == name:
            by_column.setdefault(mutation.column, []).append((mutation.row, mutation.value))
    for column, changes in sorted(by_column.items()):
        changes.sort()
        mask = np.zeros(table.num_rows, dtype=bool)
        mask[[row for row, _ in changes]] = True
        values = pa.array([value for _, value in changes], pa.string())
        original = table.column(column).combine_chunks()
        replaced = pc.replace_with_mask(original, pa.array(mask), values)
        table = table.set_column(table.schema.get_field_index(column), column, replaced)
    return table
