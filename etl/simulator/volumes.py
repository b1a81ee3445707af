"""Daily referral volumes per day x country x platform, and their expansion into rows.

Expected volume = EU baseline (public magnitudes, rising 2019 -> 2022) x seasonality (weekday,
yearly, holidays) x country share (population and internet use, with a lognormal random walk
per country and year, plus injected level shifts) x platform weight (life cycles) x bundling.
Counts are negative-binomial (gamma-Poisson) draws, all vectorised; viral events add extra
referrals concentrated on a few days, countries and platforms.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from etl.simulator.config import SimulationConfig
from etl.simulator.rng import child_rng, draw_rng
from etl.simulator.world import TREND_EPOCH, World, epoch_day

# EU-27 referrals per year at scale 1 before bundling (mid-year anchors, log-linear between).
EU_ANCHORS = {2019: 0.72e6, 2020: 1.0e6, 2021: 1.3e6, 2022: 1.45e6, 2023: 1.42e6, 2024: 1.42e6, 2025: 1.45e6}
WEEKDAY_FACTORS = np.array([1.06, 1.05, 1.03, 1.02, 0.99, 0.92, 0.93])  # Monday .. Sunday
DISPERSION = 30.0  # gamma shape of the gamma-Poisson draw (larger = closer to Poisson)
E2EE_ROLLOUT_DAYS = 14
SHUTDOWN_RUNDOWN_DAYS = 60
EMERGING_GROWTH = 40.0  # emerging platforms grow this many times from launch to the end of the range
WALK_YEARS = np.arange(2010, 2041)


@dataclass(frozen=True)
class Rows:
    """One entry per referral: indices into the day grid, countries and platforms."""

    day: np.ndarray  # int32 index into Volumes.days
    country: np.ndarray  # int16 index into World.countries
    platform: np.ndarray  # int16 index into World.platforms
    bundle_size: np.ndarray  # int32, 1 when not bundled
    viral: np.ndarray  # int16 viral event index, -1 for ordinary referrals

    def __len__(self) -> int:
        return len(self.day)


@dataclass(frozen=True)
class Volumes:
    """The day grid, expected and drawn counts, and the expanded rows."""

    days: np.ndarray  # epoch days (int64), one per simulated day
    expected: np.ndarray  # (D, C, P) expected referrals
    counts: np.ndarray  # (D, C, P) drawn ordinary referrals
    incidents: np.ndarray  # (D, C, P) incidents behind the drawn referrals (sum of bundle sizes)
    rows: Rows


def day_grid(start: dt.date, end: dt.date) -> np.ndarray:
    """Epoch days from start to end inclusive."""
    return np.arange(epoch_day(start), epoch_day(end) + 1, dtype=np.int64)


def years_since_trend_epoch(days: np.ndarray) -> np.ndarray:
    """Fractional years since 2019-01-01 (the reference of all time trends)."""
    return (days - epoch_day(TREND_EPOCH)) / 365.25


def seasonality(days: np.ndarray) -> np.ndarray:
    """Multiplicative weekday x yearly x holiday factor per day."""
    dates = days.astype("datetime64[D]")
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
    day_of_year = (dates - dates.astype("datetime64[Y]")).astype(np.int64)
    month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day_of_month = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
    yearly = 1 + 0.05 * np.cos(2 * np.pi * (day_of_year - 20) / 365.25)
    summer = 1 - 0.08 * np.exp(-(((day_of_year - 212) / 18.0) ** 2))
    holiday = np.ones(len(days))
    holiday[(month == 12) & (day_of_month >= 24) & (day_of_month <= 26)] = 0.7
    holiday[(month == 12) & (day_of_month >= 27)] = 0.85
    holiday[(month == 1) & (day_of_month == 1)] = 0.75
    return WEEKDAY_FACTORS[weekday] * yearly * summer * holiday


def eu_baseline(days: np.ndarray) -> np.ndarray:
    """Expected EU-27 referrals per day at scale 1 (log-linear between mid-year anchors)."""
    anchor_days = np.array([epoch_day(dt.date(year, 7, 2)) for year in EU_ANCHORS], dtype=float)
    anchor_logs = np.log(np.array(list(EU_ANCHORS.values())) / 365.25)
    return np.exp(np.interp(days.astype(float), anchor_days, anchor_logs))


def country_shares(world: World, days: np.ndarray, seed: int) -> np.ndarray:
    """(D, C) share of EU volume per selected country.

    Weights are internet users x a static propensity x a yearly lognormal AR(1) walk (drawn for
    fixed calendar years, so a country's path does not depend on the simulated range), normalised
    over all 27 states so that choosing fewer countries does not change any country's volume.
    """
    rng = child_rng(seed, "volumes", "countries")
    n = len(world.all_countries)
    propensity = rng.normal(0.0, 0.25, size=n)
    walk = np.zeros((len(WALK_YEARS), n))
    for i in range(1, len(WALK_YEARS)):
        walk[i] = 0.6 * walk[i - 1] + rng.normal(0.0, 0.35, size=n)
    mid_years = np.array([epoch_day(dt.date(int(y), 7, 2)) for y in WALK_YEARS], dtype=float)
    logs = np.stack([np.interp(days.astype(float), mid_years, walk[:, j]) for j in range(n)], axis=1)
    users = np.array([c.internet_users_m for c in world.all_countries])
    weights = users * np.exp(propensity + logs)
    shares = weights / weights.sum(axis=1, keepdims=True)
    columns = [i for i, c in enumerate(world.all_countries) if c in world.countries]
    return shares[:, columns]


def country_shift_factors(world: World, days: np.ndarray) -> np.ndarray:
    """(D, C) multipliers of the injected country level shifts (a step on the shift date)."""
    factors = np.ones((len(days), len(world.countries)))
    for shift in world.scenario.country_shifts:
        column = world.country_index(shift.country)
        factors[days >= epoch_day(shift.date), column] *= shift.ratio
    return factors


def platform_weights(world: World, days: np.ndarray) -> np.ndarray:
    """(D, P) share of EU volume per platform, following each platform's life cycle."""
    scenario = world.scenario
    years = years_since_trend_epoch(days)
    weights = np.zeros((len(days), len(world.platforms)))
    for j, platform in enumerate(world.platforms):
        w = np.full(len(days), platform.share) * np.exp(platform.annual_rate * years)
        if platform.lifecycle == "e2ee":
            progress = np.clip((days - epoch_day(scenario.e2ee_date)) / E2EE_ROLLOUT_DAYS, 0, 1)
            w *= 1 - (1 - scenario.e2ee_ratio) * progress
        elif platform.lifecycle == "shutdown":
            stop = epoch_day(scenario.shutdown_date)
            rundown = np.clip((days - (stop - SHUTDOWN_RUNDOWN_DAYS)) / SHUTDOWN_RUNDOWN_DAYS, 0, 1)
            w *= (1 - 0.4 * rundown) * (days < stop)
        elif platform.lifecycle == "emerging":
            w = _emerging_curve(
                days, epoch_day(scenario.launch_dates[platform.name]), epoch_day(world.end), platform.share
            )
        weights[:, j] = w
    return weights


def _emerging_curve(days: np.ndarray, launch: int, end: int, final_share: float) -> np.ndarray:
    """Zero before launch, then exponential (accelerating) growth to `final_share` at `end`."""
    fraction = (days - launch) / max(end - launch, 1)
    curve = final_share * np.exp(np.log(EMERGING_GROWTH) * (fraction - 1))
    return np.where(days >= launch, curve, 0.0)


def mean_bundle_size(share: float, alpha: float) -> float:
    """Mean bundle_size of a bundling platform's referrals after the policy.

    A share of referrals are bundles of size floor(2 * U^(-1/alpha)) (>= 2, heavy-tailed,
    capped at 100,000); the rest have size 1.
    """
    sizes = np.arange(2, 100_001, dtype=float)
    mean_bundle = 1.0 + np.minimum(1.0, (2.0 / sizes) ** alpha).sum()
    return (1 - share) + share * mean_bundle


def bundling_factors(world: World, days: np.ndarray) -> np.ndarray:
    """(D, P) factor turning expected incidents into expected referrals under bundling."""
    scenario = world.scenario
    factors = np.ones((len(days), len(world.platforms)))
    after = days >= epoch_day(scenario.bundling_date)
    shrink = 1.0 / mean_bundle_size(scenario.bundle_share, scenario.bundle_alpha)
    for j, platform in enumerate(world.platforms):
        if platform.bundles:
            factors[after, j] = shrink
    return factors


def expected_counts(world: World, config: SimulationConfig, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(D, C, P) expected referrals and expected incidents."""
    per_day = eu_baseline(days) * seasonality(days) * config.scale
    by_country = country_shares(world, days, config.seed) * country_shift_factors(world, days)
    incidents = per_day[:, None, None] * by_country[:, :, None] * platform_weights(world, days)[:, None, :]
    return incidents * bundling_factors(world, days)[:, None, :], incidents


def draw_counts(expected: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Negative-binomial (gamma-Poisson) counts around the expected values."""
    rates = expected * rng.gamma(DISPERSION, 1.0 / DISPERSION, size=expected.shape)
    return rng.poisson(rates)


def bundle_sizes(
    world: World, days: np.ndarray, day: np.ndarray, platform: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """bundle_size per ordinary row: > 1 for a share of big platforms' rows after the policy."""
    scenario = world.scenario
    eligible = np.array([p.bundles for p in world.platforms])[platform]
    eligible &= days[day] >= epoch_day(scenario.bundling_date)
    is_bundle = eligible & (rng.random(len(day)) < scenario.bundle_share)
    heavy = np.floor(2.0 * rng.random(len(day)) ** (-1.0 / scenario.bundle_alpha))
    sizes = np.where(is_bundle, np.clip(heavy, 2, 100_000), 1)
    return sizes.astype(np.int32)


def viral_rows(world: World, days: np.ndarray, shares: np.ndarray, rng: np.random.Generator) -> Rows:
    """Extra referrals of the viral events, peaking a day or two after each start."""
    parts = []
    for event in world.scenario.viral_events:
        first = epoch_day(event.start) - days[0]
        offsets = np.arange(event.days)
        profile = np.exp(-0.5 * ((offsets - 1.5) / max(event.days / 3.0, 1.0)) ** 2)
        columns = np.array([world.country_index(code) for code in event.countries])
        country_w = shares[first + offsets][:, columns]
        platforms = np.array([world.platform_index(name) for name in event.platforms])
        cell = profile[:, None, None] * country_w[:, :, None] * np.ones(len(platforms))[None, None, :]
        counts = rng.multinomial(event.extra_referrals, (cell / cell.sum()).ravel())
        flat = np.repeat(np.arange(counts.size), counts)
        d, rest = np.divmod(flat, len(columns) * len(platforms))
        c, p = np.divmod(rest, len(platforms))
        parts.append((first + d, columns[c], platforms[p], np.full(len(flat), event.index)))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        parts.append((empty, empty, empty, empty))
    day, country, platform, viral = (np.concatenate(x) for x in zip(*parts))
    return Rows(
        day.astype(np.int32),
        country.astype(np.int16),
        platform.astype(np.int16),
        np.ones(len(day), dtype=np.int32),
        viral.astype(np.int16),
    )


def simulate_volumes(world: World, config: SimulationConfig) -> Volumes:
    """Expected counts, drawn counts and one row per referral (ordinary rows first, then viral)."""
    rng = draw_rng(config, "volumes", "draws")
    days = day_grid(config.start, config.end)
    expected, _ = expected_counts(world, config, days)
    counts = draw_counts(expected, rng)
    n_countries, n_platforms = expected.shape[1:]
    flat = np.repeat(np.arange(counts.size, dtype=np.int64), counts.ravel())
    day, rest = np.divmod(flat, n_countries * n_platforms)
    country, platform = np.divmod(rest, n_platforms)
    sizes = bundle_sizes(world, days, day, platform, rng)
    incidents = np.bincount(flat, weights=sizes, minlength=counts.size).reshape(counts.shape)
    ordinary = Rows(
        day.astype(np.int32),
        country.astype(np.int16),
        platform.astype(np.int16),
        sizes,
        np.full(len(day), -1, dtype=np.int16),
    )
    shares = country_shares(world, days, config.seed) * country_shift_factors(world, days)
    viral = viral_rows(world, days, shares, rng)
    rows = Rows(
        *(
            np.concatenate([getattr(ordinary, f), getattr(viral, f)])
            for f in ("day", "country", "platform", "bundle_size", "viral")
        )
    )
    return Volumes(days, expected, counts, incidents, rows)
