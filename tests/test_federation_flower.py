"""Federated training on Flower's Deployment runtime: a real SuperLink and real SuperNodes, TLS and node
authentication on, started through `grace federation …` and stopped by process id.

Three agencies are three simulated warehouses of different seeds (small, 0.3 % scale). The whole file
takes about two minutes on two cores: two rounds of FedAvg over three nodes (≈ 25 s a round: every
message starts a ClientApp process at the node) and a second hub for the refusals. Two more tests are marked
slow: one round each of client-side DP and of SecAgg+, and two rounds of SecAgg+ with DP (230 s alone,
warehouses included, on a machine shared with other test runs).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from builders import simulated_warehouse
from click.testing import CliRunner

from dashboards.callbacks.federation_status import federation_view
from federation import runtime
from federation.credentials import ensure_hub_credentials, ensure_node_keys
from federation.learning import TrainingConfig, evaluate, node_dataset
from federation.model_store import read_global_model
from federation.privacy import epsilon_spent
from federation.rounds import FederationConfig, run_rounds
from federation.run_config import RunConfigError, RunSettings
from grace.scope import Scope
from grace_cli import cli

AGENCIES = ("BE", "NL", "PT")


@pytest.fixture(scope="module")
def agency_warehouses(tmp_path_factory) -> dict[str, Path]:
    """One small warehouse per agency, each from its own simulated world (seed)."""
    root = tmp_path_factory.mktemp("agencies")
    found = {}
    for seed, code in enumerate(AGENCIES, start=7):
        folder = root / code
        folder.mkdir()
        found[code] = simulated_warehouse(folder, seed=seed, scale=0.003)
    return found


def grace(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def stop_everything(paths: runtime.FederationPaths, started: list[int]) -> None:
    """Stop every federation process of this test by its pid (recorded or seen), then check none is left."""
    for name in runtime.recorded_processes(paths):
        runtime.stop(paths, name)
    for pid in started:
        runtime.stop_pid(pid)
    assert not [pid for pid in started if runtime.alive(pid)]


def recorded_pids(paths: runtime.FederationPaths) -> list[int]:
    return [pid for pid in runtime.recorded_processes(paths).values() if pid]


def test_credentials_are_private_and_name_the_hub(isolated_home):
    creds = ensure_hub_credentials(["hub.example.eu"])
    keys = ensure_node_keys("BE")
    for private in (creds.ca_key, creds.server_key, keys.private_key):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.private_key.parent.stat().st_mode) == 0o700
    assert keys.public_key.read_text().startswith("ecdsa-sha2-nistp384 ")
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(creds.server_cert.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"localhost", "hub.example.eu"} <= set(names.get_values_for_type(x509.DNSName))
    before = creds.server_cert.read_bytes()
    ensure_hub_credentials(["hub.example.eu"])
    assert creds.server_cert.read_bytes() == before  # reused, not re-issued


def test_run_settings_are_checked_before_a_run_starts():
    assert RunSettings.from_config({"proximal-mu": 0.1}).strategy == "fedprox"
    assert RunSettings.from_config({"strategy": "fedprox"}).proximal_mu > 0
    with pytest.raises(RunConfigError, match="strategy"):
        RunSettings.from_config({"strategy": "median"})
    with pytest.raises(RunConfigError, match="unknown"):
        RunSettings.from_config({"rounds": 3})
    with pytest.raises(RunConfigError, match="both"):
        RunSettings.from_config({"dp-noise-multiplier": 1.0})


def test_a_hub_and_three_agencies_train_two_rounds_of_fedavg_with_tls_and_authentication(agency_warehouses):
    paths = runtime.FederationPaths.default()
    port = str(runtime.free_port())
    started: list[int] = []
    try:
        result = grace("federation", "hub", "start", "--port", port, "--detach")
        assert result.exit_code == 0, result.output
        started += recorded_pids(paths)
        hub_command = Path(f"/proc/{started[0]}/cmdline").read_bytes().split(b"\0")
        assert b"--enable-supernode-auth" in hub_command and b"--ssl-certfile" in hub_command
        assert b"--insecure" not in hub_command
        assert b"--disable-runtime-dependency-installation" in hub_command
        for code, warehouse in agency_warehouses.items():
            result = grace("federation", "node", "start", "--agency", code, "--warehouse", str(warehouse), "--detach")
            assert result.exit_code == 0, result.output
            assert "node connected" in result.output
        started = recorded_pids(paths)
        assert len(started) == 4

        out = paths.home / "models" / "test-run"
        result = grace("federation", "train", "--rounds", "2", "--min-nodes", "3", "--out", str(out))
        assert result.exit_code == 0, result.output
        assert "[ROUND 2/2]" in result.output

        weights, lineage = read_global_model(out)
        assert lineage["rounds_completed"] == 2 and lineage["nodes"] == 3
        assert lineage["agencies"] == sorted(AGENCIES)
        assert [r["participants"] for r in lineage["per_round"]] == [3, 3]
        assert all(r["bytes"] > 0 and r["seconds"] > 0 for r in lineage["per_round"])
        _, held_out = node_dataset(agency_warehouses["PT"]).split()
        assert evaluate(weights, held_out)["auc"] > 0.6
        # The deployment computes exactly what the in-process reference computes (federation/rounds.py).
        reference = run_rounds(
            {code: node_dataset(path).split()[0] for code, path in agency_warehouses.items()},
            FederationConfig(rounds=2, training=TrainingConfig(steps=60, learning_rate=0.5, l2=1e-4)),
        )
        assert all(np.allclose(ours, theirs, rtol=1e-9, atol=1e-12) for ours, theirs in zip(weights, reference.weights))

        rounds = [json.loads(line) for line in paths.events.read_text().splitlines()]
        assert [e["event"] for e in rounds] == ["run-start", "round", "round", "run-end"]
        for node in rounds[1]["nodes"]:  # metrics about the node's data, never the data
            assert set(node) == {"node_id", "agency", "bytes_up", "train_metrics", "evaluate_metrics"}
            assert set(node["train_metrics"]) == {"num-examples", "node-weight", "train-log-loss", "train-auc"}

        status = grace("federation", "status")
        assert status.exit_code == 0
        assert "2/2 rounds, done" in status.output and "BE,NL,PT" in status.output
        hub_view = federation_view(Scope.everything())  # the Operations page's section
        assert "2 of 2 rounds, done" in hub_view.summary
        assert [row["round"] for row in hub_view.rows] == [1, 2] and hub_view.rows[0]["agencies"] == "BE, NL, PT"
        assert federation_view(Scope.of_countries(["BEL"])).rows == []  # mixes countries: EU-wide users only
    finally:
        stop_everything(paths, started)
    assert "processes: none" in grace("federation", "status").output


def test_a_node_without_valid_credentials_is_refused_and_never_participates(agency_warehouses, tmp_path):
    paths = runtime.FederationPaths.default()
    warehouse = str(agency_warehouses["BE"])
    started: list[int] = []
    try:
        result = grace("federation", "hub", "start", "--port", str(runtime.free_port()), "--detach")
        assert result.exit_code == 0, result.output
        started += recorded_pids(paths)

        # A key the hub never registered.
        unregistered = grace(
            "federation", "node", "start", "--agency", "ROGUE", "--warehouse", warehouse, "--no-register", "--detach"
        )
        assert unregistered.exit_code != 0
        assert "ROGUE: node refused: the hub refused the node: its key is not registered" in unregistered.output
        assert "No SuperNode found with the given public key" in paths.log_file(runtime.HUB).read_text()

        # A registered key, but the hub's certificate checked against another authority.
        other_ca = ensure_hub_credentials([], home=tmp_path / "elsewhere").ca_cert
        wrong_ca = grace(
            "federation", "node", "start", "--agency", "NOCA", "--warehouse", warehouse,
            "--ca-cert", str(other_ca), "--detach",
        )  # fmt: skip
        assert wrong_ca.exit_code != 0
        assert "certificate is not signed by the CA certificate given" in wrong_ca.output

        assert not recorded_pids(paths)[1:]  # only the hub is still running
        nodes = runtime.list_nodes(paths)
        assert [node["status"] for node in nodes] == ["registered"]  # NOCA's key, never online
    finally:
        stop_everything(paths, started)
    assert not any(runtime.alive(pid) for pid in started)
    assert os.environ["GRACE_HOME"] in str(paths.home)


@pytest.mark.slow
def test_client_side_dp_and_secagg_plus_runs_produce_a_global_model(agency_warehouses):
    """One round with client-side DP (clipped at the nodes, noise and ε at the hub), then one with SecAgg+."""
    paths = runtime.FederationPaths.default()
    started: list[int] = []
    try:
        assert grace("federation", "hub", "start", "--port", str(runtime.free_port()), "--detach").exit_code == 0
        for code, warehouse in agency_warehouses.items():
            result = grace("federation", "node", "start", "--agency", code, "--warehouse", str(warehouse), "--detach")
            assert result.exit_code == 0, result.output
        started = recorded_pids(paths)

        dp_out = paths.home / "models" / "dp"
        result = grace(
            "federation", "train", "--rounds", "1", "--min-nodes", "3", "--out", str(dp_out),
            "--dp-noise-multiplier", "1.0", "--dp-clipping-norm", "5",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        _, lineage = read_global_model(dp_out)
        assert lineage["differential_privacy"]["epsilon"] == pytest.approx(epsilon_spent(1.0, 1, 1e-5))
        assert "ε =" in result.output
        assert "fixedclipping_mod: parameters are clipped" in paths.log_file("node-BE").read_text()

        secagg_out = paths.home / "models" / "secagg"
        result = grace("federation", "train", "--rounds", "1", "--min-nodes", "3", "--secagg", "--out", str(secagg_out))
        assert result.exit_code == 0, result.output
        weights, lineage = read_global_model(secagg_out)
        assert lineage["secure_aggregation"].startswith("SecAgg+") and lineage["rounds_completed"] == 1
        _, held_out = node_dataset(agency_warehouses["NL"]).split()
        assert evaluate(weights, held_out)["auc"] > 0.6
    finally:
        stop_everything(paths, started)


@pytest.mark.slow
def test_secagg_plus_with_dp_trains_two_rounds_and_the_registry_lineage_names_secagg_dp_and_epsilon(
    agency_warehouses, tmp_path
):
    """SecAgg+ with node-level DP as real processes (TLS, node authentication): each node clips its update
    inside secaggplus_mod, the hub adds noise to the secure sum; the ε of a target is spent and recorded
    up to the agency's model registry."""
    import shutil

    from classification import registry
    from federation.adopt import adopt_global_model
    from warehouse import connect

    paths = runtime.FederationPaths.default()
    started: list[int] = []
    try:
        assert grace("federation", "hub", "start", "--port", str(runtime.free_port()), "--detach").exit_code == 0
        for code, warehouse in agency_warehouses.items():
            result = grace("federation", "node", "start", "--agency", code, "--warehouse", str(warehouse), "--detach")
            assert result.exit_code == 0, result.output
        started = recorded_pids(paths)

        out = paths.home / "models" / "secagg-dp"
        result = grace(
            "federation", "train", "--rounds", "2", "--min-nodes", "3", "--secagg", "--out", str(out),
            "--dp-target-epsilon", "8", "--dp-clipping-norm", "1",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "SecAgg+" in result.output and "ε =" in result.output
        weights, lineage = read_global_model(out)
        assert lineage["secure_aggregation"].startswith("SecAgg+") and lineage["rounds_completed"] == 2
        dp = lineage["differential_privacy"]
        assert dp["target_epsilon"] == 8.0 and dp["releases"] == 2 and dp["unit"].startswith("node")
        assert dp["epsilon"] == pytest.approx(epsilon_spent(dp["noise_multiplier"], 2, 1e-5))
        assert 7.8 < dp["epsilon"] <= 8.0
        assert lineage["secagg"]["max_weight"] == 1.0  # every node weighs the same
        assert all(r["bytes"] > 0 for r in lineage["per_round"])
        node_log = paths.log_file("node-BE").read_text()
        assert "fixedclipping_mod: parameters are clipped" in node_log
        assert all(np.isfinite(w).all() for w in weights)

        home = tmp_path / "be.duckdb"
        shutil.copy(agency_warehouses["BE"], home)
        adopted = adopt_global_model(out, home)
        con = connect(home, read_only=True)
        try:
            card = registry.card(con, adopted.version)
        finally:
            con.close()
        federated = card["lineage"]["federated"]
        assert federated["secure_aggregation"].startswith("SecAgg+")
        assert federated["dp_unit"].startswith("node") and federated["epsilon"] == pytest.approx(dp["epsilon"])
        assert federated["delta"] == 1e-5
    finally:
        stop_everything(paths, started)
