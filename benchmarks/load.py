"""Concurrent analysts against the real server: `grace serve` (waitress) on a warehouse, N signed-in users.

Each simulated analyst signs in through the real login form, then loops for a fixed time over what an
analyst does: open a page (GET, then the Dash page router's callback, which builds the page's layout
server side), and export a chart as CSV (the small-cell rule included). Every request's latency and
status is recorded; errors are any status other than 200. The reference is the same loop with one user,
in the same run, so the figure is the ratio p95(N users) ÷ p95(1 user) per kind of request.

    .venv/bin/python benchmarks/load.py --warehouse PATH [--users 32] [--seconds 60] [--threads 16] [--write]

Requests go to 127.0.0.1 only; the server is a subprocess started and stopped here.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.common import machine, referral_count, update_section  # noqa: E402

PASSWORD = "load benchmark password"
PAGES = ("/", "/trends", "/dissemination", "/production", "/alerts", "/forecasts")
EXPORTS = ("overview-monthly-referrals", "trends-explorer", "dissemination-platform-mix")


def router_payload(path: str) -> bytes:
    """What Dash's page router sends when a page opens (the layout is built server side)."""
    return json.dumps(
        {
            "output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [
                {"id": "_pages_location", "property": "pathname", "value": path},
                {"id": "_pages_location", "property": "search", "value": ""},
            ],
            "changedPropIds": ["_pages_location.pathname"],
            "state": [],
        }
    ).encode()


class Analyst:
    """One signed-in browser session: a cookie jar and the latencies of its requests."""

    def __init__(self, base: str, name: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = self.opener.open(base + "/login", timeout=60).read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"csrf_token": token, "username": name, "password": PASSWORD, "next": "/"})
        self.opener.open(base + "/login", data=form.encode(), timeout=60).read()
        self.timings: list[tuple[str, float, int]] = []

    def _timed(self, kind: str, request: urllib.request.Request) -> None:
        started = time.perf_counter()
        try:
            with self.opener.open(request, timeout=120) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = 0
        self.timings.append((kind, time.perf_counter() - started, status))

    def work(self, until: float, step: int, think: float = 0.0) -> None:
        while time.perf_counter() < until:
            if think:
                time.sleep(think)
            page = PAGES[step % len(PAGES)]
            self._timed("page", urllib.request.Request(self.base + page))
            self._timed(
                "callback",
                urllib.request.Request(
                    self.base + "/_dash-update-component",
                    data=router_payload(page),
                    headers={"Content-Type": "application/json"},
                ),
            )
            if step % 3 == 0:
                chart = EXPORTS[(step // 3) % len(EXPORTS)]
                self._timed("export", urllib.request.Request(f"{self.base}/export/{chart}.csv?grain=month"))
            step += 1


def start_server(warehouse: Path, home: Path, threads: int) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "GRACE_HOME": str(home), "PYTHONPATH": str(REPO), "GRACE_EXPORTS_PER_USER": "2"}
    grace = str(Path(sys.executable).with_name("grace"))
    log = open(home / "server.log", "w")  # noqa: SIM115 - the server writes to it until it stops
    server = subprocess.Popen(
        [grace, "serve", "--warehouse", str(warehouse), "--port", str(port), "--threads", str(threads)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(base + "/login", timeout=5).read()
            return server, base
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise SystemExit("the server did not start") from None
            time.sleep(0.5)


def run(base: str, users: int, seconds: float, think: float = 0.0) -> dict:
    analysts = [Analyst(base, f"analyst{n:02d}") for n in range(users)]
    for analyst in analysts:  # warm: one round each before the clock starts
        analyst.work(0, 0)
        analyst.timings.clear()
    until = time.perf_counter() + seconds
    workers = [threading.Thread(target=a.work, args=(until, n, think)) for n, a in enumerate(analysts)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    timings = [t for a in analysts for t in a.timings]
    statuses: dict[str, int] = {}
    for kind, _, status in timings:
        if status != 200:
            statuses[f"{kind} {status}"] = statuses.get(f"{kind} {status}", 0) + 1
    out = {"users": users, "requests": len(timings), "errors": sum(statuses.values()), "error_statuses": statuses}
    for kind in ("page", "callback", "export"):
        values = sorted(seconds for k, seconds, _ in timings if k == kind)
        if values:
            out[kind] = {
                "n": len(values),
                "p50_ms": 1000 * statistics.median(values),
                "p95_ms": 1000 * values[int(0.95 * (len(values) - 1))],
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, required=True, help="the warehouse to serve (read-only)")
    parser.add_argument("--users", type=int, default=32, help="concurrent analysts [32]")
    parser.add_argument("--seconds", type=float, default=60, help="measured seconds per run [60]")
    parser.add_argument("--threads", type=int, default=16, help="server threads [16]")
    parser.add_argument("--think", type=float, default=0.0, help="seconds each analyst waits between pages [0]")
    parser.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        os.environ["GRACE_HOME"] = str(home)
        from dashboards.auth.users import UserStore

        store = UserStore()
        for n in range(args.users):
            store.add(f"analyst{n:02d}", "analyst", PASSWORD, actor="(load benchmark)")
        server, base = start_server(args.warehouse, home, args.threads)
        try:
            single = run(base, 1, args.seconds, args.think)
            print(json.dumps(single), flush=True)
            many = run(base, args.users, args.seconds, args.think)
            print(json.dumps(many), flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
        errors = (home / "server.log").read_text(errors="replace")
        if "Traceback" in errors:  # what a failed request raised, for the report's reader
            print(errors[errors.index("Traceback") :][:4000], file=sys.stderr)
    referrals = referral_count(args.warehouse)
    rows = []
    for kind in ("page", "callback", "export"):
        one, all_ = single.get(kind), many.get(kind)
        if one and all_:
            rows.append(
                f"| {kind} | {one['p50_ms']:.0f} | {one['p95_ms']:.0f} | {all_['p50_ms']:.0f} | "
                f"{all_['p95_ms']:.0f} | {all_['p95_ms'] / one['p95_ms']:.1f}× |"
            )
    section = "\n".join(
        [
            f"## Load, {args.think:g} s between pages (`benchmarks/load.py`)",
            "",
            f"Measured {date.today().isoformat()} on {machine()}; `grace serve` (waitress, {args.threads} threads) on "
            f"`{args.warehouse.name}` ({referrals:,} referrals), {args.seconds:.0f} s per run: 1 analyst, then {args.users} concurrent analysts, "
            "signed in, each looping over page loads (GET and the page router's callback) and a CSV export every third "
            f"page, waiting {args.think:g} s between pages. Target (issue 9): 32 analysts with 0 errors and callback "
            "p95 ≤ 2× the single-user figure.",
            "",
            f"Requests: {single['requests']:,} with 1 analyst ({single['errors']} errors), {many['requests']:,} with "
            f"{args.users} ({many['errors']} errors: {many['error_statuses'] or 'none'}).",
            "",
            "| request | 1 analyst p50 ms | 1 analyst p95 ms | N analysts p50 ms | N analysts p95 ms | p95 ratio |",
            "|---|---:|---:|---:|---:|---:|",
            *rows,
        ]
    )
    print(section)
    if args.write:
        update_section(f"Load, {args.think:g} s between pages", section)


if __name__ == "__main__":
    main()
