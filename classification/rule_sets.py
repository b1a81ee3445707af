"""Activating a rule set, and previewing what it would change before activation.

`preview` applies a candidate rule set to the referrals' current scores (their stored probability; rules
only where no model scored them) and counts how many would move from each current tier to each new one.
`activate` stores the rule set's text as the active one; new batches use it, and `grace model score`
re-scores earlier referrals with it (a new run with lineage).
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import numpy as np
import pandas as pd

from classification.features import referral_features
from classification.rules import TIERS, RuleSet
from warehouse import read_sql


def preview(con: duckdb.DuckDBPyConnection, candidate: RuleSet) -> pd.DataFrame:
    """Current tier × candidate tier counts over the referrals with a current score."""
    current = con.execute(read_sql("classification/current_scores.sql")).df()
    if current.empty:
        return pd.DataFrame(columns=["current_tier", "new_tier", "referrals"])
    features = referral_features(con)
    joined = features.merge(current, on="referral_key", how="inner")
    probability = joined["probability"].fillna(0.0).to_numpy(dtype=float)
    _, tier, _ = candidate.apply(joined, probability)
    moved = pd.DataFrame({"current_tier": joined["tier"].to_numpy(), "new_tier": np.array(TIERS)[tier]})
    return moved.groupby(["current_tier", "new_tier"]).size().rename("referrals").reset_index()


def activate(con: duckdb.DuckDBPyConnection, rules: RuleSet) -> None:
    """Make `rules` the active rule set (the previously active one is kept, inactive)."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("UPDATE triage_rule_set SET is_active = false WHERE is_active")
        con.execute(
            "INSERT INTO triage_rule_set VALUES (?, ?, ?, ?, ?, true, ?)",
            [
                rules.label,
                rules.name,
                rules.version,
                rules.checksum,
                rules.text,
                datetime.now(UTC).replace(tzinfo=None),
            ],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
