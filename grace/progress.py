"""Progress reporting for long jobs.

Library code reports progress through a plain callback `(description, completed, total)` so it
stays free of terminal concerns; the CLI turns that into a rich progress bar on stderr (hidden
when stderr is not a terminal or `--quiet` is given).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Iterator, Optional

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

ProgressCallback = Callable[[str, int, Optional[int]], None]


def no_progress(_description: str, _completed: int, _total: Optional[int]) -> None:
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
        tasks: dict[str, int] = {}

        def report(description: str, completed: int, total: Optional[int]) -> None:
            if description not in tasks:
                tasks[description] = progress.add_task(description, total=total)
            progress.update(tasks[description], completed=completed, total=total)

        yield report


def is_interactive() -> bool:
    """True when stderr is a terminal (progress bars make sense)."""
    return sys.stderr.isatty()
