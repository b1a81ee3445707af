"""The simulated world: countries, platforms and the scenario of dated events.

Facts about countries are rough public magnitudes (population, internet use); platforms are
fictional, each with a life cycle (steady, growing, declining, shutting down, switching on
end-to-end encryption, emerging). The scenario fixes the dates and sizes of every injected
event from the seed and the date range, so ground truth can be written before any row exists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from etl.simulator.config import SimulationConfig
from etl.simulator.rng import child_rng
from warehouse.reference import EU27

EPOCH = dt.date(1970, 1, 1)
TREND_EPOCH = dt.date(2019, 1, 1)  # time trends are expressed in years since this date
BUNDLING_DATE = dt.date(2024, 1, 1)

# iso3: (population in millions, internet-use share, UTC offset in winter, phone country code)
_COUNTRY_FACTS = {
    "AUT": (9.1, 0.93, 1, "43"),
    "BEL": (11.8, 0.94, 1, "32"),
    "BGR": (6.4, 0.80, 2, "359"),
    "HRV": (3.9, 0.83, 1, "385"),
    "CYP": (0.93, 0.91, 2, "357"),
    "CZE": (10.9, 0.85, 1, "420"),
    "DNK": (5.9, 0.98, 1, "45"),
    "EST": (1.37, 0.92, 2, "372"),
    "FIN": (5.6, 0.94, 2, "358"),
    "FRA": (68.2, 0.87, 1, "33"),
    "DEU": (84.4, 0.92, 1, "49"),
    "GRC": (10.4, 0.85, 2, "30"),
    "HUN": (9.6, 0.90, 1, "36"),
    "IRL": (5.3, 0.95, 0, "353"),
    "ITA": (58.9, 0.86, 1, "39"),
    "LVA": (1.88, 0.91, 2, "371"),
    "LTU": (2.86, 0.88, 2, "370"),
    "LUX": (0.66, 0.98, 1, "352"),
    "MLT": (0.54, 0.92, 1, "356"),
    "NLD": (17.9, 0.97, 1, "31"),
    "POL": (36.8, 0.87, 1, "48"),
    "PRT": (10.5, 0.85, 0, "351"),
    "ROU": (19.0, 0.89, 2, "40"),
    "SVK": (5.4, 0.89, 1, "421"),
    "SVN": (2.1, 0.90, 1, "386"),
    "ESP": (48.6, 0.95, 1, "34"),
    "SWE": (10.5, 0.96, 1, "46"),
}
# Federal or regional units that receive part of a country's referrals (AGY-<ISO3>-NN).
_REGIONAL_AGENCIES = {"DEU": 16, "FRA": 12, "ITA": 10, "ESP": 8, "POL": 6, "BEL": 3, "AUT": 4}


@dataclass(frozen=True)
class Country:
    """An EU member state as seen by the simulator."""

    iso3: str
    iso2: str
    name: str
    population_m: float
    internet_share: float
    utc_offset: int
    phone_cc: str
    units: int
    regional_agencies: int

    @property
    def internet_users_m(self) -> float:
        return self.population_m * self.internet_share


@dataclass(frozen=True)
class Platform:
    """A fictional electronic service provider and its life cycle.

    lifecycle: steady | growing | declining | shutdown | e2ee | emerging; `annual_rate` is the
    log growth per year for growing/declining ones; `share` is the share of EU volume at the
    start of 2019 (for emerging platforms: the share reached at the end of the range).
    """

    name: str
    channel: str
    share: float
    lifecycle: str = "steady"
    annual_rate: float = 0.0
    actionable: float = 0.3
    utc_style: bool = True
    bundles: bool = False
    pdq_share: float = 0.7

    @property
    def slug(self) -> str:
        return self.name.lower()


PLATFORMS = (
    Platform("Chatterly", "chat", 0.20, actionable=0.24, bundles=True, pdq_share=0.9),
    Platform("Snapverse", "social", 0.18, actionable=0.22, bundles=True, utc_style=False, pdq_share=0.9),
    Platform("Messagio", "chat", 0.15, lifecycle="e2ee", actionable=0.31, bundles=True, pdq_share=0.85),
    Platform("PixelDrop", "cloud", 0.12, actionable=0.36, bundles=True, pdq_share=0.8),
    Platform(
        "Vidloop",
        "social",
        0.08,
        lifecycle="declining",
        annual_rate=-0.2,
        actionable=0.27,
        utc_style=False,
        bundles=True,
    ),
    Platform("Streamora", "live_streaming", 0.06, lifecycle="growing", annual_rate=0.25, actionable=0.38),
    Platform("Boxvault", "cloud", 0.04, lifecycle="shutdown", actionable=0.33, pdq_share=0.5),
    Platform("Gamehaven", "gaming", 0.04, lifecycle="growing", annual_rate=0.15, actionable=0.29),
    Platform("Forumnest", "other", 0.04, actionable=0.21, utc_style=False, pdq_share=0.3),
    Platform("Mailwise", "email", 0.03, actionable=0.26, pdq_share=0.2),
    Platform("PeerShare", "p2p", 0.03, lifecycle="declining", annual_rate=-0.05, actionable=0.4, pdq_share=0.0),
    Platform("Glimmr", "social", 0.06, lifecycle="emerging", actionable=0.25),
    Platform("Tandemo", "chat", 0.04, lifecycle="emerging", actionable=0.3, utc_style=False),
)


@dataclass(frozen=True)
class CountryShift:
    """A lasting step in one country's volume (e.g. a routing or reporting-practice change)."""

    country: str
    date: dt.date
    ratio: float


@dataclass(frozen=True)
class ViralEvent:
    """One media item re-reported many times across countries within days."""

    index: int
    start: dt.date
    days: int
    countries: tuple[str, ...]
    platforms: tuple[str, ...]
    extra_referrals: int
    item_id: int

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=self.days - 1)


@dataclass(frozen=True)
class Scenario:
    """Dates and sizes of every injected event."""

    e2ee_date: dt.date
    e2ee_ratio: float
    shutdown_date: dt.date
    launch_dates: dict
    country_shifts: tuple[CountryShift, ...]
    viral_events: tuple[ViralEvent, ...]
    bundling_date: dt.date = BUNDLING_DATE
    bundle_share: float = 0.5
    bundle_alpha: float = 1.6


@dataclass(frozen=True)
class World:
    """Countries (all EU-27, and the selected ones), platforms and the scenario."""

    all_countries: tuple[Country, ...]
    countries: tuple[Country, ...]
    platforms: tuple[Platform, ...]
    scenario: Scenario
    start: dt.date
    end: dt.date

    def platform_index(self, name: str) -> int:
        return [p.name for p in self.platforms].index(name)

    def country_index(self, iso3: str) -> int:
        return [c.iso3 for c in self.countries].index(iso3)


def all_countries() -> tuple[Country, ...]:
    """Every EU-27 member state with its facts."""
    result = []
    for iso3, iso2, name in EU27:
        population, internet, offset, phone = _COUNTRY_FACTS[iso3]
        units = int(np.clip(round(np.sqrt(population)), 1, 12))
        result.append(
            Country(iso3, iso2, name, population, internet, offset, phone, units, _REGIONAL_AGENCIES.get(iso3, 0))
        )
    return tuple(result)


def _date_in_range(
    rng, start: dt.date, end: dt.date, low: float, high: float, avoid: tuple[dt.date, ...] = (), margin_days: int = 90
) -> dt.date:
    """A date at a random fraction in [low, high] of the range, away from `avoid` if possible."""
    span = (end - start).days
    candidate = start
    for _ in range(50):
        candidate = start + dt.timedelta(days=round(rng.uniform(low, high) * span))
        if all(abs((candidate - other).days) > margin_days for other in avoid):
            return candidate
    return candidate


def build_scenario(config: SimulationConfig, countries: tuple[Country, ...]) -> Scenario:
    """Draw the dated events of one run from the seed, inside [start, end]."""
    rng = child_rng(config.seed, "scenario")
    start, end = config.start, config.end
    avoid = (BUNDLING_DATE,)
    e2ee_date = _date_in_range(rng, start, end, 0.5, 0.75, avoid, margin_days=120)
    e2ee_ratio = float(rng.uniform(0.06, 0.15))
    shutdown_date = _date_in_range(rng, start, end, 0.35, 0.8, (*avoid, e2ee_date))
    launch_dates = {
        "Glimmr": _date_in_range(rng, start, end, 0.2, 0.35, avoid),
        "Tandemo": _date_in_range(rng, start, end, 0.4, 0.55, avoid),
    }
    shifts = _country_shifts(rng, config, countries, avoid)
    virals = _viral_events(rng, config, countries)
    return Scenario(e2ee_date, e2ee_ratio, shutdown_date, launch_dates, shifts, virals)


def _country_shifts(rng, config, countries, avoid) -> tuple[CountryShift, ...]:
    """One or two lasting level shifts in selected countries."""
    count = min(2, len(countries))
    chosen = rng.choice(len(countries), size=count, replace=False)
    shifts = []
    for number, index in enumerate(sorted(int(i) for i in chosen)):
        date = _date_in_range(rng, config.start, config.end, 0.2, 0.85, avoid)
        ratio = float(rng.uniform(1.7, 2.3)) if number % 2 == 0 else float(rng.uniform(0.4, 0.55))
        shifts.append(CountryShift(countries[index].iso3, date, round(ratio, 3)))
    return tuple(sorted(shifts, key=lambda s: (s.date, s.country)))


VIRAL_PLATFORMS = ("Chatterly", "Snapverse", "Vidloop")
VIRAL_ITEM_BASE = 3 << 56  # media-item id ranges: known 1<<56, new 2<<56, viral 3<<56


def _viral_events(rng, config, countries) -> tuple[ViralEvent, ...]:
    """A few viral media items per run, each re-reported thousands of times (times scale)."""
    years = ((config.end - config.start).days + 1) / 365.25
    count = int(np.clip(round(years * 0.7), 2, 6))
    span = (config.end - config.start).days
    events = []
    for index in range(count):
        start = config.start + dt.timedelta(days=int(rng.uniform(0.05, 0.9) * span))
        days = int(rng.integers(4, 10))
        if start + dt.timedelta(days=days - 1) > config.end:
            days = max(1, (config.end - start).days + 1)
        n_countries = min(len(countries), int(rng.integers(6, 17)))
        picked = sorted(int(i) for i in rng.choice(len(countries), size=n_countries, replace=False))
        platforms = tuple(sorted(rng.choice(VIRAL_PLATFORMS, size=int(rng.integers(1, 3)), replace=False)))
        extra = max(30, round(rng.uniform(2000, 8000) * config.scale))
        events.append(
            (start, index, days, tuple(countries[i].iso3 for i in picked), tuple(str(p) for p in platforms), extra)
        )
    events.sort()
    return tuple(
        ViralEvent(
            position,
            start,
            days,
            places,
            platforms,
            extra,
            VIRAL_ITEM_BASE + (config.seed % 1_000_000) * 1000 + position,
        )
        for position, (start, _, days, places, platforms, extra) in enumerate(events)
    )


def build_world(config: SimulationConfig) -> World:
    """Countries, platforms and scenario for one run."""
    everyone = all_countries()
    chosen = set(config.country_order)
    selected = tuple(c for c in everyone if c.iso3 in chosen)
    return World(everyone, selected, PLATFORMS, build_scenario(config, selected), config.start, config.end)


def epoch_day(date: dt.date) -> int:
    """Days since 1970-01-01."""
    return (date - EPOCH).days
