"""The words every layer shares: grains, the no-split and total markers, and the analysed-series id.

An analysed series is named `metric|grain|split_by|entity`, for example `referrals|month|none|total`
(the EU total), `referrals|month|country|DEU` or `files|week|platform|ChatApp`. `SeriesId` builds and
parses that text in one place.
"""

from __future__ import annotations

import re
from typing import NamedTuple

GRAINS = ("day", "week", "month", "quarter", "year")
NO_SPLIT = "none"
TOTAL = "total"
SERIES_SPLITS = (NO_SPLIT, "country", "platform")

_SERIES_ID = re.compile(r"^([a-z_]+)\|(day|week|month|quarter|year)\|(none|country|platform)\|(.+)$")


class SeriesId(NamedTuple):
    """One analysed series: a metric at a grain, for the EU total, one country or one platform."""

    metric: str
    grain: str
    split_by: str  # 'none', 'country' or 'platform'
    entity: str  # 'total', an ISO-3 code or a platform name

    @property
    def text(self) -> str:
        return f"{self.metric}|{self.grain}|{self.split_by}|{self.entity}"

    @classmethod
    def parse(cls, text: str | None) -> SeriesId | None:
        """The parts of a series id, or None when `text` is not one (the metric is not checked here)."""
        found = _SERIES_ID.match(text or "")
        return cls(*found.groups()) if found else None
