"""Chart exports: files are valid and marked, small cells suppressed, routes guarded and audited.

Real DuckDB warehouse, the real `create_app` (login included) and real Chromium through kaleido
(one export server for the module).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from xml.etree import ElementTree

import pandas as pd
import plotly.graph_objects as go
import pytest
from PIL import Image
from pypdf import PdfReader

from dashboards import charts
from dashboards.auth.context import auth_context
from dashboards.auth.testing import signed_in_client
from dashboards.charts import Chart, ChartData, register_chart
from dashboards.exports.build import export_filename, page_slug, prepare
from dashboards.exports.marking import CLASSIFICATION
from dashboards.exports.presets import A4
from dashboards.exports.renderer import ExportUnavailable, find_chromium, renderer
from dashboards.exports.ui import export_href, export_menu, link_hrefs
from dashboards.state import ViewState
from warehouse import WarehouseReader, connect, ensure_schema
from warehouse.period_rollups import refresh_period_rollups

TEST_PAGE = "/export-test"
MONTHS = pd.date_range("2024-01-01", periods=4, freq="MS")
COUNTRIES = ("AUT", "BEL", "DEU", "FRA")
GRID = {  # referrals per month × country: BEL is a small cell in every month
    "AUT": (40, 42, 41, 45),
    "BEL": (3, 0, 7, 2),
    "DEU": (300, 310, 320, 330),
    "FRA": (120, 11, 130, 140),
}


def grid_data(reader: WarehouseReader, state: ViewState) -> ChartData:
    """Test chart: a month × country grid (synthetic), filtered by the view's countries."""
    rows = [(month, country, GRID[country][i]) for i, month in enumerate(MONTHS) for country in COUNTRIES]
    frame = pd.DataFrame(rows, columns=["month", "country", "referrals"])
    frame["share"] = frame["referrals"] / frame.groupby("month")["referrals"].transform("sum")
    if state.country:
        frame = frame[frame["country"].isin(state.country)].reset_index(drop=True)
    return ChartData(
        frame=frame,
        count_columns=("referrals",),
        cell_columns=("month", "country"),
        subtitle="Referrals per month, by country (synthetic)",
        note="Test chart.",
    )


def grid_figure(data: ChartData, state: ViewState) -> go.Figure:
    fig = go.Figure()
    for country, series in data.frame.groupby("country", sort=True):
        fig.add_trace(go.Bar(x=series["month"], y=series["referrals"], name=country))
    return fig


def total_data(reader: WarehouseReader, state: ViewState) -> ChartData:
    frame = reader.run("data_freshness")
    return ChartData(frame=pd.DataFrame({"batches": frame["batch_count"].astype(int)}), count_columns=("batches",))


def total_figure(data: ChartData, state: ViewState) -> go.Figure:
    return go.Figure(go.Bar(x=["batches"], y=data.frame["batches"]))


@pytest.fixture(scope="module")
def test_charts():
    """Two charts on a test page, removed from the registry afterwards."""
    grid = register_chart(
        Chart("export-test-grid", TEST_PAGE, "Referrals by country", "Synthetic test grid", grid_data, grid_figure)
    )
    total = register_chart(
        Chart("export-test-total", TEST_PAGE, "ETL batches", "GRACE warehouse, etl_batch", total_data, total_figure)
    )
    yield grid, total
    for chart in (grid, total):
        charts._REGISTRY.pop(chart.chart_id, None)


def insert_rollup(con, frame: pd.DataFrame) -> None:
    """Rows of `rollup_referral_daily` from the given columns; every other column 0 / false / 'chat'."""
    columns = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 'rollup_referral_daily' ORDER BY ordinal_position"
    ).fetchall()
    fill = {"BOOLEAN": False, "VARCHAR": "x", "BIGINT": 0, "INTEGER": 0, "DOUBLE": 0.0}
    full = frame.assign(platform_name="ChatApp", channel="chat", incident_type_code="IT_CP", files=frame["referrals"])
    for name, data_type in columns:
        if name not in full:
            full[name] = fill.get(data_type, 0)
    con.register("new_rows", full[[name for name, _ in columns]])
    con.execute("INSERT INTO rollup_referral_daily SELECT * FROM new_rows")
    con.unregister("new_rows")
    refresh_period_rollups(con, None)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """Jan–Apr 2024 for four countries, BEL with a few referrals a month; one ETL batch."""
    path = tmp_path_factory.mktemp("exports") / "warehouse.duckdb"
    con = connect(path)
    ensure_schema(con)
    days = pd.date_range("2024-01-01", "2024-04-29", freq="D")
    rows = [(day, country, per_day) for day in days for country, per_day in (("AUT", 2), ("DEU", 9), ("FRA", 4))]
    rows += [(day, "BEL", 1) for day in days[::10]]  # 3 referrals a month
    insert_rollup(con, pd.DataFrame(rows, columns=["date_key", "country_iso3", "referrals"]))
    con.execute(
        "INSERT INTO etl_batch VALUES ('batch-1', 'case_export', 'delivery', 'checksum', 'loaded', 0, 0, 1200, 0, "
        "0, 0, 34, 0, NULL, TIMESTAMP '2024-04-30 01:00:00', TIMESTAMP '2024-04-30 01:02:03', 123.0, '{}', 'test', '1')"
    )
    con.close()
    return path


@pytest.fixture(scope="module")
def app(warehouse, test_charts, tmp_path_factory):
    home = tmp_path_factory.mktemp("exports_home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRACE_HOME", str(home))
        patch.setenv("GRACE_ARGON2_PROFILE", "test-only-cheapest")
        from dashboards.app_factory import create_app

        yield create_app(warehouse)


@pytest.fixture(scope="module")
def service():
    """One kaleido export server (Chromium) for the module."""
    yield renderer()
    renderer().shutdown()


@pytest.fixture(scope="module")
def analyst(app):
    return signed_in_client(app, "ana", "analyst")


def svg_text(body: bytes) -> str:
    root = ElementTree.fromstring(body)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return " ".join(" ".join(element.itertext()) for element in root.iter())


def csv_parts(body: bytes) -> tuple[list[str], pd.DataFrame]:
    text = body.decode("utf-8")
    comments = [line for line in text.splitlines() if line.startswith("#")]
    return comments, pd.read_csv(io.StringIO(text), comment=None, skiprows=len(comments), dtype=str)


# --- building an export (no browser) ---------------------------------------------------------


def test_the_prepared_chart_blanks_small_cells_and_their_complements_in_the_figure(warehouse, test_charts):
    grid, _ = test_charts
    prepared = prepare(grid, WarehouseReader(warehouse), ViewState(), k=10)
    frame = prepared.data.frame
    hidden = frame[frame["referrals"].isna()]
    # BEL 3, 7 and 2 are small; each of those months takes its next-smallest cell (AUT) with it.
    # February has nothing to hide (BEL's zero is shown); BEL's three hidden months total 12 ≥ k.
    assert set(zip(hidden["month"].dt.strftime("%m"), hidden["country"])) == {
        ("01", "BEL"),
        ("03", "BEL"),
        ("04", "BEL"),
        ("01", "AUT"),
        ("03", "AUT"),
        ("04", "AUT"),
    }
    assert hidden["share"].isna().all()
    bel = next(trace for trace in prepared.figure().data if trace.name == "BEL")
    assert pd.isna(pd.Series(bel.y, dtype=float)).tolist() == [True, False, True, True]


def test_the_figure_carries_every_part_of_the_marking(warehouse, test_charts):
    grid, _ = test_charts
    state = ViewState(country=("BEL", "DEU", "FRA"), start="2024-01-01")
    prepared = prepare(grid, WarehouseReader(warehouse), state, k=10)
    figure = prepared.figure()
    texts = [a.text.replace("<br>", " ").replace("<b>", "").replace("</b>", "") for a in figure.layout.annotations]
    everything = " ".join(texts)
    assert texts.count(CLASSIFICATION) == 2  # top and bottom
    assert "Source: Synthetic test grid" in everything
    assert "Data: Incidents up to 29 Apr 2024" in everything
    assert "k=10" in everything
    assert "Referrals by country — Belgium, France, Germany" in texts
    assert (
        "Referrals per month, by country (synthetic) · Countries: BEL, DEU, FRA · Platforms: all · "
        "Period: 2024-01-01 to latest" in texts
    )


def test_export_file_names_are_descriptive_and_safe():
    state = ViewState(country=("DEU", "FRA"), start="2024-01-01")
    assert (
        export_filename("overview-monthly-referrals", state, "png", "2026-11-25T10:00:00Z")
        == "overview-monthly-referrals_DEU-FRA_2024-01-01-to-latest_2026-11-25.png"
    )
    assert page_slug("/") == "overview" and page_slug("/trends") == "trends"


def test_export_links_carry_the_views_query_string():
    assert (
        export_href("overview-monthly-referrals", "/", "csv", "?country=DEU")
        == "/export/overview-monthly-referrals.csv?country=DEU"
    )
    assert export_href("x", "/trends", "zip", "country=DEU") == "/export/pack/trends.zip?country=DEU"
    links = [{"chart": "a", "format": "png"}, {"chart": "a", "format": "zip"}]
    assert link_hrefs(links, "?grain=week", lambda _: "/trends") == [
        "/export/a.png?grain=week",
        "/export/pack/trends.zip?grain=week",
    ]


def test_the_export_menu_is_absent_for_users_who_may_not_export():
    assert export_menu("overview-monthly-referrals", "/") is None  # nobody signed in
    menu = export_menu("overview-monthly-referrals", "/", search="?country=DEU", force=True)
    hrefs = [item.href for item in menu.children if getattr(item, "href", None)]
    for preset in ("slide", "a4", "a4-landscape"):
        assert f"/export/overview-monthly-referrals.pdf?country=DEU&preset={preset}" in hrefs
    assert "/export/overview-monthly-referrals.csv?country=DEU" in hrefs
    assert "/export/pack/overview.zip?country=DEU&preset=slide" in hrefs


def test_a_missing_chromium_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    with pytest.raises(ExportUnavailable, match="BROWSER_PATH"):
        find_chromium()
    monkeypatch.delenv("BROWSER_PATH")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ExportUnavailable, match="no Chromium found"):
        find_chromium()


# --- the routes ------------------------------------------------------------------------------


def test_the_csv_export_is_marked_and_has_its_small_cells_suppressed(analyst, app):
    response = analyst.get("/export/export-test-grid.csv?country=AUT&country=BEL&country=DEU&country=FRA")
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="export-test-grid_AUT-BEL-DEU-FRA_')
    comments, frame = csv_parts(response.data)
    header = "\n".join(comments)
    for expected in (
        f"# Classification: {CLASSIFICATION}",
        "# Chart: Referrals by country",
        "# Source: Synthetic test grid",
        "# Filters: Countries: AUT, BEL, DEU, FRA",
        "# Data: Incidents up to 29 Apr 2024",
        "k=10",
    ):
        assert expected in header
    suppressed = frame[frame["referrals"] == "suppressed"]
    assert {"3", "7", "2"}.isdisjoint(set(frame["referrals"]))  # every small cell is gone
    assert len(suppressed) >= 6
    assert (frame.loc[suppressed.index, "share"] == "suppressed").all()
    # Complementary: in no month is exactly one cell hidden, so no month's total reveals one.
    per_month = frame.assign(hidden=frame["referrals"] == "suppressed").groupby("month")["hidden"].sum()
    assert not (per_month == 1).any()
    rows = auth_context(app.server).audit.recent(5, {"event": "export"})
    assert rows[0].detail["chart"] == "export-test-grid" and rows[0].detail["format"] == "csv"
    assert "AUT, BEL, DEU, FRA" in rows[0].detail["filters"]


def test_a_real_page_chart_exports_as_csv(analyst):
    response = analyst.get("/export/overview-monthly-referrals.csv?country=BEL&country=DEU")
    assert response.status_code == 200, response.data
    comments, frame = csv_parts(response.data)
    assert any(line.startswith("# Source: GRACE warehouse") for line in comments)
    bel = frame[frame["series_key"] == "BEL"]
    assert len(bel) == 4 and (bel["referrals"] == "suppressed").all()  # BEL has 3 referrals a month
    # Each month's total would otherwise reveal BEL: DEU is hidden with it.
    assert (frame[frame["series_key"] == "DEU"]["referrals"] == "suppressed").all()


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/export/no-such-chart.png", 404, "no chart 'no-such-chart'"),
        ("/export/export-test-grid.gif", 404, "ask for /export/<chart>"),
        ("/export/export-test-grid.csv?country=germany", 400, "invalid view: country: 'germany'"),
        ("/export/export-test-grid.csv?start=2024-05-01&end=2024-01-01", 400, "is after end"),
        ("/export/pack/no-such-page.zip", 404, "no page 'no-such-page'"),
    ],
)
def test_bad_export_requests_get_a_clear_message(analyst, path, status, message):
    response = analyst.get(path)
    assert response.status_code == status
    assert message in response.get_json()["error"]


def test_viewers_and_anonymous_users_cannot_export(app):
    assert app.server.test_client().get("/export/export-test-grid.csv").status_code == 401
    viewer = signed_in_client(app, "vic", "viewer")
    assert viewer.get("/export/export-test-grid.csv").status_code == 403
    assert viewer.get("/export/pack/export-test.zip").status_code == 403


def test_a_user_scoped_to_one_country_exports_only_that_country(app):
    scoped = signed_in_client(app, "pol", "analyst", country="DEU")
    _, frame = csv_parts(scoped.get("/export/export-test-grid.csv?country=FRA").data)
    assert set(frame["country"]) == {"DEU"}


# --- images through Chromium -----------------------------------------------------------------


def test_png_svg_and_pdf_exports_are_valid_and_marked(analyst, service):
    query = "?country=AUT&country=BEL&country=DEU"
    png = analyst.get(f"/export/export-test-grid.png{query}")
    assert png.status_code == 200 and png.content_type == "image/png"
    assert png.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert png.headers["Content-Disposition"].endswith('_slide.png"')
    assert Image.open(io.BytesIO(png.data)).size == (1920, 1080)  # the slide, by default
    a4 = analyst.get(f"/export/export-test-grid.png{query}&preset=a4")
    assert Image.open(io.BytesIO(a4.data)).size == A4.png_size == (1654, 2339)

    svg = analyst.get(f"/export/export-test-grid.svg{query}")
    assert svg.content_type == "image/svg+xml"
    text = svg_text(svg.data)
    for expected in (
        CLASSIFICATION,
        "Referrals by country",
        "Source: Synthetic test grid",
        "Countries: AUT, BEL, DEU",
        "Data: Incidents up to 29 Apr 2024",
        "k=10",
    ):
        assert expected in text

    pdf = analyst.get(f"/export/export-test-grid.pdf{query}")
    assert pdf.content_type == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert len(PdfReader(io.BytesIO(pdf.data)).pages) == 1
    landscape = analyst.get(f"/export/export-test-grid.pdf{query}&preset=a4-landscape")
    page = PdfReader(io.BytesIO(landscape.data)).pages[0]
    # A4 landscape is 842 × 595 pt (297 × 210 mm)
    assert abs(float(page.mediabox.width) - 842) < 2 and abs(float(page.mediabox.height) - 595) < 2

    refused = analyst.get(f"/export/export-test-grid.png{query}&preset=poster")
    assert refused.status_code == 400
    assert "preset 'poster' is not one of slide, a4, a4-landscape" in refused.get_json()["error"]


def test_the_briefing_pack_holds_every_chart_of_the_page_in_every_format(analyst, app, service):
    response = analyst.get("/export/pack/export-test.zip?country=BEL&country=DEU&country=FRA")
    assert response.status_code == 200 and response.content_type == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    for chart_id in ("export-test-grid", "export-test-total"):
        for fmt in ("png", "svg", "pdf", "csv"):
            assert any(name.startswith(chart_id) and name.endswith(f".{fmt}") for name in names), (chart_id, fmt)
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["k"] == 10 and manifest["classification"] == CLASSIFICATION
    assert manifest["filters"].startswith("Countries: BEL, DEU, FRA")
    assert manifest["data_freshness"].startswith("Incidents up to 29 Apr 2024")
    assert [c["chart_id"] for c in manifest["charts"]] == ["export-test-grid", "export-test-total"]
    assert CLASSIFICATION in archive.read("README.txt").decode()
    png = next(name for name in names if name.endswith(".png"))
    assert archive.read(png).startswith(b"\x89PNG")
    rows = auth_context(app.server).audit.recent(1, {"event": "export"})
    assert rows[0].detail["chart"] == "pack:export-test" and rows[0].detail["format"] == "zip"


def test_csv_exports_neutralise_cells_a_spreadsheet_would_run_as_formulas():
    from dashboards.exports.marking import Marking, csv_bytes

    frame = pd.DataFrame(
        {
            "platform": ['=HYPERLINK("http://x","a")', "+cmd", "-2+3", "@SUM(A1)", "\tTab", "ChatApp", None],
            "change": [-0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )
    marking = Marking(
        title="t",
        subtitle="",
        source="s",
        filters="f",
        freshness="",
        rule="r",
        note="",
        generated_at="2026-01-01T00:00:00Z",
    )
    rows = [line for line in csv_bytes(frame, marking).decode().splitlines() if not line.startswith("#")]
    cells = list(csv.DictReader(io.StringIO("\n".join(rows))))
    assert [c["platform"] for c in cells[:5]] == [
        '\'=HYPERLINK("http://x","a")',
        "'+cmd",
        "'-2+3",
        "'@SUM(A1)",
        "'\tTab",
    ]
    assert cells[5]["platform"] == "ChatApp" and cells[6]["platform"] == ""
    assert cells[0]["change"] == "-0.5"  # numbers are not text: left alone
