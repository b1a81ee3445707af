"""SecAgg+ with differential privacy: the run settings it refuses, the noise a target ε sets, and how the hub's
legacy strategy and the nodes' mods are put together. Fast: no Flower process is started here (the run with real
processes is in test_federation_flower.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from flwr.client.mod import secaggplus_mod
from flwr.server.strategy import DifferentialPrivacyClientSideFixedClipping, FedAvg

from federation.flower import secagg_app
from federation.learning import initial_weights
from federation.privacy import epsilon_spent
from federation.run_config import RunConfigError, RunSettings


def settings(**config) -> RunSettings:
    return RunSettings.from_config(config)


def test_a_target_epsilon_sets_the_noise_that_spends_it_over_the_rounds():
    for rounds in (1, 5):
        for target in (1.0, 3.0, 8.0):
            run = settings(**{"num-server-rounds": rounds, "dp-target-epsilon": target, "dp-clipping-norm": 1.0})
            assert run.dp and run.dp_target_epsilon == target
            spent = epsilon_spent(run.dp_noise_multiplier, rounds, run.dp_delta)
            assert spent <= target
            assert epsilon_spent(run.dp_noise_multiplier * 0.99, rounds, run.dp_delta) > target * 0.98


def test_more_rounds_or_a_smaller_epsilon_need_more_noise():
    def noise(rounds: int, target: float) -> float:
        config = {"num-server-rounds": rounds, "dp-target-epsilon": target, "dp-clipping-norm": 1.0}
        return settings(**config).dp_noise_multiplier

    assert noise(5, 3.0) > noise(2, 3.0)
    assert noise(5, 1.0) > noise(5, 3.0) > noise(5, 8.0)


def test_a_smaller_delta_needs_more_noise_for_the_same_epsilon():
    loose = settings(**{"dp-target-epsilon": 3.0, "dp-clipping-norm": 1.0, "dp-delta": 1e-3})
    strict = settings(**{"dp-target-epsilon": 3.0, "dp-clipping-norm": 1.0, "dp-delta": 1e-7})
    assert strict.dp_noise_multiplier > loose.dp_noise_multiplier


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"dp-target-epsilon": 3.0}, "needs dp-clipping-norm"),
        ({"dp-target-epsilon": 3.0, "dp-clipping-norm": 1.0, "dp-noise-multiplier": 1.0}, "not both"),
        ({"dp-target-epsilon": -1.0, "dp-clipping-norm": 1.0}, "positive"),
        ({"dp-target-epsilon": math.inf, "dp-clipping-norm": 1.0}, "positive"),
        ({"dp-noise-multiplier": 1.0, "dp-clipping-norm": 1.0, "dp-delta": 0.0}, "dp-delta"),
        ({"dp-target-epsilon": 3.0, "dp-clipping-norm": 1.0, "dp-delta": 1.5}, "dp-delta"),
        ({"dp-noise-multiplier": -1.0, "dp-clipping-norm": -1.0}, "negative"),
        ({"dp-clipping-norm": 1.0}, "both"),
    ],
)
def test_bad_dp_settings_are_refused_with_a_reason(config, message):
    with pytest.raises(RunConfigError, match=message):
        RunSettings.from_config(config)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"strategy": "krum"}, "FedAvg only"),
        ({"strategy": "trimmed-mean"}, "FedAvg only"),
        ({"proximal-mu": 0.1}, "FedAvg only"),
        ({"min-nodes": 1}, "at least 2"),
        ({"dp-target-epsilon": 3.0, "dp-clipping-norm": 1.0, "fraction-train": 0.5}, "fraction-train 1"),
    ],
)
def test_secure_aggregation_refuses_what_it_cannot_run(config, message):
    run = settings(**config)  # valid on the Message-API path …
    with pytest.raises(RunConfigError, match=message):
        run.check_secure_aggregation()  # … but not with SecAgg+
    with pytest.raises(RunConfigError, match=message):
        secagg_app.build_legacy_strategy(run, initial_weights(), {})


def test_secure_aggregation_accepts_fedavg_with_or_without_dp_and_sampling_without_dp():
    settings(**{"min-nodes": 2}).check_secure_aggregation()
    settings(**{"fraction-train": 0.5}).check_secure_aggregation()
    settings(**{"min-nodes": 4, "dp-target-epsilon": 1.0, "dp-clipping-norm": 1.0}).check_secure_aggregation()


def test_under_dp_the_hub_wraps_fedavg_to_add_noise_for_the_nodes_it_waits_for():
    run = settings(**{"min-nodes": 4, "num-server-rounds": 5, "dp-target-epsilon": 3.0, "dp-clipping-norm": 1.0})
    strategy = secagg_app.build_legacy_strategy(run, initial_weights(), {"local-steps": 60})
    assert isinstance(strategy, DifferentialPrivacyClientSideFixedClipping)
    assert strategy.noise_multiplier == run.dp_noise_multiplier
    assert strategy.clipping_norm == 1.0 and strategy.num_sampled_clients == 4
    plain = secagg_app.build_legacy_strategy(settings(**{"min-nodes": 4}), initial_weights(), {})
    assert isinstance(plain, FedAvg)


def test_each_node_clips_its_update_before_secaggplus_masks_it():
    # Flower applies the first mod outermost: secaggplus_mod masks what the clipping mod inside it returns.
    mods = secagg_app.client._mods
    assert mods == [secaggplus_mod, secagg_app.optional_clipping_mod]


def test_the_dp_lineage_names_secagg_the_unit_and_the_epsilon_of_the_rounds_run():
    run = settings(**{"min-nodes": 4, "num-server-rounds": 5, "dp-target-epsilon": 3.0, "dp-clipping-norm": 1.0})
    record = secagg_app.dp_lineage(run, rounds=5)
    assert record is not None
    assert "SecAgg+" in record["mode"] and record["unit"].startswith("node")
    assert record["epsilon"] <= 3.0 and record["epsilon"] == pytest.approx(3.0, rel=0.02)
    assert record["noise_std"] == pytest.approx(run.dp_noise_multiplier / 4)
    # A run that stopped after 2 of 5 rounds spent less than its target.
    partial = secagg_app.dp_lineage(run, rounds=2)
    assert partial is not None and partial["epsilon"] < record["epsilon"]
    assert secagg_app.dp_lineage(settings(), rounds=5) is None


def test_the_secagg_clipping_range_widens_with_the_noise_so_noisy_weights_are_not_cut():
    assert secagg_app.secagg_clipping_range(settings()) == secagg_app.CLIPPING_RANGE
    loose = settings(**{"min-nodes": 4, "num-server-rounds": 5, "dp-target-epsilon": 8.0, "dp-clipping-norm": 1.0})
    strict = settings(**{"min-nodes": 4, "num-server-rounds": 5, "dp-target-epsilon": 1.0, "dp-clipping-norm": 1.0})
    assert (
        secagg_app.CLIPPING_RANGE < secagg_app.secagg_clipping_range(loose) < secagg_app.secagg_clipping_range(strict)
    )
    # six standard deviations of the noise summed over the rounds fit inside the range
    spread = 6 * strict.dp_noise_multiplier * 1.0 / 4 * np.sqrt(5)
    assert secagg_app.secagg_clipping_range(strict) >= secagg_app.CLIPPING_RANGE + spread


def test_bytes_of_a_config_record_count_as_flower_counts_and_an_empty_list_counts_nothing():
    from flwr.app import ConfigRecord

    from federation.flower.observe import config_bytes

    record = ConfigRecord({"a": 1, "b": "xyz", "c": [b"ab", b"c"], "d": [1, 2], "e": True})
    assert config_bytes(record) == record.count_bytes() == 36
    assert config_bytes(ConfigRecord({"sources": []})) == len("sources")  # Flower's own raises IndexError here
