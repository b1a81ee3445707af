"""Skipping unchanged series: `grace analyse` reuses a series' analysis when nothing it depends on changed.

Rule. Each series gets a key: SHA-256 of its id (metric | grain | split | entity), its dates and values
(the exact float64 and datetime64 bytes), the analysis parameters it was analysed with (everything in
`AnalysisParams` except the alert materiality thresholds, which only mark alerts afterwards and are
applied again on every run) and the analysis code's fingerprint (`code_fingerprint`: the source of the
`analytics` package, the GRACE version and the versions of the numerical libraries the detectors and
models run on). When the latest completed run of the warehouse analysed a series under the same key,
its analysis (or its reason for skipping the series) is taken from that run instead of being computed
again, and its rows are stored under the new run id like a fresh result — the same values, since
every detector and model is deterministic. Everything that spans several series (entity statuses,
attribution, reconciliation, the backlog projection, findings), the alerts' materiality and "new since
the previous run", and the triage model's monitoring are computed afresh on every run.

Where the previous analyses are kept. A run's analyses are pickled into `<warehouse>.analysis-cache/
<run id>.pkl` beside the warehouse file (like the model registry's `<warehouse>.models/`), and the
file's SHA-256 is recorded in that run's row (`analytics_run.parameters` → `reuse.cache_sha256`) in
the run's transaction: a file that is missing, from another run, or altered is not loaded, and the
run then refits every series. Only the latest run's file is kept. `grace analyse --refit-all`
ignores it; a warehouse held in memory keeps none.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from analytics.results import AlertParams, AnalysisParams, SeriesAnalysis, jsonable

CACHE_SUFFIX = ".analysis-cache"
CACHE_FORMAT = 1  # bump when the pickled layout changes
# the libraries whose numbers the detectors and models are made of: a new version may move a result
LIBRARIES = ("numpy", "scipy", "pandas", "statsmodels", "numba", "ruptures", "pymannkendall")

Outcome = tuple[SeriesAnalysis | None, str | None]  # (analysis, None) or (None, reason skipped)


def code_fingerprint() -> str:
    """SHA-256 of the `analytics` package's Python source (every file, sorted by path), the registered
    per-series detectors (names, functions and the source of their modules, so a detector registered from
    elsewhere counts too), the GRACE version and the numerical libraries' versions: any change to any of
    them refits every series."""
    import inspect

    from analytics.detectors import SERIES_DETECTORS
    from grace import __version__

    digest = hashlib.sha256(f"grace {__version__}; cache {CACHE_FORMAT}\n".encode())
    for name in LIBRARIES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{name} {version}\n".encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    for detector in SERIES_DETECTORS:
        run = detector.run
        digest.update(f"detector {detector.name} {run.__module__}.{run.__qualname__}\n".encode())
        try:
            source = inspect.getsourcefile(run)
        except TypeError:  # not Python source (a built-in): its name above stands for it
            source = None
        if source and not Path(source).resolve().is_relative_to(package):
            digest.update(Path(source).read_bytes())
    return digest.hexdigest()


def params_text(params: AnalysisParams) -> str:
    """The parameters a series' analysis depends on, as canonical JSON (alert thresholds left out)."""
    return json.dumps(jsonable(replace(params, alerts=AlertParams())), sort_keys=True)


def series_key(series_id: str, ds: Any, y: Any, params: AnalysisParams, fingerprint: str) -> str:
    """The key of one series' analysis (module docstring): same key, same analysis."""
    digest = hashlib.sha256()
    for part in (series_id, params_text(params), fingerprint):
        digest.update(part.encode() + b"\0")
    dates = np.asarray(ds, dtype="datetime64[ns]")
    values = np.ascontiguousarray(np.asarray(y, dtype=np.float64))
    digest.update(len(values).to_bytes(8, "little"))
    digest.update(np.ascontiguousarray(dates.astype(np.int64)).tobytes())
    digest.update(values.tobytes())
    return digest.hexdigest()


@dataclass
class Previous:
    """The analyses of the latest completed run, by series id: (key, outcome)."""

    run_id: str | None = None
    entries: dict[str, tuple[str, Outcome]] = field(default_factory=dict)
    note: str | None = None  # why nothing can be reused, when that is so

    def outcome(self, series_id: str, key: str) -> Outcome | None:
        found = self.entries.get(series_id)
        return found[1] if found is not None and found[0] == key else None


def cache_directory(warehouse: Path | str) -> Path | None:
    """`<warehouse>.analysis-cache`, or None for a warehouse held in memory."""
    text = str(warehouse)
    if not text or text == ":memory:":
        return None
    return Path(text + CACHE_SUFFIX)


def load_previous(warehouse: Path | str, latest_run: tuple[str, str] | None, fingerprint: str) -> Previous:
    """The analyses stored beside the warehouse by its latest run (`latest_run`: its id and parameters
    JSON), if that run recorded the same code fingerprint and the file's SHA-256 is the one it recorded;
    else an empty `Previous` with the reason (nothing is loaded then)."""
    directory = cache_directory(warehouse)
    if latest_run is None or directory is None:
        return Previous(note="no earlier run")
    run_id, parameters = latest_run
    try:
        record = json.loads(parameters).get("reuse") or {}
    except (ValueError, AttributeError):
        record = {}
    expected = record.get("cache_sha256")
    if not expected:
        return Previous(run_id, note=f"run {run_id} kept no analyses to reuse")
    if record.get("code_fingerprint") != fingerprint:
        return Previous(run_id, note=f"the analysis code or its libraries changed since run {run_id}")
    path = directory / f"{run_id}.pkl"
    try:
        payload = path.read_bytes()
    except OSError:
        return Previous(run_id, note=f"the analyses of run {run_id} are missing ({path.name})")
    if hashlib.sha256(payload).hexdigest() != expected:
        return Previous(run_id, note=f"the analyses of run {run_id} do not match their recorded checksum")
    try:
        stored = pickle.loads(payload)  # checked above against the checksum the run's own row recorded
    except Exception as error:
        return Previous(run_id, note=f"the analyses of run {run_id} cannot be read ({type(error).__name__})")
    if not isinstance(stored, dict) or stored.get("format") != CACHE_FORMAT or stored.get("run_id") != run_id:
        return Previous(run_id, note=f"the analyses of run {run_id} are of another format")
    return Previous(run_id, stored["entries"])


def prepare_cache(
    warehouse: Path | str, run_id: str, entries: dict[str, tuple[str, Outcome]]
) -> tuple[Path, str] | None:
    """Write this run's analyses to a temporary file beside the warehouse; (its path, SHA-256), or None
    when the warehouse is in memory or the file cannot be written (the run is stored all the same; the
    next one then refits). `commit_cache` puts it in place once the run is committed."""
    directory = cache_directory(warehouse)
    if directory is None:
        return None
    payload = pickle.dumps({"format": CACHE_FORMAT, "run_id": run_id, "entries": entries}, protocol=5)
    temporary = directory / f".{run_id}.pkl.partial"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(payload)
    except OSError:
        temporary.unlink(missing_ok=True)
        return None
    return temporary, hashlib.sha256(payload).hexdigest()


def commit_cache(prepared: tuple[Path, str] | None, run_id: str) -> None:
    """Move the committed run's file into place and remove the earlier runs' files. The run is committed
    already: a failure here only means the next run refits (its checksum will not match), so it is not
    raised."""
    if prepared is None:
        return
    temporary = prepared[0]
    final = temporary.with_name(f"{run_id}.pkl")
    try:
        os.replace(temporary, final)
        for other in temporary.parent.glob("*.pkl"):
            if other != final:
                other.unlink(missing_ok=True)
    except OSError:
        return


def discard_cache(prepared: tuple[Path, str] | None) -> None:
    """Remove the temporary file of a run that was not committed."""
    if prepared is not None:
        prepared[0].unlink(missing_ok=True)
