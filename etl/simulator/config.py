"""Parameters of one simulation run, checked before any work starts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from grace.errors import ConfigError
from warehouse.reference import EU27_ISO3

FORMATS = ("csv", "parquet")
DELIVERIES = ("month", "quarter", "year")
MAX_SCALE = 20.0  # report numbers hold at most 100,000 referrals per day
MAX_MALFORMED_RATE = 0.5


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate and where to write it.

    `scale` 1.0 gives public magnitudes (about 0.6-1.5 M referrals a year for the EU-27);
    volumes are proportional to it. Dates are inclusive. `countries` are ISO 3166-1 alpha-3
    codes of EU member states. `to_postgres` is an SQLAlchemy URL of a PostgreSQL database
    that additionally receives the rows (schema `case_system`, appended). `outcome_drift_date`
    injects a drift into the referrals' outcome model from that date of receipt (see
    `etl.simulator.outcomes`); None = no injected drift. `draw` > 0 re-draws every row of the same
    world (same seed: scenario, country mixes, agencies' random intercepts), an independent sample of
    the same case systems (`etl.simulator.rng.draw_rng`). `outcome_feedback` is the share of the
    referrals whose outcome is ever reported back to the case system: the rest stay open (no closure,
    no label), chosen at random — how a small unit that passes cases on to local forces rarely learns
    their outcome.
    """

    out: Path
    seed: int = 42
    scale: float = 1.0
    start: dt.date = dt.date(2019, 1, 1)
    end: dt.date = dt.date(2025, 12, 31)
    countries: tuple[str, ...] = EU27_ISO3
    format: str = "csv"
    delivery: str = "month"
    package_share: float = 0.05
    malformed_rate: float = 0.002
    to_postgres: str | None = None
    outcome_drift_date: dt.date | None = None
    draw: int = 0
    outcome_feedback: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "out", Path(self.out))
        object.__setattr__(self, "countries", tuple(code.strip().upper() for code in self.countries))
        self.validate()

    def validate(self) -> None:
        """Raise `ConfigError` naming the first bad parameter."""
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"seed must be a non-negative integer, got {self.seed!r}")
        if not 0 < self.scale <= MAX_SCALE:
            raise ConfigError(f"scale must be > 0 and <= {MAX_SCALE:g}, got {self.scale:g}")
        if self.end < self.start:
            raise ConfigError(f"end date {self.end} is before start date {self.start}")
        if not self.countries:
            raise ConfigError("at least one country is needed")
        unknown = sorted(set(self.countries) - set(EU27_ISO3))
        if unknown:
            raise ConfigError(f"unknown country code(s) {', '.join(unknown)}; use EU-27 ISO 3166-1 alpha-3 codes")
        if len(set(self.countries)) != len(self.countries):
            raise ConfigError("country codes are repeated")
        if self.outcome_drift_date is not None and not self.start < self.outcome_drift_date <= self.end:
            raise ConfigError(
                f"outcome drift date {self.outcome_drift_date} must be after the start date and not after the end date"
            )
        if not isinstance(self.draw, int) or self.draw < 0:
            raise ConfigError(f"draw must be a non-negative integer, got {self.draw!r}")
        if not 0 < self.outcome_feedback <= 1:
            raise ConfigError(f"outcome feedback must be > 0 and <= 1, got {self.outcome_feedback:g}")
        if self.format not in FORMATS:
            raise ConfigError(f"format must be one of {', '.join(FORMATS)}, got {self.format!r}")
        if self.delivery not in DELIVERIES:
            raise ConfigError(f"delivery must be one of {', '.join(DELIVERIES)}, got {self.delivery!r}")
        if not 0 <= self.package_share <= 1:
            raise ConfigError(f"package share must be between 0 and 1, got {self.package_share:g}")
        if not 0 <= self.malformed_rate <= MAX_MALFORMED_RATE:
            raise ConfigError(
                f"malformed rate must be between 0 and {MAX_MALFORMED_RATE:g}, got {self.malformed_rate:g}"
            )

    @property
    def country_order(self) -> tuple[str, ...]:
        """Selected countries in the reference (EU27) order, so output never depends on input order."""
        chosen = set(self.countries)
        return tuple(code for code in EU27_ISO3 if code in chosen)
