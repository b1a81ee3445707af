"""Run one simulation end to end: world -> volumes -> rows -> deliveries -> files (and PostgreSQL)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from etl.simulator.config import SimulationConfig
from etl.simulator.deliveries import DeliveryPlan, plan_deliveries
from etl.simulator.files import Files, build_files, industry_lists, known_hash_set
from etl.simulator.ground_truth import NEAR_DUPLICATE_ITEMS, build_ground_truth, near_duplicates
from etl.simulator.layout import (
    GROUND_TRUTH,
    INDUSTRY_HASHES,
    INDUSTRY_PDQ,
    KNOWN_HASHES,
    MALFORMED_RECORDS,
    MANIFEST,
    files_path,
    package_path,
    referrals_path,
)
from etl.simulator.malformed import BAD_UTF8_MARKER, BAD_UTF8_TEXT, MalformedPlan, apply_mutations, plan_malformed
from etl.simulator.media import Media, media_hashes
from etl.simulator.outcomes import complete_referrals
from etl.simulator.packages import package_lines
from etl.simulator.postgres import PostgresSink, safe_url
from etl.simulator.referrals import build_referrals
from etl.simulator.rng import draw_rng
from etl.simulator.volumes import simulate_volumes
from etl.simulator.world import World, build_world
from etl.simulator.writers import (
    break_encoding,
    csv_bytes,
    prepare_out_dir,
    table_bytes,
    truncated_csv,
    write_bytes,
    write_json,
    write_malformed_records,
)
from grace import __version__
from grace.progress import ProgressCallback, no_progress

SIMULATOR_VERSION = "1.2"  # 1.1: near-duplicate variants, PDQ quality, industry lists; 1.2: outcome model


@dataclass(frozen=True)
class SimulationResult:
    """What a run produced (counts are rows generated; see the manifest for rows per file)."""

    out: Path
    manifest_path: Path
    ground_truth_path: Path
    referrals: int
    files: int
    incidents: int
    packages: int
    deliveries: int
    known_hashes: int
    malformed: dict = field(default_factory=dict)
    industry_hashes: int = 0
    industry_pdq_hashes: int = 0
    variants: int = 0
    postgres_rows: dict | None = None
    seconds: float = 0.0

    @property
    def malformed_total(self) -> int:
        return sum(self.malformed.values())


@dataclass
class _Output:
    """Sorted, mutated tables and the plans needed to write every delivery."""

    config: SimulationConfig
    plan: DeliveryPlan
    clean_referrals: pa.Table
    referrals: pa.Table
    clean_files: pa.Table
    files: pa.Table
    packaged: np.ndarray
    malformed: MalformedPlan
    media: Media  # distinct (item, variant) pairs of the generated files (the near-duplicate ground truth)
    media_index: np.ndarray  # every generated file's row in `media`
    outcome_truth: dict  # the outcome model's section of the ground truth
    entries: list = field(default_factory=list)


def simulate(config: SimulationConfig, progress: ProgressCallback | None = None) -> SimulationResult:
    """Simulate the case systems of `config` and write everything under `config.out`."""
    report = progress or no_progress
    began = time.perf_counter()
    sink = PostgresSink(config.to_postgres) if config.to_postgres else None  # fail early if unreachable
    try:
        prepare_out_dir(config.out)
        write_json(config.out, MANIFEST, {"generator": "grace simulate", "status": "running"})
        world, volumes, output = _generate(config, report)
        _write_deliveries(output, sink, report)
        if sink is not None:
            sink.commit()
    except BaseException:
        if sink is not None:
            sink.abort()
        raise
    counts = _write_run_files(config, world, volumes, output, sink)
    return SimulationResult(
        out=config.out,
        manifest_path=config.out / MANIFEST,
        ground_truth_path=config.out / GROUND_TRUTH,
        referrals=counts["referrals"],
        files=counts["files"],
        incidents=counts["incidents"],
        packages=counts["packages"],
        deliveries=counts["deliveries"],
        known_hashes=counts["known_hashes"],
        malformed=dict(output.malformed.counts),
        industry_hashes=counts["industry_hashes"],
        industry_pdq_hashes=counts["industry_pdq_hashes"],
        variants=counts["near_duplicate_variants"],
        postgres_rows=dict(sink.rows) if sink else None,
        seconds=round(time.perf_counter() - began, 3),
    )


def _write_run_files(config: SimulationConfig, world: World, volumes, output: _Output, sink) -> dict:
    """Hash sets, ground truth, malformed-record list and (last, as the completion mark) the manifest."""
    hash_set = known_hash_set(config)
    output.entries.append(
        write_bytes(config.out, KNOWN_HASHES, csv_bytes(hash_set), "hashset", None, hash_set.num_rows)
    )
    industry, industry_pdq = industry_lists(config, world)
    output.entries.append(
        write_bytes(config.out, INDUSTRY_HASHES, csv_bytes(industry), "hashset", None, industry.num_rows)
    )
    output.entries.append(
        write_bytes(config.out, INDUSTRY_PDQ, csv_bytes(industry_pdq), "pdq_hashset", None, industry_pdq.num_rows)
    )
    truth = build_ground_truth(world, volumes, config, _viral_md5(world, config))
    truth["outcome_model"] = output.outcome_truth
    truth["near_duplicates"], items = near_duplicates(output.media, output.media_index, config.seed)
    write_json(config.out, GROUND_TRUTH, truth, inline={NEAR_DUPLICATE_ITEMS: items})
    write_malformed_records(config.out, output.malformed.sorted_records())
    counts = {
        "referrals": output.referrals.num_rows,
        "files": output.files.num_rows,
        "incidents": int(volumes.rows.bundle_size.sum()),
        "packages": int(output.packaged.sum()),
        "known_hashes": hash_set.num_rows,
        "industry_hashes": industry.num_rows,
        "industry_pdq_hashes": industry_pdq.num_rows,
        "near_duplicate_variants": truth["near_duplicates"]["variant_count"],
        "near_duplicate_file_rows": int(np.count_nonzero(output.media.variant[output.media_index])),
        "deliveries": len(output.plan.periods),
        "referral_rows_written": sum(e["rows"] for e in output.entries if e["kind"] == "referrals"),
        "file_rows_written": sum(e["rows"] for e in output.entries if e["kind"] == "files"),
    }
    postgres = None
    if sink is not None:
        if config.to_postgres is None:
            raise ValueError("a PostgreSQL sink without the URL it writes to (to_postgres)")
        postgres = {"url": safe_url(config.to_postgres), "schema": "case_system", "rows": dict(sink.rows)}
    write_json(config.out, MANIFEST, _manifest(config, counts, output, postgres))
    return counts


def _generate(config: SimulationConfig, report: ProgressCallback):
    """World, volumes, referral and file rows, and the delivery/malformed plans."""
    stage = "Simulating referrals"
    report(stage, 0, 4)
    world = build_world(config)
    volumes = simulate_volumes(world, config)
    report(stage, 1, 4)
    referrals = build_referrals(world, volumes, config)
    report(stage, 2, 4)
    files = build_files(world, referrals, config)
    referrals, outcome_truth = complete_referrals(world, referrals, files, config)
    report(stage, 3, 4)
    output = _prepare_output(config, referrals, files, outcome_truth)
    report(stage, 4, 4)
    return world, volumes, output


def _prepare_output(config: SimulationConfig, referrals, files: Files, outcome_truth: dict) -> _Output:
    """Sort rows into deliveries, choose packages and malformed records, apply the cell changes."""
    plan = plan_deliveries(
        referrals.received_day, referrals.sort_key, files.referral_index, config.start, config.end, config.delivery
    )
    clean_referrals = _reordered(referrals.table, plan.referral_order)
    clean_files = _reordered(files.table, plan.file_order)
    packaged = draw_rng(config, "packages").random(clean_referrals.num_rows) < config.package_share
    malformed = plan_malformed(
        clean_referrals,
        clean_files,
        plan,
        config.format,
        packaged,
        config.malformed_rate,
        draw_rng(config, "malformed"),
    )
    return _Output(
        config,
        plan,
        clean_referrals,
        apply_mutations(clean_referrals, malformed.mutations, "referrals"),
        clean_files,
        apply_mutations(clean_files, malformed.mutations, "files"),
        packaged,
        malformed,
        files.media,
        files.media_index,
        outcome_truth,
    )


def _reordered(table: pa.Table, order: np.ndarray) -> pa.Table:
    """The table in `order` (rows are normally generated in delivery order already: no copy then)."""
    if np.array_equal(order, np.arange(len(order))):
        return table
    return table.take(pa.array(order))


def _write_deliveries(output: _Output, sink: PostgresSink | None, report: ProgressCallback) -> None:
    """Write every period's referrals, files and packages (and append them to PostgreSQL)."""
    plan, periods = output.plan, output.plan.periods
    redelivered: dict[int, list[int]] = {}
    for row, target in output.malformed.redeliveries:
        redelivered.setdefault(target, []).append(row)
    for index, label in enumerate(periods):
        report("Writing deliveries", index, len(periods))
        start, stop = plan.referral_slice(index)
        referrals = output.referrals.slice(start, stop - start)
        if index in redelivered:
            extra = output.referrals.take(pa.array(redelivered[index], type=pa.int64()))
            referrals = pa.concat_tables([referrals, extra])
        first, last = plan.file_slice(index)
        files = output.files.slice(first, last - first)
        _write_table(output, sink, "referrals", referrals_path(label, output.config.format), label, referrals, index)
        _write_table(output, sink, "files", files_path(label, output.config.format), label, files, index)
        if output.config.package_share > 0:
            _write_packages(output, index, label)
    report("Writing deliveries", len(periods), len(periods))


def _write_table(output: _Output, sink, kind: str, relative: str, label: str, table: pa.Table, index: int) -> None:
    config, truncation = output.config, output.malformed.truncation
    if truncation is not None and truncation.target == kind and truncation.period == index:
        if truncation.column is None:
            raise ValueError(f"truncation of {truncation.path} names no column to cut inside")
        data = break_encoding(truncated_csv(table, truncation.rows, truncation.column))
        entry = write_bytes(config.out, relative, data, kind, label, table.num_rows - truncation.rows, 1)
    else:
        entry = write_bytes(config.out, relative, table_bytes(table, config.format), kind, label, table.num_rows)
    output.entries.append(entry)
    if sink is not None:
        raw = csv_bytes(table)
        sink.append(kind, raw.replace(BAD_UTF8_MARKER.encode(), BAD_UTF8_TEXT.encode()), table.num_rows)


def _write_packages(output: _Output, index: int, label: str) -> None:
    start, stop = output.plan.referral_slice(index)
    rows = start + np.flatnonzero(output.packaged[start:stop])
    lines = package_lines(
        output.clean_referrals, output.clean_files, output.plan.file_offsets, rows, output.malformed.broken_packages
    )
    truncation, partial = output.malformed.truncation, 0
    if truncation is not None and truncation.target == "packages" and truncation.period == index:
        cut_line = lines[-truncation.rows]
        lines = [*lines[: -truncation.rows], cut_line[: len(cut_line) // 2]]
        partial = 1
    output.entries.append(
        write_bytes(
            output.config.out, package_path(label), b"".join(lines), "packages", label, len(lines) - partial, partial
        )
    )


def _viral_md5(world: World, config: SimulationConfig) -> dict[int, str]:
    """MD5 of the original item of every viral event (the cluster's identity in ground truth)."""
    events = world.scenario.viral_events
    if not events:
        return {}
    items = np.array([e.item_id for e in events], dtype=np.uint64)
    md5 = media_hashes(items, np.zeros(len(items), dtype=np.int64), config.seed)["md5"].to_pylist()
    return {event.index: value for event, value in zip(events, md5)}


def _manifest(config: SimulationConfig, counts: dict, output: _Output, postgres: dict | None) -> dict:
    truncation = output.malformed.truncation
    return {
        "generator": "grace simulate",
        "status": "complete",
        "code_version": f"grace-trends {__version__}, simulator {SIMULATOR_VERSION}",
        "seed": config.seed,
        "scale": config.scale,
        "start": config.start.isoformat(),
        "end": config.end.isoformat(),
        "countries": list(config.country_order),
        "format": config.format,
        "delivery": config.delivery,
        "package_share": config.package_share,
        "malformed_rate": config.malformed_rate,
        "outcome_drift_date": None if config.outcome_drift_date is None else config.outcome_drift_date.isoformat(),
        "draw": config.draw,
        "outcome_feedback": config.outcome_feedback,
        "counts": counts,
        "malformed": dict(output.malformed.counts),
        "malformed_records": MALFORMED_RECORDS,
        "truncated": None
        if truncation is None
        else {
            "file": truncation.path,
            "rows_partial": 1,
            "rows_lost": truncation.rows - 1,
            "cut_in_field": truncation.column,
        },
        "ground_truth": GROUND_TRUTH,
        "hash_set": KNOWN_HASHES,
        "known_material_lists": {"hashes": INDUSTRY_HASHES, "pdq": INDUSTRY_PDQ},
        "postgres": postgres,
        "files": output.entries,
    }
