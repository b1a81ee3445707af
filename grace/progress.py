"""Progress reporting for long jobs.

Library code reports progress through a plain callback `(description, completed, total)` so it
stays free of terminal concerns; the CLI turns that into a rich progress bar on stderr (hidden
when stderr is not a terminal or `--quiet` is given), and `LineProgress` into plain lines for logs
(the first start of `python app.py`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

ProgressCallback = Callable[[str, int, int | None], None]


def no_progress(_description: str, _completed: int, _total: int | None) -> None:
    """A progress callback that ignores everything."""


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[ProgressCallback]:
    """Yield a callback that drives one rich task per description."""
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield no_progress
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        tasks: dict[str, TaskID] = {}

        def report(description: str, completed: int, total: int | None) -> None:
            if description not in tasks:
                tasks[description] = progress.add_task(description, total=total)
            progress.update(tasks[description], completed=completed, total=total)

        yield report


def print_now(message: str) -> None:
    """Print a status line at once (also when stdout is a pipe)."""
    print(message, flush=True)


class LineProgress:
    """A progress callback `(description, completed, total)` that prints plain lines.

    A line when a step starts, one at each quarter of a long step, and one when it completes
    (with its duration), so the output reads well in a terminal, a log file or a CI job alike.
    """

    def __init__(self, echo: Callable[[str], None] = print_now, clock: Callable[[], float] = time.monotonic):
        self._echo = echo
        self._clock = clock
        self._started: dict[str, float] = {}
        self._quarter: dict[str, int] = {}
        self._finished: set[str] = set()

    def __call__(self, description: str, completed: int, total: int | None) -> None:
        if description in self._finished:
            return
        if description not in self._started:
            self._started[description] = self._clock()
            self._quarter[description] = 0
            size = f" ({total:,})" if total else ""
            self._echo(f"  … {description}{size}")
        if not total:
            return
        if completed >= total:
            self._finished.add(description)
            seconds = self._clock() - self._started[description]
            self._echo(f"  ✓ {description} ({seconds:.1f} s)")
            return
        quarter = 4 * completed // total
        if quarter > self._quarter[description]:
            self._quarter[description] = quarter
            self._echo(f"    {description}: {completed:,} of {total:,}")
