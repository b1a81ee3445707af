"""The words every layer shares: grains, horizons, the no-split and total markers, metric labels, and the
analysed-series id.

An analysed series is named `metric|grain|split_by|entity`, for example `referrals|month|none|total`
(the EU total), `referrals|month|country|DEU` or `files|week|platform|ChatApp`. `SeriesId` builds and
parses that text in one place.
"""

from __future__ import annotations

import re
from typing import NamedTuple

GRAINS = ("day", "week", "month", "quarter", "year")
# pandas period codes of the grains (weeks run Monday to Sunday).
PERIOD_CODES = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q", "year": "Y"}
PERIODS_PER_YEAR = {"day": 365, "week": 52, "month": 12, "quarter": 4, "year": 1}
# How far ahead a forecast looks by default, per grain: about a year (two years for yearly series).
FORECAST_HORIZON = {"day": 28, "week": 13, "month": 12, "quarter": 4, "year": 2}
NO_SPLIT = "none"  # the split of an analysed series that is not split (the EU total)
TOTAL = "total"  # the entity of the EU total
SERIES_SPLITS = (NO_SPLIT, "country", "platform")

# Metric names whose words need more than underscores turned into spaces.
_METRIC_WORDS = {
    "time_to_triage_days": "time to triage (days)",
    "multi_country_clusters": "multi-country clusters",
    "reshares_per_cluster": "re-shares per cluster",
    "reshared_files": "re-shared files",
    "generative_ai_share": "generative-AI share",
    "generative_ai_files": "generative-AI files",
    "self_generated_share": "self-generated share",
    "self_generated_files": "self-generated files",
    "near_duplicate_variants": "near-duplicate variants",
    "cross_platform_reshares": "cross-platform re-shares",
    "cross_country_reshares": "cross-country re-shares",
    "cross_platform_reshare_share": "cross-platform re-shares (share of files)",
    "cross_country_reshare_share": "cross-country re-shares (share of files)",
    "bank_matched_files": "files matching a hash bank",
    "bank_match_share": "hash-bank matches (share of files)",
}

_SERIES_ID = re.compile(r"^([a-z_]+)\|(day|week|month|quarter|year)\|(none|country|platform)\|(.+)$")


def metric_label(name: str) -> str:
    """A metric's name in words, for running text: 'time to triage (days)', 'new media clusters'."""
    return _METRIC_WORDS.get(name, name.replace("_", " "))


def metric_title(name: str) -> str:
    """A metric's name as a title or table cell: 'Time to triage (days)', 'New media clusters'."""
    label = metric_label(name)
    return label[:1].upper() + label[1:]


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
