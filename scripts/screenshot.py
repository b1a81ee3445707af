"""Screenshots of the dashboard pages for the README and docs: `python scripts/screenshot.py`.

Signs in through the real login form, then photographs each page (`--page /trends`, repeatable;
`--all` for every page; default: the Overview, which the README shows) into `docs/img/<name>.png`
(`/` is `overview`). Without --url it starts
`python app.py` on a free port with a fresh $GRACE_HOME (so it builds the demo warehouse like a
fresh clone, with a known demo password), waits for it, takes the pictures and stops the server.
With --url, give the user with --user and the password in $GRACE_SCREENSHOT_PASSWORD.
Uses Debian's Chromium through Playwright.
"""

from __future__ import annotations

import argparse
import os
import secrets
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
sys.path.insert(0, str(REPO_ROOT / "tests"))

from chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402 - the browser as the tests launch it


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, log, home: Path, password: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "GRACE_HOME": str(home), "GRACE_DEMO_PASSWORD": password}
    env.pop("GRACE_WAREHOUSE", None)
    return subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "app.py"), "--port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


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


PAGES = ("/", "/trends", "/forecasts", "/alerts", "/dissemination", "/production", "/operations", "/admin")


def page_name(path: str) -> str:
    return path.strip("/") or "overview"


def screenshot(url: str, out_dir: Path, pages: list[str], user: str, password: str, width: int, height: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
            page.goto(url + "login")
            page.fill("#username", user)
            page.fill("#password", password)
            page.click("#login-submit")
            page.wait_for_url(lambda address: "/login" not in address)
            out_dir.mkdir(parents=True, exist_ok=True)
            for path in pages:
                page.goto(url.rstrip("/") + path)
                page.wait_for_selector("#react-entry-point")
                page.wait_for_load_state("networkidle")
                page.wait_for_timeout(1500)  # let charts finish their transitions
                target = out_dir / f"{page_name(path)}.png"
                page.screenshot(path=str(target), full_page=True)
                print(f"wrote {target}")
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="photograph a dashboard already running at URL (sign in as --user)")
    parser.add_argument("--user", default="demo", help="user to sign in as [default: demo]")
    parser.add_argument(
        "--page",
        action="append",
        default=[],
        metavar="PATH",
        help="page path, repeatable [default: /, the README's picture]",
    )
    parser.add_argument("--all", action="store_true", help=f"every page: {', '.join(PAGES)}")
    parser.add_argument("--out-dir", type=Path, default=REPO_ROOT / "docs" / "img")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for the server")
    args = parser.parse_args(argv)
    pages = list(PAGES) if args.all else (args.page or ["/"])

    if args.url:
        password = os.environ.get("GRACE_SCREENSHOT_PASSWORD")
        if not password:
            raise SystemExit("set GRACE_SCREENSHOT_PASSWORD to the password of --user")
        url = args.url if args.url.endswith("/") else args.url + "/"
        wait_for(url + "login", None, args.timeout)
        screenshot(url, args.out_dir, pages, args.user, password, args.width, args.height)
        return 0
    port, password = free_port(), secrets.token_urlsafe(16)
    url = f"http://127.0.0.1:{port}/"
    with tempfile.TemporaryDirectory() as home, tempfile.TemporaryFile() as log:
        process = start_server(port, log, Path(home), password)
        try:
            wait_for(url + "login", process, args.timeout)
            screenshot(url, args.out_dir, pages, "demo", password, args.width, args.height)
        except BaseException:
            log.seek(0)
            sys.stderr.write(log.read().decode(errors="replace")[-4000:])
            raise
        finally:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
                process.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
