"""Seeded randomness and stateless hashing for the simulator.

Every component draws from its own child generator, keyed by a name, so adding draws to one
component never shifts the numbers another one sees, and the same seed always gives the same
output. The seed fixes the world (scenario dates, country mixes, agencies' random intercepts) and,
with `SimulationConfig.draw`, the rows: `draw_rng` gives the per-row components (volumes, referrals,
files, outcomes, packages, malformed records) an independent stream for each draw number, so draw 1
is a second sample of the same world (e.g. an evaluation set), and draw 0 is the seed's usual output.
`mix` is a vectorised SplitMix64 hash used where a value must be a pure function of an id (media
hashes, account attributes), independent of draw order.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from etl.simulator.config import SimulationConfig

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def child_rng(seed: int, *keys: str) -> np.random.Generator:
    """A generator for one named component, reproducible from `seed` and the key path."""
    words = [int(seed) & 0xFFFFFFFF, (int(seed) >> 32) & 0xFFFFFFFF]
    words += [zlib.crc32(str(key).encode()) for key in keys]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(words)))


def draw_rng(config: SimulationConfig, *keys: str) -> np.random.Generator:
    """The generator of one per-row component: `child_rng(seed, *keys)` for draw 0 (the seed's usual
    output), an independent stream of the same world for any other `config.draw`."""
    draw = () if config.draw == 0 else (f"draw:{config.draw}",)
    return child_rng(config.seed, *keys, *draw)


def _u64(value) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind == "U" or array.dtype.kind == "O":
        raise TypeError("mix() takes integers")
    return np.atleast_1d(array).astype(np.uint64, copy=False)


def splitmix64(values: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser on an uint64 array (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = values + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def mix(*values) -> np.ndarray:
    """Hash one or more integer arrays (broadcast together) into uniform uint64 words."""
    state = splitmix64(_u64(values[0]))
    for value in values[1:]:
        state = splitmix64(state ^ _u64(value))
    return state


def unit_interval(words: np.ndarray) -> np.ndarray:
    """Map uint64 hash words to floats in [0, 1)."""
    return (words >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
