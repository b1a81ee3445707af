"""Screenshot the overview page for the README: `python scripts/screenshot.py [--url URL] [--out PNG]`.

The README's picture: `python scripts/screenshot.py --country Germany --country France --country Poland`.

Without --url it starts `python app.py` on a free port (serving the configured warehouse, or
building the demo one like a fresh clone would), waits for it, takes the picture and stops the
server it started. Uses Debian's Chromium through Playwright.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from dashboards import ids  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, log) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, str(REPO_ROOT / "app.py"), "--port", str(port)],
                            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_for(url: str, process: subprocess.Popen | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"app.py exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def screenshot(url: str, out: Path, width: int, height: int, countries: list[str]) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
            page.goto(url)
            value = ids.kpi_value(ids.OVERVIEW_KPI_REFERRALS)
            page.wait_for_function(f"() => /[0-9]/.test(document.getElementById('{value}')?.textContent ?? '')")
            page.wait_for_selector(f"#{ids.OVERVIEW_MONTHLY_GRAPH} .js-plotly-plot .scatterlayer .trace")
            if countries:
                page.click(f"#{ids.OVERVIEW_COUNTRY_FILTER}")
                for country in countries:
                    page.get_by_role("option", name=country, exact=True).click()
                page.keyboard.press("Escape")
                page.mouse.click(5, 5)  # close the dropdown, move the pointer off the chart
                page.evaluate("document.activeElement && document.activeElement.blur()")
                expected = f"{len(countries)} countr"
                page.wait_for_function(
                    f"() => (document.getElementById('{ids.OVERVIEW_SCOPE}')?.textContent ?? '').includes('{expected}')"
                )
                page.wait_for_selector(f"#{ids.OVERVIEW_MONTHLY_GRAPH} .legend")
            page.wait_for_timeout(500)  # let the chart finish its transition
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out), full_page=True)
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="screenshot a dashboard that is already running at URL")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "img" / "overview.png")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--country", action="append", default=[], metavar="NAME",
                        help="select this country in the filter first (repeatable), e.g. --country Germany")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the server")
    args = parser.parse_args(argv)

    if args.url:
        wait_for(args.url, None, args.timeout)
        screenshot(args.url, args.out, args.width, args.height, args.country)
    else:
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        with tempfile.TemporaryFile() as log:
            process = start_server(port, log)
            try:
                wait_for(url, process, args.timeout)
                screenshot(url, args.out, args.width, args.height, args.country)
            except BaseException:
                log.seek(0)
                sys.stderr.write(log.read().decode(errors="replace")[-4000:])
                raise
            finally:
                if process.poll() is None:
                    os.kill(process.pid, signal.SIGTERM)
                    process.wait(timeout=10)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
