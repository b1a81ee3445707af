"""Ground truth of a run: every injected change point, spike, emerging and vanishing entity,
and which files are near-duplicates of which media item.

Dates and sizes come from the scenario; levels (mean referrals per day before and after) are
measured on the drawn counts, so analytics can be scored against what the data really holds.
Only events inside the simulated range are listed. The near-duplicate section lists every item
whose files include a variant, so a clustering of the files can be scored pair by pair.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.simulator.config import SimulationConfig
from etl.simulator.media import KIND_BITS, KIND_SHARES, VARIANT_KINDS, Media, describe_media
from etl.simulator.strings import int_strings, join, pick
from etl.simulator.volumes import E2EE_ROLLOUT_DAYS, EMERGING_GROWTH, SHUTDOWN_RUNDOWN_DAYS, Volumes
from etl.simulator.world import World, epoch_day

WINDOW_DAYS = 90


def _level(series: np.ndarray, days: np.ndarray, first: int, last: int) -> float | None:
    """Mean of `series` over epoch days [first, last), None if the window is outside the range."""
    mask = (days >= first) & (days < last)
    return round(float(series[mask].mean()), 3) if mask.any() else None


def _ratio(before: float | None, after: float | None) -> float | None:
    return round(after / before, 4) if before and after is not None else None


def _event(kind, entity_type, entity, date, magnitude, direction, detail, end_date=None, **extra) -> dict:
    event = {"kind": kind, "entity_type": entity_type, "entity": entity, "date": date.isoformat()}
    if end_date is not None:
        event["end_date"] = end_date.isoformat()
    event.update({"magnitude": magnitude, "direction": direction, "detail": detail})
    event.update({key: value for key, value in extra.items() if value is not None})
    return event


def _step(series, days, date: dt.date, gap: int = 0) -> tuple:
    """Levels before and after a step on `date` (after skipping `gap` days of transition)."""
    day = epoch_day(date)
    before = _level(series, days, day - WINDOW_DAYS, day)
    after = _level(series, days, day + gap, day + gap + WINDOW_DAYS)
    return before, after, _ratio(before, after)


def platform_events(world: World, volumes: Volumes) -> list[dict]:
    """E2EE change point, shutdown (vanishing) and launches (emerging)."""
    scenario, days = world.scenario, volumes.days
    per_platform = volumes.counts.sum(axis=1)
    events = []
    for j, platform in enumerate(world.platforms):
        series = per_platform[:, j]
        if platform.lifecycle == "e2ee":
            before, after, ratio = _step(series, days, scenario.e2ee_date, E2EE_ROLLOUT_DAYS)
            events.append(
                _event(
                    "change_point",
                    "platform",
                    platform.name,
                    scenario.e2ee_date,
                    ratio,
                    "down",
                    f"end-to-end encryption switched on; referrals fall to about {scenario.e2ee_ratio:.0%} of "
                    f"their level within {E2EE_ROLLOUT_DAYS} days",
                    level_before=before,
                    level_after=after,
                    ratio=ratio,
                    designed_ratio=round(scenario.e2ee_ratio, 4),
                )
            )
        elif platform.lifecycle == "shutdown":
            day = epoch_day(scenario.shutdown_date)
            before = _level(series, days, day - SHUTDOWN_RUNDOWN_DAYS - WINDOW_DAYS, day - SHUTDOWN_RUNDOWN_DAYS)
            events.append(
                _event(
                    "vanishing",
                    "platform",
                    platform.name,
                    scenario.shutdown_date,
                    before,
                    "down",
                    f"service shut down; volume runs down over {SHUTDOWN_RUNDOWN_DAYS} days, then no referrals",
                    level_before=before,
                    level_after=0.0,
                    ratio=0.0,
                )
            )
        elif platform.lifecycle == "emerging":
            launch = scenario.launch_dates[platform.name]
            after = _level(series, days, epoch_day(world.end) - WINDOW_DAYS + 1, epoch_day(world.end) + 1)
            events.append(
                _event(
                    "emerging",
                    "platform",
                    platform.name,
                    launch,
                    after,
                    "up",
                    f"new service from a low base with accelerating growth ({EMERGING_GROWTH:g}x by the end of the range)",
                    level_before=0.0,
                    level_after=after,
                    growth=EMERGING_GROWTH,
                )
            )
    return events


def bundling_events(world: World, volumes: Volumes) -> list[dict]:
    """The bundling policy: EU total and every bundling platform drop on the policy date."""
    scenario, days = world.scenario, volumes.days
    if not days[0] < epoch_day(scenario.bundling_date) <= days[-1]:
        return []
    total = volumes.counts.sum(axis=(1, 2))
    incidents = volumes.incidents.sum(axis=(1, 2))
    before, after, ratio = _step(total, days, scenario.bundling_date)
    _, _, incident_ratio = _step(incidents, days, scenario.bundling_date)
    events = [
        _event(
            "change_point",
            "eu_total",
            "EU27",
            scenario.bundling_date,
            ratio,
            "down",
            f"referral bundling policy: {scenario.bundle_share:.0%} of big platforms' referrals become bundles "
            f"(bundle_size > 1); referral counts drop while incidents stay similar",
            level_before=before,
            level_after=after,
            ratio=ratio,
            incident_ratio=incident_ratio,
        )
    ]
    per_platform = volumes.counts.sum(axis=1)
    for j, platform in enumerate(world.platforms):
        if platform.bundles:
            before, after, ratio = _step(per_platform[:, j], days, scenario.bundling_date)
            events.append(
                _event(
                    "change_point",
                    "platform",
                    platform.name,
                    scenario.bundling_date,
                    ratio,
                    "down",
                    "referral bundling policy",
                    level_before=before,
                    level_after=after,
                    ratio=ratio,
                )
            )
    return events


def country_events(world: World, volumes: Volumes) -> list[dict]:
    """Injected lasting level shifts of single countries."""
    days = volumes.days
    per_country = volumes.counts.sum(axis=2)
    events = []
    for shift in world.scenario.country_shifts:
        series = per_country[:, world.country_index(shift.country)]
        before, after, ratio = _step(series, days, shift.date)
        events.append(
            _event(
                "change_point",
                "country",
                shift.country,
                shift.date,
                ratio,
                "up" if shift.ratio > 1 else "down",
                f"lasting level shift (reporting or routing practice change), designed ratio {shift.ratio:g}",
                level_before=before,
                level_after=after,
                ratio=ratio,
                designed_ratio=shift.ratio,
            )
        )
    return events


def viral_events(world: World, viral_md5: dict) -> list[dict]:
    """One spike per viral media cluster."""
    return [
        _event(
            "spike",
            "media_cluster",
            viral_md5[event.index],
            event.start,
            event.extra_referrals,
            "up",
            "one media item (and near-duplicates) re-reported across countries within days",
            end_date=event.end,
            countries=list(event.countries),
            platforms=list(event.platforms),
            extra_referrals=event.extra_referrals,
        )
        for event in world.scenario.viral_events
    ]


def build_ground_truth(world: World, volumes: Volumes, config: SimulationConfig, viral_md5: dict) -> dict:
    """The ground-truth document, events ordered by date, kind and entity."""
    events = (
        platform_events(world, volumes)
        + bundling_events(world, volumes)
        + country_events(world, volumes)
        + viral_events(world, viral_md5)
    )
    first, last = config.start.isoformat(), config.end.isoformat()
    events = [e for e in events if first <= e["date"] <= last]
    events.sort(key=lambda e: (e["date"], e["kind"], e["entity_type"], e["entity"]))
    return {
        "seed": config.seed,
        "scale": config.scale,
        "start": first,
        "end": last,
        "countries": list(config.country_order),
        "events": events,
    }


NEAR_DUPLICATE_ITEMS = "@@near-duplicate items@@"  # placeholder for the items block (see near_duplicates)
VARIANT_FIELDS = ("md5", "sha1", "kind", "bits")


def near_duplicates(media: Media, media_index: np.ndarray, seed: int) -> tuple[dict, str]:
    """The near-duplicate section of the ground truth and the JSON text of its `items` object.

    `items` maps the MD5 of an item's original to its SHA1 and PDQ and to every variant the files
    carry, as [md5, sha1, kind, bits] (bits: Hamming distance of the variant's PDQ to the
    original's). It is built with Arrow string kernels, one line per item, so a large run's
    ground truth stays compact and quick to write.
    """
    variants = np.flatnonzero(media.variant > 0)  # media rows are sorted by item, then variant
    items, counts = np.unique(media.item[variants], return_counts=True)
    row_kinds = media.kind[media_index]
    kinds = {
        name: {
            "bits": list(KIND_BITS[k]),
            "designed_share": KIND_SHARES[k],
            "variants": int(np.count_nonzero(media.kind[variants] == k)),
            "file_rows": int(np.count_nonzero(row_kinds == k)),
        }
        for k, name in enumerate(VARIANT_KINDS)
    }
    section = {
        "description": (
            "Media items whose files include near-duplicates. items: the MD5 of the item's original -> its SHA1, "
            "PDQ and every variant in the files as [md5, sha1, kind, bits], bits = Hamming distance of the "
            "variant's PDQ to the original's. A file belongs to the item whose original or variant has its MD5 "
            "(or SHA1); every other file is an exact copy of an item without variants, identified by its MD5. "
            "Any two files of one item are a true pair; a pair of the original and a variant has the variant's kind."
        ),
        "pdq_near_duplicate_threshold": 31,
        "kinds": kinds,
        "variant_fields": list(VARIANT_FIELDS),
        "item_count": len(items),
        "variant_count": len(variants),
        "items": NEAR_DUPLICATE_ITEMS,
    }
    if len(items) == 0:
        return section, "{}"
    originals = describe_media(items, np.zeros(len(items), dtype=np.int64), seed)
    take = pa.array(variants)
    entry = join(
        '["',
        media.md5.take(take),
        '", "',
        media.sha1.take(take),
        '", "',
        pick(VARIANT_KINDS, media.kind[variants]),
        '", ',
        int_strings(media.bits[variants]),
        "]",
    )
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    listed = pc.binary_join(pa.ListArray.from_arrays(offsets, entry), ", ")
    lines = join(
        '      "',
        originals.md5,
        '": {"sha1": "',
        originals.sha1,
        '", "pdq": "',
        originals.pdq,
        '", "variants": [',
        listed,
        "]}",
    )
    return section, "{\n" + ",\n".join(lines.to_pylist()) + "\n    }"
