"""Browser tests: Playwright driving Debian's Chromium against a real `python app.py` process.

The server starts with an empty $GRACE_HOME and nothing configured, exactly like a fresh clone,
so it builds a tiny demo warehouse ($GRACE_DEMO_SCALE) through the real ETL before serving, and
creates the demo user (admin) with the known password $GRACE_DEMO_PASSWORD. One server serves
the whole session.

Fixtures for page tests:
- `logged_in_page`: a Playwright page signed in as the demo admin through the real login form,
  at the overview; `goto(demo_server[0] + "trends?…")` from there.
- `sign_in(page, name=..., password=...)`: sign a page in through the form (any user).
- `browser_problems(page)`: a list that collects console errors and page errors (assert it is empty).
- `make_user(name, role, country=None, agency=None)`: add a user with `grace users add` (password
  `USER_PASSWORD`) to the running server's store, e.g. a viewer to check exports are hidden.
- `own_server(home, warehouse, users)`: another `python app.py` serving a given warehouse (e.g. a hub's),
  with its own users; `sign_in_at(page, url, name)` signs a page in there.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from chromium import CHROMIUM, CHROMIUM_ARGS

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
DEMO_SCALE = "0.002"
DEMO_USER = "demo"
DEMO_PASSWORD = "browser-test-demo-passphrase"
USER_PASSWORD = "browser-test-user-passphrase"
STARTUP_TIMEOUT = float(os.environ.get("GRACE_SMOKE_STARTUP_TIMEOUT", "300"))


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's Chromium (Playwright's own browser download does not work offline)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(home: Path) -> dict:
    """The environment of a fresh clone (no GRACE_* settings) with its own $GRACE_HOME."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GRACE_")}
    env["GRACE_HOME"] = str(home)
    return env


def stop(process: subprocess.Popen) -> None:
    """Stop the server we started, by its PID."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def wait_until_serving(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    """Poll the login page until it answers; fail with the server's output if it exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"app.py exited with code {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url + "login", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"app.py did not serve {url} within {timeout:.0f} s:\n{log.read_text()[-4000:]}")


def wait_until_finished(warehouse: Path, process: subprocess.Popen, log: Path, timeout: float) -> None:
    """Wait for the demo's background finishing (first triage model, first analysis) to be done, so the
    page tests see its results; fail with the server's output if it fails or times out."""
    from grace.background import DONE, FAILED, read_status

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = read_status(warehouse)
        if status is not None and status.state == DONE:
            return
        if process.poll() is not None or (status is not None and status.state == FAILED):
            pytest.fail(f"the demo was not finished ({status}):\n{log.read_text()[-4000:]}")
        time.sleep(0.5)
    pytest.fail(f"the demo was not finished within {timeout:.0f} s:\n{log.read_text()[-4000:]}")


def start_app(env: dict, port: int, log: Path) -> subprocess.Popen:
    """`python app.py --port N` with `env`, its output in `log`."""
    with open(log, "wb") as output:
        return subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "app.py"), "--port", str(port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory):
    """`python app.py --port N` on a fresh $GRACE_HOME; yields (url, log path, GRACE_HOME)."""
    home = tmp_path_factory.mktemp("smoke_home")
    log = home / "server.log"
    port = free_port()
    env = server_env(home)
    env.update({"GRACE_DEMO_SCALE": DEMO_SCALE, "GRACE_DEMO_PASSWORD": DEMO_PASSWORD, "PYTHONUNBUFFERED": "1"})
    process = start_app(env, port, log)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(url, process, log, STARTUP_TIMEOUT)
        wait_until_finished(home / "warehouse.duckdb", process, log, STARTUP_TIMEOUT)
        yield url, log, home
    finally:
        stop(process)


@pytest.fixture(scope="module")
def own_server():
    """`own_server(home, warehouse, users)`: `python app.py` serving `warehouse` (GRACE_WAREHOUSE) from its own
    $GRACE_HOME, after adding `users` ({name: role}, password `USER_PASSWORD`) with `grace users add`; returns
    its URL. Every server started is stopped by its PID when the module ends."""
    started: list[subprocess.Popen] = []

    def start(home: Path, warehouse: Path, users: dict[str, str]) -> str:
        env = server_env(home)
        for name, role in users.items():
            added = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "from grace_cli import cli; cli()",
                    "users",
                    "add",
                    name,
                    "--role",
                    role,
                    "--password-stdin",
                ],
                input=USER_PASSWORD + "\n",
                env=env,
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
                timeout=120,
            )
            if added.returncode != 0:
                pytest.fail(f"grace users add {name} failed: {added.stderr}")
        env.update({"GRACE_WAREHOUSE": str(warehouse), "PYTHONUNBUFFERED": "1"})
        port = free_port()
        log = home / "server.log"
        process = start_app(env, port, log)
        started.append(process)
        url = f"http://127.0.0.1:{port}/"
        wait_until_serving(url, process, log, STARTUP_TIMEOUT)
        return url

    yield start
    for process in started:
        stop(process)


@pytest.fixture
def sign_in_at():
    """`sign_in_at(page, url, name)`: sign a page in at another server (password `USER_PASSWORD`)."""
    return lambda page, url, name: sign_in_through_the_form(page, url, name, USER_PASSWORD)


def sign_in_through_the_form(page, url: str, name: str = DEMO_USER, password: str = DEMO_PASSWORD) -> None:
    """Sign `page` in through the real login form and wait for the dashboard to load."""
    page.goto(url + "login")
    page.fill("#username", name)
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_url(lambda address: "/login" not in address)
    page.wait_for_selector("#react-entry-point")


@pytest.fixture
def logged_in_page(demo_server, page):
    """A Chromium page signed in as the demo admin, showing the overview."""
    sign_in_through_the_form(page, demo_server[0])
    return page


@pytest.fixture
def sign_in(demo_server):
    """`sign_in(page, name="demo", password=DEMO_PASSWORD)`: sign a page in through the login form."""
    return lambda page, name=DEMO_USER, password=DEMO_PASSWORD: sign_in_through_the_form(
        page, demo_server[0], name, password
    )


@pytest.fixture(scope="session")
def make_user(demo_server):
    """`make_user(name, role, country=None, agency=None)`: add a user to the running server with `grace users
    add` (an agency's country comes from the server's warehouse)."""
    _url, _log, home = demo_server

    def add(name: str, role: str, country: str | None = None, agency: str | None = None) -> str:
        command = [str(REPO_ROOT / ".venv" / "bin" / "grace"), "users", "add", name, "--role", role, "--password-stdin"]
        if country:
            command += ["--country", country]
        if agency:
            command += ["--agency", agency]
        done = subprocess.run(
            command,
            input=USER_PASSWORD + "\n",
            env=server_env(home),
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0 and "exists" not in done.stderr:
            pytest.fail(f"grace users add {name} failed: {done.stderr}")
        return USER_PASSWORD

    return add


@pytest.fixture
def browser_problems():
    """`problems = browser_problems(page)`: console errors and uncaught page errors, collected as they happen."""

    def watch(page) -> list[str]:
        problems: list[str] = []
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        return problems

    return watch
