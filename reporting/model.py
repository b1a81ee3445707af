"""The content of one report run, independent of its output format.

Every renderer (HTML, PDF, PPTX, CSV annex) reads a `Report` and nothing else, so the formats cannot
disagree: the same sentences, the same numbers (each `Sentence` keeps the `CheckedNumber`s it prints,
checked against the warehouse before anything is written), the same suppressed tables and the same
chart images (rendered once per preset by `dashboards.exports`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

# Analysis results are stored with 12 significant digits (`analytics.results.jsonable`): a number a sentence
# takes from them differs from a full-precision re-read by up to half a unit in the 12th digit, which an
# absolute tolerance alone stops allowing once values reach the tens of thousands (weekly EU counts of a
# 40 M-referral warehouse). Far below anything a report shows.
STORED_RELATIVE_PRECISION = 1e-11


@dataclass(frozen=True)
class CheckedNumber:
    """A number printed in a sentence, and what the warehouse says it is at render time."""

    label: str  # what it is, e.g. "referrals in March 2024, Malta"
    shown: str  # as printed, e.g. "1,234" or "+12 %"
    value: float  # the value the sentence was written from
    recomputed: float | None = None  # from an independent query at render time (None: not yet checked)
    tolerance: float = 0.0  # absolute difference allowed (rounding of what is shown)

    @property
    def matches(self) -> bool:
        """The recomputed value equals the one written from, within the tolerance and the precision the
        analysis results are stored with."""
        if self.recomputed is None:
            return False
        stored = STORED_RELATIVE_PRECISION * max(abs(self.value), abs(self.recomputed))
        return abs(self.value - self.recomputed) <= self.tolerance + stored


@dataclass(frozen=True)
class Sentence:
    """One sentence of narrative and the numbers in it."""

    text: str
    numbers: tuple[CheckedNumber, ...] = ()
    source: str = ""  # where it comes from: "finding 3 of run …", "report computation: period totals"


@dataclass(frozen=True)
class ChartImage:
    """One catalogue chart rendered for the report's view, at the presets the outputs use."""

    chart_id: str
    title: str  # the specific title (metric, grain, scope)
    subtitle: str
    note: str  # the chart's caveats (exports carry no interaction hints)
    images: dict[str, bytes]  # preset name → PNG bytes (e.g. "slide" for the deck, "a4-landscape" for the PDF)
    svg: dict[str, bytes]  # preset name → SVG bytes (the HTML embeds these)
    csv: bytes  # the chart's data as exported: small cells suppressed, marked
    suppressed_cells: int = 0
    cells: int = 0


@dataclass(frozen=True)
class Table:
    """A table for the text and the annex: small cells already suppressed (shown as `suppressed`)."""

    title: str
    frame: pd.DataFrame
    note: str = ""


@dataclass(frozen=True)
class Section:
    """One section: its sentences, then its charts and tables, in order."""

    title: str
    sentences: tuple[Sentence, ...] = ()
    charts: tuple[ChartImage, ...] = ()
    tables: tuple[Table, ...] = ()
    intro: str = ""  # fixed text from the definition (methodology, caveats): no numbers allowed


@dataclass(frozen=True)
class Report:
    """One run of one report definition."""

    name: str  # the definition's name, e.g. "weekly-brief"
    title: str
    audience: str
    marking: str
    period_label: str  # "March 2024", "week of 4 Mar 2024", "Q1 2024"
    scope_label: str  # "EU-27", "Malta"
    generated_at: str  # ISO UTC
    data_freshness: str
    analytics_run: str  # the analysis run the findings come from ('' when none)
    k: int
    sections: tuple[Section, ...]
    sources: tuple[str, ...] = ()
    kind: str = "report"  # "report" (pages) or "deck" (slides first)
    extras: dict[str, Any] = field(default_factory=dict)  # period bounds, scope code and countries

    def numbers(self) -> list[tuple[Section, Sentence, CheckedNumber]]:
        """Every number printed in the report, with the sentence it is in."""
        return [
            (section, sentence, number)
            for section in self.sections
            for sentence in section.sentences
            for number in sentence.numbers
        ]

    def charts(self) -> list[ChartImage]:
        return [chart for section in self.sections for chart in section.charts]
