"""The wheel is the product: built from this checkout, installed alone into a fresh venv, it builds the
demo warehouse and serves the dashboard — no file read from the repository.

The fresh venv gets only the wheel (`pip install --no-deps`); the third-party dependencies are lent
from the test environment's site-packages through a `.pth` line (offline and fast), which adds their
folder without running the test environment's own `.pth` files (so its editable install of this
repository stays out). Every command runs outside the checkout, with its own `$GRACE_HOME`.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "packaging test password"


def run(command: list[str], cwd: Path, env: dict, timeout: int = 600, stdin: str | None = None) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv bin folder, environment) of a fresh venv holding only the wheel of this checkout."""
    root = tmp_path_factory.mktemp("packaging")
    dist = root / "dist"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
    run(
        [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation", "-q", "-w", str(dist)],
        cwd=root,
        env=env,
    )
    [wheel] = list(dist.glob("grace_trends-*.whl"))
    venv = root / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=root, env=env)
    run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
        cwd=root,
        env=env,
    )
    site = Path(
        run(
            [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            cwd=root,
            env=env,
        ).strip()
    )
    (site / "lent_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    home = root / "home"
    env.update(GRACE_HOME=str(home), GRACE_ARGON2_PROFILE="test-only-cheapest", GRACE_READER_IDLE_SECONDS="0")
    env.pop("GRACE_WAREHOUSE", None)
    return venv / "bin", env, root


def test_the_installed_code_and_its_data_files_come_from_the_wheel(installed):
    bin_dir, env, root = installed
    where = run(
        [
            str(bin_dir / "python"),
            "-c",
            "import grace, grace_cli, warehouse, dashboards; from grace.config import SQL_DIR, CONTRACTS_DIR; "
            "print(grace.__file__, grace_cli.__file__, warehouse.__file__, dashboards.__file__, SQL_DIR, "
            "CONTRACTS_DIR)",
        ],
        cwd=root,
        env=env,
    ).split()
    site = str(bin_dir.parent / "lib")
    assert all(path.startswith(site) for path in where), where
    assert not any(path.startswith(str(REPO)) for path in where)


def test_the_wheel_alone_builds_the_demo_and_serves_the_dashboard(installed):
    bin_dir, env, root = installed
    grace = str(bin_dir / "grace")
    run([grace, "demo", "--scale", "0.005", "--quiet"], cwd=root, env=env)
    stats = run([grace, "warehouse", "stats", "--json"], cwd=root, env=env)
    assert re.search(r'"referrals": [1-9]', stats), stats
    run(
        [grace, "users", "add", "packer", "--role", "analyst", "--password-stdin"],
        cwd=root,
        env=env,
        stdin=PASSWORD + "\n",
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [grace, "serve", "--port", str(port)],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = _wait_for(opener, base + "/login", server)
        assert "Sign in" in page
        assert opener.open(base + "/assets/grace.css", timeout=10).status == 200  # package data is served
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"csrf_token": token, "username": "packer", "password": PASSWORD, "next": "/"})
        overview = opener.open(base + "/login", data=form.encode(), timeout=30)
        assert overview.status == 200 and overview.url.rstrip("/") == base
        assert overview.headers["Server"] == "GRACE Trends"  # waitress serves it, and names no software
        assert "GRACE Trends" in overview.read().decode()
        layout = opener.open(base + "/_dash-layout", timeout=30)
        assert layout.status == 200
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "Traceback" not in output, output[-3000:]


def _wait_for(opener, url: str, server: subprocess.Popen, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while True:
        if server.poll() is not None:
            raise AssertionError(f"grace serve exited:\n{server.stdout.read()[-3000:]}")
        try:
            return opener.open(url, timeout=5).read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _setuptools_configuration() -> dict:
    """The [tool.setuptools] table of pyproject.toml."""
    import tomllib

    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_the_docker_image_copies_every_package_and_data_folder_the_wheel_needs():
    """No Docker engine runs here, so the image is checked for what can drift: the folders it copies
    into its build stage are exactly the packages' top folders plus the SQL and the contracts."""
    project = _setuptools_configuration()
    needed = {name.split(".")[0] for name in project["packages"]} | set(project["package-dir"].values())
    copied = set(re.findall(r"^COPY (\S+) \./\1$", (REPO / "Dockerfile").read_text(encoding="utf-8"), re.MULTILINE))
    assert copied == needed


def test_every_folder_inside_a_listed_package_is_listed_so_setuptools_drops_nothing_by_guesswork():
    """setuptools warns that a folder Python could import but `packages` does not name "would be ignored"
    (twenty such warnings once filled each setup's log); the data folders are named, and package-data picks
    their files. A new folder (of SQL, say) fails here until it is listed."""
    project = _setuptools_configuration()
    listed = set(project["packages"])
    roots = project["package-dir"]

    def folder(package: str) -> Path:
        for name, path in roots.items():
            if package == name or package.startswith(name + "."):
                return REPO / path / package[len(name) :].lstrip(".").replace(".", "/")
        return REPO / package.replace(".", "/")

    unlisted = sorted(
        f"{package}.{child.name}"
        for package in listed
        for child in folder(package).iterdir()
        if child.is_dir()
        and child.name.isidentifier()
        and child.name != "__pycache__"
        and f"{package}.{child.name}" not in listed
    )
    assert not unlisted, f"add to [tool.setuptools] packages in pyproject.toml: {unlisted}"
