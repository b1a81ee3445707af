"""Triage page: what its callbacks compute, as plain functions of a `WarehouseReader` and a `TriageView`.

The queue lists the referrals with a current triage score (`sql/queries/triage_queue.sql`) that the
user's `Scope` allows — an agency-scoped analyst sees only that agency's referrals, a country-scoped one
that country's, an unscoped one every agency (with an agency filter) — ranked for review, 50 a page.
Each row shows the pseudonymous id (the first 10 hex digits of the referral key, never the report number),
received date, agency, platform, incident type code, tier, probability, the rules that fired, the feature
groups that raised the model's score most, and status.

**Review sample** (so the labels analysts give are not only the model's own choices): the queue carries
- an *audit sample*: about 5 % (`SAMPLE_PER_MILLE` / 1000) of the referrals received in the last
  `SAMPLE_DAYS` days up to the newest received date in the warehouse, chosen by md5(`AUDIT_SALT`:key as 32 lower-case hex digits) —
  a pure function of the key, so it is the same on every reload and for every user, and independent of
  the score;
- the `UNCERTAIN_N` most *uncertain* referrals: the highest p(1 − p), i.e. probability closest to 0.5.
Both are taken among the referrals in the user's scope that match the agency and status filters, marked
in the queue ("audit sample", "uncertain"), shown first, then everything else by priority score; "Show:
review sample" lists only them.

The view is a URL (`?tier=P1&status=all&show=sample&agency=AGY-NLD&page=2`), validated here; the user's
scope is never in it (`TriageView.within`). Finding a referral by its case-system report number computes
the pseudonym on the server (`grace.pseudonyms.referral_key`) and looks it up through the scope: a key
outside the scope answers exactly like an absent one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qs, urlencode

from dashboards.state import ViewStateError, value_set
from grace.errors import WarehouseError
from grace.scope import Scope
from warehouse import WarehouseReader

PAGE_PATH = "/triage"
TRIAGE_ROLES = ("analyst", "admin")
PAGE_SIZE = 50
TIERS = ("P1", "P2", "P3", "P4")
STATUSES = ("received", "triaged", "investigating", "closed")
OPEN_STATUSES = ("received", "triaged", "investigating")
STATUS_CHOICES = ("open", "all", *STATUSES)
STATUS_LABELS = {"open": "Open", "all": "All", **{s: s.capitalize() for s in STATUSES}}
SHOWS = ("queue", "sample", "audit", "uncertain")
SHOW_LABELS = {"queue": "Queue", "sample": "Review sample", "audit": "Audit sample", "uncertain": "Uncertain"}
AUDIT_SALT = "grace-triage-audit-sample-v1"
SAMPLE_PER_MILLE = 50  # 5 %
SAMPLE_DAYS = 7
UNCERTAIN_N = 5
MAX_PAGE = 10_000
NO_SCORES_HINT = (
    "No scored referrals in your scope: train and promote a model (`grace model train --promote`) and score the "
    "warehouse (`grace model score`); new batches are then scored as they load."
)
NOT_FOUND = "No referral with that report number in your queue."


@dataclass(frozen=True)
class TriageView:
    """The page's filters; `scope` is who is looking (never in the URL)."""

    agencies: tuple[str, ...] = ()  # empty = every agency of the scope
    tiers: tuple[str, ...] = ()  # empty = every tier
    status: str = "open"
    show: str = "queue"
    page: int = 1
    scope: Scope = field(default_factory=Scope.everything)

    @classmethod
    def from_query(cls, search: str | Mapping[str, Any] | None) -> TriageView:
        """Parse and validate a query string (or Dash's page kwargs); raises `ViewStateError`."""
        raw = _lists(search)
        agencies = tuple(sorted({a for a in raw.get("agency", []) if a}))
        for code in agencies:
            if len(code) > 40 or not code.replace("-", "").isalnum():
                raise ViewStateError(f"agency: {code[:40]!r} is not an agency code")
        tiers = tuple(sorted({t for t in raw.get("tier", []) if t}))
        bad = [t for t in tiers if t not in TIERS]
        if bad:
            raise ViewStateError(f"tier: {bad[0]!r} is not one of {', '.join(TIERS)}")
        status = raw.get("status", ["open"])[-1] or "open"
        if status not in STATUS_CHOICES:
            raise ViewStateError(f"status: {status!r} is not one of {', '.join(STATUS_CHOICES)}")
        show = raw.get("show", ["queue"])[-1] or "queue"
        if show not in SHOWS:
            raise ViewStateError(f"show: {show!r} is not one of {', '.join(SHOWS)}")
        page_text = raw.get("page", ["1"])[-1] or "1"
        if not page_text.isdigit() or not 1 <= int(page_text) <= MAX_PAGE:
            raise ViewStateError(f"page: {page_text[:20]!r} is not a page number")
        return cls(agencies=agencies, tiers=tiers, status=status, show=show, page=int(page_text))

    def to_query(self) -> str:
        pairs = [("agency", a) for a in self.agencies] + [("tier", t) for t in self.tiers]
        if self.status != "open":
            pairs.append(("status", self.status))
        if self.show != "queue":
            pairs.append(("show", self.show))
        if self.page != 1:
            pairs.append(("page", str(self.page)))
        return f"?{urlencode(pairs)}" if pairs else ""

    def with_changes(self, **changes: Any) -> TriageView:
        for key in ("agencies", "tiers"):
            if key in changes:
                changes[key] = value_set(changes[key])
        return replace(self, **changes)

    def within(self, scope: Scope) -> TriageView:
        """This view bound to what `scope` lets its user see: an agency filter cut to the scope's agencies."""
        agencies = scope.agencies_for(self.agencies) if scope.agencies is not None else self.agencies
        return replace(self, agencies=agencies, scope=scope)

    @property
    def statuses(self) -> list[str]:
        if self.status == "open":
            return list(OPEN_STATUSES)
        return [] if self.status == "all" else [self.status]


def _lists(search) -> dict[str, list[str]]:
    if not search:
        return {}
    if isinstance(search, str):
        return parse_qs(search.lstrip("?"), keep_blank_values=True)
    return {
        k: [str(x) for x in v] if isinstance(v, (list, tuple)) else [str(v)] for k, v in search.items() if v is not None
    }


def scope_params(scope: Scope) -> dict[str, Any]:
    return {"scope_countries": scope.sql_countries, "scope_agencies": scope.sql_agencies}


def queue_params(view: TriageView) -> dict[str, Any]:
    """The `triage_queue` parameters of a (scoped) view."""
    return {
        **scope_params(view.scope),
        "agencies": list(view.agencies),
        "tiers": list(view.tiers),
        "statuses": view.statuses,
        "show": view.show,
        "salt": AUDIT_SALT,
        "sample_per_mille": SAMPLE_PER_MILLE,
        "sample_days": SAMPLE_DAYS,
        "uncertain_n": UNCERTAIN_N,
        "limit": PAGE_SIZE,
        "offset": (view.page - 1) * PAGE_SIZE,
    }


def words(group: str) -> str:
    """A feature group's name as it reads in the queue ("material seen before")."""
    return str(group).replace("_", " ")


def _json_list(text: Any) -> list:
    try:
        value = json.loads(text) if isinstance(text, str) else list(text or [])
    except (TypeError, ValueError):
        return []
    return value if isinstance(value, list) else []


def reasons_text(contributions: Any, top: int = 3) -> str:
    """The top feature groups that raised the score, in words: "actionable, platform, volume"."""
    groups = [words(item[0]) for item in _json_list(contributions)[:top] if isinstance(item, list) and item]
    return ", ".join(groups) or "—"


def rules_text(rules: Any) -> str:
    fired = [str(rule) for rule in _json_list(rules)]
    return ", ".join(fired) or "—"


def marks_text(audit_sample: bool, uncertain: bool) -> str:
    return ", ".join(text for flag, text in ((audit_sample, "audit sample"), (uncertain, "uncertain")) if flag)


def review_text(review) -> str:
    """My review of a row: "P2 · actionable" (None when not reviewed)."""
    if review is None:
        return ""
    return f"{review.tier_after} · {'actionable' if review.actionable else 'not actionable'}"


def _probability(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else round(float(value), 3)


def row_of(record: Mapping[str, Any], review=None) -> dict[str, Any]:
    """One queue row for the table (`id` = the referral key, so a click names the referral)."""
    return {
        "id": record["referral_key"],
        "short_id": f"R-{record['short_id']}",
        "received": str(record["received_date"])[:10],
        "agency": record["agency_code"],
        "platform": record["platform_name"],
        "incident_type": record["incident_type_code"],
        "tier": record["tier"],
        "probability": _probability(record["probability"]),
        "rules": rules_text(record["rules_fired"]),
        "reasons": reasons_text(record["contributions"]),
        "status": record["status"],
        "marks": marks_text(bool(record.get("audit_sample")), bool(record.get("uncertain"))),
        "reviewed": review_text(review),
    }


@dataclass(frozen=True)
class QueueView:
    rows: list[dict]
    count: str
    page: int
    pages: int
    status: str = ""


def queue(reader: WarehouseReader, view: TriageView, reviews_of=None) -> QueueView:
    """One page of the (scoped) view's queue; `reviews_of(keys)` gives the user's reviews of the rows."""
    try:
        frame = reader.run("triage_queue", **queue_params(view))
    except WarehouseError as error:
        return QueueView([], "", 1, 1, f"Warehouse unavailable: {error}")
    if frame.empty and view.page > 1:
        return queue(reader, replace(view, page=1), reviews_of)
    if frame.empty:
        hint = "No referral matches these filters." if agency_options(reader, view.scope) else NO_SCORES_HINT
        return QueueView([], f"0 referrals in {view.scope.describe()}", 1, 1, hint)
    records = frame.to_dict("records")
    reviews = reviews_of([r["referral_key"] for r in records]) if reviews_of else {}
    rows = [row_of(record, reviews.get(record["referral_key"])) for record in records]
    total = int(frame["matching"].iloc[0])
    pages = max(1, math.ceil(total / PAGE_SIZE))
    first = (view.page - 1) * PAGE_SIZE + 1
    sampled = int((frame["audit_sample"] | frame["uncertain"]).sum())
    count = f"{total:,} referral(s) in {view.scope.describe()}; showing {first:,}–{first + len(rows) - 1:,}"
    if sampled:
        count += f" ({sampled} from the review sample, first)"
    return QueueView(rows, count, view.page, pages)


def agency_options(reader: WarehouseReader, scope: Scope) -> list[dict]:
    """The agencies with scored referrals the user may see, for the agency filter."""
    try:
        frame = reader.run("triage_agencies", **scope_params(scope))
    except WarehouseError:
        return []
    return [
        {"label": f"{row.agency_code} ({row.country_iso3})", "value": row.agency_code}
        for row in frame.itertuples(index=False)
    ]


def referral(reader: WarehouseReader, scope: Scope, key: str | None) -> dict[str, Any] | None:
    """One referral's current score if `scope` allows it; None when absent, unscored or outside the scope."""
    if not key or not str(key).isdigit() or len(str(key)) > 39:
        return None
    frame = reader.run("triage_referral", referral_key=str(key), any_scope=False, **scope_params(scope))
    if frame.empty:
        return None
    record = frame.to_dict("records")[0]
    scope.require_referral(record["agency_code"], record["country_iso3"])  # the SQL said so; checked again here
    return record


def exists_outside(reader: WarehouseReader, scope: Scope, key: str) -> bool:
    """Whether a key the scope does not allow is a scored referral elsewhere (only for the audit log)."""
    if not key or not str(key).isdigit():
        return False
    frame = reader.run("triage_referral", referral_key=str(key), any_scope=True, **scope_params(scope))
    return not frame.empty and not scope.allows_agency(frame["agency_code"].iloc[0], frame["country_iso3"].iloc[0])


def detail(record: Mapping[str, Any] | None, review=None) -> dict[str, Any] | None:
    """What the review panel shows about the selected referral (codes and numbers only)."""
    if record is None:
        return None
    contributions = [
        f"{words(item[0])} (+{float(item[1]):.2f})"
        for item in _json_list(record["contributions"])
        if isinstance(item, list) and len(item) == 2
    ]
    return {
        "referral_key": record["referral_key"],
        "short_id": f"R-{record['short_id']}",
        "received": str(record["received_date"])[:10],
        "agency": record["agency_code"],
        "platform": record["platform_name"],
        "incident_type": record["incident_type_code"],
        "status": record["status"],
        "tier": record["tier"],
        "probability": _probability(record["probability"]),
        "priority_score": round(float(record["priority_score"]), 3),
        "rules": rules_text(record["rules_fired"]),
        "contributions": ", ".join(contributions) or "—",
        "model_version": record["model_version"] or "rules only",
        "run_id": record["run_id"],
        "reviewed": review_text(review),
    }
