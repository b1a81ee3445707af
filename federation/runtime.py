"""Flower's Deployment runtime as GRACE runs it: the hub's SuperLink, the agencies' SuperNodes, `flwr run`.

Process model (no simulation engine, no Ray): the hub runs one `flower-superlink` (Fleet, Control and
ServerApp-runtime APIs on one HTTPS port); for each training run the SuperLink starts the ServerApp
(`federation.flower.server_app`) in a subprocess. Each agency runs one `flower-supernode` that connects
out to the hub; for each message it starts the ClientApp (`federation.flower.client_app`) in a
subprocess, which reads only that agency's warehouse. `flwr run` (the Flower CLI) submits a run to the
SuperLink's Control API and streams its log.

Secure by default: TLS with the federation's own authority (`federation.credentials`) and SuperNode
authentication (`--enable-supernode-auth`: only nodes whose public key the hub registered may connect).
`insecure=True` turns both off, for local experiments only. Flower never installs anything at run time
(`--disable-runtime-dependency-installation`; SuperNodes do not by default): the apps run in GRACE's own
environment.

State (`FederationPaths`, under `$GRACE_HOME/federation/`): the Flower CLI's home (`flwr/config.toml`,
so nothing touches ~/.flwr), the Flower app folder submitted by `flwr run` (`app/pyproject.toml`,
written from `federation.run_config`), pid files and logs (`run/`), global models (`models/`) and the
rounds' observability file (`rounds.jsonl`). Processes are started in their own session and stopped by
their recorded pid (and the pids of their descendants, read from /proc), never by name.

No Flower import in this module: the command line uses it without loading Flower.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from federation.credentials import (
    HubCredentials,
    NodeKeys,
    check_agency_code,
    ensure_hub_credentials,
    federation_home,
)
from federation.run_config import RUN_CONFIG, toml_value
from grace.errors import GraceError

DEFAULT_PORT = 9092
CONNECTION = "grace"  # the SuperLink connection's name in the Flower CLI's config.toml
APP_NAME = "grace-federated-triage"
SERVER_APP = "federation.flower.server_app:app"
CLIENT_APP = "federation.flower.client_app:app"
SECAGG_SERVER_APP = "federation.flower.secagg_app:server"
SECAGG_CLIENT_APP = "federation.flower.secagg_app:client"
PROJECT_ROOT = Path(__file__).resolve().parent.parent  # holds the `federation` package (source tree or site-packages)


class FederationError(GraceError):
    """A federation process cannot be started, reached or stopped."""


@dataclass(frozen=True)
class FederationPaths:
    """Where the federation keeps its state (see the module docstring)."""

    home: Path

    @classmethod
    def default(cls) -> FederationPaths:
        return cls(federation_home())

    @property
    def flwr_home(self) -> Path:
        return self.home / "flwr"

    @property
    def flower_config(self) -> Path:
        return self.flwr_home / "config.toml"

    @property
    def hub_settings(self) -> Path:
        return self.home / "hub.json"

    @property
    def app_dir(self) -> Path:
        return self.home / "app"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def models(self) -> Path:
        return self.home / "models"

    @property
    def events(self) -> Path:
        return self.home / "rounds.jsonl"

    @property
    def hub_database(self) -> Path:
        return self.home / "hub-state.db"

    def pid_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.log"


def node_process_name(agency: str) -> str:
    return f"node-{check_agency_code(agency)}"


HUB = "hub"


# -- environment and configuration ---------------------------------------------------------------------------
def flower_env(paths: FederationPaths) -> dict[str, str]:
    """The environment of every Flower process: its own FLWR_HOME, no update check, this Python's tools."""
    env = dict(os.environ)
    env["FLWR_HOME"] = str(paths.flwr_home)
    env["FLWR_DISABLE_UPDATE_CHECK"] = "1"
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, *(p for p in env.get("PATH", "").split(os.pathsep) if p and p != bin_dir)])
    python_path = [str(PROJECT_ROOT), *(p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p)]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(python_path))
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def flower_tool(name: str) -> str:
    """The path of a Flower command installed beside this Python (flower-superlink, flwr, …)."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        raise FederationError(f"the Flower command {name!r} is not installed beside {sys.executable}")
    return found


def write_flower_config(paths: FederationPaths, address: str, insecure: bool, ca_cert: Path | None) -> Path:
    """The Flower CLI's `config.toml` (in FLWR_HOME) with one SuperLink connection, `grace`, as default."""
    paths.flwr_home.mkdir(parents=True, exist_ok=True)
    lines = [
        "[superlink]",
        f'default = "{CONNECTION}"',
        "",
        f"[superlink.{CONNECTION}]",
        f"address = {toml_value(address)}",
    ]
    if insecure:
        lines.append("insecure = true")
    elif ca_cert is not None:
        lines.append(f"root-certificates = {toml_value(str(ca_cert.resolve()))}")
    paths.flower_config.write_text("\n".join(lines) + "\n")
    return paths.flower_config


def write_app(paths: FederationPaths, secagg: bool = False) -> Path:
    """The Flower app folder `flwr run` submits: only a pyproject.toml naming GRACE's installed apps.

    The app's code is GRACE's own (`federation.flower`), installed at the hub and at every agency; the
    submitted bundle carries no code, only the run configuration's keys and defaults. With `secagg`, the
    SecAgg+ pair of apps (`federation.flower.secagg_app`, Flower's legacy workflow API) instead.
    """
    server, client = (SECAGG_SERVER_APP, SECAGG_CLIENT_APP) if secagg else (SERVER_APP, CLIENT_APP)
    paths.app_dir.mkdir(parents=True, exist_ok=True)
    config = "\n".join(f"{key} = {toml_value(default)}" for key, (default, _) in RUN_CONFIG.items())
    text = f"""[project]
name = "{APP_NAME}"
version = "1.0.0"
description = "GRACE Trends: federated training of the triage model (logistic regression on triage features)"
license = "EUPL-1.2"
dependencies = []

[tool.flwr.app]
publisher = "grace-trends"

[tool.flwr.app.components]
serverapp = "{server}"
clientapp = "{client}"

[tool.flwr.app.config]
{config}
"""
    (paths.app_dir / "pyproject.toml").write_text(text)
    return paths.app_dir


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- processes -----------------------------------------------------------------------------------------------
def read_pid(paths: FederationPaths, name: str) -> int | None:
    """The pid recorded for `name` if that process is still alive."""
    path = paths.pid_file(name)
    try:
        pid = int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if alive(pid) else None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie (ended, not yet reaped) is not alive
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def descendants(pid: int) -> list[int]:
    """The pids of a process's children, grandchildren, … (Linux /proc), deepest last."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found: list[int] = []
    queue = [pid]
    while queue:
        for child in children.get(queue.pop(0), []):
            found.append(child)
            queue.append(child)
    return found


def stop_pid(pid: int, timeout: float = 10.0) -> bool:
    """Stop a process and its descendants by pid: SIGTERM, then SIGKILL after `timeout`. True if it ran."""
    if not alive(pid):
        return False
    family = [pid, *descendants(pid)]
    for member in family:
        with contextlib.suppress(ProcessLookupError):
            os.kill(member, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(alive(member) for member in family):
        _reap(family)
        time.sleep(0.1)
    for member in family:
        if alive(member):
            with contextlib.suppress(ProcessLookupError):
                os.kill(member, signal.SIGKILL)
    _reap(family)
    return True


def _reap(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)


def start_detached(paths: FederationPaths, name: str, command: list[str]) -> int:
    """Start `command` in its own session, output to its log file, pid in its pid file; returns the pid."""
    running = read_pid(paths, name)
    if running:
        raise FederationError(f"{name} is already running (pid {running}); stop it with `grace federation stop`")
    paths.run_dir.mkdir(parents=True, exist_ok=True)
    log_path = paths.log_file(name)
    with log_path.open("ab") as log:
        log.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(command)}\n".encode())
        log.flush()
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=flower_env(paths),
            start_new_session=True,
        )
    paths.pid_file(name).write_text(f"{process.pid}\n")
    return process.pid


def run_foreground(paths: FederationPaths, name: str, command: list[str]) -> int:
    """Run `command` until it ends or Ctrl-C, its output on stdout and in its log; returns its exit code.

    The pid file exists while it runs (so `grace federation stop` and `status` see it); on Ctrl-C or any
    error the process and its descendants are stopped by pid.
    """
    running = read_pid(paths, name)
    if running:
        raise FederationError(f"{name} is already running (pid {running}); stop it with `grace federation stop`")
    paths.run_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=flower_env(paths),
        start_new_session=True,
    )
    paths.pid_file(name).write_text(f"{process.pid}\n")
    try:
        with paths.log_file(name).open("ab") as log:
            log.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(command)}\n".encode())
            assert process.stdout is not None
            for line in process.stdout:
                log.write(line)
                log.flush()
                sys.stdout.buffer.write(line)
                sys.stdout.flush()
        return process.wait()
    except KeyboardInterrupt:
        return 130
    finally:
        if process.poll() is None:
            stop_pid(process.pid)
        process.wait()
        with contextlib.suppress(FileNotFoundError):
            paths.pid_file(name).unlink()


def stop(paths: FederationPaths, name: str) -> int | None:
    """Stop the process recorded under `name`; returns its pid, or None when it was not running."""
    pid = read_pid(paths, name)
    if pid is not None:
        stop_pid(pid)
    with contextlib.suppress(FileNotFoundError):
        paths.pid_file(name).unlink()
    return pid


def recorded_processes(paths: FederationPaths) -> dict[str, int | None]:
    """Every process with a pid file: name → pid if alive, else None."""
    if not paths.run_dir.exists():
        return {}
    return {path.stem: read_pid(paths, path.stem) for path in sorted(paths.run_dir.glob("*.pid"))}


def log_tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text[-lines:])


# -- the hub ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HubSettings:
    """How the hub was started (written to `hub.json`, read by `train`, `node start` on the same machine)."""

    host: str
    port: int
    insecure: bool
    ca_cert: str | None

    @property
    def address(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"

    def save(self, paths: FederationPaths) -> None:
        paths.home.mkdir(parents=True, exist_ok=True)
        paths.hub_settings.write_text(json.dumps(self.__dict__, indent=2) + "\n")

    @classmethod
    def load(cls, paths: FederationPaths) -> HubSettings | None:
        try:
            return cls(**json.loads(paths.hub_settings.read_text()))
        except (OSError, ValueError, TypeError):
            return None


def hub_command(
    settings: HubSettings, creds: HubCredentials | None, paths: FederationPaths, persist: bool = True
) -> list[str]:
    """The `flower-superlink` command line of the hub (TLS and SuperNode authentication unless insecure)."""
    command = [flower_tool("flower-superlink"), "--host", settings.host, "--port", str(settings.port)]
    command.append("--disable-runtime-dependency-installation")
    if persist:
        command += ["--database", str(paths.hub_database)]
    if settings.insecure:
        command.append("--insecure")
    else:
        assert creds is not None
        command += [
            "--ssl-ca-certfile",
            str(creds.ca_cert),
            "--ssl-certfile",
            str(creds.server_cert),
            "--ssl-keyfile",
            str(creds.server_key),
            "--enable-supernode-auth",
        ]
    return command


def prepare_hub(
    paths: FederationPaths, host: str, port: int, insecure: bool, names: tuple[str, ...] = ()
) -> tuple[HubSettings, list[str]]:
    """Credentials (unless insecure), the Flower CLI's connection, the app folder; returns settings and command."""
    hosts = [*names, *([host] if host not in ("0.0.0.0", "::") else [])]
    creds = None if insecure else ensure_hub_credentials(hosts, paths.home)
    settings = HubSettings(host, port, insecure, None if creds is None else str(creds.ca_cert))
    settings.save(paths)
    write_flower_config(paths, settings.address, insecure, None if creds is None else creds.ca_cert)
    write_app(paths)
    return settings, hub_command(settings, creds, paths)


def wait_until_listening(address: str, pid: int, log_path: Path, timeout: float = 60.0) -> None:
    """Return once `address` accepts TCP connections; a clear error if the process ended or time ran out."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            raise FederationError(f"the process (pid {pid}) ended at start: {log_tail(log_path)}")
        with contextlib.suppress(OSError), socket.create_connection((host, int(port)), timeout=1):
            return
        time.sleep(0.2)
    raise FederationError(f"nothing listens on {address} after {timeout:.0f} s; see {log_path}")


# -- the agencies' nodes -----------------------------------------------------------------------------------------
def node_command(
    agency: str,
    warehouse: Path,
    hub: str,
    insecure: bool,
    ca_cert: Path | None,
    keys: NodeKeys | None,
    runtime_port: int,
    max_wait: float | None = None,
) -> list[str]:
    """The `flower-supernode` command line of one agency's node."""
    code = check_agency_code(agency)
    command = [
        flower_tool("flower-supernode"),
        "--superlink",
        hub,
        "--port",
        str(runtime_port),
        "--node-config",
        f'warehouse="{warehouse.resolve()}" agency="{code}"',
    ]
    if max_wait is not None:
        command += ["--max-wait-time", str(max_wait)]
    if insecure:
        command.append("--insecure")
    else:
        if ca_cert is None or keys is None:
            raise FederationError("a secure node needs the hub's CA certificate and the agency's key pair")
        command += ["--root-certificates", str(ca_cert), "--auth-supernode-private-key", str(keys.private_key)]
    return command


def flwr_cli(paths: FederationPaths, args: list[str], timeout: float | None = 120.0) -> subprocess.CompletedProcess:
    """Run the Flower CLI (`flwr …`) with the federation's FLWR_HOME; output captured."""
    if not paths.flower_config.exists():
        raise FederationError(
            f"no hub connection configured ({paths.flower_config} is missing): start the hub on this machine "
            "first, or register the node's key at the hub"
        )
    try:
        return subprocess.run(
            [flower_tool("flwr"), *args],
            capture_output=True,
            text=True,
            env=flower_env(paths),
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as error:
        raise FederationError(f"`flwr {' '.join(args[:2])}` did not answer within {timeout:.0f} s") from error


def _cli_error(result: subprocess.CompletedProcess) -> str:
    text = "\n".join(part for part in (result.stdout, result.stderr) if part).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip() and not set(line.strip()) <= set("─│╭╮╰╯ ")]
    lines = [line.strip("│ ").strip() for line in lines]
    return " ".join(lines[-3:]) if lines else f"exit code {result.returncode}"


def register_node(paths: FederationPaths, keys: NodeKeys) -> str:
    """Register an agency's public key at the hub (its Control API); 'registered' or 'already registered'."""
    result = flwr_cli(
        paths, ["supernode", "register", str(keys.public_key), CONNECTION, "--name", keys.agency, "--format", "json"]
    )
    output = (result.stdout or "") + (result.stderr or "")
    if result.returncode == 0:
        return "registered"
    if "already in use" in output:
        return "already registered"
    raise FederationError(f"the hub refused to register {keys.agency}'s key: {_cli_error(result)}")


def list_nodes(paths: FederationPaths) -> list[dict[str, Any]]:
    """The hub's registered nodes (`flwr supernode ls`), as Flower reports them."""
    result = flwr_cli(paths, ["supernode", "ls", CONNECTION, "--format", "json"])
    if result.returncode != 0:
        raise FederationError(f"cannot list the hub's nodes: {_cli_error(result)}")
    try:
        payload = json.loads(result.stdout[result.stdout.index("{") :])
    except ValueError as error:
        raise FederationError(f"unexpected answer from `flwr supernode ls`: {result.stdout[:200]}") from error
    return list(payload.get("nodes", []))


# -- training runs ------------------------------------------------------------------------------------------------
def run_config_args(overrides: dict[str, Any]) -> list[str]:
    """`--run-config` arguments for `flwr run` (keys must be in `RUN_CONFIG`)."""
    unknown = sorted(set(overrides) - set(RUN_CONFIG))
    if unknown:
        raise FederationError(f"unknown run setting(s): {', '.join(unknown)}")
    return ["--run-config", " ".join(f"{key}={toml_value(value)}" for key, value in overrides.items())]


def submit_run(paths: FederationPaths, overrides: dict[str, Any], secagg: bool = False) -> Iterator[str]:
    """Submit a run with `flwr run … --stream` and yield its output lines until the run ends.

    Raises `FederationError` if `flwr run` fails (the hub unreachable, the run refused).
    """
    app = write_app(paths, secagg)
    command = [flower_tool("flwr"), "run", str(app), CONNECTION, *run_config_args(overrides), "--stream"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=flower_env(paths),
        stdin=subprocess.DEVNULL,
    )
    tail: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            tail = [*tail[-4:], line.rstrip()]
            yield line.rstrip("\n")
        code = process.wait()
    finally:
        if process.poll() is None:
            stop_pid(process.pid)
            process.wait()
    if code != 0:
        raise FederationError(f"`flwr run` failed (exit code {code}): {' '.join(t.strip() for t in tail if t.strip())}")


# -- observability -----------------------------------------------------------------------------------------------
def read_events(path: Path) -> list[dict[str, Any]]:
    """Every event of the observability file (lines that do not parse are skipped)."""
    if not path.exists():
        return []
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(ValueError):
            events.append(json.loads(line))
    return events


def last_run(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The latest run: its start, rounds and end (or failure), from the observability events."""
    starts = [event for event in events if event.get("event") == "run-start"]
    if not starts:
        return None
    run_id = starts[-1]["run_id"]
    mine = [event for event in events if event.get("run_id") == run_id]
    return {
        "run_id": run_id,
        "start": starts[-1],
        "rounds": [event for event in mine if event.get("event") == "round"],
        "end": next((event for event in mine if event.get("event") in ("run-end", "run-failed")), None),
    }
