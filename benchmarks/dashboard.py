"""Dashboard benchmark: server time of every callback and of each page's first load on a ~10 M-referral
warehouse, against the same questions asked of the raw fact tables in the same run.

Steps (each prints progress):
  1. warehouse — build, or reuse when its stamp matches, a warehouse of about --referrals referrals under
     --work: `grace simulate` (Parquet, quarterly deliveries) one year at a time (the simulator holds a
     whole run in memory, so one 10 M run would not fit), each year loaded with `grace etl run` and its
     inputs deleted; then `grace analyse` (for Overview, Alerts and Forecasts). The stamp covers the DDL,
     the ETL SQL, the simulator and ETL code and the simulation options, so a code change rebuilds.
  2. callbacks — the real app (`dashboards.app_factory.create_app`) behind Flask's test client, signed in
     as an admin; every server callback of every page is POSTed to `/_dash-update-component` with the
     payload Dash's renderer sends, for a set of realistic views (no filter, one country, several
     countries, a platform, split by country, weekly grain, per capita, …). One warm-up, then --reps
     timed repetitions per case; p50 / p95 / max per callback.
  3. first page load — GET of the page, `/_dash-layout`, `/_dash-dependencies` and every callback the
     page fires on load, server side, per page.
  4. reference — the same questions as SQL over `fact_referral` / `fact_file_occurrence` (same filters),
     timed the same way on the dashboard's own connection; the report gives callback ÷ raw SQL.
With --write, the results table goes into the Dashboard section of docs/BENCHMARKS.md.

    .venv/bin/python benchmarks/dashboard.py --write
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.common import machine, update_section  # noqa: E402

FIRST_YEAR, LAST_YEAR = 2019, 2025
SEED = 11
BENCH_KEY = "benchmark-key-not-secret-0123456789"
TARGET_CALLBACK_P95_MS = 75.0  # issue 14 at 10 M referrals (150 ms before it)
TARGET_FIRST_LOAD_S = 2.0
# What the warehouse depends on: a change to any of these rebuilds it (`grace demo`'s own module does not).
STAMPED = ("sql/ddl", "sql/etl", "etl", "data_contracts")
NOT_STAMPED: tuple[str, ...] = ()  # files inside the STAMPED folders that the warehouse does not depend on


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def grace_cmd(*args: str) -> list[str]:
    """The project's `grace` command line with its arguments."""
    return [str(REPO / ".venv" / "bin" / "grace"), *args]


def bench_env(home: Path) -> dict:
    return {**os.environ, "GRACE_HOME": str(home), "GRACE_HMAC_KEY": BENCH_KEY, "PYTHONPATH": str(REPO)}


# ---------------------------------------------------------------------------------------------
# 1. The warehouse
# ---------------------------------------------------------------------------------------------


def code_stamp(options: dict) -> str:
    """sha256 over the files the warehouse depends on and the simulation options."""
    digest = hashlib.sha256(json.dumps(options, sort_keys=True).encode())
    for folder in STAMPED:
        for path in sorted((REPO / folder).rglob("*")):
            relative = str(path.relative_to(REPO))
            if (
                path.is_file()
                and path.suffix in {".sql", ".py", ".yaml", ".json"}
                and "__pycache__" not in path.parts
                and relative not in NOT_STAMPED
            ):
                digest.update(str(path.relative_to(REPO)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def simulate(out: Path, seed: int, scale: float, start: str, end: str, delivery: str, env: dict) -> int:
    """`grace simulate` into `out` (Parquet, fresh folder); returns the referrals its manifest reports."""
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run(
        grace_cmd(
            "simulate",
            "--out",
            str(out),
            "--seed",
            str(seed),
            "--scale",
            f"{scale:.6f}",
            "--start",
            start,
            "--end",
            end,
            "--format",
            "parquet",
            "--delivery",
            delivery,
            "--quiet",
        ),
        check=True,
        env=env,
    )
    return manifest_referrals(json.loads((out / "manifest.json").read_text()))


def etl_run(warehouse: Path, exports: Path, env: dict) -> str:
    """`grace etl run --json --quiet` of the deliveries in `exports` into `warehouse`; returns its JSON report."""
    return subprocess.run(
        grace_cmd("etl", "run", "--warehouse", str(warehouse), "--json", "--quiet", str(exports)),
        check=True,
        env=env,
        capture_output=True,
        text=True,
    ).stdout


def probe_scale(
    work: Path, referrals: int, env: dict, first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR
) -> float:
    """The scale for about `referrals` over the years, from a 1 % simulation (read from its manifest)."""
    probe = work / "probe"
    count = simulate(probe, SEED, 0.01, f"{first_year}-01-01", f"{last_year}-12-31", "year", env)
    shutil.rmtree(probe)
    return min(referrals / (count / 0.01), 20.0)


def manifest_referrals(manifest: dict) -> int:
    """The simulated referral count a manifest reports."""
    for key in ("referrals", "total_referrals"):
        if isinstance(manifest.get(key), int):
            return manifest[key]
    counts = manifest.get("counts", {})
    if isinstance(counts.get("referrals"), int):
        return counts["referrals"]
    raise KeyError(f"no referral count in manifest keys {sorted(manifest)}")


def warehouse_text(build: dict) -> str:
    """The report's sentence on the warehouse measured: how it was built, or only its size when it was given
    with --warehouse (how it was built is then for whoever edits the report to add)."""
    size = (
        f"Warehouse: {build['fact_referral']:,} referrals and {build['fact_file_occurrence']:,} file rows "
        f"({build['size_gb']} GB)"
    )
    if "given" in build:
        return f"{size}, given with --warehouse (not built by this run)."
    return (
        f"{size}, simulated {FIRST_YEAR}-{LAST_YEAR} at scale {build['scale']} one year at a time "
        f"(Parquet, quarterly deliveries) and loaded with `grace etl run`; `grace analyse --metrics "
        f"{build['options']['analyse_metrics']}` ({build.get('analyse_s', '?')} s). Built in "
        f"{build['build_s'] / 60:.0f} min; reused by later runs while the DDL, ETL SQL, ETL/simulator code and "
        "options are unchanged."
    )


def warehouse_record(warehouse: Path) -> dict:
    """What the report says about a warehouse given with --warehouse (not built here)."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    counts = [
        con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        for table in ("fact_referral", "fact_file_occurrence")
    ]
    con.close()
    return {
        "fact_referral": counts[0],
        "fact_file_occurrence": counts[1],
        "size_gb": round(warehouse.stat().st_size / 1e9, 2),
        "scale": "?",
        "build_s": 0,
        "options": {"analyse_metrics": "?"},
        "given": str(warehouse),
    }


def build_warehouse(work: Path, referrals: int, analyse_metrics: str, rebuild: bool) -> dict:
    """Build (or reuse) the benchmark warehouse; returns its build record."""
    work.mkdir(parents=True, exist_ok=True)
    home = work / "home"
    home.mkdir(exist_ok=True)
    env = bench_env(home)
    warehouse = work / "warehouse.duckdb"
    stamp_file = work / "stamp.json"
    options = {
        "referrals": referrals,
        "seed": SEED,
        "years": [FIRST_YEAR, LAST_YEAR],
        "format": "parquet",
        "delivery": "quarter",
        "analyse_metrics": analyse_metrics,
    }
    stamp = code_stamp(options)
    if not rebuild and stamp_file.exists() and warehouse.exists():
        record = json.loads(stamp_file.read_text())
        if record.get("stamp") == stamp:
            log(f"reusing warehouse {warehouse} (stamp {stamp[:12]}, built {record['built']})")
            return record
        log("warehouse stamp differs from the code: rebuilding")
    for path in (warehouse, stamp_file, Path(str(warehouse) + ".wal")):
        path.unlink(missing_ok=True)
    record = {"options": options, "years": {}}
    started = time.perf_counter()
    scale = probe_scale(work, referrals, env)
    record["scale"] = round(scale, 4)
    log(f"scale {scale:.4f} for about {referrals:,} referrals over {FIRST_YEAR}-{LAST_YEAR}")
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        inputs = work / f"sim-{year}"
        t0 = time.perf_counter()
        simulated = simulate(inputs, SEED + year, scale, f"{year}-01-01", f"{year}-12-31", "quarter", env)
        t1 = time.perf_counter()
        log(f"{year}: simulated {simulated:,} referrals in {t1 - t0:.0f} s; loading")
        report = etl_run(warehouse, inputs / "exports", env)
        t2 = time.perf_counter()
        record["years"][str(year)] = {
            "simulated": simulated,
            "simulate_s": round(t1 - t0, 1),
            "etl_s": round(t2 - t1, 1),
        }
        log(f"{year}: loaded in {t2 - t1:.0f} s")
        (work / f"etl-{year}.json").write_text(report)
        shutil.rmtree(inputs)
    t0 = time.perf_counter()
    log(f"grace analyse --metrics {analyse_metrics}")
    subprocess.run(
        grace_cmd("analyse", "--warehouse", str(warehouse), "--metrics", analyse_metrics, "--quiet"),
        check=True,
        env=env,
    )
    record["analyse_s"] = round(time.perf_counter() - t0, 1)
    log(f"analysed in {record['analyse_s']:.0f} s")
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    record["fact_referral"] = con.execute("SELECT count(*) FROM fact_referral").fetchall()[0][0]
    record["fact_file_occurrence"] = con.execute("SELECT count(*) FROM fact_file_occurrence").fetchall()[0][0]
    con.close()
    record.update(
        stamp=stamp,
        built=time.strftime("%Y-%m-%d %H:%M"),
        build_s=round(time.perf_counter() - started, 1),
        size_gb=round(warehouse.stat().st_size / 1e9, 2),
    )
    stamp_file.write_text(json.dumps(record, indent=2))
    log(
        f"warehouse ready: {record['fact_referral']:,} referrals, {record['fact_file_occurrence']:,} files, "
        f"{record['size_gb']} GB, {record['build_s']:.0f} s"
    )
    return record


# ---------------------------------------------------------------------------------------------
# 2./3. A Dash renderer, as far as the server sees it
# ---------------------------------------------------------------------------------------------


def id_key(component_id) -> str:
    """Dash's string form of a component id (dict ids: compact JSON with sorted keys)."""
    if isinstance(component_id, dict):
        return json.dumps(component_id, sort_keys=True, separators=(",", ":"))
    return str(component_id)


def split_spec(spec: str) -> tuple[str, str]:
    """`id.property` (the id may be JSON) -> (id key, property)."""
    key, prop = spec.rsplit(".", 1)
    return key, prop


class Callback:
    """One server callback from `/_dash-dependencies`."""

    def __init__(self, dep: dict, name: str):
        self.output = dep["output"]
        self.name = name
        self.multi = self.output.startswith("..")
        self.no_output = bool(dep.get("no_output"))
        specs = [] if self.no_output else self.output[2:-2].split("...") if self.multi else [self.output]
        self.outputs = [split_spec(spec) for spec in specs]
        self.inputs = [(item["id"], item["property"]) for item in dep["inputs"]]
        self.state = [(item["id"], item["property"]) for item in dep["state"]]
        self.prevent_initial_call = bool(dep.get("prevent_initial_call"))


def _pattern(key: str):
    return json.loads(key) if key.startswith("{") else None


def _matches(pattern: dict, component_id) -> bool:
    if not isinstance(component_id, dict) or set(component_id) != set(pattern):
        return False
    return all(value == ["ALL"] or component_id[name] == value for name, value in pattern.items())


class Browser:
    """What Dash's renderer sends for one page: props of the components on the page, initial
    callbacks in dependency order, the cascade a callback's outputs trigger. Server time of each
    request is recorded as (kind, name, seconds)."""

    def __init__(self, client, callbacks: list[Callback]):
        self.client = client
        self.callbacks = callbacks
        self.props: dict[str, dict] = {}
        self.ids: dict[str, object] = {}
        self.timings: list[tuple[str, str, float]] = []
        self.added: set[str] = set()  # components a response inserted, not yet given their initial callbacks
        self.locations: set[str] = set()  # dcc.Location components (they report the address on mount)

    # --- the component tree ---
    def add_tree(self, node) -> set[str]:
        """Register every component under `node`; returns their id keys."""
        added: set[str] = set()
        stack = [node]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                if "props" in item and "type" in item and "namespace" in item:
                    props = item["props"] or {}
                    if "id" in props:
                        key = id_key(props["id"])
                        self.props[key] = props
                        self.ids[key] = props["id"]
                        added.add(key)
                        if item["type"] == "Location":
                            self.locations.add(key)
                    stack.extend(props.values())
                else:
                    stack.extend(item.values())
        return added

    def resolve(self, key: str) -> list[str]:
        """Component keys a dependency id refers to (one, or every match of an ALL pattern)."""
        pattern = _pattern(key)
        if pattern is None or not any(v == ["ALL"] for v in pattern.values()):
            return [key] if key in self.props else []
        return [k for k, cid in self.ids.items() if _matches(pattern, cid)]

    def _value_item(self, key: str, prop: str) -> dict:
        item = {"id": self.ids[key], "property": prop}
        if prop == "id":
            item["value"] = self.ids[key]
        elif prop in self.props[key]:
            item["value"] = self.props[key][prop]
        return item

    def _arg(self, key: str, prop: str):
        pattern = _pattern(key)
        if pattern is not None and any(v == ["ALL"] for v in pattern.values()):
            return [self._value_item(k, prop) for k in self.resolve(key)]
        return self._value_item(key, prop)

    def ready(self, cb: Callback) -> bool:
        """Every non-pattern input exists on the page (pattern inputs may match nothing)."""
        for key, _prop in cb.inputs:
            pattern = _pattern(key)
            if (pattern is None or not any(v == ["ALL"] for v in pattern.values())) and key not in self.props:
                return False
        return cb.no_output or any(self.resolve(key) for key, _ in cb.outputs)

    # --- requests ---
    def timed(self, kind: str, name: str, call):
        started = time.perf_counter()
        response = call()
        self.timings.append((kind, name, time.perf_counter() - started))
        if response.status_code not in (200, 204):
            raise RuntimeError(f"{kind} {name}: HTTP {response.status_code}: {response.get_data(as_text=True)[:300]}")
        return response

    def fire(self, cb: Callback, changed: list[str]) -> set[str]:
        """POST one callback as the renderer does; apply its response; return the changed `id.prop`s."""
        outputs = []
        for key, prop in cb.outputs:
            pattern = _pattern(key)
            if pattern is not None and any(v == ["ALL"] for v in pattern.values()):
                outputs.append([{"id": self.ids[k], "property": prop} for k in self.resolve(key)])
            else:
                outputs.append({"id": self.ids.get(key, key), "property": prop})
        body = {
            "output": cb.output,
            "outputs": outputs if cb.multi or cb.no_output else outputs[0],
            "inputs": [self._arg(k, p) for k, p in cb.inputs],
            "state": [self._arg(k, p) for k, p in cb.state],
            "changedPropIds": changed,
        }
        response = self.timed("callback", cb.name, lambda: self.client.post("/_dash-update-component", json=body))
        if response.status_code == 204:
            return set()
        changed_props: set[str] = set()
        for key, props in response.get_json().get("response", {}).items():
            for prop, value in props.items():
                prop = prop.split("@", 1)[0]
                if key in self.props:
                    self.props[key][prop] = value
                    changed_props.add(f"{key}.{prop}")
                    if prop == "children":
                        self.added |= self.add_tree(value)
        return changed_props

    def triggered_by(self, changed: set[str]) -> list[tuple[Callback, list[str]]]:
        out = []
        for cb in self.callbacks:
            hits = [f"{k}.{p}" for key, p in cb.inputs for k in self.resolve(key) if f"{k}.{p}" in changed]
            if hits and self.ready(cb):
                out.append(
                    (
                        cb,
                        [f"{key}.{p}" for key, p in cb.inputs if any(f"{k}.{p}" in changed for k in self.resolve(key))],
                    )
                )
        return out

    def new_layout_callbacks(self, added: set[str]) -> list[tuple[Callback, list[str]]]:
        """Callbacks a newly inserted layout fires: an input or output in it, all inputs present,
        no prevent_initial_call (the renderer's initial callbacks)."""
        if not added:
            return []
        out = []
        for cb in self.callbacks:
            if cb.prevent_initial_call or not self.ready(cb):
                continue
            touched = [k for key, _ in cb.inputs + cb.outputs for k in self.resolve(key)]
            if any(k in added for k in touched):
                out.append((cb, []))
        return out

    def run(self, pending: list[tuple[Callback, list[str]]], limit: int = 4) -> None:
        """Fire pending callbacks, upstream first, and whatever their outputs trigger."""
        fired: dict[str, int] = {}
        while pending:
            outputs_pending = {(k, p) for cb, _ in pending for k, p in cb.outputs}
            ready = [
                (cb, ch)
                for cb, ch in pending
                if not any((k, p) in outputs_pending and (k, p) not in cb.outputs for k, p in cb.inputs)
            ] or pending[:1]
            for item in ready:
                pending.remove(item)
            changed: set[str] = set()
            for cb, ch in ready:
                fired[cb.output] = fired.get(cb.output, 0) + 1
                changed |= self.fire(cb, ch)
            queued = {cb.output for cb, _ in pending}
            added, self.added = self.added, set()
            for cb, ch in self.new_layout_callbacks(added) + self.triggered_by(changed):
                if cb.output not in queued and fired.get(cb.output, 0) < limit:
                    pending.append((cb, ch))
                    queued.add(cb.output)

    def load(self, path: str, search: str) -> None:
        """A full page load: the page, the shell layout and dependencies, the router, the page's callbacks."""
        url = path + search
        self.props, self.ids, self.locations = {}, {}, set()
        self.timed("get", "page", lambda: self.client.get(url))
        layout = self.timed("get", "_dash-layout", lambda: self.client.get("/_dash-layout")).get_json()
        self.timed("get", "_dash-dependencies", lambda: self.client.get("/_dash-dependencies"))
        self.add_tree(layout)
        changed: set[str] = set()
        for key in self.locations:  # every dcc.Location reports the address when it mounts
            self.props[key].update(pathname=path, search=search, href="http://localhost" + url)
            changed |= {f"{key}.{prop}" for prop in ("pathname", "search", "href")}
        pending = [(cb, []) for cb in self.callbacks if not cb.prevent_initial_call and self.ready(cb)]
        queued = {cb.output for cb, _ in pending}
        for cb, triggers in self.triggered_by(changed):  # the router, the view audit, …
            if cb.output not in queued:
                pending.append((cb, triggers))
                queued.add(cb.output)
        self.run(pending)

    def interact(self, key: str, prop: str, value) -> None:
        """A user changes one control: the renderer posts what that change triggers."""
        self.props[key][prop] = value
        self.run(self.triggered_by({f"{key}.{prop}"}))


def callback_names(app, deps: list[dict]) -> list[Callback]:
    """Server callbacks with readable names (`page.function`)."""
    out = []
    for dep in deps:
        if dep.get("clientside_function"):
            continue
        func = app.callback_map[dep["output"]]["callback"]
        inner = getattr(func, "__wrapped__", func)
        module = getattr(inner, "__module__", "?").rsplit(".", 1)[-1]
        if module == "dash":
            module = "pages"
        if module in ("wiring",):
            first = dep["inputs"][0]["id"] if dep["inputs"] else "?"
            module = first.split("-", 1)[0] if not first.startswith("{") else "shell"
        out.append(Callback(dep, f"{module}.{inner.__name__.lstrip('_')}"))
    names = [cb.name for cb in out]
    for cb in out:
        if names.count(cb.name) > 1 and cb.outputs:  # factory-made (one per chart): name the chart
            cb.name += f"[{cb.outputs[0][0].split('-', 1)[-1].removesuffix('-graph')}]"
    return out


# ---------------------------------------------------------------------------------------------
# The views measured, and the same questions asked of the fact tables
# ---------------------------------------------------------------------------------------------

SEVERAL = ("DEU", "ESP", "FRA", "ITA", "POL")
SEVERAL_Q = "&".join(f"country={c}" for c in SEVERAL)


def page_views(platform: str) -> dict[str, list[tuple[str, str]]]:
    """Per page path: (label, query string) of the views loaded. The global filters on every page,
    then each page's own choices."""
    from urllib.parse import quote

    plat = f"platform={quote(platform)}"
    common = [
        ("no filter", ""),
        ("one country", "?country=DEU"),
        ("five countries", f"?{SEVERAL_Q}"),
        ("one platform", f"?{plat}"),
        ("two years", "?start=2023-01-01&end=2024-12-31"),
    ]
    return {
        "/": common,
        "/trends": [
            *common,
            ("split by country", "?split=country"),
            ("five countries split", f"?{SEVERAL_Q}&split=country"),
            ("weekly, one platform", f"?grain=week&{plat}"),
            ("daily, one country", "?grain=day&country=DEU"),
            ("per capita by country", "?per_capita=1&split=country"),
            ("files by platform", "?metric=files&split=platform"),
            ("distinct accounts", "?metric=reported_accounts"),
            ("sextortion, compare files, log", "?metric=sextortion_referrals&compare=files&log=1"),
            ("by incident type, weekly", "?split=incident_type&grain=week"),
        ],
        "/forecasts": [*common, ("weekly", "?grain=week"), ("files", "?metric=files")],
        "/alerts": [*common, ("change points by date", "?kind=changepoint&sort=date")],
        "/dissemination": [*common, ("weekly", "?grain=week")],
        "/production": [*common, ("weekly", "?grain=week")],
        "/operations": [("referrals", ""), ("files", "?metric=files")],
        "/admin": [("users and audit", "")],
    }


# (question, page, view label, callback name, raw SQL over the facts, parameters)
RAW_QUESTIONS = [
    (
        "Monthly referrals, EU",
        "/trends",
        "no filter",
        "trends.draw",
        "SELECT date_trunc('month', incident_date) AS m, count(*) AS n FROM fact_referral GROUP BY m ORDER BY m",
        {},
    ),
    (
        "Monthly referrals, one country",
        "/trends",
        "one country",
        "trends.draw",
        "SELECT date_trunc('month', incident_date) AS m, count(*) AS n FROM fact_referral WHERE country_iso3 = $c "
        "GROUP BY m ORDER BY m",
        {"c": "DEU"},
    ),
    (
        "Monthly referrals, five countries split",
        "/trends",
        "five countries split",
        "trends.draw",
        "SELECT date_trunc('month', incident_date) AS m, country_iso3, count(*) AS n FROM fact_referral "
        "WHERE list_contains($cs, country_iso3) GROUP BY ALL ORDER BY ALL",
        {"cs": list(SEVERAL)},
    ),
    (
        "Weekly referrals, one platform",
        "/trends",
        "weekly, one platform",
        "trends.draw",
        "SELECT date_trunc('week', incident_date) AS w, count(*) AS n FROM fact_referral WHERE platform_name = $p "
        "GROUP BY w ORDER BY w",
        {"p": None},
    ),
    (
        "Monthly files by platform",
        "/trends",
        "files by platform",
        "trends.draw",
        "SELECT date_trunc('month', incident_date) AS m, platform_name, count(*) AS n FROM fact_file_occurrence "
        "GROUP BY ALL ORDER BY ALL",
        {},
    ),
    (
        "Monthly distinct accounts",
        "/trends",
        "distinct accounts",
        "trends.draw",
        "SELECT date_trunc('month', incident_date) AS m, count(DISTINCT account_pseudonym) AS n FROM fact_referral "
        "GROUP BY m ORDER BY m",
        {},
    ),
    (
        "Referrals per country (map)",
        "/dissemination",
        "no filter",
        "dissemination.draw[map]",
        "SELECT country_iso3, count(*) AS n FROM fact_referral GROUP BY ALL ORDER BY ALL",
        {},
    ),
    (
        "Platform x country matrix",
        "/dissemination",
        "no filter",
        "dissemination.draw[platform-country]",
        "SELECT platform_name, country_iso3, count(*) AS n FROM fact_referral GROUP BY ALL ORDER BY ALL",
        {},
    ),
    (
        "Monthly new vs known files",
        "/production",
        "no filter",
        "production.draw[new-known]",
        "SELECT date_trunc('month', incident_date) AS m, count(*) FILTER (WHERE is_first_sighting) AS new_files, "
        "count(*) AS files FROM fact_file_occurrence GROUP BY m ORDER BY m",
        {},
    ),
]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def summary(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50_ms": percentile(values, 50) * 1000,
        "p95_ms": percentile(values, 95) * 1000,
        "max_ms": max(values) * 1000,
    }


def raw_text(raw: dict, key: str) -> str:
    """A raw-SQL timing in ms, or that the reader's query timeout stopped it."""
    if "stopped_after_s" in raw:
        return f"stopped after {raw['stopped_after_s']:g} s"
    return f"{raw[key]:.0f}"


def top_platform(reader) -> str:
    with reader.cursor() as cur:
        return cur.execute(
            "SELECT platform_name FROM rollup_referral_daily GROUP BY 1 ORDER BY sum(referrals) DESC, 1 LIMIT 1"
        ).fetchall()[0][0]


def measure_dashboard(warehouse: Path, home: Path, reps: int) -> dict:
    """Every page x view: one warm-up load, then `reps` timed loads (and, on the unfiltered view, a
    country chosen in the filter bar). Returns raw timings per callback, per page load and the reference."""
    os.environ.update(GRACE_HOME=str(home), GRACE_HMAC_KEY=BENCH_KEY, GRACE_READER_IDLE_SECONDS="60")
    from dashboards.app_factory import create_app, settle_heap
    from dashboards.auth.testing import signed_in_client
    from dashboards.readers import reader_of
    from warehouse.reader import QueryTimeout

    app = create_app(warehouse)
    settle_heap()  # as `grace serve` does before it takes requests
    client = signed_in_client(app, "bench-admin", "admin", password="bench-password-not-secret-0123")
    callbacks = callback_names(app, client.get("/_dash-dependencies").get_json())
    browser = Browser(client, callbacks)
    reader = reader_of(app)
    cache_bytes = reader.cache.max_bytes
    reader.cache.max_bytes = 0  # the main measurement answers every request from the warehouse (cold)
    platform = top_platform(reader)
    per_callback: dict[str, dict[str, list[float]]] = {}
    loads: dict[str, dict[str, list[float]]] = {}
    for path, views in page_views(platform).items():
        for label, search in views:
            for rep in range(reps + 1):
                browser.timings = []
                browser.load(path, search)
                load_timings = browser.timings
                browser.timings = []
                control = f"{(path.strip('/') or 'overview')}-filter-country"
                if label == "no filter" and control in browser.props:
                    browser.interact(control, "value", ["DEU"])
                if rep == 0:
                    continue  # warm-up
                loads.setdefault(path, {}).setdefault(label, []).append(sum(s for _, _, s in load_timings))
                for kind, name, seconds in load_timings:
                    if kind == "callback":
                        per_callback.setdefault(name, {}).setdefault(f"{path} {label}", []).append(seconds)
                for _kind, name, seconds in browser.timings:
                    per_callback.setdefault(name, {}).setdefault(f"{path} country chosen", []).append(seconds)
            log(f"{path} {label}: load p50 {percentile(loads[path][label], 50) * 1000:.0f} ms")
    reference = []
    views = page_views(platform)
    for question, path, label, name, sql, params in RAW_QUESTIONS:
        params = {**params, "p": platform} if "p" in params else params
        browser.load(path, dict(views[path])[label])  # the page as the callback sees it
        callback = next(cb for cb in callbacks if cb.name == name)
        dashboard, raw = [], []
        raw_stopped = False
        for rep in range(reps + 1):  # interleaved, so both see the same machine
            browser.timings = []
            browser.fire(callback, [])
            if rep:
                dashboard.append(browser.timings[-1][2])
            if raw_stopped:
                continue
            started = time.perf_counter()
            try:
                with reader.cursor() as cur:
                    cur.execute(sql, params).fetchall()
            except QueryTimeout:  # the reader's limit: a large warehouse's facts are what the rollups avoid
                raw_stopped = True
                continue
            if rep:
                raw.append(time.perf_counter() - started)
        reference.append(
            {
                "question": question,
                "callback": name,
                "view": f"{path} {label}",
                "dashboard": summary(dashboard),
                "raw": {"stopped_after_s": reader.timeout_seconds} if raw_stopped else summary(raw),
            }
        )
        log(
            f"reference {question}: callback p50 {reference[-1]['dashboard']['p50_ms']:.0f} ms, "
            f"raw {raw_text(reference[-1]['raw'], 'p50_ms')}"
        )
    cached_loads = measure_cached_loads(browser, reader, platform, reps, cache_bytes)
    reader.close()
    return {
        "platform": platform,
        "per_callback": per_callback,
        "loads": loads,
        "reference": reference,
        "cached_loads": cached_loads,
    }


def measure_cached_loads(browser, reader, platform: str, reps: int, cache_bytes: int) -> dict[str, list[float]]:
    """Page loads again, with the result cache on (`GRACE_RESULT_CACHE_MB`): the first load of each view
    fills it, the `reps` timed loads after it are what a second analyst asking the same view gets."""
    reader.cache.max_bytes = cache_bytes
    reader.cache.clear()
    cached: dict[str, list[float]] = {}
    for path, views in page_views(platform).items():
        for _label, search in views:
            for rep in range(reps + 1):
                browser.timings = []
                browser.load(path, search)
                if rep:
                    cached.setdefault(path, []).append(sum(s for _, _, s in browser.timings))
    log(f"cached page loads: {reader.cache.hits} hits, {reader.cache.misses} misses")
    for path, seconds in cached.items():
        log(f"  cached load {path:<16} p50 {percentile(seconds, 50):.2f} s")
    reader.cache.max_bytes = 0
    return cached


# ---------------------------------------------------------------------------------------------
# 5. The report
# ---------------------------------------------------------------------------------------------


def results_of(measured: dict) -> dict:
    callbacks = []
    for name, views in sorted(measured["per_callback"].items()):
        pooled = [s for values in views.values() for s in values]
        worst_view, worst = max(
            ((view, summary(values)) for view, values in views.items()), key=lambda kv: kv[1]["p95_ms"]
        )
        callbacks.append(
            {
                "callback": name,
                "views": len(views),
                **summary(pooled),
                "worst_view": worst_view,
                "worst_view_p95_ms": worst["p95_ms"],
            }
        )
    loads = []
    for path, views in measured["loads"].items():
        pooled = [s for values in views.values() for s in values]
        worst_view, worst = max(
            ((view, summary(values)) for view, values in views.items()), key=lambda kv: kv[1]["p95_ms"]
        )
        loads.append(
            {
                "page": path,
                "views": len(views),
                **summary(pooled),
                "worst_view": worst_view,
                "worst_view_p95_ms": worst["p95_ms"],
            }
        )
    cached = [
        {
            "page": load["page"],
            "uncached_p50_ms": load["p50_ms"],
            "cached_p50_ms": percentile(measured["cached_loads"][load["page"]], 50) * 1000,
        }
        for load in loads
        if measured.get("cached_loads", {}).get(load["page"])
    ]
    return {
        "callbacks": callbacks,
        "loads": loads,
        "cached": cached,
        "reference": measured["reference"],
        "platform": measured["platform"],
    }


def write_markdown(results: dict) -> None:
    build = results["warehouse"]
    callbacks, loads = results["callbacks"], results["loads"]
    slow = [c for c in callbacks if c["p95_ms"] > TARGET_CALLBACK_P95_MS]
    slow_loads = [p for p in loads if p["p95_ms"] / 1000 > TARGET_FIRST_LOAD_S]
    lines = [
        "## Dashboard (`benchmarks/dashboard.py`)",
        "",
        f"Run {results['date']} on {results['machine']}.",
        f"Command: `{results['command']}`.",
        warehouse_text(build),
        "Measured through HTTP: the real app (`create_app`) behind Flask's test client, signed in as an admin; each page "
        "is loaded as Dash's renderer loads it (GET page, `/_dash-layout`, `/_dash-dependencies`, the page router, then "
        "every callback the page fires, upstream first, and what their outputs trigger), with the payloads the renderer "
        "sends to `/_dash-update-component`. Server time = the request's time in the WSGI app (guard, audit, Dash, the "
        "callback, JSON), warm: one warm-up load per view, then "
        f"{results['reps']} timed loads; on each page's unfiltered view a country is then chosen in the filter bar "
        "(the control-change callbacks are timed too). Page load = the sum of its requests (a browser overlaps some; "
        "static JS/CSS bundles excluded).",
        f"Targets: p95 of every callback ≤ {TARGET_CALLBACK_P95_MS:.0f} ms; first page load ≤ {TARGET_FIRST_LOAD_S:.0f} s.",
        f"Views per page: no filter, one country, five countries, one platform ({results['platform']}), two years, and the "
        "page's own choices (Trend explorer: split by country, weekly, daily, per capita, files by platform, distinct "
        "accounts, compare + log, by incident type).",
        "",
        "### Callbacks (server time per request, pooled over views)",
        "",
        "| callback | views | requests | p50 ms | p95 ms | max ms | worst view (its p95 ms) | target |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for c in sorted(callbacks, key=lambda c: -c["p95_ms"]):
        ok = "met" if c["p95_ms"] <= TARGET_CALLBACK_P95_MS else "**missed**"
        lines.append(
            f"| `{c['callback']}` | {c['views']} | {c['n']} | {c['p50_ms']:.0f} | {c['p95_ms']:.0f} | "
            f"{c['max_ms']:.0f} | {c['worst_view']} ({c['worst_view_p95_ms']:.0f}) | {ok} |"
        )
    lines += [
        "",
        "### First page load (server side, sum of the page's requests)",
        "",
        "| page | views | loads | p50 s | p95 s | max s | worst view (its p95 s) | target |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for p in loads:
        ok = "met" if p["p95_ms"] / 1000 <= TARGET_FIRST_LOAD_S else "**missed**"
        lines.append(
            f"| `{p['page']}` | {p['views']} | {p['n']} | {p['p50_ms'] / 1000:.2f} | {p['p95_ms'] / 1000:.2f} | "
            f"{p['max_ms'] / 1000:.2f} | {p['worst_view']} ({p['worst_view_p95_ms'] / 1000:.2f}) | {ok} |"
        )
    if results.get("cached"):
        lines += [
            "",
            "### Page loads with the result cache (`GRACE_RESULT_CACHE_MB`)",
            "",
            "The tables above answer every request from the warehouse (cache off). Here the same views are loaded "
            "again with the cache on: after one load fills it, the timed loads are what a second analyst asking the "
            "same view (same scope) gets, until the next write to the warehouse.",
            "",
            "| page | p50 s, cache off | p50 s, cached | cached ÷ off |",
            "|---|---:|---:|---:|",
        ]
        for c in results["cached"]:
            ratio = c["cached_p50_ms"] / c["uncached_p50_ms"] if c["uncached_p50_ms"] else float("nan")
            lines.append(
                f"| `{c['page']}` | {c['uncached_p50_ms'] / 1000:.3f} | {c['cached_p50_ms'] / 1000:.3f} | {ratio:.2f} |"
            )
    lines += [
        "",
        "### Against the raw fact tables (same question, same filters, same run, same connection)",
        "",
        "Raw = the question as plain SQL over `fact_referral` / `fact_file_occurrence` (a GROUP BY, no rollups), "
        "on the dashboard's own shared read-only connection. Dashboard = the whole callback request (query, "
        "pandas, Plotly figure, Dash, JSON) for the same view. The two are timed alternately, "
        f"{results['reps']} times each after a warm-up, so both see the same machine.",
        "",
        "| question | callback (view) | dashboard p50 ms | dashboard p95 ms | raw SQL p50 ms | raw SQL p95 ms | dashboard ÷ raw (p50) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results["reference"]:
        ratio = f"{r['dashboard']['p50_ms'] / r['raw']['p50_ms']:.2f}" if "p50_ms" in r["raw"] else "–"
        lines.append(
            f"| {r['question']} | `{r['callback']}` ({r['view']}) | {r['dashboard']['p50_ms']:.0f} | "
            f"{r['dashboard']['p95_ms']:.0f} | {raw_text(r['raw'], 'p50_ms')} | {raw_text(r['raw'], 'p95_ms')} | "
            f"{ratio} |"
        )
    lines += ["", "### Status against the targets", ""]
    if slow:
        lines.append(
            f"- Callback p95 ≤ {TARGET_CALLBACK_P95_MS:.0f} ms: **missed** by {len(slow)} of {len(callbacks)} "
            "callbacks: "
            + "; ".join(f"`{c['callback']}` {c['p95_ms']:.0f} ms" for c in sorted(slow, key=lambda c: -c["p95_ms"]))
            + "."
        )
    else:
        lines.append(f"- Callback p95 ≤ {TARGET_CALLBACK_P95_MS:.0f} ms: **met** by all {len(callbacks)} callbacks.")
    if slow_loads:
        lines.append(
            f"- First page load ≤ {TARGET_FIRST_LOAD_S:.0f} s: **missed** on "
            + "; ".join(f"`{p['page']}` p95 {p['p95_ms'] / 1000:.2f} s" for p in slow_loads)
            + "."
        )
    else:
        lines.append(
            f"- First page load ≤ {TARGET_FIRST_LOAD_S:.0f} s: **met** on all {len(loads)} pages "
            f"(worst p95 {max(p['p95_ms'] for p in loads) / 1000:.2f} s)."
        )
    lines += results.get("notes", [])
    update_section("Dashboard", "\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--referrals", type=int, default=10_000_000, help="target referrals in the warehouse")
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "grace-bench-dashboard",
        help="where the warehouse (and its stamp) is kept between runs",
    )
    parser.add_argument("--analyse-metrics", default="default", help="--metrics passed to grace analyse")
    parser.add_argument("--reps", type=int, default=20, help="timed repetitions per case (after one warm-up)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the warehouse even if its stamp matches")
    parser.add_argument("--warehouse", type=Path, help="measure this existing warehouse instead (no build)")
    parser.add_argument("--build-only", action="store_true", help="build the warehouse and stop")
    parser.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rewrite the docs/BENCHMARKS.md section from WORK/results.json of the last run",
    )
    args = parser.parse_args()
    if args.report_only:
        write_markdown(json.loads((args.work / "results.json").read_text()))
        return
    if args.warehouse:
        record = warehouse_record(args.warehouse)
        warehouse = args.warehouse
    else:
        record = build_warehouse(args.work, args.referrals, args.analyse_metrics, args.rebuild)
        warehouse = args.work / "warehouse.duckdb"
    if args.build_only:
        return
    log(f"measuring ({args.reps} repetitions per view after one warm-up)")
    (args.work / "home").mkdir(parents=True, exist_ok=True)
    measured = measure_dashboard(warehouse, args.work / "home", args.reps)
    results = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "reps": args.reps,
        "warehouse": record,
        "command": " ".join([".venv/bin/python benchmarks/dashboard.py", *sys.argv[1:]]),
        **results_of(measured),
    }
    (args.work / "results.json").write_text(json.dumps(results, indent=2))
    log(f"results in {args.work / 'results.json'}")
    for c in sorted(results["callbacks"], key=lambda c: -c["p95_ms"]):
        print(
            f"  {c['callback']:<48} p50 {c['p50_ms']:7.1f}  p95 {c['p95_ms']:7.1f}  max {c['max_ms']:7.1f} ms"
            f"  worst {c['worst_view']}"
        )
    for p in results["loads"]:
        print(
            f"  load {p['page']:<16} p50 {p['p50_ms'] / 1000:5.2f}  p95 {p['p95_ms'] / 1000:5.2f} s  worst {p['worst_view']}"
        )
    if args.write:
        write_markdown(results)


if __name__ == "__main__":
    main()
