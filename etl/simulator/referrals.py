"""The referrals table: one row per referral, every contract column as text.

Built column by column from the volume rows with vectorised draws: report numbers, incident
types and annotations with time trends, incident date-times in UTC or with offsets, identity
columns and routing (country, agency, actionable, bundle size): everything known at receipt.
The agency's own columns (is_escalated and the life cycle received -> triaged -> closed, with
the outcome) depend on the referral's files too and are added by `etl.simulator.outcomes`
once the files exist.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.simulator import identities
from etl.simulator.config import SimulationConfig
from etl.simulator.rng import draw_rng
from etl.simulator.strings import (
    bitmask_labels,
    date_strings,
    int_strings,
    join,
    local_datetime_strings,
    null_where,
    pick,
)
from etl.simulator.volumes import Rows, Volumes, years_since_trend_epoch
from etl.simulator.world import World, epoch_day
from grace.errors import ConfigError
from warehouse.reference import INCIDENT_TYPES, REPORT_ANNOTATIONS

TYPE_CODES = tuple(code for code, _ in INCIDENT_TYPES)
# Base mix of incident types (same order as TYPE_CODES); IT_OEC grows over time.
BASE_TYPE_WEIGHTS = np.array([0.86, 0.004, 0.002, 0.01, 0.003, 0.02, 0.04, 0.02])
OEC_GROWTH = 0.18  # log growth per year of the enticement weight
HOUR_WEIGHTS = np.array([3, 2, 1.5, 1, 1, 1, 1.5, 2, 3, 3.5, 4, 4, 4.5, 4.5, 4.5, 5, 5.5, 6, 6.5, 7, 7.5, 7, 6, 4.5])
OFFSET_SUFFIXES = ("+00:00", "+01:00", "+02:00", "+03:00")
IDS_PER_DAY = 100_000
DRIFT_SEXTORTION_FACTOR = 3.0  # injected outcome drift: sextortion annotations x3 from the drift date


@dataclass(frozen=True)
class ReceiptFeatures:
    """Numeric values of the receipt-time columns, one entry per referral (delivery order)."""

    incident_type: np.ndarray  # int64 index into TYPE_CODES
    annotations: np.ndarray  # int64 bit mask in REPORT_ANNOTATIONS order
    victim_age: np.ndarray  # int64 age 0-17, -1 when not given
    location: np.ndarray  # int64 index into LOCATION_CLASSES (estimated vs reporting country)
    agency: np.ndarray  # int64 agency key: EU-27 index of the country x 100 + regional number (0 national)
    actionable: np.ndarray  # bool


@dataclass(frozen=True)
class Referrals:
    """The referrals table plus numeric helpers the later stages need.

    `build_referrals` gives the receipt-time columns only; `etl.simulator.outcomes` completes the
    table with the agency's columns, in contract order.
    """

    table: pa.Table  # text columns, in delivery order
    rows: Rows  # the volume rows, in the same (delivery) order
    incident_day: np.ndarray  # epoch day (UTC) of each incident
    incident_seconds: np.ndarray  # epoch seconds (UTC)
    received_day: np.ndarray  # epoch day of receipt
    sort_key: np.ndarray  # int64 year * 1e8 + report number, for a stable order
    account_key: np.ndarray  # uint64 reported-account key
    features: ReceiptFeatures


def report_numbers(incident_day: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(year, 8-digit number) per referral, unique: day of year x 100,000 + random offset + rank."""
    order = np.argsort(incident_day, kind="stable")
    sorted_days = incident_day[order]
    first = np.searchsorted(sorted_days, sorted_days, side="left")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - first
    unique_days, per_day = np.unique(incident_day, return_counts=True)
    if len(per_day) and per_day.max() >= IDS_PER_DAY:
        raise ConfigError("scale too large: more than 100,000 referrals on one day; lower --scale")
    offsets = rng.integers(0, IDS_PER_DAY - per_day, size=len(per_day)) if len(per_day) else per_day
    offset = offsets[np.searchsorted(unique_days, incident_day)]
    dates = incident_day.astype("datetime64[D]")
    year = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    day_of_year = (dates - dates.astype("datetime64[Y]")).astype(np.int64)
    return year, day_of_year * IDS_PER_DAY + offset + rank


def incident_types(world: World, grid: np.ndarray, rows: Rows, rng: np.random.Generator) -> np.ndarray:
    """Incident type index per row: IT_CP dominant, IT_OEC rising, chat/gaming skewed to enticement."""
    years = years_since_trend_epoch(grid)
    weights = np.broadcast_to(BASE_TYPE_WEIGHTS, (len(world.platforms), len(years), len(TYPE_CODES))).copy()
    oec, uom = TYPE_CODES.index("IT_OEC"), TYPE_CODES.index("IT_UOM")
    weights[:, :, oec] *= np.exp(OEC_GROWTH * years)[None, :]
    for j, platform in enumerate(world.platforms):
        if platform.channel in ("chat", "gaming", "live_streaming"):
            weights[j, :, oec] *= 2.0
            weights[j, :, uom] *= 1.5
    cumulative = np.cumsum(weights / weights.sum(axis=2, keepdims=True), axis=2)
    drawn = (rng.random(len(rows))[:, None] > cumulative[rows.platform, rows.day]).sum(axis=1)
    drawn = np.minimum(drawn, len(TYPE_CODES) - 1)
    return np.where(rows.viral >= 0, TYPE_CODES.index("IT_CP"), drawn)


def annotation_masks(
    type_index: np.ndarray, years: np.ndarray, rng: np.random.Generator, sextortion_factor: np.ndarray | float = 1.0
) -> np.ndarray:
    """Bit mask of report annotations (order of REPORT_ANNOTATIONS); sextortion rising over time.

    `sextortion_factor` multiplies the sextortion probability (the injected outcome drift).
    """
    n = len(type_index)
    enticement = type_index == TYPE_CODES.index("IT_OEC")
    sextortion = np.minimum(0.01 * np.exp(0.38 * years) * np.where(enticement, 6.0, 1.0) * sextortion_factor, 0.8)
    solicitation = np.where(enticement, 0.1, 0.025)
    minor_to_minor = np.full(n, 0.03)
    infant = np.where(type_index == 0, 0.006, 0.0)
    mask = np.zeros(n, dtype=np.int64)
    for bit, p in enumerate((sextortion, solicitation, minor_to_minor, infant)):
        mask |= (rng.random(n) < p).astype(np.int64) << bit
    return mask


def victim_ages(masks: np.ndarray, rng: np.random.Generator) -> tuple[pa.Array, np.ndarray]:
    """Estimated victim age 0-17 for about 40 % of referrals, empty otherwise (and as numbers, -1 = empty)."""
    n = len(masks)
    weights = np.array([1, 1, 1, 1, 1.5, 1.5, 2, 2, 2.5, 3, 4, 5, 6, 7, 7, 6, 5, 4], dtype=float)
    age = rng.choice(18, size=n, p=weights / weights.sum())
    infant = (masks >> REPORT_ANNOTATIONS.index("infant_toddler")) & 1 == 1
    age = np.where(infant, rng.integers(0, 3, size=n), age)
    missing = rng.random(n) >= 0.4
    return null_where(int_strings(age), missing), np.where(missing, -1, age)


def utc_offsets(world: World, country: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Local UTC offset in hours (winter offset + 1 h summer time from late March to late October)."""
    dates = day.astype("datetime64[D]")
    day_of_year = (dates - dates.astype("datetime64[Y]")).astype(np.int64)
    summer = (day_of_year >= 87) & (day_of_year < 300)
    base = np.array([c.utc_offset for c in world.countries])[country]
    return base + summer


def incident_datetimes(
    world: World, platform: np.ndarray, country: np.ndarray, day: np.ndarray, seconds: np.ndarray
) -> pa.Array:
    """ISO 8601 date-times: `Z` for some providers, the local offset (+01:00 ...) for others."""
    offset = utc_offsets(world, country, day)
    utc_style = np.array([p.utc_style for p in world.platforms])[platform]
    local = join(local_datetime_strings(seconds + offset * 3600), pick(OFFSET_SUFFIXES, offset))
    utc = join(local_datetime_strings(seconds), "Z")
    return pc.if_else(pa.array(utc_style), utc, local)


def agencies(world: World, country: np.ndarray, rng: np.random.Generator) -> tuple[pa.Array, np.ndarray]:
    """`AGY-<ISO3>`, or `AGY-<ISO3>-NN` for the regional units of some federal states; and the agency
    key (EU-27 index of the country x 100 + regional number, 0 for the national agency)."""
    n = len(country)
    iso3 = pick([c.iso3 for c in world.countries], country)
    regions = np.array([c.regional_agencies for c in world.countries])[country]
    regional = (regions > 0) & (rng.random(n) < 0.4)
    number = rng.integers(0, 1 << 30, size=n) % np.maximum(regions, 1) + 1
    suffix = null_where(join("-", int_strings(number, 2)), ~regional)
    eu_index = np.array([[c.iso3 for c in world.all_countries].index(c.iso3) for c in world.countries])[country]
    key = eu_index.astype(np.int64) * 100 + np.where(regional, number, 0)
    return join("AGY-", iso3, pc.fill_null(suffix, "")), key


def booleans(values: np.ndarray) -> pa.Array:
    """`true` / `false` strings."""
    return pick(("false", "true"), values.astype(np.int64))


def receipt_days(incident_day: np.ndarray, end_day: int, rng: np.random.Generator) -> np.ndarray:
    """Received 0-30 days after the incident (mostly a few days), never after the end of the range."""
    n = len(incident_day)
    lag = np.minimum(rng.geometric(0.3, size=n) - 1, 30)
    lag = np.where(rng.random(n) < 0.03, rng.integers(7, 31, size=n), lag)
    return np.minimum(incident_day + lag, end_day)


def delivery_order(received: np.ndarray, sort_key: np.ndarray) -> np.ndarray:
    """Row order of the deliveries: by received date, then report number."""
    return np.lexsort((sort_key, received))


def build_referrals(world: World, volumes: Volumes, config: SimulationConfig) -> Referrals:
    """All referral columns for the volume rows (contract columns as text), in delivery order.

    Dates and report numbers are drawn first; the rows are then put in delivery order, so every
    text column is built once, already sorted, instead of sorting a large table afterwards.
    """
    rng = draw_rng(config, "referrals")
    rows = volumes.rows
    n = len(rows)
    day = volumes.days[rows.day]
    end_day = epoch_day(config.end)
    hours = rng.choice(24, size=n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    seconds = day * 86400 + hours * 3600 + rng.integers(0, 3600, size=n)
    year, number = report_numbers(day, rng)
    received = receipt_days(day, end_day, rng)
    sort_key = year * 100_000_000 + number
    order = delivery_order(received, sort_key)
    rows = Rows(*(getattr(rows, f)[order] for f in ("day", "country", "platform", "bundle_size", "viral")))
    day, seconds, received, sort_key = (a[order] for a in (day, seconds, received, sort_key))
    year, number = year[order], number[order]
    types = incident_types(world, volumes.days, rows, rng)
    masks = annotation_masks(types, years_since_trend_epoch(day), rng, drift_sextortion_factor(config, received))
    identity, accounts = identities.identity_columns(world, rows.platform, rows.country, seconds, config.seed, rng)
    actionable_p = np.array([p.actionable for p in world.platforms])[rows.platform]
    actionable_p = np.where(types == TYPE_CODES.index("IT_OEC"), actionable_p + 0.2, actionable_p)
    actionable = rng.random(n) < np.where(rows.viral >= 0, 0.1, actionable_p)
    locations, location_class = identities.estimated_locations(world, rows.country, rng)
    ages, age = victim_ages(masks, rng)
    agency_names, agency = agencies(world, rows.country, rng)
    columns = {
        "report_id": join("CT-", int_strings(year), "-", int_strings(number, 8)),
        "esp_name": pick([p.name for p in world.platforms], rows.platform),
        "esp_service": pick([p.channel for p in world.platforms], rows.platform),
        "incident_type": pick(TYPE_CODES, types),
        "incident_datetime": incident_datetimes(world, rows.platform, rows.country, day, seconds),
        "report_annotations": bitmask_labels(masks, REPORT_ANNOTATIONS),
        **identity,
        "estimated_location_country": locations,
        "victim_age": ages,
        "reporting_country": pick([c.iso3 for c in world.countries], rows.country),
        "receiving_agency": agency_names,
        "is_actionable": booleans(actionable),
        "bundle_size": int_strings(rows.bundle_size),
        "additional_info": identities.additional_info(world, rows.platform, accounts.key, rng),
        "incident_url": identities.incident_urls(world, rows.platform, rng),
        "received_date": date_strings(received),
    }
    features = ReceiptFeatures(types, masks, age, location_class, agency, actionable)
    return Referrals(pa.table(columns), rows, day, seconds, received, sort_key, accounts.key, features)


def drift_sextortion_factor(config: SimulationConfig, received: np.ndarray) -> np.ndarray | float:
    """The injected outcome drift's covariate shift: sextortion annotations more frequent from its date."""
    if config.outcome_drift_date is None:
        return 1.0
    return np.where(received >= epoch_day(config.outcome_drift_date), DRIFT_SEXTORTION_FACTOR, 1.0)
