"""The hub's EU warehouse of differentially private releases: the release file at the door, the merge (all or
nothing, idempotent, one release per agency-month), the monthly-only grain, `grace analyse` and the dashboard's
marking of noisy figures — on real DuckDB warehouses, with real simulated agencies for the end-to-end part."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from analytics.warehouse_series import SeriesRequestError, load_series
from federation import hub_warehouse
from federation.hub_warehouse import merge_releases
from federation.release_file import ReleaseFileError, read_release, release_document
from grace.errors import WarehouseError
from grace_cli import cli
from warehouse import SCHEMA_VERSION, connect, ensure_schema, upgrade_schema

TABLES = ("dp_release", "dp_release_cell", "rollup_referral_daily", "dim_platform", "dim_agency", "warehouse_meta")


def cells(rows: list[tuple[str, str, int | None]]) -> pd.DataFrame:
    """A release's cells from (country, platform, noisy count or None for suppressed)."""
    return pd.DataFrame(
        {
            "country_iso3": [row[0] for row in rows],
            "platform_name": [row[1] for row in rows],
            "referrals": pd.array([row[2] for row in rows], dtype="Int64"),
            "suppressed": [row[2] is None for row in rows],
        }
    )


def write_release(folder: Path, agency: str, month: str, rows, epsilon: float = 1.0, k: int = 10) -> Path:
    path = folder / f"{agency}-{month}.json"
    path.write_text(json.dumps(release_document(agency, month, epsilon, k, "discrete Laplace", cells(rows))))
    return path


def edited(path: Path, change, name: str = "edited.json", checksum: bool = True) -> Path:
    """A copy of a release file with `change(body)` applied and (unless told not to) a matching checksum,
    so the field itself is what the hub refuses."""
    from federation.release_file import checksum_of

    body = json.loads(path.read_text())
    change(body)
    if checksum:
        body["checksum"] = checksum_of(body)
    out = path.parent / name
    out.write_text(json.dumps(body))
    return out


def snapshot(warehouse: Path) -> dict[str, pd.DataFrame]:
    con = connect(warehouse, read_only=True)
    try:
        return {table: con.execute(f"SELECT * FROM {table} ORDER BY ALL").df() for table in TABLES}
    finally:
        con.close()


def assert_unchanged(before: dict[str, pd.DataFrame], warehouse: Path) -> None:
    after = snapshot(warehouse)
    for table in TABLES:
        pd.testing.assert_frame_equal(before[table], after[table], obj=table)


@pytest.fixture
def releases(tmp_path) -> list[Path]:
    """Two agencies, two months: NLD shows two cells and suppresses one; BEL shows one."""
    folder = tmp_path / "incoming"
    folder.mkdir()
    return [
        write_release(folder, "AGY-NLD", "2024-01", [("NLD", "Chatterly", 120), ("NLD", "Glimmr", None)]),
        write_release(folder, "AGY-NLD", "2024-02", [("NLD", "Chatterly", 131), ("NLD", "Glimmr", 12)]),
        write_release(folder, "AGY-BEL", "2024-01", [("BEL", "Chatterly", 40), ("BEL", "Glimmr", None)], k=12),
        write_release(folder, "AGY-BEL", "2024-02", [("BEL", "Chatterly", None), ("BEL", "Glimmr", None)], k=12),
    ]


@pytest.fixture
def hub(tmp_path, releases) -> Path:
    path = tmp_path / "hub.duckdb"
    merge_releases(releases, path)
    return path


# --- the release file ------------------------------------------------------------------------


def test_a_release_file_reads_back_with_its_checksum_and_suppressed_cells_as_missing(releases):
    found = read_release(releases[0])
    assert (found.agency, found.month, found.epsilon, found.delta, found.k) == ("AGY-NLD", "2024-01", 1.0, 0.0, 10)
    assert found.checksum.startswith("sha256:") and len(found.checksum) == 7 + 64
    assert found.cells["suppressed"].tolist() == [False, True]
    assert found.cells["referrals"].iloc[0] == 120 and pd.isna(found.cells["referrals"].iloc[1])


def _set(field, value):
    return lambda body: body.__setitem__(field, value)


def _cell(i, field, value):
    return lambda body: body["cells"][i].__setitem__(field, value)


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        (_cell(0, "country_iso3", "USA"), "cells[0].country_iso3", "unknown country code 'USA'"),
        (_cell(0, "referrals", -4), "cells[0].referrals", "-4 is negative"),
        (_cell(0, "referrals", 12.5), "cells[0].referrals", "12.5 is not a whole number"),
        (_cell(0, "referrals", 10**30), "cells[0].referrals", "is beyond any monthly count"),
        (_cell(0, "referrals", True), "cells[0].referrals", "True is not a whole number"),
        (_cell(0, "referrals", 3), "cells[0].referrals", "3 is shown but under k = 10"),
        (_cell(1, "referrals", 50), "cells[1].referrals", "given for a suppressed cell"),
        (_cell(1, "platform_name", "Chatterly"), "cells[1].platform_name", "duplicate cell"),
        (_cell(0, "platform_name", "=cmd|x\n"), "cells[0].platform_name", "is not a platform name"),
        (_set("month", "2024-1"), "month", "'2024-1' is not a month as YYYY-MM"),
        (_set("month", "2024-13"), "month", "is not a month"),
        (lambda body: body.pop("epsilon"), "epsilon", "missing"),
        (_set("epsilon", 0), "epsilon", "outside (0, 10]"),
        (_set("epsilon", "1"), "epsilon", "is not a number"),
        (_set("delta", 1e-5), "delta", "pure ε-DP releases only"),
        (lambda body: body.pop("k"), "k", "missing"),
        (_set("agency", "AGY NLD; DROP"), "agency", "letters, digits"),
        (_set("format", "csv"), "format", "is not 'grace-dp-release/1'"),
        (_set("cells", []), "cells", "not a non-empty list"),
        (lambda body: body["cells"][0].pop("suppressed"), "cells[0]", "missing suppressed"),
    ],
)
def test_a_bad_release_file_is_refused_naming_the_file_and_the_field(releases, change, field, problem):
    bad = edited(releases[0], change)
    with pytest.raises(ReleaseFileError) as refused:
        read_release(bad)
    assert refused.value.field == field and problem in refused.value.problem
    assert str(refused.value).startswith(f"{bad}: {field}: ")


def test_a_file_changed_after_its_release_fails_its_checksum(releases):
    tampered = edited(releases[0], _cell(0, "referrals", 999), checksum=False)
    with pytest.raises(ReleaseFileError, match="checksum: does not match the content"):
        read_release(tampered)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"format": NaN}', "NaN is not a JSON number"),
        ('{"format": ', "not JSON"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("[1, 2]", "not a JSON object"),
    ],
)
def test_a_file_that_is_not_a_json_object_is_refused(tmp_path, text, problem):
    (tmp_path / "x.json").write_text(text)
    with pytest.raises(ReleaseFileError, match=r"x.json: file: ") as refused:
        read_release(tmp_path / "x.json")
    assert problem in refused.value.problem


# --- the merge -------------------------------------------------------------------------------


def test_the_hub_rollup_is_the_sum_of_the_shown_noisy_cells_dated_on_each_months_first_day(hub):
    con = connect(hub, read_only=True)
    try:
        rollup = con.execute(
            "SELECT date_key, country_iso3, platform_name, referrals FROM rollup_referral_daily ORDER BY ALL"
        ).fetchall()
        lineage = con.execute(
            "SELECT agency_code, strftime(month, '%Y-%m'), epsilon, k, cells, suppressed_cells, "
            "referrals FROM dp_release ORDER BY ALL"
        ).fetchall()
        meta = dict(con.execute("SELECT key, value FROM warehouse_meta").fetchall())
        suppressed = con.execute(
            "SELECT count(*) FROM dp_release_cell WHERE suppressed AND referrals IS NULL"
        ).fetchone()
    finally:
        con.close()
    day = pd.Timestamp
    assert [(day(d).strftime("%Y-%m-%d"), c, p, n) for d, c, p, n in rollup] == [
        ("2024-01-01", "BEL", "Chatterly", 40),
        ("2024-01-01", "NLD", "Chatterly", 120),
        ("2024-02-01", "NLD", "Chatterly", 131),
        ("2024-02-01", "NLD", "Glimmr", 12),
    ]  # suppressed cells add nothing and leave no zero row behind
    assert lineage == [
        ("AGY-BEL", "2024-01", 1.0, 12, 2, 1, 40),
        ("AGY-BEL", "2024-02", 1.0, 12, 2, 2, 0),
        ("AGY-NLD", "2024-01", 1.0, 10, 2, 1, 120),
        ("AGY-NLD", "2024-02", 1.0, 10, 2, 0, 143),
    ]
    assert meta["data_grain"] == "month" and meta["covered_until"] == "2024-02-29" and suppressed == (4,)


def test_merging_the_same_files_again_changes_nothing(hub, releases):
    before = snapshot(hub)
    again = merge_releases(releases, hub)
    assert not again.merged and len(again.unchanged) == 4
    assert_unchanged(before, hub)


def test_a_second_release_of_an_agency_month_with_other_numbers_is_refused(hub, tmp_path):
    before = snapshot(hub)
    other = write_release(tmp_path, "AGY-NLD", "2024-01", [("NLD", "Chatterly", 118), ("NLD", "Glimmr", None)])
    with pytest.raises(ReleaseFileError, match="AGY-NLD 2024-01 is already merged with other numbers"):
        merge_releases([other], hub)
    assert_unchanged(before, hub)


def test_two_different_releases_of_one_agency_month_in_one_merge_are_refused(tmp_path, releases):
    folder = tmp_path / "second"
    folder.mkdir()
    other = write_release(folder, "AGY-NLD", "2024-01", [("NLD", "Chatterly", 118), ("NLD", "Glimmr", None)])
    with pytest.raises(ReleaseFileError, match="noise is drawn once"):
        merge_releases([releases[0], other], tmp_path / "new-hub.duckdb")
    assert not (tmp_path / "new-hub.duckdb").exists()  # refused before the warehouse was opened


def test_a_bad_file_among_good_ones_refuses_the_whole_merge(hub, releases, tmp_path):
    before = snapshot(hub)
    folder = tmp_path / "later"
    folder.mkdir()
    good = write_release(folder, "AGY-NLD", "2024-03", [("NLD", "Chatterly", 140), ("NLD", "Glimmr", 11)])
    bad = edited(good, _cell(0, "country_iso3", "XXX"), name="bad.json")
    with pytest.raises(ReleaseFileError, match=r"bad.json: cells\[0\].country_iso3: unknown country code 'XXX'"):
        merge_releases([good, bad], hub)
    assert_unchanged(before, hub)


def test_a_merge_that_fails_inside_its_transaction_leaves_the_warehouse_as_it_was(hub, tmp_path, monkeypatch):
    before = snapshot(hub)
    folder = tmp_path / "later"
    folder.mkdir()
    good = write_release(folder, "AGY-NLD", "2024-03", [("NLD", "Chatterly", 140), ("NLD", "Glimmr", 11)])
    # the cells and lineage are written, then a rebuild step fails
    monkeypatch.setattr(hub_warehouse, "REBUILD", (*hub_warehouse.REBUILD, "federation/no_such_step.sql"))
    with pytest.raises(FileNotFoundError):
        merge_releases([good], hub)
    assert_unchanged(before, hub)


def test_an_agency_warehouse_is_not_a_hub_and_a_hub_takes_no_deliveries(tmp_path, hub):
    from builders import file_row, referral_row, write_delivery

    from etl.runner import run_batches
    from etl.sources import discover_batches
    from grace.config import load_pseudonym_key

    delivery = write_delivery(tmp_path / "in" / "2024-05", [referral_row(1)], [file_row(1)])
    agency = tmp_path / "agency.duckdb"
    con = connect(agency)
    try:
        ensure_schema(con)
        assert run_batches(con, discover_batches(delivery.parent), load_pseudonym_key()).ok
    finally:
        con.close()
    release = write_release(tmp_path, "AGY-NLD", "2024-05", [("NLD", "Chatterly", 50)])
    with pytest.raises(WarehouseError, match="holds 1 ETL batches"):
        merge_releases([release], agency)
    con = connect(hub)
    try:
        summary = run_batches(con, discover_batches(delivery.parent), load_pseudonym_key())
    finally:
        con.close()
    assert not summary.ok and "the warehouse is a hub's" in str(summary.failures)


def test_a_schema_8_warehouse_is_upgraded_with_the_release_tables(tmp_path):
    old = connect(tmp_path / "old.duckdb")
    try:
        ensure_schema(old)
        old.execute("DROP TABLE dp_release_cell")
        old.execute("DROP TABLE dp_release")
        old.execute("UPDATE warehouse_meta SET value = '8' WHERE key = 'schema_version'")
        assert upgrade_schema(old) == ("8", SCHEMA_VERSION)
        tables = {row[0] for row in old.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    finally:
        old.close()
    assert {"dp_release", "dp_release_cell"} <= tables


def test_grace_federation_hub_merge_reports_what_it_merged_and_refuses_a_bad_file_in_one_line(releases, tmp_path):
    hub = str(tmp_path / "cli-hub.duckdb")
    runner = CliRunner()
    first = runner.invoke(cli, ["federation", "hub", "merge", *map(str, releases), "--warehouse", hub])
    assert first.exit_code == 0, first.output
    assert "AGY-NLD 2024-01 merged, ε = 1, k = 10, 2 cells (1 suppressed)" in first.output
    assert "4 releases merged, 0 already held" in first.output
    again = runner.invoke(cli, ["federation", "hub", "merge", str(releases[0]), "--warehouse", hub])
    assert again.exit_code == 0 and "already merged (same checksum); nothing changed" in again.output
    bad = edited(releases[0], _cell(0, "referrals", -1))
    refused = runner.invoke(cli, ["federation", "hub", "merge", str(bad), "--warehouse", hub])
    assert refused.exit_code != 0
    assert refused.output.strip().splitlines()[-1] == f"error: {bad}: cells[0].referrals: -1 is negative"


# --- the monthly grain -----------------------------------------------------------------------


def test_a_hub_warehouse_offers_released_metrics_by_month_with_its_latest_month_whole(hub):
    con = connect(hub, read_only=True)
    try:
        monthly = load_series(con, "referrals", "month")
        by_country = load_series(con, "referrals", "month", split="country")
        with pytest.raises(SeriesRequestError, match="monthly differentially private releases only: no series by week"):
            load_series(con, "referrals", "week")
        with pytest.raises(SeriesRequestError, match="'files' is not in the monthly releases"):
            load_series(con, "files", "month")
    finally:
        con.close()
    assert monthly["y"].tolist() == [160.0, 143.0]  # February is whole (covered_until), not dropped as partial
    assert by_country.groupby("entity")["y"].sum().to_dict() == {"BEL": 40.0, "NLD": 263.0}


# --- the dashboard on a hub warehouse --------------------------------------------------------


def test_the_page_headers_and_chart_notes_mark_the_figures_as_differentially_private_with_epsilon(hub):
    import dashboards.catalogue  # noqa: F401  registers every chart
    from dashboards.callbacks import overview
    from dashboards.charts import chart_data, get_chart
    from dashboards.state import ViewState
    from dashboards.wiring import filter_options
    from warehouse import WarehouseReader

    reader = WarehouseReader(hub)
    header = filter_options(reader).freshness
    assert header.startswith("Differentially private counts: ε = 1 per agency-month (δ = 0); noisy cells under ")
    assert "k = 10 to 12 suppressed by the agencies (4 of 8 cells)" in header and "4 releases from 2 agencies" in header
    assert "Jan 2024 – Feb 2024" in header
    data = chart_data(get_chart(overview.MONTHLY_CHART.chart_id), reader, ViewState(country=("BEL", "NLD")))
    assert data.note.startswith("Differentially private counts (ε = 1 per agency-month); cells under k = 10 to 12")
    assert overview.WITHHELD_NOTE in data.note
    belgium = data.frame[data.frame["series_key"] == "BEL"]
    assert belgium["referrals"].iloc[0] == 40 and pd.isna(belgium["referrals"].iloc[1])  # every cell suppressed: a gap
    cards = overview.update_kpis(reader, ViewState())
    assert cards.referrals.value == "303" and cards.files.note == overview.NOT_RELEASED
    assert cards.quarantined.value == "–"


def test_an_ordinary_warehouse_keeps_its_freshness_line_and_notes(fresh_db, tmp_path):
    from dashboards.freshness import data_freshness
    from warehouse import WarehouseReader

    fresh_db.close()
    assert data_freshness(WarehouseReader(tmp_path / "warehouse.duckdb")) == "No referrals loaded yet."


# --- end to end: simulated agencies release, the hub merges, analyses and serves ------------

MONTHS = [f"{year}-{month:02d}" for year in (2023, 2024) for month in range(1, 13)]


@pytest.fixture(scope="module")
def federation_run(tmp_path_factory):
    """Three simulated agencies (real ETL, tiny scale), 24 monthly releases each at ε = 1 under their own
    budget ledgers, written as release files; and the hub's warehouse with all of them merged."""
    from federation.agencies import AgencySpec, build_agency_warehouses
    from federation.release import BudgetLedger, release_json

    root = tmp_path_factory.mktemp("federation_hub")
    specs = (
        AgencySpec("AGY-NLD", ("NLD",), 4),
        AgencySpec("AGY-BEL", ("BEL",), 7, share=0.5),
        AgencySpec("AGY-MLT", ("MLT",), 5, share=0.4),
    )
    warehouses = build_agency_warehouses(root / "agencies", scale=0.01, agencies=specs)
    platforms = set()
    for path in warehouses.values():
        con = connect(path, read_only=True)
        try:
            platforms |= {row[0] for row in con.execute("SELECT platform_name FROM dim_platform").fetchall()}
        finally:
            con.close()
    files = []
    for spec in specs:
        ledger = BudgetLedger(root / f"{spec.code}-budget.sqlite", budget=24.0)
        for month in MONTHS:
            release = ledger.release(
                spec.code, warehouses[spec.code], month, 1.0, spec.countries, sorted(platforms), 10
            )
            path = root / "outgoing" / f"{spec.code}-{month}.json"
            path.parent.mkdir(exist_ok=True)
            path.write_text(release_json(release), encoding="utf-8")
            files.append(path)
    hub = root / "eu-hub.duckdb"
    merged = CliRunner().invoke(cli, ["federation", "hub", "merge", *map(str, files), "--warehouse", str(hub)])
    assert merged.exit_code == 0, merged.output
    return {"files": files, "hub": hub, "output": merged.output, "warehouses": warehouses}


def test_end_to_end_the_hub_rollup_equals_the_sum_of_the_released_noisy_cells(federation_run):
    released = pd.DataFrame(
        [
            {"month": body["month"], **cell}
            for body in (json.loads(path.read_text()) for path in federation_run["files"])
            for cell in body["cells"]
        ]
    )
    assert len(released) and released["suppressed"].any() and (~released["suppressed"]).any()
    expected = (
        released[~released["suppressed"]]
        .groupby(["month", "country_iso3", "platform_name"])["referrals"]
        .sum()
        .astype("int64")
    )
    con = connect(federation_run["hub"], read_only=True)
    try:
        rollup = con.execute(
            "SELECT strftime(date_key, '%Y-%m') AS month, country_iso3, platform_name, referrals "
            "FROM rollup_referral_daily"
        ).df()
        lineage = con.execute(
            "SELECT count(*), count(DISTINCT agency_code), min(epsilon), max(epsilon) FROM dp_release"
        ).fetchone()
    finally:
        con.close()
    found = rollup.set_index(["month", "country_iso3", "platform_name"])["referrals"].sort_index()
    pd.testing.assert_series_equal(found, expected.sort_index(), check_names=False)
    assert lineage == (72, 3, 1.0, 1.0)
    assert "72 releases merged, 0 already held" in federation_run["output"]


def test_end_to_end_merging_again_changes_nothing_and_a_tampered_file_is_refused(federation_run, tmp_path):
    hub = federation_run["hub"]
    before = snapshot(hub)
    runner = CliRunner()
    again = runner.invoke(
        cli, ["federation", "hub", "merge", *map(str, federation_run["files"]), "--warehouse", str(hub)]
    )
    assert again.exit_code == 0 and "0 releases merged, 72 already held" in again.output
    # the noise is drawn afresh each run: take the first release that shows a cell
    body, shown = next(
        (body, i)
        for body in (json.loads(path.read_text()) for path in federation_run["files"])
        for i, cell in enumerate(body["cells"])
        if not cell["suppressed"]
    )
    body["cells"][shown]["referrals"] += 100  # edited on the way to the hub
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(body))
    refused = runner.invoke(cli, ["federation", "hub", "merge", str(tampered), "--warehouse", str(hub)])
    assert refused.exit_code != 0 and f"{tampered}: checksum: does not match the content" in refused.output
    assert_unchanged(before, hub)


def test_end_to_end_grace_analyse_runs_on_the_hub_warehouse_at_the_monthly_grain(federation_run, tmp_path):
    import shutil

    hub = tmp_path / "analysed-hub.duckdb"
    shutil.copy(federation_run["hub"], hub)
    result = CliRunner().invoke(cli, ["analyse", "--warehouse", str(hub), "--quiet", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "note: grains week left out: the warehouse holds monthly releases only" in result.output
    assert "metrics left out: the releases carry only referrals, platform_share" in result.output
    con = connect(hub, read_only=True)
    try:
        runs = con.execute("SELECT series_count, parameters FROM analytics_run").fetchall()
        trends = con.execute("SELECT DISTINCT metric, grain FROM analytics_trend ORDER BY ALL").fetchall()
        total = con.execute(
            "SELECT count(*) FROM analytics_forecast WHERE series_id = 'referrals|month|none|total'"
        ).fetchone()
    finally:
        con.close()
    assert len(runs) == 1 and runs[0][0] > 0 and json.loads(runs[0][1])["grains"] == ["month"]
    assert trends == [("platform_share", "month"), ("referrals", "month")]
    assert total[0] > 0  # the EU total was forecast


def test_end_to_end_the_dashboard_serves_the_hub_with_the_noisy_marking_in_its_exports(federation_run, tmp_path):
    from dashboards.app_factory import create_app
    from dashboards.auth.testing import signed_in_client

    app = create_app(federation_run["hub"])
    analyst = signed_in_client(app, "eu-analyst", "analyst")
    response = analyst.get("/export/overview-monthly-referrals.csv")
    assert response.status_code == 200
    text = response.data.decode("utf-8")
    assert "# Data: Differentially private counts: ε = 1 per agency-month (δ = 0)" in text
    assert "72 releases from 3 agencies" in text
    assert "# Note: Differentially private counts (ε = 1 per agency-month); cells under k = 10" in text


def test_end_to_end_the_file_grace_federation_release_writes_is_read_at_the_hub_and_a_redrawn_month_refused(
    federation_run, tmp_path
):
    """This test's $GRACE_HOME holds a new, empty budget ledger: as if the agency had lost its ledger and
    released 2024-03 again (at ε = 0.5, so the file surely differs) — a second draw, which the hub refuses."""
    out = tmp_path / "nl-2024-03.json"
    runner = CliRunner()
    warehouse = str(federation_run["warehouses"]["AGY-NLD"])
    released = runner.invoke(
        cli,
        [
            *("federation", "release", "--agency", "AGY-NLD", "--warehouse", warehouse, "--month", "2024-03"),
            *("--epsilon", "0.5", "--countries", "NLD", "--out", str(out)),
        ],
    )
    assert released.exit_code == 0, released.output
    found = read_release(out)
    assert (found.agency, found.month, found.epsilon, found.k) == ("AGY-NLD", "2024-03", 0.5, 10)
    before = snapshot(federation_run["hub"])
    refused = runner.invoke(cli, ["federation", "hub", "merge", str(out), "--warehouse", str(federation_run["hub"])])
    assert refused.exit_code != 0 and "AGY-NLD 2024-03 is already merged with other numbers" in refused.output
    assert_unchanged(before, federation_run["hub"])
    fresh = tmp_path / "fresh-hub.duckdb"
    merged = runner.invoke(cli, ["federation", "hub", "merge", str(out), "--warehouse", str(fresh)])
    assert merged.exit_code == 0 and "1 releases merged" in merged.output


def test_the_operations_page_lists_the_merged_releases_for_eu_wide_users_only(hub):
    from dashboards.callbacks.dp_releases import releases_view
    from grace.scope import Scope
    from warehouse import WarehouseReader

    reader = WarehouseReader(hub)
    view = releases_view(reader, Scope())
    assert view.summary.startswith("Differentially private releases merged into this hub warehouse (4)")
    assert [(row["agency"], row["month"], row["epsilon"], row["k"], row["suppressed"]) for row in view.rows] == [
        ("AGY-BEL", "2024-02", "1", 12, 2),
        ("AGY-NLD", "2024-02", "1", 10, 0),
        ("AGY-BEL", "2024-01", "1", 12, 1),
        ("AGY-NLD", "2024-01", "1", 10, 1),
    ]
    assert all(row["checksum"].startswith("sha256:") for row in view.rows)
    assert not releases_view(reader, Scope(countries=frozenset({"NLD"}))).rows


def test_dissemination_on_a_hub_leaves_unreleased_countries_and_data_unknown_never_zero(hub):
    import dashboards.catalogue  # noqa: F401  registers every chart
    from dashboards.callbacks import dissemination
    from dashboards.charts import NOT_ON_HUB, get_chart, render
    from dashboards.exports.build import prepare
    from dashboards.exports.marking import csv_bytes
    from dashboards.state import ViewState
    from warehouse import WarehouseReader

    reader = WarehouseReader(hub)
    data, _figure = render(get_chart("dissemination-map"), reader, ViewState())
    shown = data.frame.set_index("country_iso3")
    assert shown.loc["NLD", "referrals"] == 263 and shown.loc["BEL", "referrals"] == 40
    assert pd.isna(shown.loc["DEU", "referrals"]) and shown["files"].isna().all()  # nobody released DEU; no files
    for chart in (dissemination.SPREAD_CHART, dissemination.RESHARES_CHART, dissemination.BANK_CHART):
        data, _figure = render(chart, reader, ViewState())
        assert data.frame.empty and data.note == NOT_ON_HUB
    assert all(view.note == NOT_ON_HUB for view in dissemination.draw_reach_charts(reader, ViewState()))
    exported = prepare(get_chart("dissemination-cluster-countries"), reader, ViewState())
    text = csv_bytes(exported.suppression.csv_frame(), exported.marking).decode("utf-8")
    assert f"# Note: {NOT_ON_HUB}" in text and text.rstrip().endswith("measure,bucket_order,bucket,clusters")


def test_the_trend_explorer_offers_only_months_and_released_metrics_on_a_hub(hub, fresh_db, tmp_path):
    from dashboards.callbacks.trends import warehouse_limits
    from warehouse import WarehouseReader

    limits = warehouse_limits(WarehouseReader(hub))
    disabled = {option["value"] for option in limits.grain_options if option["disabled"]}
    assert disabled == {"day", "week"}
    offered = {option["value"] for option in limits.metric_options if not option["disabled"]}
    assert offered == {"referrals", "platform_share"}
    fresh_db.close()
    ordinary = warehouse_limits(WarehouseReader(tmp_path / "warehouse.duckdb"))
    assert not any(option.get("disabled") for option in ordinary.grain_options + ordinary.metric_options)
