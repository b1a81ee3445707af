"""The status of work still running on a warehouse in the background, in a small file beside it.

A first `python app.py` serves the dashboard as soon as the demo's referrals are loaded, and finishes the
demo (the first triage model, its scores, the first `grace analyse` run) in a background process. That
process writes its progress to `<warehouse>.background.json`; the dashboard reads the file to tell the
pages' readers what is still coming, and the server reads it to know whether the demo still needs
finishing after a restart.

The file holds the step being worked on and its progress, never data. It is written atomically (a
temporary file, then a rename), so a reader never sees half a status.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"
STATES = (PENDING, RUNNING, DONE, FAILED)


@dataclass(frozen=True)
class BackgroundStatus:
    """Where a warehouse's background task stands.

    task: what the task is, in words ("finishing the demo"); state: pending, running, done or failed;
    step, completed, total: the step under way and its progress (total None when unknown);
    started_at, updated_at: ISO times (UTC); message: why it failed, or a closing remark.
    """

    task: str
    state: str
    step: str = ""
    completed: int = 0
    total: int | None = None
    started_at: str = ""
    updated_at: str = ""
    message: str = ""

    @property
    def unfinished(self) -> bool:
        """Pending, running or failed: the warehouse still lacks what the task adds."""
        return self.state != DONE

    @property
    def percent(self) -> int | None:
        """The current step's progress in whole percent (None when its size is unknown)."""
        if not self.total:
            return None
        return max(0, min(100, 100 * self.completed // self.total))


def status_path(warehouse: Path | str) -> Path:
    """`<warehouse>.background.json`."""
    return Path(str(warehouse) + ".background.json")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_status(warehouse: Path | str, status: BackgroundStatus) -> None:
    """Write the status beside `warehouse`, atomically."""
    target = status_path(warehouse)
    temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(asdict(status), sort_keys=True), encoding="utf-8")
    os.replace(temporary, target)


def read_status(warehouse: Path | str) -> BackgroundStatus | None:
    """The status beside `warehouse`; None when there is none, or it is unreadable (then nothing is said)."""
    try:
        raw = json.loads(status_path(warehouse).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or raw.get("state") not in STATES or not isinstance(raw.get("task"), str):
        return None
    fields = set(BackgroundStatus.__dataclass_fields__)
    try:
        return BackgroundStatus(**{key: value for key, value in raw.items() if key in fields})
    except TypeError:
        return None


def clear_status(warehouse: Path | str) -> None:
    """Remove the status beside `warehouse` (nothing runs or remains to run on it)."""
    status_path(warehouse).unlink(missing_ok=True)


def mark_pending(warehouse: Path | str, task: str) -> BackgroundStatus:
    """Record that `task` still has to run on `warehouse` (before anything has started)."""
    status = BackgroundStatus(task=task, state=PENDING, updated_at=_now())
    write_status(warehouse, status)
    return status


class StatusWriter:
    """A progress callback `(step, completed, total)` that keeps the status file current.

    Writes at most every `interval` seconds within a step (and always when a step starts or completes),
    so a step of a million ticks costs a handful of small writes.
    """

    def __init__(self, warehouse: Path | str, task: str, interval: float = 0.5):
        self.warehouse = warehouse
        self.interval = interval
        started = _now()
        self._status = BackgroundStatus(task=task, state=RUNNING, started_at=started, updated_at=started)
        self._written = 0.0
        write_status(warehouse, self._status)

    @property
    def status(self) -> BackgroundStatus:
        return self._status

    def __call__(self, step: str, completed: int, total: int | None) -> None:
        boundary = step != self._status.step or completed == 0 or (total is not None and completed >= total)
        self._status = replace(self._status, step=step, completed=completed, total=total)
        if boundary or time.monotonic() - self._written >= self.interval:
            self._write()

    def done(self, message: str = "") -> None:
        """The task finished."""
        self._status = replace(self._status, state=DONE, message=message)
        self._write()

    def failed(self, message: str) -> None:
        """The task stopped on an error (`message` says which)."""
        self._status = replace(self._status, state=FAILED, message=message)
        self._write()

    def _write(self) -> None:
        self._status = replace(self._status, updated_at=_now())
        write_status(self.warehouse, self._status)
        self._written = time.monotonic()
