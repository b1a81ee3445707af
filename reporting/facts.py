"""What a report says about itself, worded once for every output.

The title page of the HTML/PDF, the title slide of the deck and the header lines of the annex CSVs all
print the same facts (audience, period, scope, when it was generated, how fresh the data is, which
analysis run the findings come from) and the same statement of the small-cell rule, so they are worded
here and nowhere else.
"""

from __future__ import annotations

from grace.disclosure import MARKER
from reporting.model import Report


def report_facts(report: Report) -> list[tuple[str, str]]:
    """(label, text) pairs in the order the outputs print them; empty ones (no analysis run) left out."""
    pairs = [
        ("Audience", report.audience),
        ("Period", _period(report)),
        ("Scope", report.scope_label),
        ("Generated", report.generated_at),
        ("Data freshness", report.data_freshness),
        ("Analysis run", report.analytics_run),
    ]
    return [(label, text) for label, text in pairs if text]


def _period(report: Report) -> str:
    """'March 2024', or on a hub run of a weekly definition 'March 2024 (a whole month: …)'."""
    note = report.extras.get("period_note", "")
    return f"{report.period_label} ({note})" if note else report.period_label


def small_cell_rule(k: int) -> str:
    """The small-cell rule the report's tables and charts were suppressed with, in one sentence."""
    return (
        f"Small-cell rule (k = {k}): counts from 1 to {k - 1} are shown as '{MARKER}', and so is any further "
        "cell from which a total would reveal them; zero counts are shown."
    )


def one_line(text: str) -> str:
    """`text` with every run of white space (newlines included) as one space: for header lines and labels."""
    return " ".join(str(text).split())
