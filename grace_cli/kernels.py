"""`grace compile`: compile the Python modules and the numeric kernels ahead of their first use (a setup step)."""

from __future__ import annotations

import compileall
import importlib.util
import time
from pathlib import Path

import click

# GRACE's top-level packages (pyproject.toml's import-linter `root_packages`), byte-compiled in place.
PACKAGES = (
    "grace",
    "warehouse",
    "matching",
    "classification",
    "etl",
    "analytics",
    "federation",
    "dashboards",
    "reporting",
    "grace_cli",
)


def byte_compile_packages() -> int:
    """Write the bytecode (`__pycache__/*.pyc`) of every module of GRACE's packages; returns how many packages."""
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise click.ClickException(f"package {name} not found: is GRACE installed (scripts/setup.sh)?")
        for folder in spec.submodule_search_locations:
            compileall.compile_dir(Path(folder), quiet=1, workers=0)
    return len(PACKAGES)


@click.command("compile")
def compile_command() -> None:
    """Compile the modules and numeric kernels once, so the first run does not.

    The PDQ near-duplicate search, the ETS search and LOWESS are Numba kernels: compiled the first time
    they run, then kept beside their sources (`__pycache__/*.nbc`) and loaded from there. A fresh clone
    has none, nor any Python bytecode, and compiling them takes 10-30 s of CPU, which the first
    `python app.py` (the demo's ETL and its first analysis) would otherwise spend. `scripts/setup.sh`
    runs this once. Safe to repeat: what is already compiled and current is loaded, not compiled again.
    """
    from analytics.warmup import compile_kernels as compile_analysis
    from matching.warmup import compile_kernels as compile_matching

    started = time.perf_counter()
    packages = byte_compile_packages()
    click.echo(f"Python modules of {packages} packages: ready in {time.perf_counter() - started:.1f} s")
    for label, compile_kernels in (("PDQ search kernels", compile_matching), ("analysis kernels", compile_analysis)):
        started = time.perf_counter()
        compile_kernels()
        click.echo(f"{label}: ready in {time.perf_counter() - started:.1f} s")


def register(cli) -> None:
    """Attach this module's commands to the `grace` group."""
    cli.add_command(compile_command)
