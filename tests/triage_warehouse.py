"""A small simulated warehouse with a triage model trained, promoted and every referral scored, for the
triage page's tests (its own fixture: training adds seconds the shared dashboard warehouse does not need).

The real simulator and ETL (two years, `SCALE`), then `classification` as `grace model train --promote` and
`grace model score` do it, with a fixed seed. The simulator's exports stay beside it (`sim/exports/*/
referrals.csv`), so tests can type a real report number into the search.
"""

from __future__ import annotations

import csv
from pathlib import Path

from builders import TEST_KEY, simulated_warehouse

SEED, SCALE = 11, 0.003
AGENCY, COUNTRY = "AGY-NLD", "NLD"


def build(root: Path) -> Path:
    """The scored warehouse at `root/warehouse.duckdb` (the simulator's output in `root/sim`)."""
    from classification import registry
    from classification.features import referral_features
    from classification.model import default_windows, train
    from classification.scoring import Scorer, rescore
    from warehouse import connect

    path = simulated_warehouse(root, seed=SEED, scale=SCALE)
    con = connect(path)
    try:
        frame = referral_features(con)
        model, _ = train(frame, default_windows(frame), seed=0)
        registry.promote(con, registry.register(con, model, {}))
        rescore(con, Scorer.active(con))
    finally:
        con.close()
    return path


def report_numbers(root: Path) -> list[str]:
    """Every report number of the simulated case-system exports, in file order."""
    numbers = []
    for path in sorted((root / "sim" / "exports").glob("*/referrals.csv")):
        with open(path, newline="", encoding="utf-8", errors="replace") as handle:
            numbers += [row["report_id"].strip() for row in csv.DictReader(handle) if row.get("report_id")]
    return numbers


def pseudonym_key():
    from grace.config import PseudonymKey

    return PseudonymKey(TEST_KEY.encode(), "test")
