"""Run many batches against one warehouse, with progress, stopping or continuing on failure.

Used by `grace etl run` and by the demo builder. Each batch is its own transaction (see
`etl.pipeline`); a failed batch is reported and leaves the warehouse as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from classification.scoring import Scorer
from etl.pipeline import Matching, PipelineOptions, run_batch
from etl.sources.base import BatchSource
from grace.config import PseudonymKey
from grace.errors import GraceError
from grace.progress import ProgressCallback, no_progress
from warehouse.lineage import BatchReport


@dataclass
class RunSummary:
    """Reports of every batch attempted and the failures, with their one-line reasons."""

    reports: list[BatchReport] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)

    def total(self, attribute: str) -> int:
        return sum(getattr(r, attribute) for r in self.reports)

    @property
    def ok(self) -> bool:
        return not self.failures


def run_batches(
    con: duckdb.DuckDBPyConnection,
    batches: list[BatchSource],
    key: PseudonymKey,
    progress: ProgressCallback = no_progress,
    fail_fast: bool = False,
    options: PipelineOptions = PipelineOptions(),
) -> RunSummary:
    """Load `batches` in order; a failing batch is recorded (or re-raised with `fail_fast`)."""
    summary = RunSummary()
    matching = Matching.open(con)
    scorer = Scorer.active(con)
    progress("Loading batches", 0, len(batches))
    for done, batch in enumerate(batches, start=1):
        try:
            summary.reports.append(run_batch(con, batch, key, options, matching, scorer))
        except (GraceError, duckdb.Error, OSError) as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            summary.failures.append((batch.path, reason))
            if fail_fast:
                raise GraceError(f"{batch.path}: batch failed and was rolled back: {reason}") from error
        progress("Loading batches", done, len(batches))
    return summary
