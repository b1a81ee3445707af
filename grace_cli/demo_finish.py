"""Finishing the demo warehouse in the background while the dashboard already serves it.

A first `python app.py` loads the demo's referrals, starts serving, and hands the rest (the first triage
model and its scores, the first `grace analyse` run: `demo_warehouse.finish_demo_warehouse`) to a child
process, `python -m grace_cli.demo_finish WAREHOUSE`. A child process rather than a thread: the analysis
is CPU work that would otherwise hold the server's interpreter, and it opens the warehouse copy for
writing, which DuckDB refuses in a process that has the served file open read-only.

`BackgroundFinish` starts the child, waits for it on a thread and calls `on_done` when it succeeded (the
server then builds the first report, which needs the analysis). Stopping the server stops the child; the
served warehouse is untouched (the child works on a copy), and the next start finishes it again.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from grace.errors import GraceError
from grace.progress import LineProgress, print_now

Echo = Callable[[str], None]


class BackgroundFinish:
    """The child process finishing the demo warehouse at `warehouse`."""

    def __init__(self, warehouse: Path, on_done: Callable[[], object] | None = None, echo: Echo = print_now):
        self.warehouse = Path(warehouse)
        self.on_done = on_done
        self.echo = echo
        self.process: subprocess.Popen | None = None
        self.returncode: int | None = None
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        """Start the child (its progress lines go to this process's standard output)."""
        command = [sys.executable, "-m", "grace_cli.demo_finish", str(self.warehouse)]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
        self.echo(
            "Serving now; the first triage model and the first analysis are being added in the background "
            f"(process {self.process.pid}): the pages say so until they are done."
        )
        self._watcher = threading.Thread(target=self._wait, name="demo-finish", daemon=True)
        self._watcher.start()

    def _wait(self) -> None:
        assert self.process is not None
        self.returncode = self.process.wait()
        if self.returncode != 0:
            self.echo(f"Finishing the demo stopped (exit code {self.returncode}); the next start tries again.")
            return
        self.echo("The demo is finished: alerts, forecasts and triage scores are in the warehouse.")
        if self.on_done is not None:
            self.on_done()

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait for the child and its `on_done` (tests, shutdown); the exit code, None while running."""
        if self._watcher is not None:
            self._watcher.join(timeout)
        return self.returncode

    def stop(self) -> None:
        """Stop the child if it still runs (the served warehouse is untouched: the child works on a copy)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def main(argv: list[str] | None = None) -> int:
    """`python -m grace_cli.demo_finish WAREHOUSE`: finish the demo warehouse, printing progress lines."""
    from grace_cli.demo_warehouse import finish_demo_warehouse

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m grace_cli.demo_finish WAREHOUSE", file=sys.stderr)
        return 2
    try:
        result = finish_demo_warehouse(Path(args[0]), progress=LineProgress(lambda line: print_now(f"[demo] {line}")))
    except GraceError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    model = f", triage model {result.triage_model}" if result.triage_model else ""
    print_now(f"[demo] finished: {result.analysis_series:,} series analysed{model}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
