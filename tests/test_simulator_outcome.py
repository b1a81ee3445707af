"""Tests of the simulator's outcome model: a latent referral outcome with realistic signal.

Positive = investigation_opened or arrest, negative = any other outcome once closed. The
statistical tests share one in-memory run at scale 0.02 over the default range (about 155,000
referrals; nothing is written); the tests of the written output use tiny runs.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json

import numpy as np
import pytest
from scipy.stats import rankdata

from etl.simulator import SimulationConfig, simulate
from etl.simulator.files import build_files
from etl.simulator.identities import LOCATION_CLASSES
from etl.simulator.outcomes import (
    CHANNEL_COEFFICIENTS,
    POSITIVE,
    agency_names,
    simulate_outcomes,
)
from etl.simulator.referrals import TYPE_CODES, build_referrals
from etl.simulator.volumes import simulate_volumes
from etl.simulator.world import build_world, epoch_day
from grace.errors import ConfigError
from warehouse.reference import AGE_BANDS, REPORT_ANNOTATIONS

DRIFT_DATE = dt.date(2025, 3, 3)


def generate(config: SimulationConfig):
    """World, referrals (receipt columns), files and the outcome run, in memory."""
    world = build_world(config)
    referrals = build_referrals(world, simulate_volumes(world, config), config)
    files = build_files(world, referrals, config)
    return world, referrals, files, simulate_outcomes(world, referrals, files, config)


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    labels = labels.astype(bool)
    ranks = rankdata(scores)
    positives, negatives = labels.sum(), (~labels).sum()
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    config = SimulationConfig(out=tmp_path_factory.mktemp("outcome") / "sim", seed=7, scale=0.02)
    return config, *generate(config)


@pytest.fixture(scope="module")
def drifted(tmp_path_factory):
    """One year with and without the injected drift, same seed."""
    out = tmp_path_factory.mktemp("drift")
    options = {"seed": 5, "scale": 0.03, "start": dt.date(2024, 7, 1), "end": dt.date(2025, 12, 31)}
    plain = generate(SimulationConfig(out=out / "a", **options))
    drift = generate(SimulationConfig(out=out / "b", outcome_drift_date=DRIFT_DATE, **options))
    return plain, drift


def labels(run) -> tuple[np.ndarray, np.ndarray]:
    """(closed, positive) as the delivered outcome column shows them."""
    outcome = np.array(run.drawn.columns["outcome"].to_pylist(), dtype=object)
    status = np.array(run.drawn.columns["status"].to_pylist(), dtype=object)
    closed = status == "closed"
    return closed, closed & np.isin(outcome, POSITIVE)


# ---------------------------------------------------------------- the outcome depends on the features


def test_positive_rate_with_known_material_is_higher_than_without_by_a_margin(big):
    _, _, _, _, run = big
    closed, positive = labels(run)
    known = run.model.numeric["known_material"] > 0
    with_known = positive[closed & known].mean()
    without = positive[closed & ~known].mean()
    assert with_known > without + 0.05


@pytest.mark.parametrize(
    "feature, direction",
    [
        ("is_actionable", "up"),
        ("ln_file_count", "up"),
        ("near_duplicate_of_known", "up"),
        ("ln1p_earlier_account_referrals", "up"),
        ("viral", "down"),
        ("ln_bundle_size", "down"),
    ],
)
def test_each_documented_numeric_feature_moves_the_observed_positive_rate_its_way(big, feature, direction):
    _, _, _, _, run = big
    closed, positive = labels(run)
    present = run.model.numeric[feature] > 0
    with_it, without = positive[closed & present].mean(), positive[closed & ~present].mean()
    assert (with_it > without + 0.02) if direction == "up" else (with_it < without - 0.02)


def test_annotations_location_and_victim_age_move_the_observed_positive_rate(big):
    _, _, _, _, run = big
    closed, positive = labels(run)
    model = run.model

    def rate(mask):
        return positive[closed & mask].mean()

    sextortion = ((model.annotations >> REPORT_ANNOTATIONS.index("sextortion")) & 1) == 1
    minor_to_minor = ((model.annotations >> REPORT_ANNOTATIONS.index("minor_to_minor_interaction")) & 1) == 1
    assert rate(sextortion) > rate(~sextortion) + 0.05
    assert rate(minor_to_minor) < rate(~minor_to_minor) - 0.03
    home = model.location == LOCATION_CLASSES.index("reporting_country")
    abroad = model.location == LOCATION_CLASSES.index("non_eu")
    assert rate(abroad) < rate(home) - 0.05
    youngest = model.age_band <= 1
    oldest = model.age_band == len(AGE_BANDS) - 1
    assert rate(youngest) > rate(oldest) + 0.05
    enticement = model.incident_type == TYPE_CODES.index("IT_OEC")
    assert rate(enticement) > rate(model.incident_type == 0)


def test_the_true_probability_ranks_well_but_not_perfectly_and_beats_the_escalated_flag(big):
    _, _, _, _, run = big
    closed, positive = labels(run)
    truth_auc = auc(positive[closed], run.model.probability[closed])
    escalated_auc = auc(positive[closed], run.drawn.escalated[closed])
    assert 0.80 <= truth_auc <= 0.88
    assert 0.53 <= escalated_auc <= 0.70 and escalated_auc < truth_auc - 0.1
    escalated = run.drawn.escalated
    assert positive[closed & escalated].mean() > 2 * positive[closed & ~escalated].mean()


def test_overall_rates_stay_close_to_those_of_the_case_systems_before_the_model(big):
    _, _, referrals, _, run = big
    closed, positive = labels(run)
    assert 0.15 <= positive[closed].mean() <= 0.22  # 0.185 before the outcome model (scale 0.01, seed 42)
    assert 0.28 <= referrals.features.actionable.mean() <= 0.35
    assert 0.025 <= run.drawn.escalated.mean() <= 0.07
    assert 0.88 <= closed.mean() <= 0.97


# ---------------------------------------------------------------- the recorded rule


def rebuilt_logit(truth: dict, world, referrals, run) -> np.ndarray:
    """The logit of every referral from the ground truth's rule alone (and the features)."""
    model = run.model
    logit = np.full(len(model.logit), truth["intercept"])
    platforms = [p.name for p in world.platforms]
    channels = list(CHANNEL_COEFFICIENTS)
    for term in truth["terms"]:
        column, value, coefficient = term["column"], term.get("value"), term["coefficient"]
        if value is None:
            x = model.numeric[term["feature"]]
        elif column == "esp_service":
            x = model.channel == channels.index(value)
        elif column == "esp_name":
            x = model.platform == platforms.index(value)
        elif column == "incident_type":
            x = model.incident_type == TYPE_CODES.index(value)
        elif column == "report_annotations":
            x = (model.annotations >> REPORT_ANNOTATIONS.index(value)) & 1
        elif column == "victim_age":
            bands = [name for name, _, _ in AGE_BANDS] + ["empty"]
            x = model.age_band == bands.index(value)
        else:
            assert column == "estimated_location_country"
            x = model.location == LOCATION_CLASSES.index(value)
        logit += coefficient * x
    effects = truth["noise"]["agency_random_intercepts"]
    logit += np.array([effects[name] for name in agency_names(model.agency)])
    countries = np.array([c.iso3 for c in world.countries])[referrals.rows.country]
    for event in truth["events"]:
        after = referrals.received_day >= epoch_day(dt.date.fromisoformat(event["date"]))
        if event["kind"] == "policy_change":
            logit += event["logit_shift"] * (after & (countries == event["entity"]))
        if event["kind"] == "injected_drift":
            for name, change in event["coefficient_changes"].items():
                if name.startswith("report_annotations="):
                    x = (model.annotations >> REPORT_ANNOTATIONS.index(name.split("=")[1])) & 1
                else:
                    x = model.numeric[name]
                logit += (change["after"] - change["before"]) * x * after
    return logit


def truth_of(config, world, referrals, run) -> dict:
    from etl.simulator.outcomes import outcome_truth

    return json.loads(json.dumps(outcome_truth(world, referrals, run.model, run.drawn, run.scenario, config)))


def test_the_rule_recorded_in_ground_truth_reproduces_the_true_probabilities_and_yearly_rates(big):
    config, world, referrals, _, run = big
    truth = truth_of(config, world, referrals, run)
    logit = rebuilt_logit(truth, world, referrals, run)
    np.testing.assert_allclose(logit, run.model.logit, atol=1e-3)  # agency intercepts are rounded to 4 places
    probability = 1 / (1 + np.exp(-logit))
    year = referrals.received_day.astype("datetime64[D]").astype("datetime64[Y]").astype(int) + 1970
    for label, rates in truth["rates_by_year"].items():
        mask = year == int(label)
        expected = probability[mask].mean()
        tolerance = 4 * np.sqrt(expected * (1 - expected) / mask.sum()) + 0.005
        assert abs(rates["positive_rate"] - expected) < tolerance, label
        closed, positive = labels(run)
        assert rates["positive_rate_of_closed"] == round(positive[mask & closed].mean(), 4)


def test_a_logistic_regression_on_the_closed_labels_recovers_the_recorded_coefficients(big):
    sm = pytest.importorskip("statsmodels.api")
    config, world, referrals, _, run = big
    truth = truth_of(config, world, referrals, run)
    closed, positive = labels(run)
    settled = closed & (referrals.received_day < epoch_day(config.end) - 200)  # no censoring bias
    model = run.model
    checked = {
        "is_actionable": model.numeric["is_actionable"],
        "known_material": model.numeric["known_material"],
        "near_duplicate_of_known": model.numeric["near_duplicate_of_known"],
        "ln_file_count": model.numeric["ln_file_count"],
        "ln1p_earlier_account_referrals": model.numeric["ln1p_earlier_account_referrals"],
        "report_annotations=sextortion": (model.annotations >> 0) & 1,
        "report_annotations=minor_to_minor_interaction": (model.annotations >> 2) & 1,
        "incident_type=IT_OEC": model.incident_type == TYPE_CODES.index("IT_OEC"),
        "estimated_location_country=other_eu": model.location == 1,
        "estimated_location_country=non_eu": model.location == 2,
        "victim_age=0-2": model.age_band == 0,
    }
    names = list(checked)
    x = np.column_stack([np.ones(len(model.logit))] + [np.asarray(checked[n], dtype=float) for n in names])
    # Everything else of the true logit goes in as a known offset: the fit must recover these terms.
    coefficients = {t["feature"]: t["coefficient"] for t in truth["terms"]}
    known = sum(coefficients[n] * x[:, i + 1] for i, n in enumerate(names)) + truth["intercept"]
    offset = model.logit - known
    fit = sm.GLM(positive[settled], x[settled], family=sm.families.Binomial(), offset=offset[settled]).fit()
    assert abs(fit.params[0] - truth["intercept"]) < 0.3
    for i, name in enumerate(names, start=1):
        true, estimate, error = coefficients[name], fit.params[i], fit.bse[i]
        assert np.sign(estimate) == np.sign(true), name
        assert abs(estimate - true) < max(0.25, 4 * error), (name, true, estimate, error)


# ---------------------------------------------------------------- label delays and drift


def test_labels_of_the_last_weeks_are_mostly_pending_and_older_ones_closed(big):
    config, _, referrals, _, run = big
    closed, _ = labels(run)
    end = epoch_day(config.end)
    last_two_weeks = referrals.received_day > end - 14
    assert (~closed[last_two_weeks]).mean() > 0.5
    recent_positives = (referrals.received_day > end - 28) & run.drawn.positive
    assert (~closed[recent_positives]).mean() > 0.75  # positives take longest to close
    old = referrals.received_day < end - 365
    assert closed[old].mean() > 0.9


def test_a_new_platform_and_a_dated_policy_change_shift_the_positive_rate(big):
    config, world, referrals, _, run = big
    truth = truth_of(config, world, referrals, run)
    positive = run.drawn.positive
    tandemo = run.model.platform == world.platform_index("Tandemo")
    assert tandemo.sum() > 200 and positive[tandemo].mean() > positive[~tandemo].mean() + 0.05
    (policy,) = [e for e in truth["events"] if e["kind"] == "policy_change"]
    realised = policy["realised"]
    assert realised["after"]["mean_true_probability"] > realised["before"]["mean_true_probability"]
    assert realised["after"]["escalated_share"] > realised["before"]["escalated_share"]


def test_the_drift_option_changes_rates_after_its_date_only(drifted):
    (_, plain_refs, _, plain), (_, drift_refs, _, drift) = drifted
    day = epoch_day(DRIFT_DATE)
    before = plain_refs.received_day < day
    assert np.array_equal(plain_refs.received_day, drift_refs.received_day)
    for name in ("outcome", "status", "closed_date", "is_escalated"):
        a, b = plain.drawn.columns[name].to_pylist(), drift.drawn.columns[name].to_pylist()
        assert [v for v, keep in zip(a, before) if keep] == [v for v, keep in zip(b, before) if keep]
    assert np.array_equal(plain.model.logit[before], drift.model.logit[before])
    after = ~before
    sextortion_a = ((plain.model.annotations >> 0) & 1)[after].mean()
    sextortion_b = ((drift.model.annotations >> 0) & 1)[after].mean()
    assert sextortion_b > 1.6 * sextortion_a  # x3 before the cap of 0.8 for enticement
    assert drift.model.probability[after].mean() > plain.model.probability[after].mean() + 0.01
    known = after & (drift.model.numeric["known_material"] > 0) & (plain.model.numeric["known_material"] > 0)
    assert (drift.model.logit - plain.model.logit)[known & (((drift.model.annotations >> 0) & 1) == 0)].max() < 0


def test_a_drift_date_outside_the_range_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="outcome drift date"):
        SimulationConfig(
            out=tmp_path, start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31), outcome_drift_date=DRIFT_DATE
        )


# ---------------------------------------------------------------- the written output


def tiny(out, **overrides) -> SimulationConfig:
    options = {
        "out": out,
        "seed": 3,
        "scale": 0.004,
        "start": dt.date(2024, 1, 1),
        "end": dt.date(2024, 12, 31),
        "malformed_rate": 0.0,
        "package_share": 0.0,
        "outcome_drift_date": dt.date(2024, 10, 1),
    }
    options.update(overrides)
    return SimulationConfig(**options)


def test_ground_truth_records_the_rule_and_the_delivered_outcomes_match_its_rates(tmp_path):
    result = simulate(tiny(tmp_path / "sim"))
    truth = json.loads(result.ground_truth_path.read_text())["outcome_model"]
    assert {"intercept", "terms", "noise", "label_delays", "events", "rates_by_year"} <= set(truth)
    columns = set(csv.DictReader(io.StringIO((result.out / "exports/2024-01/referrals.csv").read_text())).fieldnames)
    assert {t["column"] for t in truth["terms"] if t["column"]} <= columns
    assert {e["kind"] for e in truth["events"]} >= {"policy_change", "injected_drift"}
    rows = [
        row
        for path in sorted((result.out / "exports").glob("*/referrals.csv"))
        for row in csv.DictReader(io.StringIO(path.read_text(), newline=""))
    ]
    closed = [r for r in rows if r["status"] == "closed"]
    observed = sum(r["outcome"] in POSITIVE for r in closed) / len(closed)
    assert observed == pytest.approx(truth["rates_by_year"]["2024"]["positive_rate_of_closed"], abs=1e-4)
    assert len(rows) == truth["rates_by_year"]["2024"]["referrals"]
    manifest = json.loads((result.out / "manifest.json").read_text())
    assert manifest["outcome_drift_date"] == "2024-10-01"


def test_the_same_seed_and_drift_date_give_byte_identical_outcomes_and_ground_truth(tmp_path):
    a, b = simulate(tiny(tmp_path / "a")), simulate(tiny(tmp_path / "b"))
    assert a.ground_truth_path.read_bytes() == b.ground_truth_path.read_bytes()
    for path in sorted((a.out / "exports").glob("*/referrals.csv")):
        assert path.read_bytes() == (b.out / path.relative_to(a.out)).read_bytes()
    c = simulate(tiny(tmp_path / "c", outcome_drift_date=None))
    assert "injected_drift" not in {
        e["kind"] for e in json.loads(c.ground_truth_path.read_text())["outcome_model"]["events"]
    }


# ---------------------------------------------------------------- independent draws and scarce outcome feedback


@pytest.fixture(scope="module")
def two_countries(tmp_path_factory):
    return SimulationConfig(
        out=tmp_path_factory.mktemp("draws") / "sim",
        seed=11,
        scale=0.05,
        start=dt.date(2024, 1, 1),
        end=dt.date(2024, 12, 31),
        countries=("NLD", "MLT"),
    )


def test_a_second_draw_keeps_the_world_and_the_outcome_model_but_redraws_every_referral(two_countries):
    world, referrals, _, run = generate(two_countries)
    world2, referrals2, _, run2 = generate(dataclasses.replace(two_countries, draw=1))
    assert world2.scenario == world.scenario and run2.scenario == run.scenario
    assert np.array_equal(np.unique(run2.model.agency_effect), np.unique(run.model.agency_effect))
    assert len(referrals2.received_day) != len(referrals.received_day) or not np.array_equal(
        referrals2.received_day, referrals.received_day
    )
    # the same distribution: a close mean probability of a positive outcome (about 1,500 referrals each; the
    # spread over draws 0-4 is 0.115-0.135)
    assert run2.model.probability.mean() == pytest.approx(run.model.probability.mean(), abs=0.03)


def test_scarce_outcome_feedback_only_hides_labels_and_at_random(two_countries):
    _, _, _, full = generate(two_countries)
    _, _, _, scarce = generate(dataclasses.replace(two_countries, outcome_feedback=0.1))
    closed, positive = labels(full)
    kept, kept_positive = labels(scarce)
    assert np.array_equal(scarce.drawn.positive, full.drawn.positive)  # the latent outcomes do not change
    assert not (kept & ~closed).any() and np.array_equal(kept_positive, positive & kept)
    share, n = kept.sum() / closed.sum(), closed.sum()
    assert abs(share - 0.1) < 4 * np.sqrt(0.1 * 0.9 / n)
    rate, kept_rate = positive[closed].mean(), kept_positive[kept].mean()
    assert abs(kept_rate - rate) < 4 * np.sqrt(rate * (1 - rate) / kept.sum())  # no selection on the outcome


@pytest.mark.parametrize("options", [{"outcome_feedback": 0.0}, {"outcome_feedback": 1.5}, {"draw": -1}])
def test_an_impossible_feedback_share_or_draw_is_refused(tmp_path, options):
    with pytest.raises(ConfigError):
        SimulationConfig(out=tmp_path, **options)
