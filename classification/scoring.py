"""Scoring: each referral gets a calibrated probability, a priority score and tier, and its explanation.

`score_batch` runs inside an ETL batch's transaction (stage `score`) for the batch's new referrals when a
model is active; `rescore` is a run of its own (a new model or rule set applied to every referral, or to a
window), with the same lineage: a `triage_run` row per run, `triage_score` rows keyed by run, the latest
marked current. `rollup_triage_daily` is recomputed for the received dates a run touched.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb
import numpy as np
import pandas as pd

from classification import registry
from classification.features import referral_features
from classification.model import ScoringModel
from classification.rules import DEFAULT_RULES, TIERS, RuleSet, load_rule_set, parse_rule_set
from grace.progress import ProgressCallback, no_progress
from warehouse import read_sql

CHUNK = 200_000


@dataclass
class Scorer:
    """The active model (if any) and rule set, loaded once per ETL run."""

    model: ScoringModel | None
    model_version: str | None
    rules: RuleSet

    @classmethod
    def active(cls, con: duckdb.DuckDBPyConnection) -> Scorer:
        version = registry.active_version(con)
        model = registry.load(con, version) if version else None
        return cls(model, version, active_rules(con))

    def score(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Scores of the referrals in a feature frame (see the module docstring)."""
        probability = self.model.predict(frame) if self.model is not None else np.zeros(len(frame))
        priority, tier, fired = self.rules.apply(frame, probability)
        ids = np.array([rule.id for rule in self.rules.rules], dtype=object)
        fired_json = [json.dumps(ids[row].tolist()) for row in fired] if len(ids) else ["[]"] * len(frame)
        explained = self.model.explain(frame) if self.model is not None else [[] for _ in range(len(frame))]
        return pd.DataFrame(
            {
                "referral_key": frame["referral_key"].to_numpy(),
                "probability": probability if self.model is not None else np.full(len(frame), np.nan),
                "priority_score": priority,
                "tier": np.array(TIERS, dtype=object)[tier],
                "rules_fired": fired_json,
                "contributions": [json.dumps(pairs) for pairs in explained],
            }
        )


def active_rules(con: duckdb.DuckDBPyConnection) -> RuleSet:
    """The activated rule set, or the shipped default when none was activated."""
    found = con.execute("SELECT rules_text FROM triage_rule_set WHERE is_active").fetchone()
    return parse_rule_set(found[0], "triage_rule_set (active)") if found else load_rule_set(DEFAULT_RULES)


def score_batch(con: duckdb.DuckDBPyConnection, scorer: Scorer, batch_id: str) -> int:
    """Score the batch's new referrals in the caller's transaction; returns how many (0 without a model)."""
    if scorer.model is None:
        return 0
    started = time.perf_counter()
    frame = referral_features(con, batch_id=batch_id)
    run_id = f"batch:{batch_id}"
    _write_run(con, scorer, run_id, "batch", batch_id, [frame], started)
    return len(frame)


def rescore(
    con: duckdb.DuckDBPyConnection,
    scorer: Scorer,
    start: date | None = None,
    end: date | None = None,
    progress: ProgressCallback = no_progress,
) -> tuple[str, int]:
    """Score every referral received from `start` to `end` again, as one new run in one transaction."""
    started = time.perf_counter()
    frame = referral_features(con, start, end)
    run_id = "rescore:" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    chunks = [frame.iloc[low : low + CHUNK] for low in range(0, len(frame), CHUNK)]
    con.execute("BEGIN TRANSACTION")
    try:
        _write_run(con, scorer, run_id, "rescore", None, chunks, started, progress)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return run_id, len(frame)


def _write_run(con, scorer: Scorer, run_id, kind, batch_id, chunks, started, progress=no_progress) -> None:
    total = sum(len(chunk) for chunk in chunks)
    done = 0
    con.execute("CREATE OR REPLACE TEMP TABLE run_keys (referral_key UHUGEINT, received_date DATE)")
    for chunk in chunks:
        progress("Scoring referrals", done, total)
        scores = scorer.score(chunk)
        scores["received_date"] = chunk["received_date"].to_numpy()
        con.register("new_scores", scores)
        try:
            con.execute(read_sql("classification/insert_scores.sql"), {"run_id": run_id})
            con.execute("INSERT INTO run_keys SELECT CAST(referral_key AS UHUGEINT), received_date FROM new_scores")
        finally:
            con.unregister("new_scores")
        done += len(chunk)
    progress("Scoring referrals", total, total)
    con.execute(read_sql("classification/retire_old_scores.sql"), {"run_id": run_id})
    con.execute("DELETE FROM rollup_triage_daily WHERE date_key IN (SELECT DISTINCT received_date FROM run_keys)")
    con.execute("INSERT INTO rollup_triage_daily BY NAME " + read_sql("classification/rollup_triage_daily.sql"))
    con.execute(
        "INSERT INTO triage_run VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            kind,
            batch_id,
            scorer.model_version,
            scorer.rules.label,
            datetime.now(UTC).replace(tzinfo=None),
            total,
            round(time.perf_counter() - started, 3),
        ],
    )
    con.execute("DROP TABLE IF EXISTS run_keys")
