"""`grace compile` (setup's step) byte-compiles the packages and compiles every Numba kernel with the argument
types real work uses, so a fresh clone's first ETL batch and first analysis load them instead of compiling them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from grace_cli import cli

TESTS = Path(__file__).resolve().parent

# In a fresh interpreter (its kernels compiled by nothing else): warm up, note every kernel's compiled
# signatures, then real work — an ETL of exports and packages with perceptual matching, the index reopened
# from disk and searched, a monthly and a weekly series analysed — and print what that work compiled anew.
WORKLOAD = """
import json, sys
from pathlib import Path
sys.path.insert(0, {tests!r})

import numpy as np
import pandas as pd

from analytics import ets, lowess
from analytics.warmup import compile_kernels as compile_analytics
from matching import kernels
from matching.warmup import compile_kernels as compile_matching


def signatures():
    found = {{}}
    for module in (kernels, ets, lowess):
        for name, value in vars(module).items():
            if hasattr(value, "signatures") and hasattr(value, "py_func"):
                found[module.__name__ + "." + name] = sorted(map(str, value.signatures))
    return found


compile_matching()
compile_analytics()
warmed = signatures()

import builders
from etl.pipeline import Matching
from warehouse import connect

path = builders.simulated_warehouse(Path({root!r}), packages=True)
con = connect(path)
index = Matching.open(con).index
assert len(index) > 0, "the simulated warehouse indexed no PDQ hash"
index.search(index.index.hashes[:3])
con.close()

from analytics.analyse import analyse_series
from analytics.series import RegularSeries
from analytics.warehouse_series import GRAIN_FREQ

rng = np.random.default_rng(1)
for grain, starts, periods, season in (("month", "MS", 48, 12), ("week", "W-MON", 156, 52)):
    dates = pd.date_range("2021-01-04", periods=periods, freq=starts)
    values = 100 + 10 * np.sin(np.arange(periods) * 2 * np.pi / season) + rng.normal(0, 3, periods)
    analyse_series(RegularSeries(pd.DataFrame({{"ds": dates, "y": values}}), GRAIN_FREQ[grain]))

after = signatures()
print(json.dumps({{name: [s for s in after[name] if s not in warmed.get(name, [])] for name in after}}))
"""


def test_after_the_warm_up_real_etl_and_analysis_compile_no_kernel_anew(tmp_path):
    script = WORKLOAD.format(tests=str(TESTS), root=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    compiled_anew = json.loads(result.stdout.strip().splitlines()[-1])
    assert {name: found for name, found in compiled_anew.items() if found} == {}
    assert any(name.startswith("matching.kernels.search") for name in compiled_anew)  # the kernels were seen


def test_grace_compile_reports_each_family_of_kernels():
    result = CliRunner().invoke(cli, ["compile"])
    assert result.exit_code == 0, result.output
    assert "Python modules of" in result.output
    assert "PDQ search kernels" in result.output
    assert "analysis kernels" in result.output


def test_grace_compile_byte_compiles_every_top_level_package_of_the_project():
    import tomllib

    from grace_cli.kernels import PACKAGES

    pyproject = tomllib.loads((TESTS.parent / "pyproject.toml").read_text(encoding="utf-8"))
    assert sorted(PACKAGES) == sorted(pyproject["tool"]["importlinter"]["root_packages"])
