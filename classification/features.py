"""What the triage model may know about a referral: its features at receipt, and its label when known.

Features come from one query (`sql/classification/referral_features.sql`) over the warehouse: the
referral's own metadata (platform, channel, incident type, annotations, bundle size, age band, whether it
was located abroad), its pseudonymous account's earlier referrals, and its files (categories,
annotations, material seen before exactly or as a near-duplicate, known material, the agency's content
classifier's codes and confidence when it ran). Nothing decided
after receipt is a feature: `LEAKY` lists the warehouse columns that must never be one, and a test holds
the feature list to it. The case system's own escalation flag comes along as `baseline_escalated`, a
baseline the model is measured against, never an input.

Label: 1 when the referral was closed with an investigation opened or an arrest, 0 when closed
otherwise, missing while open; `label_date` is when it became known (the closure).
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from warehouse import read_sql

CATEGORICAL = ("country_iso3", "agency_code", "platform_name", "channel", "incident_type_code", "victim_age_band")
BOOLEAN = (
    "has_sextortion",
    "has_solicitation",
    "has_minor_to_minor",
    "is_actionable",
    "has_account",
    "located_abroad",
    "location_unknown",
)
NUMERIC = (
    "bundle_size",
    "file_count",
    "earlier_account_reports",
    "files_loaded",
    "files_seen_before",
    "files_near_duplicate_of_earlier",
    "files_known",
    "files_a1",
    "files_a2",
    "files_b1",
    "files_b2",
    "files_self_generated",
    "files_generative_ai",
    "files_live_streaming",
    "files_viral",
    "files_public",
    "files_viewed_by_esp",
    "files_classifier_flagged",
    "classifier_top_confidence",
)
FEATURES = CATEGORICAL + BOOLEAN + NUMERIC

# Warehouse columns decided after receipt (triage, closure, outcome) or derived from them.
LEAKY = frozenset(
    {
        "triaged_date",
        "closed_date",
        "status",
        "outcome",
        "unit",
        "is_escalated",
        "baseline_escalated",
        "label",
        "label_date",
    }
)

# Features explained together: a referral's explanation names groups, not 30 raw columns.
GROUPS: dict[str, tuple[str, ...]] = {
    "platform": ("platform_name", "channel"),
    "incident type": ("incident_type_code",),
    "where": ("country_iso3", "agency_code", "located_abroad", "location_unknown"),
    "age band": ("victim_age_band",),
    "annotations": ("has_sextortion", "has_solicitation", "has_minor_to_minor"),
    "actionable": ("is_actionable",),
    "repeat account": ("has_account", "earlier_account_reports"),
    "volume": ("bundle_size", "file_count", "files_loaded"),
    "material seen before": ("files_seen_before", "files_near_duplicate_of_earlier", "files_known"),
    "categories": ("files_a1", "files_a2", "files_b1", "files_b2"),
    "file annotations": (
        "files_self_generated",
        "files_generative_ai",
        "files_live_streaming",
        "files_viral",
        "files_public",
        "files_viewed_by_esp",
    ),
    "content classifier": ("files_classifier_flagged", "classifier_top_confidence"),
}

EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)


def referral_features(
    con: duckdb.DuckDBPyConnection,
    start: date | None = None,
    end: date | None = None,
    batch_id: str | None = None,
) -> pd.DataFrame:
    """Features, baseline and label of the referrals received from `start` to `end` (of one batch)."""
    frame = con.execute(
        read_sql("classification/referral_features.sql"),
        {"start": start or EARLIEST, "end": end or LATEST, "batch_id": batch_id},
    ).df()
    return frame


def feature_matrix(frame: pd.DataFrame, levels: dict[str, list[str]]) -> pd.DataFrame:
    """The model's input: categorical features as `category` with the training levels (a level not seen
    in training becomes missing), booleans as 0/1, counts as floats."""
    matrix = pd.DataFrame(index=frame.index)
    for name in CATEGORICAL:
        matrix[name] = pd.Categorical(frame[name].astype("string"), categories=levels[name])
    for name in BOOLEAN:
        matrix[name] = frame[name].astype(float)
    for name in NUMERIC:
        matrix[name] = frame[name].astype(float)
    return matrix


def category_levels(frame: pd.DataFrame) -> dict[str, list[str]]:
    """The levels of each categorical feature in a training frame, sorted (stable artefacts)."""
    return {name: sorted(frame[name].dropna().astype(str).unique().tolist()) for name in CATEGORICAL}


def key_text(key: object) -> str:
    """A referral key as the features carry it ('0x' + 32 upper-case hex digits), from that form, decimal
    text or an integer (the auth store keeps reviews' keys as decimal text)."""
    text = str(key).strip()
    number = int(text, 16) if text.lower().startswith("0x") else int(text)
    return f"0x{number:032X}"


def with_review_labels(frame: pd.DataFrame, reviews) -> pd.DataFrame:
    """`frame` with analysts' triage reviews as extra labels: (referral_key, label 0/1, review date) rows, e.g.
    `dashboards.auth.triage_reviews.TriageReviews.labels()`.

    A review labels a referral whose case-system label is missing (still open): `label` = the review's (1 =
    judged actionable), `label_date` = the review date, so the time split treats it as known from the day it
    was given. Where both exist the case-system outcome wins: it is what the model predicts and is measured
    against, and an analyst's "actionable" at triage is a weaker, earlier judgement of the same thing.
    Reviews of referrals not in `frame` are ignored. `label_source` says where each label came from
    ('case', 'review', or missing)."""
    result = frame.copy()
    source = pd.Series(pd.NA, index=result.index, dtype="string")
    source[result["label"].notna()] = "case"
    table = pd.DataFrame(list(reviews), columns=["referral_key", "review_label", "review_date"])
    if not table.empty:
        table["referral_key"] = table["referral_key"].map(key_text)
        table = table.drop_duplicates("referral_key", keep="last").set_index("referral_key")
        keys = result["referral_key"].map(key_text)
        review_label = keys.map(table["review_label"])
        review_date = keys.map(table["review_date"])
        use = result["label"].isna() & review_label.notna()
        if use.any():
            result.loc[use, "label"] = review_label[use].astype(result["label"].dtype)
            result["label_date"] = pd.to_datetime(result["label_date"]).astype("datetime64[us]")
            result.loc[use, "label_date"] = pd.to_datetime(review_date[use]).astype("datetime64[us]")
            source[use] = "review"
    result["label_source"] = source
    return result
