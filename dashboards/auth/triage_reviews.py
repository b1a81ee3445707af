"""Triage reviews: an analyst's verdict on a referral of the triage queue, audited in the same transaction.

A review confirms or changes the referral's priority (`tier_before` = its current tier when reviewed, read
from the warehouse by the caller, never from the client; `tier_after` = the analyst's P1-P4) and says whether
it is actionable. It names the referral by its pseudonymous key (decimal text) and records the scoring run and
model version whose tier was shown. One row per user and referral, replaced by a later review; each review
also writes a `triage_reviewed` audit row (key, tiers, actionable, run) in the same SQLite transaction.

Reviews become labels for the next model (`labels()`, read by `grace model train --with-reviews`): one per
referral, the latest review of any user, 1 when actionable.

Who may review which referral (role, agency and country scope) is decided by the caller (the triage page
looks the key up through the user's `Scope` first); this module checks the values' shape only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from dashboards.auth.audit import append
from dashboards.auth.database import auth_sql, connection, default_store_path, open_store, transaction, utc_now

TIERS = ("P1", "P2", "P3", "P4")
KEY_PATTERN = re.compile(r"[0-9]{1,39}")  # a UHUGEINT as decimal text
MAX_KEYS = 1_000


class TriageReviewError(ValueError):
    """A review that cannot be recorded (malformed key, unknown tier)."""


@dataclass(frozen=True)
class TriageReview:
    referral_key: str
    tier_before: str
    tier_after: str
    actionable: bool
    model_version: str | None
    run_id: str
    reviewed_at: str


def check_key(key: str) -> str:
    text = str(key)
    if not KEY_PATTERN.fullmatch(text):
        raise TriageReviewError("a referral key is its pseudonym as decimal digits")
    return text


def check_tier(tier: str) -> str:
    if tier not in TIERS:
        raise TriageReviewError(f"tier {tier!r}: use one of {', '.join(TIERS)}")
    return tier


class TriageReviews:
    """Per-user triage reviews in `$GRACE_HOME/auth/auth.sqlite` (or the given file)."""

    def __init__(self, path: Path | str | None = None, create: bool = True):
        self.path = Path(path) if path is not None else default_store_path()
        if create:
            open_store(self.path).close()  # create file and schema once

    def of_user(self, user: str, keys: Iterable[str]) -> dict[str, TriageReview]:
        """The user's reviews of these referrals, by key."""
        wanted = sorted({str(key) for key in keys})[:MAX_KEYS]
        if not wanted:
            return {}
        with connection(self.path) as con:
            rows = con.execute(auth_sql("triage_review_of_user"), {"user_name": user, "keys": json.dumps(wanted)})
            return {
                row["referral_key"]: TriageReview(
                    row["referral_key"],
                    row["tier_before"],
                    row["tier_after"],
                    bool(row["actionable"]),
                    row["model_version"],
                    row["run_id"],
                    row["reviewed_at"],
                )
                for row in rows
            }

    def review(
        self,
        user: str,
        key: str,
        tier_before: str,
        tier_after: str,
        actionable: bool,
        run_id: str,
        model_version: str | None,
        client: str | None = None,
    ) -> TriageReview:
        """Record the user's review of one referral with its `triage_reviewed` audit row (one transaction)."""
        key, tier_before, tier_after = check_key(key), check_tier(tier_before), check_tier(tier_after)
        if not run_id:
            raise TriageReviewError("a review names the scoring run whose tier it saw")
        at = utc_now()
        values = {
            "user_name": user,
            "referral_key": key,
            "tier_before": tier_before,
            "tier_after": tier_after,
            "actionable": int(bool(actionable)),
            "model_version": model_version,
            "run_id": run_id,
            "at": at,
        }
        detail = {
            "referral_key": key,
            "tier_before": tier_before,
            "tier_after": tier_after,
            "actionable": bool(actionable),
            "run_id": run_id,
            "model_version": model_version,
        }
        with connection(self.path) as con, transaction(con):
            con.execute(auth_sql("triage_review_set"), values)
            append(con, "triage_reviewed", user, detail, client)
        return TriageReview(key, tier_before, tier_after, bool(actionable), model_version, run_id, at)

    def labels(self) -> list[tuple[str, int, date]]:
        """(referral_key, label, review date) per reviewed referral: the latest review of any user, label 1 when
        it was judged actionable. What `grace model train --with-reviews` adds to the case-system labels."""
        if not self.path.exists():
            return []
        with connection(self.path) as con:
            return [
                (row["referral_key"], int(row["actionable"]), date.fromisoformat(row["reviewed_at"][:10]))
                for row in con.execute(auth_sql("triage_review_labels"))
            ]
