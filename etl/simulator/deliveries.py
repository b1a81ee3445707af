"""Cut the simulated rows into deliveries (one per month, quarter or year of receipt).

Referrals are delivered in the period of their received_date (so a few arrive after the
period of their incident), ordered by received date then report number; a referral's files
travel in the same delivery, in the same order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from etl.simulator.world import epoch_day


@dataclass(frozen=True)
class DeliveryPlan:
    """Row orders and period boundaries of the deliveries."""

    periods: tuple[str, ...]
    referral_order: np.ndarray  # generation row of each delivered referral (sorted order)
    file_order: np.ndarray  # generation row of each delivered file (sorted order)
    referral_bounds: np.ndarray  # len(periods) + 1 offsets into the sorted referrals
    file_bounds: np.ndarray  # len(periods) + 1 offsets into the sorted files
    file_offsets: np.ndarray  # len(referrals) + 1 offsets of each sorted referral's files

    def referral_slice(self, period: int) -> tuple[int, int]:
        return int(self.referral_bounds[period]), int(self.referral_bounds[period + 1])

    def file_slice(self, period: int) -> tuple[int, int]:
        return int(self.file_bounds[period]), int(self.file_bounds[period + 1])

    def period_of_referral(self, sorted_row: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.referral_bounds, sorted_row, side="right") - 1


def period_codes(epoch_days: np.ndarray, delivery: str) -> np.ndarray:
    """An increasing integer code of the delivery period of each day."""
    months = epoch_days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    if delivery == "month":
        return months
    if delivery == "quarter":
        return months // 3
    return months // 12


def period_label(code: int, delivery: str) -> str:
    """`2023-05`, `2023-Q2` or `2023` for a period code."""
    if delivery == "month":
        return f"{1970 + code // 12}-{code % 12 + 1:02d}"
    if delivery == "quarter":
        return f"{1970 + code // 4}-Q{code % 4 + 1}"
    return f"{1970 + code}"


def plan_deliveries(
    received_day: np.ndarray,
    sort_key: np.ndarray,
    file_referral: np.ndarray,
    start: dt.date,
    end: dt.date,
    delivery: str,
) -> DeliveryPlan:
    """Order rows by delivery period, received date and report number; every period gets a delivery."""
    codes = period_codes(received_day, delivery)
    first, last = (int(period_codes(np.array([epoch_day(d)]), delivery)[0]) for d in (start, end))
    all_codes = np.arange(first, last + 1)
    order = np.lexsort((sort_key, received_day))
    bounds = np.searchsorted(codes[order], all_codes, side="left")
    referral_bounds = np.append(bounds, len(order))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    file_order = np.argsort(rank[file_referral], kind="stable")
    per_referral = np.bincount(rank[file_referral], minlength=len(order))
    file_offsets = np.concatenate([[0], np.cumsum(per_referral)])
    file_bounds = file_offsets[referral_bounds]
    labels = tuple(period_label(int(code), delivery) for code in all_codes)
    return DeliveryPlan(labels, order, file_order, referral_bounds, file_bounds, file_offsets)
