"""The model registry: versioned triage-model artefacts beside the warehouse, indexed in `triage_model`.

An artefact is `<warehouse>.models/<version>/model.joblib` (recorded relative to that directory, so the
warehouse and its directories can move together) with its model card (`card.json`: training
windows, features, data hash, metrics, baselines, calibration curve). A joblib file is a pickle, so it is
loaded only when its SHA-256 equals the one the warehouse recorded when it was registered: a file changed
or swapped on disk is refused. Versions are `triage-1`, `triage-2`, … in registration order.

Life cycle: `register` → candidate; `promote` → active (the previously active one is retired: one
model scores at a time); `retire`.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import joblib
import pandas as pd

from classification.linear import LinearTriageModel
from classification.model import ScoringModel, TriageModel
from grace.checksums import file_checksum
from grace.errors import GraceError
from warehouse import read_sql

STATUSES = ("candidate", "active", "retired")


class RegistryError(GraceError):
    """An unknown version, a refused status change, or an artefact that fails its checksum."""


def models_directory(con: duckdb.DuckDBPyConnection) -> Path:
    """`<warehouse file>.models`; an in-memory warehouse keeps its artefacts in a temporary directory."""
    found = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    if found and found[0]:
        return Path(found[0] + ".models")
    return Path(tempfile.gettempdir()) / f"grace-models-{os.getpid()}"


def register(con: duckdb.DuckDBPyConnection, model: ScoringModel, card: dict) -> str:
    """Write the artefact and its card, record it as a candidate; returns the new version."""
    count = con.execute("SELECT count(*) FROM triage_model").fetchone()
    version = f"triage-{(count[0] if count else 0) + 1}"
    directory = models_directory(con) / version
    directory.mkdir(parents=True, exist_ok=True)
    artefact = directory / "model.joblib"
    joblib.dump(model, artefact)
    checksum = file_checksum(artefact)
    card = {**card, "version": version, "artefact_sha256": checksum}
    (directory / "card.json").write_text(json.dumps(card, indent=2, sort_keys=True, default=str) + "\n")
    now = _now()
    con.execute(
        "INSERT INTO triage_model VALUES (?, 'candidate', ?, ?, ?, ?, ?)",
        [version, now, now, f"{version}/model.joblib", checksum, json.dumps(card, sort_keys=True, default=str)],
    )
    return version


def load(con: duckdb.DuckDBPyConnection, version: str) -> ScoringModel:
    """The model of `version`, after checking its artefact against the recorded checksum."""
    found = con.execute(
        "SELECT artefact_path, artefact_sha256 FROM triage_model WHERE version = ?", [version]
    ).fetchone()
    if not found:
        raise RegistryError(f"no triage model {version!r} (grace model list shows the registered ones)")
    path, expected = models_directory(con) / found[0], found[1]
    if not path.is_file():
        raise RegistryError(f"{path}: the artefact of {version} is missing")
    if file_checksum(path) != expected:
        raise RegistryError(f"{path}: checksum differs from the one registered for {version}; refused (not loaded)")
    model = joblib.load(path)
    if not isinstance(model, TriageModel | LinearTriageModel):
        raise RegistryError(f"{path}: not a triage model")
    return model


def active_version(con: duckdb.DuckDBPyConnection) -> str | None:
    found = con.execute("SELECT version FROM triage_model WHERE status = 'active'").fetchone()
    return found[0] if found else None


def card(con: duckdb.DuckDBPyConnection, version: str) -> dict:
    found = con.execute("SELECT card FROM triage_model WHERE version = ?", [version]).fetchone()
    if not found:
        raise RegistryError(f"no triage model {version!r}")
    return json.loads(found[0])


def promote(con: duckdb.DuckDBPyConnection, version: str) -> str | None:
    """Make `version` the active model (checked loadable first); returns the version it replaced."""
    load(con, version)
    status = _status(con, version)
    if status == "retired":
        raise RegistryError(f"{version} is retired; train or register a new version instead")
    if status == "active":
        return None
    previous = active_version(con)
    now = _now()
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("UPDATE triage_model SET status = 'retired', status_changed_at = ? WHERE status = 'active'", [now])
        con.execute(
            "UPDATE triage_model SET status = 'active', status_changed_at = ? WHERE version = ?", [now, version]
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return previous


def retire(con: duckdb.DuckDBPyConnection, version: str) -> None:
    """Retire `version` (an active model stops scoring new referrals)."""
    _status(con, version)
    con.execute(
        "UPDATE triage_model SET status = 'retired', status_changed_at = ? WHERE version = ?", [_now(), version]
    )


def list_models(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every registered model with its status, windows and headline test metrics."""
    return con.execute(read_sql("classification/list_models.sql")).df()


def _status(con: duckdb.DuckDBPyConnection, version: str) -> str:
    found = con.execute("SELECT status FROM triage_model WHERE version = ?", [version]).fetchone()
    if not found:
        raise RegistryError(f"no triage model {version!r} (grace model list shows the registered ones)")
    return str(found[0])


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
