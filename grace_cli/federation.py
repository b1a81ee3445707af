"""`grace federation`: the hub (Flower SuperLink), the agencies' nodes (SuperNodes), training runs, status.

Only model weights, example counts and metrics cross borders; each node reads its own warehouse only.
TLS and SuperNode authentication are on unless `--insecure` (local experiments only). See
docs/FEDERATION.md. The Flower processes are started through `federation.runtime` (no Flower import here).
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from grace.errors import ConfigError
from grace_cli.options import OneLineErrors, warehouse_option


def register(cli: click.Group) -> None:
    """Attach this module's command group to the `grace` group."""
    cli.add_command(federation)


@click.group(name="federation")
def federation() -> None:
    """Federated training across agencies on Flower: a hub, one node per agency, runs, status.

    \b
    The hub (Europol) runs a Flower SuperLink; each agency runs a SuperNode that reads only its
    own warehouse. TLS and SuperNode authentication are on by default; credentials live under
    $GRACE_HOME/federation/. Three agencies and a hub on one machine:
      grace federation hub start --detach
      grace federation node start --agency BE --warehouse be.duckdb --detach
      grace federation node start --agency NL --warehouse nl.duckdb --detach
      grace federation node start --agency PT --warehouse pt.duckdb --detach
      grace federation train --rounds 5
      grace federation status
      grace federation stop
    """


@federation.group(name="hub")
def hub() -> None:
    """The hub: the Flower SuperLink that coordinates the agencies' nodes."""


@hub.command(name="start", cls=OneLineErrors)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", type=click.IntRange(1, 65535), default=9092, show_default=True, help="The hub's HTTPS port.")
@click.option(
    "--name",
    "names",
    multiple=True,
    help="A host name or IP address the agencies use to reach the hub (put in its certificate; repeatable).",
)
@click.option("--insecure", is_flag=True, help="No TLS, no node authentication: local experiments only.")
@click.option("--detach", is_flag=True, help="Run in the background (pid file in $GRACE_HOME/federation/run/).")
def hub_start(host: str, port: int, names: tuple[str, ...], insecure: bool, detach: bool) -> None:
    """Start the hub (Flower SuperLink) with TLS and SuperNode authentication.

    \b
    Creates, on first use, the federation's certificate authority and the hub's certificate
    ($GRACE_HOME/federation/pki/; hand ca.crt to every agency) and the Flower CLI's connection
    ($GRACE_HOME/federation/flwr/config.toml). Only registered nodes may connect.
    Examples:
      grace federation hub start --detach
      grace federation hub start --host 0.0.0.0 --name hub.europol.example --port 9092
      grace federation hub start --insecure --detach     # local experiments only
    """
    from federation import runtime

    paths = runtime.FederationPaths.default()
    settings, command = runtime.prepare_hub(paths, host, port, insecure, names)
    if insecure:
        click.echo("warning: --insecure: no TLS and no node authentication; for local experiments only", err=True)
    if detach:
        pid = runtime.start_detached(paths, runtime.HUB, command)
        try:
            runtime.wait_until_listening(settings.address, pid, paths.log_file(runtime.HUB))
        except runtime.FederationError:
            runtime.stop(paths, runtime.HUB)
            raise
        click.echo(f"hub listening on {settings.address} (pid {pid}, log {paths.log_file(runtime.HUB)})")
        if not insecure:
            click.echo(f"agencies need the CA certificate {settings.ca_cert}")
        return
    click.echo(f"hub on {settings.address} (Ctrl-C stops it)")
    runtime.run_foreground(paths, runtime.HUB, command)


@hub.command(name="merge", cls=OneLineErrors)
@click.argument("release_files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--warehouse",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The hub's EU warehouse (created on first use; holds merged releases only).",
)
def hub_merge(release_files: tuple[Path, ...], warehouse: Path) -> None:
    """At the hub: merge agencies' release files (`grace federation release --out`) into the EU warehouse.

    \b
    Every file is checked first (format, agency, month, ε, δ = 0, k, EU-27 country codes, whole
    non-negative counts, no shown count under k, no duplicate cell, the checksum); one bad file
    refuses the merge, naming the file and field. Then, in one transaction, each new release's
    cells and lineage (dp_release: agency, month, ε, k, checksum, received time) are stored and the
    monthly rollup is rebuilt from all of them. The same file again changes nothing; a second
    release of an agency-month with other numbers is refused (noise is drawn once). The dashboard
    (`grace serve --warehouse HUB`) and `grace analyse` read the result (monthly grain only).
    Examples:
      grace federation hub merge incoming/*.json --warehouse eu-hub.duckdb
      grace federation hub merge be-2024-03.json nl-2024-03.json --warehouse eu-hub.duckdb
    """
    from federation.hub_warehouse import merge_releases

    summary = merge_releases(list(release_files), warehouse)
    for release in summary.merged:
        suppressed = int(release.cells["suppressed"].sum())
        click.echo(
            f"{release.path}: {release.agency} {release.month} merged, ε = {release.epsilon:g}, k = {release.k}, "
            f"{len(release.cells)} cells ({suppressed} suppressed)"
        )
    for release in summary.unchanged:
        click.echo(f"{release.path}: {release.agency} {release.month} already merged (same checksum); nothing changed")
    click.echo(f"{warehouse}: {len(summary.merged)} releases merged, {len(summary.unchanged)} already held")


@federation.group(name="node")
def node() -> None:
    """An agency's node: the Flower SuperNode that trains on the agency's own warehouse."""


def _node_hub_defaults(hub_address: str | None, ca_cert: Path | None, insecure: bool):
    from federation import runtime
    from federation.credentials import hub_credentials

    paths = runtime.FederationPaths.default()
    local = runtime.HubSettings.load(paths)
    address = hub_address or (local.address if local else None)
    if not address:
        raise ConfigError("no hub address: pass --hub HOST:PORT (no hub was started from this $GRACE_HOME)")
    if insecure:
        return paths, address, None
    ca = ca_cert or (Path(local.ca_cert) if local and local.ca_cert else hub_credentials().ca_cert)
    if not ca.exists():
        raise ConfigError(f"no CA certificate at {ca}: pass --ca-cert with the hub's ca.crt (or --insecure)")
    return paths, address, ca


_REFUSALS = (
    ("Failed to activate SuperNode", "the hub refused the node: its key is not registered at the hub"),
    ("CERTIFICATE_VERIFY_FAILED", "TLS: the hub's certificate is not signed by the CA certificate given"),
    ("WRONG_VERSION_NUMBER", "TLS mismatch: one side runs --insecure, the other with TLS"),
    ("Invalid SuperNode authentication", "the hub refused the node's signature (wrong key)"),
    ("Connection refused", "nothing listens at the hub address"),
)


def _refusal(log_text: str) -> str | None:
    for needle, meaning in _REFUSALS:
        if needle in log_text:
            return meaning
    return None


@node.command(name="start", cls=OneLineErrors)
@click.option("--agency", required=True, help="The agency's code (letters, digits, - and _), e.g. BE.")
@click.option(
    "--warehouse",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The agency's own warehouse (read-only; the only data the node reads).",
)
@click.option("--hub", "hub_address", default=None, help="The hub as HOST:PORT [default: the hub started here].")
@click.option("--ca-cert", type=click.Path(dir_okay=False, path_type=Path), default=None, help="The hub's ca.crt.")
@click.option(
    "--register/--no-register",
    default=True,
    show_default=True,
    help="Register the node's public key at the hub first (needs the hub's Control API, i.e. the hub's machine).",
)
@click.option("--insecure", is_flag=True, help="No TLS, no authentication (the hub must be --insecure too).")
@click.option("--detach", is_flag=True, help="Run in the background, once the hub has accepted the node.")
def node_start(
    agency: str,
    warehouse: Path,
    hub_address: str | None,
    ca_cert: Path | None,
    register: bool,
    insecure: bool,
    detach: bool,
) -> None:
    """Start an agency's node (Flower SuperNode) on its own warehouse.

    \b
    Creates, on first use, the agency's EC P-384 key pair ($GRACE_HOME/federation/nodes/CODE.key,
    0600; the private key never leaves). The hub must have registered the public key: on the hub's
    machine --register (default) does it; elsewhere give CODE.pub to the hub operator, who runs
    `grace federation node register --agency CODE --public-key CODE.pub`.
    Examples:
      grace federation node start --agency BE --warehouse be.duckdb --detach
      grace federation node start --agency NL --warehouse /data/nl.duckdb --hub hub.europol.example:9092 \\
          --ca-cert ca.crt --no-register
    """
    from federation import runtime
    from federation.credentials import check_agency_code, ensure_node_keys

    code = check_agency_code(agency)
    paths, address, ca = _node_hub_defaults(hub_address, ca_cert, insecure)
    keys = None
    if not insecure:
        keys = ensure_node_keys(code)
        if register and paths.flower_config.exists():
            click.echo(f"{code}: {runtime.register_node(paths, keys)} at the hub")
        elif register:
            click.echo(
                f"{code}: no hub connection here to register {keys.public_key}; the hub operator registers it",
                err=True,
            )
    command = runtime.node_command(code, warehouse, address, insecure, ca, keys, runtime.free_port(), max_wait=30)
    name = runtime.node_process_name(code)
    if not detach:
        click.echo(f"{code}: node for {warehouse} → hub {address} (Ctrl-C stops it)")
        code_ = runtime.run_foreground(paths, name, command)
        if code_ != 0:
            raise runtime.FederationError(
                f"{code}: node ended (exit code {code_}): "
                + (_refusal(runtime.log_tail(paths.log_file(name), 40)) or "see its output above")
            )
        return
    pid = runtime.start_detached(paths, name, command)
    log_path = paths.log_file(name)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        last_start = text.rsplit("\n--- ", 1)[-1]
        if "SuperNode ID" in last_start:
            click.echo(f"{code}: node connected to {address} (pid {pid}, log {log_path})")
            return
        if not runtime.alive(pid):
            runtime.stop(paths, name)
            reason = _refusal(last_start) or runtime.log_tail(log_path)
            raise runtime.FederationError(f"{code}: node refused: {reason} (log {log_path})")
        time.sleep(0.3)
    runtime.stop(paths, name)
    raise runtime.FederationError(f"{code}: the node did not connect within 60 s (log {log_path})")


@node.command(name="register", cls=OneLineErrors)
@click.option("--agency", required=True, help="The agency's code, e.g. BE.")
@click.option(
    "--public-key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="The agency's CODE.pub [default: $GRACE_HOME/federation/nodes/CODE.pub].",
)
def node_register(agency: str, public_key: Path | None) -> None:
    """At the hub: register an agency's public key, so its node may connect.

    \b
    The key is the agency's OpenSSH EC public key (CODE.pub), received out of band.
    Examples:
      grace federation node register --agency BE --public-key /incoming/BE.pub
      grace federation node register --agency NL        # a key created on this machine
    """
    from federation import runtime
    from federation.credentials import NodeKeys, node_keys

    keys = node_keys(agency)
    if public_key is not None:
        keys = NodeKeys(keys.agency, keys.private_key, public_key)
    if not keys.public_key.exists():
        raise ConfigError(f"no public key at {keys.public_key}: pass --public-key")
    click.echo(f"{keys.agency}: {runtime.register_node(runtime.FederationPaths.default(), keys)}")


def _parse_set(values: tuple[str, ...]) -> dict[str, Any]:
    import tomllib

    found: dict[str, Any] = {}
    for value in values:
        key, sep, raw = value.partition("=")
        if not sep:
            raise ConfigError(f"--set {value!r}: expected KEY=VALUE")
        try:
            found[key.strip()] = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            found[key.strip()] = raw
    return found


_PROGRESS = re.compile(r"\[ROUND \d+/\d+\]|Received \d+ results|Waiting for nodes|ERROR|Exception|Error:")


@federation.command(name="train", cls=OneLineErrors)
@click.option("--rounds", type=click.IntRange(min=1), default=5, show_default=True, help="Rounds of training.")
@click.option(
    "--strategy",
    type=click.Choice(["fedavg", "fedprox", "trimmed-mean", "krum"]),
    default="fedavg",
    show_default=True,
    help="How the hub aggregates the agencies' updates.",
)
@click.option("--proximal-mu", type=float, default=None, help="FedProx's mu (> 0 with fedavg means fedprox).")
@click.option("--min-nodes", type=click.IntRange(min=1), default=2, show_default=True, help="Nodes needed per round.")
@click.option(
    "--fraction",
    type=click.FloatRange(0, 1, min_open=True),
    default=1.0,
    show_default=True,
    help="Share of connected nodes trained each round.",
)
@click.option("--dp-noise-multiplier", type=float, default=None, help="Client-side DP: Gaussian noise multiplier.")
@click.option("--dp-clipping-norm", type=float, default=None, help="Client-side DP: clipping norm of each update.")
@click.option(
    "--dp-target-epsilon",
    type=float,
    default=None,
    help="Client-side DP: the ε to spend over all rounds (at dp-delta); sets the noise multiplier. Needs --dp-clipping-norm.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the global model [default: $GRACE_HOME/federation/models/<UTC time>].",
)
@click.option("--secagg", is_flag=True, help="Secure aggregation (SecAgg+): the hub sees only the sum (FedAvg only).")
@click.option("--set", "extra", multiple=True, help="Any other run setting KEY=VALUE (see docs/FEDERATION.md).")
@click.option("--verbose", is_flag=True, help="Stream every line of the run's log, not only the progress.")
def train(
    rounds: int,
    strategy: str,
    proximal_mu: float | None,
    min_nodes: int,
    fraction: float,
    dp_noise_multiplier: float | None,
    dp_clipping_norm: float | None,
    dp_target_epsilon: float | None,
    out: Path | None,
    secagg: bool,
    extra: tuple[str, ...],
    verbose: bool,
) -> None:
    """Train the federated triage model over the connected agencies' nodes.

    \b
    Submits the run to the hub (`flwr run`), streams its progress, and writes the global model
    (model.npz) and its lineage (lineage.json: rounds, nodes, metrics, bytes and seconds per
    round) to --out. Only weights, example counts and metrics cross borders.
    Examples:
      grace federation train --rounds 5
      grace federation train --rounds 10 --strategy fedprox --proximal-mu 0.1
      grace federation train --strategy krum --min-nodes 4 --set krum-malicious=1
      grace federation train --dp-noise-multiplier 1.0 --dp-clipping-norm 5
      grace federation train --secagg --min-nodes 4 --dp-target-epsilon 3 --dp-clipping-norm 1
    """
    from federation import runtime
    from federation.model_store import read_global_model

    paths = runtime.FederationPaths.default()
    if not paths.flower_config.exists():
        raise ConfigError("no hub configured here: start it first with `grace federation hub start --detach`")
    output = (out or paths.models / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")).resolve()
    overrides: dict[str, Any] = {
        "num-server-rounds": rounds,
        "strategy": strategy,
        "min-nodes": min_nodes,
        "fraction-train": fraction,
        "output-dir": str(output),
        "observability-file": str(paths.events.resolve()),
    }
    if proximal_mu is not None:
        overrides["proximal-mu"] = proximal_mu
    if dp_noise_multiplier is not None:
        overrides["dp-noise-multiplier"] = dp_noise_multiplier
    if dp_clipping_norm is not None:
        overrides["dp-clipping-norm"] = dp_clipping_norm
    if dp_target_epsilon is not None:
        overrides["dp-target-epsilon"] = dp_target_epsilon
    overrides.update(_parse_set(extra))
    from federation.run_config import RunSettings

    settings = RunSettings.from_config(dict(overrides))  # refuse bad settings before submitting
    if secagg:
        settings.check_secure_aggregation()
    started = time.monotonic()
    for line in runtime.submit_run(paths, overrides, secagg):
        if verbose or _PROGRESS.search(line) or line.startswith("Successfully started run"):
            click.echo(re.sub(r"\x1b\[[0-9;]*m", "", line))
    if not (output / "lineage.json").exists():
        run = runtime.last_run(runtime.read_events(paths.events))
        reason = (run or {}).get("end") or {}
        raise runtime.FederationError(
            f"the run ended without a global model: {reason.get('error') or 'see the hub log ' + str(paths.log_file(runtime.HUB))}"
        )
    _, lineage = read_global_model(output)
    metrics = lineage.get("final_evaluate_metrics", {})
    click.echo(
        f"global model: {output} — {lineage['rounds_completed']} rounds, {lineage['nodes']} nodes, "
        f"AUC {metrics.get('auc', float('nan')):.3f}, macro-F1 {metrics.get('macro-f1', float('nan')):.3f}, "
        + (f"{lineage['bytes'] / 1024:.0f} KiB, " if lineage.get("bytes") else "")
        + f"{time.monotonic() - started:.0f} s"
    )
    dp = lineage.get("differential_privacy")
    if dp:
        click.echo(
            f"client-side DP: ε = {dp['epsilon']:.2f} at δ = {dp['delta']:g} over {dp['releases']} rounds "
            f"(noise multiplier {dp['noise_multiplier']:.3f}, clipping norm {dp['clipping_norm']:g}"
            + (", updates securely aggregated (SecAgg+))" if lineage.get("secure_aggregation") else ")")
        )


@federation.command(name="adopt", cls=OneLineErrors)
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@warehouse_option
@click.option(
    "--fine-tune-steps",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Local gradient steps on this agency's training window before registering (0: as it is).",
)
@click.option("--promote", is_flag=True, help="Make it the active model that scores new batches.")
def adopt(model_dir: Path, warehouse: Path, fine_tune_steps: int, promote: bool) -> None:
    """Register the federation's global model (MODEL_DIR: model.npz + lineage.json) in this agency's registry.

    \b
    It becomes a candidate triage model whose card carries its lineage (run, strategy, rounds, agencies,
    ε with DP), evaluated on this agency's own test window like a centrally trained model.
    Examples:
      grace federation adopt $GRACE_HOME/federation/models/run-1 --warehouse be.duckdb
      grace federation adopt ./global-model --warehouse be.duckdb --fine-tune-steps 60 --promote
    """
    from federation.adopt import adopt_global_model

    adopted = adopt_global_model(model_dir, warehouse, fine_tune_steps, promote)
    test = (adopted.card.get("test") or {}).get("model") or {}
    quality = ", ".join(
        f"{label} {test[key]:.3f}" for key, label in (("roc_auc", "AUC"), ("average_precision", "AP")) if key in test
    )
    click.echo(
        f"{adopted.version}: federated model from {model_dir}"
        + (f", fine-tuned {fine_tune_steps} steps" if fine_tune_steps else "")
        + (f"; test window {quality}" if quality else "")
        + (
            f"; active (replaced {adopted.replaced})"
            if promote and adopted.replaced
            else "; active"
            if promote
            else "; candidate"
        )
    )


@federation.command(name="release", cls=OneLineErrors)
@click.option("--agency", required=True, help="This agency's code (as the hub knows it).")
@warehouse_option
@click.option("--month", required=True, help="The month to release, YYYY-MM.")
@click.option(
    "--epsilon", type=click.FloatRange(min=0.01, max=10), default=1.0, show_default=True, help="ε of this release."
)
@click.option(
    "--budget", type=click.FloatRange(min=0.01), default=12.0, show_default=True, help="This agency's total ε."
)
@click.option("--countries", required=True, help="Comma-separated ISO-3 codes of the agency's countries (the domain).")
@click.option(
    "--platforms",
    default="",
    help="Comma-separated platform names the hub asks for [default: every platform in the warehouse].",
)
@click.option("--k", type=click.IntRange(min=2), default=None, help="Small-cell threshold [default: GRACE_MIN_CELL].")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The release file (JSON) to send."
)
def release(agency, warehouse, month, epsilon, budget, countries, platforms, k, out) -> None:
    """Release one month of referral counts per country × platform with differential privacy (at the agency).

    \b
    OpenDP's discrete Laplace noise of scale 1/ε (each referral is in one cell); noisy cells under k are
    suppressed. The agency's budget ledger ($GRACE_HOME/federation/budget.sqlite) refuses a release past
    --budget; asking again for a released month returns the stored release and spends nothing.
    Example:
      grace federation release --agency BE --warehouse be.duckdb --month 2024-03 --countries BEL --out be-2024-03.json
    """
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise click.BadParameter(f"{month!r}: use YYYY-MM", param_hint="--month")
    from federation.credentials import federation_home
    from federation.release import BudgetLedger, release_json
    from warehouse import connect

    chosen = [code.strip().upper() for code in countries.split(",") if code.strip()]
    if platforms:
        domain = [name.strip() for name in platforms.split(",") if name.strip()]
    else:
        con = connect(warehouse, read_only=True)
        try:
            domain = [row[0] for row in con.execute("SELECT platform_name FROM dim_platform ORDER BY 1").fetchall()]
        finally:
            con.close()
    ledger = BudgetLedger(federation_home() / "budget.sqlite", budget)
    done = ledger.release(agency, warehouse, month, epsilon, chosen, domain, k)
    out.write_text(release_json(done), encoding="utf-8")
    shown = int(done.cells["referrals"].notna().sum())
    click.echo(
        f"{out}: {agency} {month}, {len(done.cells)} cells ({shown} shown, {len(done.cells) - shown} suppressed), "
        + (f"ε = {done.epsilon:g} spent now" if done.spent_now else "the stored release (nothing spent)")
        + f"; budget spent {ledger.spent():g} of {budget:g}"
    )


@federation.command(name="status", cls=OneLineErrors)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(as_json: bool) -> None:
    """The federation's processes and its latest run: rounds, nodes, bytes and seconds per round.

    \b
    Reads $GRACE_HOME/federation/rounds.jsonl (written by the hub each round) and the pid files.
    Examples:
      grace federation status
      grace federation status --json
    """
    from federation import runtime

    paths = runtime.FederationPaths.default()
    processes = runtime.recorded_processes(paths)
    run = runtime.last_run(runtime.read_events(paths.events))
    if as_json:
        click.echo(json.dumps({"processes": processes, "run": run}, indent=2, sort_keys=True))
        return
    hub_settings = runtime.HubSettings.load(paths)
    if not processes:
        click.echo("processes: none started from this $GRACE_HOME")
    for name, pid in processes.items():
        extra = f" on {hub_settings.address}" if name == runtime.HUB and hub_settings else ""
        click.echo(f"{name:16} {'running, pid ' + str(pid) if pid else 'stopped'}{extra}")
    if run is None:
        click.echo("runs: none yet")
        return
    start, end = run["start"], run["end"]
    state = "running" if end is None else ("done" if end["event"] == "run-end" else f"failed: {end.get('error')}")
    click.echo(
        f"run {run['run_id']}: {start['strategy']}, {len(run['rounds'])}/{start['rounds']} rounds, {state}"
        + (f", model {end['output']}" if end and end.get("output") else "")
    )
    click.echo(f"{'round':>5} {'nodes':>5} {'KiB':>8} {'seconds':>8} {'AUC':>6} {'macro-F1':>8}  agencies")
    for record in run["rounds"]:
        click.echo(_round_line(record))


def _number(value: Any, spec: str, width: int) -> str:
    return f"{value:{width}{spec}}" if isinstance(value, int | float) else f"{'-':>{width}}"


def _round_line(record: dict[str, Any]) -> str:
    metrics = record.get("evaluate_metrics") or {}
    nodes = record.get("nodes") or []
    agencies = ",".join(sorted(str(node.get("agency", node.get("node_id"))) for node in nodes))
    size = record.get("bytes")
    return (
        f"{record.get('round', '?'):>5} {record.get('participants', len(nodes)):>5} "
        f"{_number(size / 1024 if isinstance(size, int | float) else None, '.1f', 8)} "
        f"{_number(record.get('seconds'), '.1f', 8)} {_number(metrics.get('auc'), '.3f', 6)} "
        f"{_number(metrics.get('macro-f1'), '.3f', 8)}  {agencies}"
        + (f"  ({len(record['failures'])} failed)" if record.get("failures") else "")
    )


@federation.command(name="stop", cls=OneLineErrors)
@click.option("--agency", default=None, help="Stop only this agency's node.")
@click.option("--hub", "hub_only", is_flag=True, help="Stop only the hub.")
def stop(agency: str | None, hub_only: bool) -> None:
    """Stop the hub and nodes started from this $GRACE_HOME (by the pids in their pid files).

    \b
    Examples:
      grace federation stop                 # everything
      grace federation stop --agency BE     # one node
      grace federation stop --hub
    """
    from federation import runtime

    paths = runtime.FederationPaths.default()
    if agency:
        names = [runtime.node_process_name(agency)]
    elif hub_only:
        names = [runtime.HUB]
    else:
        names = [name for name in runtime.recorded_processes(paths) if name != runtime.HUB] + [runtime.HUB]
    for name in names:
        pid = runtime.stop(paths, name)
        click.echo(f"{name}: {'stopped pid ' + str(pid) if pid else 'not running'}")
