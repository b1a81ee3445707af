"""First-start benchmark: seconds from `python app.py` on an empty $GRACE_HOME until the dashboard serves,
against the same command at a reference revision, in the same run.

Each repetition starts `python app.py --port N` with nothing configured (a fresh $GRACE_HOME, so the demo
warehouse is built through the real ETL), and records:
  - serving: until the login page answers 200 — what a user waits for;
  - complete: until the demo's background work (first triage model and first analysis) reports done in
    `<warehouse>.background.json` — when every page has its results (this revision only; a reference
    that does all of it before serving has complete = serving).
Every start is a fresh clone's: a new `git worktree` of the revision (no bytecode, no compiled Numba
kernels), with this checkout's virtual environment. The current revision (HEAD; commit what you measure)
first runs its setup's last step, `grace compile` (bytecode and kernels, timed and reported apart); the
reference, `--reference` (default: the commit before the background finishing), had no such step, so its
first start compiles them. The two are interleaved so they see the same machine. The rest of setup (the
venv, Chromium) is not timed: the issue's figure is "after setup".

    .venv/bin/python benchmarks/first_start.py --reps 3 --write
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.common import machine, update_section  # noqa: E402

DEFAULT_REFERENCE = "4bb85af"  # the last commit that finished the demo before serving
TARGET_SERVING_S = 30.0
TIMEOUT_S = 1800.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def background_done(warehouse: Path) -> bool:
    from grace.background import DONE, read_status

    status = read_status(warehouse)
    return status is not None and status.state == DONE


def first_start(tree: Path, scale: str | None, wait_for_background: bool) -> dict:
    """One first start of `python app.py` from `tree`: seconds until serving (and until complete)."""
    home = Path(tempfile.mkdtemp(prefix="first-start-"))
    port = free_port()
    env = {
        **os.environ,
        "GRACE_HOME": str(home),
        "GRACE_DEMO_PASSWORD": "benchmark-demo-password-0123",
        "PYTHONPATH": str(tree),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("GRACE_WAREHOUSE", None)
    if scale:
        env["GRACE_DEMO_SCALE"] = scale
    log_file = home / "server.log"
    started = time.monotonic()
    with open(log_file, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, str(tree / "app.py"), "--port", str(port)],
            cwd=tree,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    result: dict = {}
    try:
        url = f"http://127.0.0.1:{port}/login"
        while "serving_s" not in result:
            if process.poll() is not None:
                raise SystemExit(f"app.py exited ({process.returncode}):\n{log_file.read_text()[-3000:]}")
            if answers(url):
                result["serving_s"] = time.monotonic() - started
            elif time.monotonic() - started > TIMEOUT_S:
                raise SystemExit(f"app.py did not serve within {TIMEOUT_S:.0f} s")
            else:
                time.sleep(0.2)
        if wait_for_background:
            while not background_done(home / "warehouse.duckdb"):
                if process.poll() is not None or time.monotonic() - started > TIMEOUT_S:
                    raise SystemExit(f"the background work did not finish:\n{log_file.read_text()[-3000:]}")
                time.sleep(0.5)
        result["complete_s"] = time.monotonic() - started if wait_for_background else result["serving_s"]
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(home, ignore_errors=True)
    return result


def fresh_tree(revision: str, tree: Path) -> Path:
    """A new worktree of `revision` (as a fresh clone: nothing compiled) that uses this checkout's venv."""
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(tree), revision], check=True)
    (tree / ".venv").symlink_to(REPO / ".venv")
    return tree


def remove_tree(tree: Path) -> None:
    subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], check=False)


def setup_compile(tree: Path) -> float:
    """The setup's last step in `tree` (`grace compile`, that tree's code): seconds."""
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-c", "from grace_cli import main; raise SystemExit(main(['compile']))"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.monotonic() - started


def one_pair(reference: str, scale: str | None, scratch: Path, rep: int) -> tuple[dict, dict]:
    """One first start of each revision, each from its own fresh tree."""
    tree = fresh_tree(reference, scratch / f"reference-{rep}")
    try:
        then = first_start(tree, scale, wait_for_background=False)
    finally:
        remove_tree(tree)
    log(f"run {rep} reference: serving {then['serving_s']:.1f} s")
    tree = fresh_tree("HEAD", scratch / f"current-{rep}")
    try:
        compile_s = setup_compile(tree)
        now = {"compile_s": compile_s, **first_start(tree, scale, wait_for_background=True)}
    finally:
        remove_tree(tree)
    log(
        f"run {rep} current: setup's compile {compile_s:.1f} s, serving {now['serving_s']:.1f} s, complete {now['complete_s']:.1f} s"
    )
    return now, then


def write_markdown(results: dict) -> None:
    current, reference = results["current"], results["reference"]
    serving = statistics.median(r["serving_s"] for r in current)
    complete = statistics.median(r["complete_s"] for r in current)
    compiled = statistics.median(r["compile_s"] for r in current)
    before = statistics.median(r["serving_s"] for r in reference)
    met = "met" if serving <= TARGET_SERVING_S else f"**missed** by {serving - TARGET_SERVING_S:.1f} s"
    lines = [
        "## First start (`benchmarks/first_start.py`)",
        "",
        f"Run {results['date']} on {results['machine']}.",
        f"Command: `{results['command']}` at {results['revision']}. Demo scale: {results['scale'] or 'the default'}.",
        "`python app.py` on an empty `$GRACE_HOME` (the demo built through the real ETL), until the login page "
        "answers (*serving*) and until the background work — first triage model and first analysis — is done "
        f"(*complete*), each start from a fresh worktree of its revision (nothing compiled), as a fresh clone "
        f"after setup. Setup's last step, `grace compile` (bytecode and Numba kernels), is timed apart "
        f"(*setup's compile*). Reference: the same command at `{results['reference_revision']}` (everything "
        "before serving; its setup compiled nothing, so its first start does), interleaved in the same run.",
        "",
        "| run | setup's compile s | serving s | complete s | reference serving s | serving ÷ reference |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for index, (now, then) in enumerate(zip(current, reference, strict=True), start=1):
        lines.append(
            f"| {index} | {now['compile_s']:.1f} | {now['serving_s']:.1f} | {now['complete_s']:.1f} | "
            f"{then['serving_s']:.1f} | {now['serving_s'] / then['serving_s']:.2f} |"
        )
    lines += [
        f"| **median** | **{compiled:.1f}** | **{serving:.1f}** | **{complete:.1f}** | **{before:.1f}** | "
        f"**{serving / before:.2f}** |",
        "",
        f"Target: serving ≤ {TARGET_SERVING_S:.0f} s after setup: {met} (median {serving:.1f} s; "
        f"{before:.1f} s before, ratio {serving / before:.2f}).",
    ]
    update_section("First start", "\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__
    )
    parser.add_argument("--reps", type=int, default=3, help="first starts per revision [default: 3]")
    parser.add_argument("--scale", default=None, help="$GRACE_DEMO_SCALE for every start [default: the default]")
    parser.add_argument(
        "--reference", default=DEFAULT_REFERENCE, help=f"git revision to compare with [default: {DEFAULT_REFERENCE}]"
    )
    parser.add_argument("--write", action="store_true", help="write the results into docs/BENCHMARKS.md")
    args = parser.parse_args()
    current, reference = [], []
    with tempfile.TemporaryDirectory(prefix="first-start-bench-") as scratch:
        for rep in range(1, args.reps + 1):
            now, then = one_pair(args.reference, args.scale, Path(scratch), rep)
            current.append(now)
            reference.append(then)
    results = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "command": "benchmarks/first_start.py " + " ".join(sys.argv[1:]),
        "revision": subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip(),
        "scale": args.scale,
        "reference_revision": args.reference,
        "current": current,
        "reference": reference,
    }
    if args.write:
        write_markdown(results)
        log("docs/BENCHMARKS.md: First start section written")


if __name__ == "__main__":
    main()
