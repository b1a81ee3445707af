"""The marking every exported chart carries, inside the image and at the head of the CSV.

An exported chart leaves the dashboard on its own (in a note, a slide deck), so it must say what
it is and how it may be handled without the page around it: title and subtitle, a source line,
the filters applied, how fresh the data is, the small-cell rule used (k) and the classification
marking. In images the lines are figure annotations in enlarged margins, so they are part of the
PNG/SVG/PDF itself (laid out by `dashboards.exports.static`); in a CSV they are `#` comment lines before
the header row.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

CLASSIFICATION = "RESTRICTED — law-enforcement use only"


@dataclass(frozen=True)
class Marking:
    """What an exported chart says about itself."""

    title: str
    subtitle: str
    source: str
    filters: str
    freshness: str
    rule: str  # the small-cell note, naming k
    generated_at: str  # ISO UTC timestamp
    note: str = ""
    classification: str = CLASSIFICATION
    rule_in_brief: str = ""  # the small-cell note in few words, for images (default: `rule`)

    def lines(self) -> list[tuple[str, str]]:
        """(label, text) pairs in the order they are printed."""
        pairs = [
            ("Classification", self.classification),
            ("Chart", self.title),
            ("Subtitle", self.subtitle),
            ("Source", self.source),
            ("Filters", self.filters),
            ("Data", self.freshness),
            ("Disclosure control", self.rule),
            ("Note", self.note),
            ("Generated", self.generated_at),
        ]
        return [(label, text) for label, text in pairs if text]


def csv_bytes(frame: pd.DataFrame, marking: Marking) -> bytes:
    """The CSV of an exported chart: `# label: text` lines, then the (suppressed) data, with text cells
    that a spreadsheet would run as a formula neutralised (`without_formulas`)."""
    head = "".join(f"# {label}: {_one_line(text)}\n" for label, text in marking.lines())
    return (head + without_formulas(frame).to_csv(index=False, lineterminator="\n")).encode("utf-8")


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def without_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every text cell that starts like a spreadsheet formula (`=`, `+`, `-`, `@`, tab, carriage
    return) prefixed with a single quote, as OWASP recommends against CSV injection: a platform name such as
    `=HYPERLINK(…)` opens as text. Numbers (a negative change, say) are left as they are."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype != object and not pd.api.types.is_string_dtype(values):
            continue
        risky = values.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_STARTS))
        if risky.any():
            out[column] = values.where(~risky, "'" + values.astype(str))
    return out


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
