"""Browser tests: Playwright driving Debian's Chromium against a real `python app.py` process.

The server starts with an empty $GRACE_HOME and nothing configured, exactly like a fresh clone,
so it builds a tiny demo warehouse ($GRACE_DEMO_SCALE) through the real ETL before serving.
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

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
DEMO_SCALE = "0.002"
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


def wait_until_serving(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    """Poll `url` until it answers; fail with the server's output if it exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"app.py exited with code {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"app.py did not serve {url} within {timeout:.0f} s:\n{log.read_text()[-4000:]}")


def stop(process: subprocess.Popen) -> None:
    """Stop the server we started, by its PID."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """`python app.py --port N` on a fresh $GRACE_HOME; yields (url, log path, GRACE_HOME)."""
    home = tmp_path_factory.mktemp("smoke_home")
    log = home / "server.log"
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("GRACE_")}
    env.update({"GRACE_HOME": str(home), "GRACE_DEMO_SCALE": DEMO_SCALE, "PYTHONUNBUFFERED": "1"})
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "app.py"), "--port", str(port)],
            cwd=REPO_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(url, process, log, STARTUP_TIMEOUT)
        yield url, log, home
    finally:
        stop(process)
