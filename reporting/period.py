"""The period a report covers: a calendar week (Monday to Sunday), month or quarter.

"last-complete" is the last period that ends on or before the warehouse's latest data day, so a report
never presents a period still being loaded as if it were whole; a date picks the period holding it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

PERIOD_CODES = {"week": "W-SUN", "month": "M", "quarter": "Q-DEC"}


@dataclass(frozen=True)
class Period:
    """One reporting period and the one before it (for changes)."""

    grain: str
    start: date
    end: date  # inclusive
    previous_start: date
    previous_end: date

    @property
    def label(self) -> str:
        """'week of 4 Mar 2024', 'March 2024', 'Q1 2024'."""
        if self.grain == "week":
            return f"week of {self.start:%-d %b %Y}"
        if self.grain == "month":
            return f"{self.start:%B %Y}"
        return f"Q{(self.start.month - 1) // 3 + 1} {self.start:%Y}"

    @property
    def previous_label(self) -> str:
        return period_holding(self.grain, self.previous_start).label


def period_holding(grain: str, day: date) -> Period:
    """The period of `grain` that holds `day`."""
    if grain not in PERIOD_CODES:
        raise ValueError(f"period grain {grain!r} is not one of {', '.join(PERIOD_CODES)}")
    current = pd.Period(pd.Timestamp(day), freq=PERIOD_CODES[grain])
    previous = current - 1
    return Period(
        grain=grain,
        start=current.start_time.date(),
        end=current.end_time.date(),
        previous_start=previous.start_time.date(),
        previous_end=previous.end_time.date(),
    )


def resolve_period(grain: str, which: str, latest_day: date) -> Period:
    """The period a run covers: `which` is 'last-complete' or an ISO date."""
    if which != "last-complete":
        return period_holding(grain, date.fromisoformat(which))
    holding = period_holding(grain, latest_day)
    if holding.end <= latest_day:
        return holding
    return period_holding(grain, holding.start - timedelta(days=1))
