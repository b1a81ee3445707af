"""The agency's own columns of every referral: is_escalated and the life cycle with its outcome.

Each referral has a latent outcome, positive (investigation_opened or arrest) or negative
(anything else once closed), drawn from a logistic model of metadata that exists at receipt:

    logit P(positive) = intercept
                      + coefficients of the referral's columns and values (TERMS below)
                      + a random intercept per receiving agency (normal, sd AGENCY_SD)
                      + dated changes (a country's policy change, the optional injected drift)

The terms use the delivered columns (platform and channel, incident type, report annotations,
bundle size, victim age, estimated location vs reporting country, is_actionable), the files of
the referral (file count, files on the known-material lists, near-duplicates of listed items,
viral events) and the reported account's history (earlier referrals about the same account).
Everything is vectorised; the outcome is computed once the files exist, so `build_referrals`
makes the receipt-time columns and `complete_referrals` adds these ones.

The label becomes visible only when the referral is closed: closure takes days for
informational referrals and weeks for actionable ones, longest for positives, so the labels of
the last weeks of the range are mostly still pending (right censoring, correlated with the
outcome). With `SimulationConfig.outcome_feedback` < 1, only that share of the referrals (at
random, independent of the outcome) ever has its outcome reported back; the others stay open.
`is_escalated` is the agency's own noisy judgement of the same latent score (a weak to moderate
signal). Drift over time: the emerging platforms have their own coefficients
(Tandemo's referrals are positive more often, Glimmr's less), one country's escalation
practice changes on a date drawn from the seed, and `SimulationConfig.outcome_drift_date`
injects a drift (sextortion annotations x3 and two coefficients changed) from that date.
`outcome_truth` writes all of it, with the realised rates per year, to ground_truth.json.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from etl.simulator.config import SimulationConfig
from etl.simulator.contract import in_contract_order
from etl.simulator.files import KNOWN_BASE, NEW_BASE, Files, item_classifications
from etl.simulator.identities import LOCATION_CLASSES
from etl.simulator.referrals import DRIFT_SEXTORTION_FACTOR, TYPE_CODES, Referrals, booleans
from etl.simulator.rng import child_rng, draw_rng
from etl.simulator.strings import date_strings, int_strings, join, null_where, pick
from etl.simulator.world import VIRAL_ITEM_BASE, World, epoch_day
from warehouse.reference import AGE_BANDS, EU27_ISO3, REPORT_ANNOTATIONS

POSITIVE = ("investigation_opened", "arrest")
STATUSES = ("received", "triaged", "investigating", "closed")
OUTCOMES = ("pending", "investigation_opened", "arrest", "no_action", "referred_abroad", "other")
ARREST_SHARE = 0.17  # of positive outcomes; the rest are investigation_opened
# Negative outcomes (no_action, referred_abroad, other) by actionability, and when located abroad.
NEGATIVE_INFORMATIONAL = (0.75, 0.12, 0.13)
NEGATIVE_ACTIONABLE = (0.5, 0.375, 0.125)
NEGATIVE_ABROAD = (0.3, 0.6, 0.1)

INTERCEPT = -4.15
AGENCY_SD = 0.35  # random intercept per receiving agency (logit scale)
CHANNEL_COEFFICIENTS = {
    "chat": 0.4,
    "social": 0.0,
    "cloud": 0.2,
    "live_streaming": 0.5,
    "gaming": 0.5,
    "email": -0.2,
    "p2p": 0.6,
    "other": -0.3,
}
PLATFORM_COEFFICIENTS = {"Tandemo": 1.0, "Glimmr": -0.8}  # on top of the channel; others 0
INCIDENT_TYPE_COEFFICIENTS = {
    "IT_CP": 0.0,
    "IT_CST": 1.8,
    "IT_CSTOUR": 1.5,
    "IT_CSM": 1.6,
    "IT_MDN": -1.2,
    "IT_MWDI": -0.9,
    "IT_OEC": 0.8,
    "IT_UOM": -0.3,
}
ANNOTATION_COEFFICIENTS = {
    "sextortion": 1.0,
    "csam_solicitation": 0.8,
    "minor_to_minor_interaction": -1.2,
    "infant_toddler": 1.2,
}
AGE_BAND_COEFFICIENTS = {"0-2": 1.0, "3-5": 0.9, "6-8": 0.8, "9-12": 0.5, "13-15": 0.2, "16-17": 0.0}
LOCATION_COEFFICIENTS = {"reporting_country": 0.0, "other_eu": -1.0, "non_eu": -1.5, "unknown": -0.7}
NUMERIC_COEFFICIENTS = {
    "is_actionable": 2.1,
    "ln_bundle_size": -0.4,
    "ln_file_count": 0.4,
    "known_material": 0.8,
    "near_duplicate_of_known": 0.5,
    "viral": -2.0,
    "ln1p_earlier_account_referrals": 0.5,
}
NUMERIC_DEFINITIONS = {
    "is_actionable": "1 if is_actionable = true",
    "ln_bundle_size": "ln(bundle_size)",
    "ln_file_count": "ln(number of file rows of the referral)",
    "known_material": "1 if at least one file's MD5/SHA1 is on hashsets/known_hashes.csv or industry_list.csv "
    "(an exact copy of a listed item)",
    "near_duplicate_of_known": "1 if at least one file is a near-duplicate variant (own MD5, PDQ within a few "
    "bits) of a listed item: found by PDQ matching only (ground truth near_duplicates)",
    "viral": "1 if the referral belongs to a viral event (ground truth events of kind spike; its file is the "
    "event's item or a variant of it)",
    "ln1p_earlier_account_referrals": "ln(1 + number of earlier referrals, by received_date then report_id, "
    "about the same reported account: the same reported_screen_name/email/phone on the same esp_name)",
}

# Label delays: triage after receipt, then closure after triage (lognormal, days).
TRIAGE_MEDIAN_DAYS = 4.0  # halved for actionable referrals
TRIAGE_SIGMA = 1.0
TRIAGE_MAX_DAYS = 60
NEVER_TRIAGED = 0.06
CLOSE_MEDIAN_DAYS = {"informational_negative": 3.0, "actionable_negative": 25.0, "positive": 40.0}
CLOSE_SIGMA = 0.9
CLOSE_MAX_DAYS = 180
EMPTY_PENDING = 0.7  # share of untriaged referrals whose outcome cell is empty rather than 'pending'

# is_escalated: the agency's noisy view of the latent score above a threshold.
ESCALATION_NOISE_SD = 1.2
ESCALATION_THRESHOLD = 1.5

# One country's escalation practice changes on a date drawn from the seed.
POLICY_LOGIT_SHIFT = 0.7
POLICY_ESCALATION_SHIFT = -0.8  # added to the escalation threshold (more escalations)
POLICY_RANGE = (0.45, 0.8)  # fraction of the simulated range in which the date falls

# The injected drift (SimulationConfig.outcome_drift_date).
DRIFT_COEFFICIENT_CHANGES = {"report_annotations=sextortion": 2.0, "known_material": 0.0}
RATE_WINDOW_DAYS = 56


@dataclass(frozen=True)
class OutcomeScenario:
    """Dates of the outcome model's changes in one run."""

    policy_country: str
    policy_date: dt.date
    drift_date: dt.date | None


def outcome_scenario(world: World, config: SimulationConfig) -> OutcomeScenario:
    """The policy change's country and date (from the seed) and the injected drift's date (from the config)."""
    rng = child_rng(config.seed, "outcome", "scenario")
    country = world.countries[int(rng.integers(0, len(world.countries)))].iso3
    span = (config.end - config.start).days
    date = config.start + dt.timedelta(days=round(rng.uniform(*POLICY_RANGE) * span))
    return OutcomeScenario(country, date, config.outcome_drift_date)


@dataclass(frozen=True)
class Design:
    """Feature values of every referral and the latent score."""

    numeric: dict[str, np.ndarray]  # NUMERIC_COEFFICIENTS' features
    channel: np.ndarray  # index into CHANNEL_COEFFICIENTS' keys
    platform: np.ndarray  # index into world.platforms
    incident_type: np.ndarray
    annotations: np.ndarray
    age_band: np.ndarray  # index into AGE_BANDS, len(AGE_BANDS) = not given
    location: np.ndarray
    agency: np.ndarray
    agency_effect: np.ndarray
    policy: np.ndarray  # bool: the policy change applies
    drifted: np.ndarray  # bool: received on or after the injected drift date
    logit: np.ndarray  # the true linear predictor (everything above)

    @property
    def probability(self) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logit))


def earlier_referrals(account_key: np.ndarray) -> np.ndarray:
    """How many earlier rows (rows are in delivery order) name the same account."""
    n = len(account_key)
    order = np.argsort(account_key, kind="stable")
    keys = account_key[order]
    first = np.ones(n, dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    result = np.empty(n, dtype=np.int64)
    result[order] = np.arange(n) - start
    return result


def file_features(files: Files, n: int) -> dict[str, np.ndarray]:
    """Per referral: file count, any exact copy of a listed item, any near-duplicate of one."""
    item, variant, ref = files.item, files.variant, files.referral_index
    listed = (item >= np.uint64(KNOWN_BASE)) & (item < np.uint64(NEW_BASE))
    viral = np.flatnonzero(item >= np.uint64(VIRAL_ITEM_BASE))
    listed[viral] = item_classifications(item[viral]) < 4  # viral items are listed when classified
    count = np.bincount(ref, minlength=n)
    exact = np.bincount(ref, weights=listed & (variant == 0), minlength=n) > 0
    near = np.bincount(ref, weights=listed & (variant > 0), minlength=n) > 0
    return {"ln_file_count": np.log(np.maximum(count, 1)), "known_material": exact, "near_duplicate_of_known": near}


def agency_effects(seed: int) -> np.ndarray:
    """Random intercept of every possible agency key (EU-27 index x 100 + regional number)."""
    return child_rng(seed, "outcome", "agencies").normal(0.0, AGENCY_SD, size=len(EU27_ISO3) * 100)


def agency_names(keys: np.ndarray) -> list[str]:
    return [f"AGY-{EU27_ISO3[k // 100]}" + (f"-{k % 100:02d}" if k % 100 else "") for k in (int(v) for v in keys)]


def _lookup(table: dict, names, index: np.ndarray) -> np.ndarray:
    return np.array([table.get(name, 0.0) for name in names])[index]


def design(world: World, referrals: Referrals, files: Files, config: SimulationConfig, scenario: OutcomeScenario):
    """The features of every referral and the true logit of a positive outcome."""
    rows, receipt = referrals.rows, referrals.features
    n = len(rows)
    channels = tuple(CHANNEL_COEFFICIENTS)
    channel = np.array([channels.index(p.channel) for p in world.platforms])[rows.platform]
    age = receipt.victim_age
    bounds = np.array([low for _, low, _ in AGE_BANDS[1:]])
    age_band = np.where(age < 0, len(AGE_BANDS), np.searchsorted(bounds, age, side="right"))
    numeric = {
        "is_actionable": receipt.actionable.astype(float),
        "ln_bundle_size": np.log(np.maximum(rows.bundle_size, 1)),
        "viral": (rows.viral >= 0).astype(float),
        "ln1p_earlier_account_referrals": np.log1p(earlier_referrals(referrals.account_key)),
        **{k: v.astype(float) for k, v in file_features(files, n).items()},
    }
    numeric = {name: numeric[name] for name in NUMERIC_COEFFICIENTS}
    drifted = np.zeros(n, dtype=bool)
    if scenario.drift_date is not None:
        drifted = referrals.received_day >= epoch_day(scenario.drift_date)
    logit = np.full(n, INTERCEPT)
    for name, coefficient in NUMERIC_COEFFICIENTS.items():
        logit += coefficient * numeric[name]
    logit += np.array(list(CHANNEL_COEFFICIENTS.values()))[channel]
    logit += _lookup(PLATFORM_COEFFICIENTS, [p.name for p in world.platforms], rows.platform)
    logit += _lookup(INCIDENT_TYPE_COEFFICIENTS, TYPE_CODES, receipt.incident_type)
    for bit, label in enumerate(REPORT_ANNOTATIONS):
        has = (receipt.annotations >> bit) & 1
        logit += ANNOTATION_COEFFICIENTS[label] * has
        changed = DRIFT_COEFFICIENT_CHANGES.get(f"report_annotations={label}")
        if changed is not None:
            logit += (changed - ANNOTATION_COEFFICIENTS[label]) * has * drifted
    for name, changed in DRIFT_COEFFICIENT_CHANGES.items():
        if name in numeric:
            logit += (changed - NUMERIC_COEFFICIENTS[name]) * numeric[name] * drifted
    logit += np.array([*AGE_BAND_COEFFICIENTS.values(), 0.0])[age_band]
    logit += np.array([LOCATION_COEFFICIENTS[c] for c in LOCATION_CLASSES])[receipt.location]
    effects = agency_effects(config.seed)[receipt.agency]
    logit += effects
    policy = (np.array([c.iso3 for c in world.countries])[rows.country] == scenario.policy_country) & (
        referrals.received_day >= epoch_day(scenario.policy_date)
    )
    logit += POLICY_LOGIT_SHIFT * policy
    return Design(
        numeric,
        channel,
        rows.platform,
        receipt.incident_type,
        receipt.annotations,
        age_band,
        receipt.location,
        receipt.agency,
        effects,
        policy,
        drifted,
        logit,
    )


@dataclass(frozen=True)
class Outcomes:
    """The latent outcome and what the case system shows of it."""

    positive: np.ndarray  # bool, the latent outcome (also of referrals still pending)
    closed: np.ndarray  # bool, the label is visible (status closed)
    escalated: np.ndarray  # bool
    columns: dict[str, pa.Array]  # is_escalated, triaged_date, closed_date, unit, status, outcome


def draw_outcomes(
    world: World, referrals: Referrals, model: Design, config: SimulationConfig, rng: np.random.Generator
) -> Outcomes:
    """Latent outcome, escalation flag and life cycle (as of the end of the range) of every referral."""
    n = len(model.logit)
    received, actionable = referrals.received_day, referrals.features.actionable
    end_day = epoch_day(config.end)
    positive = rng.random(n) < model.probability
    threshold = ESCALATION_THRESHOLD + POLICY_ESCALATION_SHIFT * model.policy
    escalated = model.logit + rng.normal(0.0, ESCALATION_NOISE_SD, size=n) > threshold
    triage = rng.lognormal(np.log(TRIAGE_MEDIAN_DAYS), TRIAGE_SIGMA, size=n) / np.where(actionable, 2, 1)
    triaged_day = received + np.minimum(np.floor(triage), TRIAGE_MAX_DAYS).astype(np.int64)
    triaged = (triaged_day <= end_day) & (rng.random(n) >= NEVER_TRIAGED)
    median = np.select(
        [positive, actionable],
        [CLOSE_MEDIAN_DAYS["positive"], CLOSE_MEDIAN_DAYS["actionable_negative"]],
        CLOSE_MEDIAN_DAYS["informational_negative"],
    )
    close_lag = np.minimum(np.floor(rng.lognormal(np.log(median), CLOSE_SIGMA)), CLOSE_MAX_DAYS).astype(np.int64)
    closed_day = triaged_day + close_lag
    closed = triaged & (closed_day <= end_day) & _fed_back(n, config)
    status = np.where(closed, 3, np.where(triaged, np.where(actionable, 2, 1), 0))
    outcome = np.where(closed, _closed_outcomes(positive, actionable, model.location, rng), 0)
    missing = (status == 0) & (rng.random(n) < EMPTY_PENDING)
    units = np.array([c.units for c in world.countries])[referrals.rows.country]
    unit = rng.integers(0, 1 << 30, size=n) % units + 1
    columns = {
        "is_escalated": booleans(escalated),
        "triaged_date": null_where(date_strings(triaged_day), ~triaged),
        "closed_date": null_where(date_strings(closed_day), ~closed),
        "unit": null_where(join("U", int_strings(unit, 2)), ~triaged),
        "status": pick(STATUSES, status),
        "outcome": null_where(pick(OUTCOMES, outcome), missing),
    }
    return Outcomes(positive, closed, escalated, columns)


def _fed_back(n: int, config: SimulationConfig) -> np.ndarray:
    """Whether each referral's outcome is ever reported back (`SimulationConfig.outcome_feedback`): at random,
    independent of the outcome, from its own stream (so the other draws do not move)."""
    if config.outcome_feedback >= 1.0:
        return np.ones(n, dtype=bool)
    return draw_rng(config, "outcome", "feedback").random(n) < config.outcome_feedback


def _closed_outcomes(
    positive: np.ndarray, actionable: np.ndarray, location: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Index into OUTCOMES of a closed referral: positives split into investigations and arrests;
    negatives no_action / referred_abroad / other, mostly referred abroad when located abroad."""
    n = len(positive)
    u, v = rng.random(n), rng.random(n)
    abroad = (location == LOCATION_CLASSES.index("other_eu")) | (location == LOCATION_CLASSES.index("non_eu"))
    weights = np.where(
        abroad[:, None],
        np.array(NEGATIVE_ABROAD),
        np.where(actionable[:, None], np.array(NEGATIVE_ACTIONABLE), np.array(NEGATIVE_INFORMATIONAL)),
    )
    negative = 3 + (u[:, None] > np.cumsum(weights, axis=1)[:, :2]).sum(axis=1)
    return np.where(positive, np.where(v < ARREST_SHARE, 2, 1), negative)


@dataclass(frozen=True)
class OutcomeRun:
    """The outcome model of one run: its dated changes, the features and the draws."""

    scenario: OutcomeScenario
    model: Design
    drawn: Outcomes


def simulate_outcomes(world: World, referrals: Referrals, files: Files, config: SimulationConfig) -> OutcomeRun:
    """Features, true probabilities, latent outcomes and the agency's columns of every referral."""
    scenario = outcome_scenario(world, config)
    model = design(world, referrals, files, config, scenario)
    return OutcomeRun(scenario, model, draw_outcomes(world, referrals, model, config, draw_rng(config, "outcome")))


def complete_referrals(
    world: World, referrals: Referrals, files: Files, config: SimulationConfig
) -> tuple[Referrals, dict]:
    """The referrals with every contract column (in contract order) and the outcome model's ground truth."""
    run = simulate_outcomes(world, referrals, files, config)
    columns = {name: referrals.table.column(name) for name in referrals.table.column_names}
    table = in_contract_order({**columns, **run.drawn.columns}, "referrals")
    truth = outcome_truth(world, referrals, run.model, run.drawn, run.scenario, config)
    return dataclasses.replace(referrals, table=table), truth


def _rate(values: np.ndarray) -> float | None:
    return round(float(values.mean()), 4) if len(values) else None


def _rates(mask: np.ndarray, model: Design, drawn: Outcomes, actionable: np.ndarray) -> dict:
    closed = mask & drawn.closed
    return {
        "referrals": int(mask.sum()),
        "positive_rate": _rate(drawn.positive[mask]),
        "mean_true_probability": _rate(model.probability[mask]),
        "closed_share": _rate(drawn.closed[mask]),
        "positive_rate_of_closed": _rate(drawn.positive[closed]),
        "actionable_share": _rate(actionable[mask]),
        "escalated_share": _rate(drawn.escalated[mask]),
    }


def _window_rates(date: dt.date, received: np.ndarray, model: Design, drawn: Outcomes, actionable, extra=None):
    day = epoch_day(date)
    result = {}
    for name, mask in (
        ("before", (received >= day - RATE_WINDOW_DAYS) & (received < day)),
        ("after", (received >= day) & (received < day + RATE_WINDOW_DAYS)),
    ):
        mask = mask if extra is None else mask & extra
        result[name] = _rates(mask, model, drawn, actionable)
        sextortion = (model.annotations >> REPORT_ANNOTATIONS.index("sextortion")) & 1
        result[name]["sextortion_share"] = _rate(sextortion[mask])
    return result


def rule_terms(world: World) -> list[dict]:
    """Every coefficient of the rule with the delivered column and value it applies to."""
    terms = []
    for name, coefficient in NUMERIC_COEFFICIENTS.items():
        column = {"is_actionable": "is_actionable", "ln_bundle_size": "bundle_size"}.get(name)
        terms.append(
            {"feature": name, "column": column, "definition": NUMERIC_DEFINITIONS[name], "coefficient": coefficient}
        )

    def categorical(column: str, table: dict, note: str | None = None):
        for value, coefficient in table.items():
            term = {"feature": f"{column}={value}", "column": column, "value": value, "coefficient": coefficient}
            if note:
                term["definition"] = note
            terms.append(term)

    categorical("esp_service", CHANNEL_COEFFICIENTS)
    categorical(
        "esp_name",
        {p.name: PLATFORM_COEFFICIENTS.get(p.name, 0.0) for p in world.platforms},
        "on top of esp_service",
    )
    categorical("incident_type", INCIDENT_TYPE_COEFFICIENTS)
    categorical("report_annotations", ANNOTATION_COEFFICIENTS, "1 if the annotation is listed")
    categorical("victim_age", {**AGE_BAND_COEFFICIENTS, "empty": 0.0}, "age band of victim_age (warehouse bands)")
    categorical(
        "estimated_location_country",
        LOCATION_COEFFICIENTS,
        "estimated_location_country compared with reporting_country",
    )
    return terms


def outcome_truth(
    world: World, referrals: Referrals, model: Design, drawn: Outcomes, scenario: OutcomeScenario, config
) -> dict:
    """The outcome model's section of ground_truth.json."""
    received, actionable = referrals.received_day, referrals.features.actionable
    year = received.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    agencies, counts = np.unique(model.agency, return_counts=True)
    effects = agency_effects(config.seed)[agencies]
    events: list[dict] = []
    for platform in world.platforms:
        if platform.lifecycle == "emerging" and platform.name in PLATFORM_COEFFICIENTS:
            launch = world.scenario.launch_dates[platform.name]
            mine = model.platform == world.platform_index(platform.name)
            events.append(
                {
                    "kind": "new_platform",
                    "date": launch.isoformat(),
                    "entity": platform.name,
                    "detail": "an emerging platform whose referrals have their own coefficient (esp_name term)",
                    "coefficient": PLATFORM_COEFFICIENTS[platform.name],
                    "positive_rate": _rate(drawn.positive[mine]),
                    "positive_rate_of_other_platforms": _rate(drawn.positive[~mine]),
                }
            )
    if config.start < scenario.policy_date <= config.end:
        country = np.array([c.iso3 for c in world.countries])[referrals.rows.country] == scenario.policy_country
        events.append(
            {
                "kind": "policy_change",
                "date": scenario.policy_date.isoformat(),
                "entity": scenario.policy_country,
                "detail": "from this date of receipt the country's agencies escalate and investigate more: "
                "logit + logit_shift for its referrals, escalation threshold + escalation_threshold_shift",
                "logit_shift": POLICY_LOGIT_SHIFT,
                "escalation_threshold_shift": POLICY_ESCALATION_SHIFT,
                "realised": _window_rates(scenario.policy_date, received, model, drawn, actionable, country),
            }
        )
    if scenario.drift_date is not None:
        events.append(
            {
                "kind": "injected_drift",
                "date": scenario.drift_date.isoformat(),
                "entity": "all",
                "detail": "outcome_drift_date: from this date of receipt the sextortion annotation is "
                "sextortion_share_factor times as frequent (covariate shift) and the listed coefficients change "
                "(concept shift)",
                "sextortion_share_factor": DRIFT_SEXTORTION_FACTOR,
                "coefficient_changes": {
                    name: {"before": _coefficient(name), "after": after}
                    for name, after in DRIFT_COEFFICIENT_CHANGES.items()
                },
                "realised": _window_rates(scenario.drift_date, received, model, drawn, actionable),
            }
        )
    events.sort(key=lambda e: (e["date"], e["kind"], e["entity"]))
    return {
        "description": "Latent outcome of every referral: positive = investigation_opened or arrest, negative = "
        "any other outcome once closed. logit P(positive) = intercept + sum of the terms' coefficients x feature "
        "+ random intercept of the receiving agency + the dated changes in events. The label is visible only "
        "once the referral is closed (label_delays); later referrals are still pending.",
        "positive_outcomes": list(POSITIVE),
        "intercept": INTERCEPT,
        "terms": rule_terms(world),
        "noise": {
            "agency_random_intercept_sd": AGENCY_SD,
            "agency_random_intercepts": {name: round(float(e), 4) for name, e in zip(agency_names(agencies), effects)},
            "agency_referrals": {name: int(c) for name, c in zip(agency_names(agencies), counts)},
            "outcome": "Bernoulli draw with the true probability",
            "escalation": {
                "rule": "is_escalated = true when logit + normal(0, noise_sd) > threshold",
                "noise_sd": ESCALATION_NOISE_SD,
                "threshold": ESCALATION_THRESHOLD,
            },
        },
        "label_delays": {
            "triage_days": {
                "distribution": "lognormal, floored, halved for actionable referrals",
                "median": TRIAGE_MEDIAN_DAYS,
                "sigma": TRIAGE_SIGMA,
                "max": TRIAGE_MAX_DAYS,
                "never_triaged_share": NEVER_TRIAGED,
            },
            "close_days_after_triage": {
                "distribution": "lognormal, floored",
                "median": CLOSE_MEDIAN_DAYS,
                "sigma": CLOSE_SIGMA,
                "max": CLOSE_MAX_DAYS,
            },
            "as_of": config.end.isoformat(),
            "outcome_feedback": {
                "share": config.outcome_feedback,
                "rule": "a referral's outcome is ever reported back with this probability, independent of the "
                "outcome; the others stay open (never closed, no label)",
            },
        },
        "events": events,
        "rates_by_year": {
            str(y): _rates(year == y, model, drawn, actionable) for y in (int(v) for v in np.unique(year))
        },
        "overall": _rates(np.ones(len(year), dtype=bool), model, drawn, actionable),
    }


def _coefficient(name: str) -> float:
    if name.startswith("report_annotations="):
        return ANNOTATION_COEFFICIENTS[name.split("=", 1)[1]]
    return NUMERIC_COEFFICIENTS[name]
