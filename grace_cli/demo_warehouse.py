"""Build the embedded demo warehouse: simulate case systems, then run the real ETL.

Nothing here is a shortcut: the simulator writes case-system exports and referral packages
(with malformed records and re-deliveries), and the same pipeline as production loads them.
The warehouse is built in a temporary file and moved into place only when complete, so an
interrupted build never leaves a half-filled warehouse behind.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from etl.hashsets import import_hash_set
from etl.runner import RunSummary, run_batches
from etl.sources import discover_batches
from grace import settings
from grace.background import StatusWriter, clear_status, mark_pending, read_status
from grace.config import demo_dir, load_pseudonym_key
from grace.errors import GraceError
from grace.progress import ProgressCallback, no_progress
from grace_cli.demo_statistics import import_demo_statistics
from warehouse import connect, ensure_schema

# About 115,000 referrals over 2019-2025: every page filled (small member states with suppressed cells, as in
# life), and the first `python app.py` serves within 30 s on 2 cores (docs/BENCHMARKS.md, "First start").
DEFAULT_DEMO_SCALE = 0.015
DEMO_START, DEMO_END = dt.date(2019, 1, 1), dt.date(2025, 12, 31)
# Yearly deliveries keep the number of batches (and so the fixed cost per batch) small.
DEMO_DELIVERY = "year"
# A first `grace analyse` run so the Overview, Alerts and Forecasts pages have results on first
# start: the headline metrics of each indicator group, monthly and weekly, EU total + countries +
# platforms. `grace analyse` with its defaults covers every metric.
DEMO_ANALYSIS_METRICS = ("referrals", "new_media_clusters", "perceptually_new_files", "reported_accounts", "backlog")
DEMO_ANALYSIS_GRAINS = ("month", "week")
FINISH_TASK = "finishing the demo (first triage model and first analysis)"


@dataclass
class DemoResult:
    """Where the demo went and what the ETL did."""

    warehouse: Path
    inputs: Path
    summary: RunSummary
    analysis_series: int = 0  # series analysed by the first `grace analyse` run (0 = not run)
    triage_model: str | None = None  # the first triage model, trained, promoted and scored with (None = not)


@dataclass(frozen=True)
class DemoFinish:
    """What finishing the demo added: the series analysed and the triage model (None = too few labels)."""

    analysis_series: int
    triage_model: str | None


def demo_scale(scale: float | None) -> float:
    """The demo scale: the argument, else `$GRACE_DEMO_SCALE` (`grace.settings.demo_scale`), else the default."""
    if scale is not None:
        return scale
    configured = settings.demo_scale()
    return configured if configured is not None else DEFAULT_DEMO_SCALE


def build_demo_warehouse(
    path: Path,
    scale: float | None = None,
    seed: int = 42,
    progress: ProgressCallback = no_progress,
    inputs: Path | None = None,
    analyse: bool = True,
    jobs: int = 2,
    triage: bool = True,
    finish_later: bool = False,
) -> DemoResult:
    """Simulate case-system data under `inputs` (default `$GRACE_HOME/demo`) and load it into `path`.

    `triage` trains, promotes and scores with the first triage model; `analyse` runs the first analysis.
    With `finish_later`, neither runs: the warehouse is marked as still to be finished
    (`grace.background`), and `finish_demo_warehouse` does both later, while the dashboard already serves.
    """
    from etl.simulator import SimulationConfig, simulate

    path = Path(path)
    inputs = Path(inputs) if inputs else demo_dir()
    if inputs.exists():
        shutil.rmtree(inputs)
    config = SimulationConfig(
        out=inputs, seed=seed, scale=demo_scale(scale), start=DEMO_START, end=DEMO_END, delivery=DEMO_DELIVERY
    )
    simulate(config, progress=progress)
    building = path.with_name(path.name + ".building")
    _remove_beside(building)
    con = connect(building)
    try:
        ensure_schema(con)
        hash_set = inputs / "hashsets" / "known_hashes.csv"
        if hash_set.is_file():
            import_hash_set(con, hash_set, name="demo-known")
        batches = discover_batches(inputs / "exports") + discover_batches(inputs / "packages")
        summary = run_batches(con, batches, load_pseudonym_key(), progress=progress)
        import_demo_statistics(con)  # synthetic published figures for the strategic report's comparison
        con.execute("CHECKPOINT")
    finally:
        con.close()
    if not summary.ok:
        source, reason = summary.failures[0]
        raise GraceError(f"demo build failed at {source}: {reason}")
    model, analysed = None, 0
    if finish_later:
        mark_pending(path, FINISH_TASK)
    else:
        model = _first_triage_model(building, progress) if triage else None
        analysed = _analyse(building, jobs, progress) if analyse else 0
        clear_status(path)  # a demo rebuilt in full leaves nothing for a background run to finish
    _move_into_place(building, path)
    return DemoResult(warehouse=path, inputs=inputs, summary=summary, analysis_series=analysed, triage_model=model)


def finish_demo_warehouse(path: Path, jobs: int = 2, progress: ProgressCallback = no_progress) -> DemoFinish:
    """Add what `build_demo_warehouse(..., finish_later=True)` left out: the first triage model and its
    scores, then the first analysis run.

    The work happens on a copy (`<path>.finishing`) that replaces `path` only when complete, so the
    dashboard keeps serving the loaded warehouse meanwhile (its reader reopens a replaced file) and an
    interrupted run leaves the served warehouse as it was; the status file beside `path` says how far it
    got (`grace.background`), and `failed` with the reason when it stops on an error.
    """
    path = Path(path)
    status = StatusWriter(path, FINISH_TASK)

    def report(step: str, completed: int, total: int | None) -> None:
        status(step, completed, total)
        progress(step, completed, total)

    try:
        finishing = path.with_name(path.name + ".finishing")
        _remove_beside(finishing)
        shutil.copyfile(path, finishing)
        models = path.with_name(path.name + ".models")
        if models.is_dir():
            shutil.copytree(models, finishing.with_name(finishing.name + ".models"))
        model = _first_triage_model(finishing, report)
        analysed = _analyse(finishing, jobs, report)
        _move_into_place(finishing, path, beside=(".models", ".analysis-cache"))
    except BaseException as error:
        status.failed(f"{type(error).__name__}: {error}"[:500])
        raise
    status.done(f"{analysed:,} series analysed" + (f", triage model {model}" if model else ""))
    return DemoFinish(analysis_series=analysed, triage_model=model)


def demo_needs_finishing(path: Path) -> bool:
    """Whether the warehouse at `path` was built with `finish_later` and has not been finished since."""
    status = read_status(path)
    return status is not None and status.task == FINISH_TASK and status.unfinished


def _move_into_place(
    source: Path, target: Path, beside: tuple[str, ...] = (".pdq-index", ".models", ".analysis-cache")
) -> None:
    """Replace `target` by `source`; the directories beside it (the near-duplicate index, the model
    registry, the analyses kept for reuse) move with it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
    for suffix in beside:
        _replace_directory(source.with_name(source.name + suffix), target.with_name(target.name + suffix))


def _remove_beside(copy: Path) -> None:
    """Remove a copy left by an interrupted run, with its write-ahead log, index and model registry."""
    for leftover in (copy, copy.with_name(copy.name + ".wal")):
        leftover.unlink(missing_ok=True)
    for beside in (".pdq-index", ".models", ".analysis-cache"):
        shutil.rmtree(copy.with_name(copy.name + beside), ignore_errors=True)


def _replace_directory(source: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    if source.exists():
        os.replace(source, target)


def _first_triage_model(warehouse: Path, progress: ProgressCallback) -> str | None:
    """Train the demo's first triage model on its labelled referrals, promote it and score every referral
    (as `grace model train --promote` then `grace model score`); None when there are too few labels."""
    from classification import registry
    from classification.evaluation import model_card
    from classification.features import referral_features
    from classification.model import TrainingError, default_windows, train
    from classification.scoring import Scorer, active_rules, rescore

    con = connect(warehouse)
    try:
        progress("Training the first triage model", 0, 1)
        frame = referral_features(con)
        try:
            windows = default_windows(frame)
            model, parts = train(frame, windows)
        except TrainingError:
            return None
        version = registry.register(con, model, model_card(model, parts, windows, active_rules(con), frame))
        registry.promote(con, version)
        progress("Training the first triage model", 1, 1)
        rescore(con, Scorer.active(con), progress=progress)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return version


def _analyse(warehouse: Path, jobs: int, progress: ProgressCallback) -> int:
    """The demo's first analysis run (see DEMO_ANALYSIS_METRICS); returns the series analysed."""
    from analytics.warehouse_run import run_analysis

    run = run_analysis(
        warehouse, metrics=DEMO_ANALYSIS_METRICS, grains=DEMO_ANALYSIS_GRAINS, jobs=jobs, progress=progress
    )
    return run.series_count
