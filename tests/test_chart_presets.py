"""Every chart of the catalogue, at every preset, looked at as rendered: what lands on a slide or a report page.

A small simulated warehouse (the real simulator, ETL and analysis; every EU country, two years) gives each
chart real data with real change points and real suppressed cells. For every chart and preset the export is
rendered through Chromium (kaleido) and its SVG measured in Chromium (`rendered_text`):
- no two texts overlap and none leaves the image;
- every text is at least the preset's smallest size (≥ 14 pt on a slide) and passes WCAG AA contrast;
- the title names what is shown and for whom (not a bare page or card name);
- no interaction hint ("click", "hover", …) appears.
The same checks run for a user scoped to Malta (small states are the normal case) at slide size. The README's
showcase exports are golden images (`tests/golden.py`; `GRACE_UPDATE_GOLDEN=1` rewrites them).
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from builders import simulated_warehouse
from golden import assert_matches_golden
from PIL import Image
from plotly.utils import PlotlyJSONEncoder
from rendered_text import contrast_problems, outside, overlaps, text_boxes

from dashboards.catalogue import all_charts
from dashboards.charts import Chart
from dashboards.exports.build import PreparedChart, prepare
from dashboards.exports.presets import PRESETS, SLIDE, SLIDE_MIN_PT
from dashboards.exports.renderer import renderer
from dashboards.exports.static import static_figure
from dashboards.state import ViewState
from dashboards.titles import scope_label
from grace.scope import Scope
from warehouse import WarehouseReader

REPO = Path(__file__).resolve().parents[1]
SHOWCASE = REPO / "docs" / "images"
FOUR_COUNTRIES = "country=DEU&country=ESP&country=FRA&country=ITA"
# The view each chart is looked at in: the one a briefing would use.
VIEWS = {
    "trends-explorer": f"{FOUR_COUNTRIES}&split=country",
    "overview-monthly-referrals": FOUR_COUNTRIES,
    "alerts-series": "series=referrals|month|country|DEU",
}
HINT = re.compile(r"\b(click|hover|drag|double-click|select a|zoom|toggle)\b", re.IGNORECASE)
# Card titles that say nothing on their own on a slide.
GENERIC = {"trend", "monthly trend", "overview", "trends", "forecasts", "alerts", "dissemination", "production"}
FIXED_FRESHNESS = "Incidents up to 31 Dec 2024 · loaded by the test's ETL run"
FIXED_NOW = datetime(2026, 12, 6, tzinfo=UTC)


@pytest.fixture(scope="module")
def reader(tmp_path_factory):
    from analytics.warehouse_run import run_analysis

    path = simulated_warehouse(tmp_path_factory.mktemp("presets"), scale=0.003)
    run_analysis(path, metrics=["referrals"], grains=["month"])
    return WarehouseReader(path, idle_seconds=60)


def view_of(chart: Chart) -> ViewState:
    return ViewState.from_query(VIEWS.get(chart.chart_id, ""))


def malta() -> ViewState:
    return ViewState().within(Scope.of_countries(["MLT"]))


def render(prepared: PreparedChart) -> tuple[bytes, bytes]:
    """(PNG, SVG) of a prepared chart's static figure."""
    figure = prepared.figure()
    size = {"width": figure.layout.width, "height": figure.layout.height}
    png = renderer().render(figure, "png", scale=prepared.preset.scale, **size)
    return png, renderer().render(figure, "svg", **size)


def check_rendering(prepared: PreparedChart, png: bytes, svg: bytes) -> None:
    """Everything a static chart must be, checked on what Chromium drew."""
    preset = prepared.preset
    where = f"{prepared.chart.chart_id} at {preset.name}"
    assert Image.open(io.BytesIO(png)).size == preset.png_size, where
    boxes = text_boxes(svg)
    assert boxes, where
    collisions = [(a.text, b.text) for a, b in overlaps(boxes)]
    assert not collisions, f"{where}: texts overlap: {collisions}"
    beyond = [box.text for box in outside(boxes, preset.width_px, preset.height_px)]
    assert not beyond, f"{where}: texts leave the image: {beyond}"
    smallest = preset.px(preset.smallest_pt) - 0.05
    tiny = [(box.text, round(box.font_size, 1)) for box in boxes if box.font_size < smallest]
    assert not tiny, f"{where}: texts below {preset.smallest_pt} pt: {tiny}"
    faint = [(problem.box.text, round(problem.ratio, 2)) for problem in contrast_problems(boxes)]
    assert not faint, f"{where}: texts below WCAG AA contrast: {faint}"
    drawn = " ".join(box.text for box in boxes)
    assert not HINT.search(drawn), f"{where}: an interaction hint in a static export: {HINT.search(drawn)}"
    title = prepared.marking.title
    assert title.lower() not in GENERIC and prepared.chart.title != title, where
    assert title.endswith(f" — {scope_label(prepared.state)}"), f"{where}: {title!r} does not name its scope"
    assert title.split(" — ")[0].replace("\n", " ") in drawn.replace("\n", " "), f"{where}: title not drawn"


def test_every_registered_chart_has_a_specific_headline():
    vague = [chart.chart_id for chart in all_charts() if not chart.headline]
    assert not vague, f"charts without a headline for static exports: {vague}"


@pytest.mark.parametrize("preset", list(PRESETS))
@pytest.mark.parametrize("chart", all_charts(), ids=lambda chart: chart.chart_id)
def test_every_chart_renders_clean_at_every_preset(reader, chart, preset):
    prepared = prepare(chart, reader, view_of(chart), preset=preset, fresh=FIXED_FRESHNESS)
    check_rendering(prepared, *render(prepared))


@pytest.mark.parametrize("chart", [c for c in all_charts() if not c.eu_wide], ids=lambda chart: chart.chart_id)
def test_every_chart_renders_clean_for_a_user_scoped_to_malta(reader, chart):
    view = malta() if chart.chart_id != "alerts-series" else ViewState(series="referrals|month|country|MLT")
    prepared = prepare(chart, reader, view.within(malta().scope), preset="slide", fresh=FIXED_FRESHNESS)
    assert "Malta" in prepared.marking.title
    check_rendering(prepared, *render(prepared))


@pytest.mark.parametrize("chart", all_charts(), ids=lambda chart: chart.chart_id)
def test_every_chart_on_its_page_passes_wcag_aa_contrast(reader, chart):
    state = view_of(chart)
    figure = chart.figure(chart.data(reader, state), state)
    faint = contrast_problems(text_boxes(renderer().render(figure, "svg", width=1200, height=560)))
    assert not faint, [(problem.box.text, round(problem.ratio, 2)) for problem in faint]


@pytest.mark.parametrize("chart", all_charts(), ids=lambda chart: chart.chart_id)
def test_every_chart_builds_the_same_figure_with_or_without_plotlys_checks(reader, chart, monkeypatch):
    """Serving skips Plotly's per-value checks (dashboards/figures/traces.py); they must change nothing."""
    state = view_of(chart)
    data = chart.data(reader, state)
    built = {}
    for checks in ("1", "0"):
        monkeypatch.setenv("GRACE_FIGURE_CHECKS", checks)
        built[checks] = json.dumps(chart.figure(data, state).to_plotly_json(), cls=PlotlyJSONEncoder, sort_keys=True)
    assert built["0"] == built["1"]


@pytest.mark.parametrize("chart", all_charts(), ids=lambda c: c.chart_id)
def test_every_chart_draws_only_trace_types_whose_styles_its_template_keeps(reader, chart):
    """The figures carry Plotly's default template trimmed to `TRACE_TYPES` (traces.py): a trace of another
    type would lose its default styles; the layout part is Plotly's own."""
    import plotly.io as pio

    from dashboards.figures.traces import TEMPLATE, TRACE_TYPES

    for state in (view_of(chart), malta()):
        figure = chart.figure(chart.data(reader, state), state).to_plotly_json()
        assert {trace.get("type", "scatter") for trace in figure["data"]} <= set(TRACE_TYPES), chart.chart_id
        assert figure["layout"]["template"] == TEMPLATE
    assert TEMPLATE["layout"] == pio.templates["plotly"].to_plotly_json()["layout"]


def test_slide_type_is_at_least_14_points_and_the_slide_is_1920_by_1080():
    assert SLIDE.png_size == (1920, 1080) and SLIDE.smallest_pt >= SLIDE_MIN_PT
    assert all(preset.smallest_pt >= 8 for preset in PRESETS.values())


def test_change_points_are_coloured_like_their_series_and_listed_under_the_exported_chart(reader):
    chart = next(c for c in all_charts() if c.chart_id == "trends-explorer")
    state = view_of(chart)
    page = chart.figure(chart.data(reader, state), state)
    breaks = [shape for shape in page.layout.shapes if shape.name == "changepoint"]
    assert breaks, "the test warehouse should have change points for the four countries"
    line_colours = {trace.name: trace.line.color for trace in page.data if trace.name in state.country}
    listed = page.layout.meta["caption"]["items"]
    assert {colour for colour, _ in listed} <= set(line_colours.values())
    for colour, text in listed:  # each item starts with its series, coloured like the series' line
        assert line_colours[text.split()[0]] == colour
    static = prepare(chart, reader, state, preset="slide", fresh=FIXED_FRESHNESS).figure()
    texts = " ".join(a.text for a in static.layout.annotations)
    assert "Change points:" in texts and not any(
        str(a.name or "").startswith("page-only") for a in static.layout.annotations
    )


def test_more_than_four_lines_get_line_styles_and_direct_labels(reader):
    chart = next(c for c in all_charts() if c.chart_id == "trends-explorer")
    state = ViewState.from_query(f"{FOUR_COUNTRIES}&country=POL&country=NLD&split=country")
    prepared = prepare(chart, reader, state, preset="slide", fresh=FIXED_FRESHNESS)
    figure = prepared.figure()
    lines = [trace for trace in figure.data if trace.name in state.country]
    assert len({trace.line.dash for trace in lines}) == len(lines) == 6
    labels = {a.text for a in figure.layout.annotations if a.xref == "x" and a.yref == "y"}
    assert labels == set(state.country)
    assert not any(trace.showlegend is not False for trace in lines)  # the labels replace the legend
    check_rendering(prepared, *render(prepared))


@pytest.mark.parametrize(
    ("name", "chart_id", "query"),
    [
        ("trends-by-country-slide", "trends-explorer", f"{FOUR_COUNTRIES}&split=country"),
        ("map-per-100k-slide", "dissemination-map", ""),
    ],
)
def test_the_readme_showcase_exports_match_their_golden_images(reader, name, chart_id, query):
    chart = next(c for c in all_charts() if c.chart_id == chart_id)
    state = ViewState.from_query(query)
    prepared = prepare(chart, reader, state, preset="slide", fresh=FIXED_FRESHNESS, now=FIXED_NOW)
    png, _ = render(prepared)
    assert_matches_golden(png, SHOWCASE / f"{name}.png")


def test_a_static_figure_keeps_the_classification_at_top_and_bottom_for_every_preset(reader):
    chart = next(c for c in all_charts() if c.chart_id == "overview-monthly-referrals")
    for preset in PRESETS.values():
        prepared = prepare(chart, reader, ViewState(), preset=preset, fresh=FIXED_FRESHNESS)
        figure = static_figure(chart.figure(prepared.data, prepared.state), prepared.marking, preset)
        marks = [a for a in figure.layout.annotations if "RESTRICTED" in a.text]
        assert len(marks) == 2 and figure.layout.width == preset.width_px, preset.name


def test_many_change_points_on_the_page_get_labels_that_never_overlap():
    """The case that started it: four countries, fourteen breaks, several on the same or adjacent months."""
    import pandas as pd

    from dashboards.figures.trends import trend_figure

    months = pd.date_range("2022-01-01", "2024-12-01", freq="MS")
    countries = ["DEU", "ESP", "FRA", "ITA"]
    frame = pd.DataFrame(
        [(m, 100 + 10 * i + (m.month % 5), c) for i, c in enumerate(countries) for m in months],
        columns=["ds", "y", "entity"],
    )
    breaks = [("DEU", "2023-03-01"), ("ESP", "2023-03-01"), ("FRA", "2023-03-01"), ("ITA", "2023-04-01")]
    breaks += [("DEU", "2023-05-01"), ("ESP", "2023-06-01"), ("FRA", "2023-06-01"), ("ITA", "2023-07-01")]
    breaks += [("DEU", "2024-01-01"), ("ESP", "2024-02-01"), ("FRA", "2024-02-01"), ("ITA", "2024-03-01")]
    breaks += [("DEU", "2022-06-01"), ("ITA", "2022-06-01")]
    events = pd.DataFrame(
        [("changepoint", entity, pd.Timestamp(day), -0.25, None) for entity, day in breaks],
        columns=["kind", "entity", "date", "relative", "after"],
    )
    figure = trend_figure(frame, "Referrals", entities=countries, events=events, split_label="Country")
    figure.update_layout(width=1200, height=520)
    labels = [a for a in figure.layout.annotations if str(a.name).startswith("page-only")]
    assert len(labels) == len({day for _, day in breaks})  # one label per date, merged
    colours = {trace.name: trace.line.color for trace in figure.data}
    for shape, (entity, _) in zip(figure.layout.shapes, sorted(breaks, key=lambda b: (b[1], countries.index(b[0])))):
        assert shape.line.color == colours[entity]
    boxes = text_boxes(renderer().render(figure, "svg", width=1200, height=520))
    assert not overlaps(boxes), [(a.text, b.text) for a, b in overlaps(boxes)]
    assert not contrast_problems(boxes)


def test_grace_export_writes_a_chart_and_a_pack_for_a_preset_and_audits_them(reader, tmp_path):
    from click.testing import CliRunner

    from dashboards.auth.audit import AuditLog
    from grace_cli import cli

    runner = CliRunner()
    listed = runner.invoke(cli, ["export", "--list", "--warehouse", str(reader.path)])
    assert listed.exit_code == 0 and all(chart.chart_id in listed.output for chart in all_charts())
    out = tmp_path / "deck"
    args = ["--warehouse", str(reader.path), "--out", f"{out}/"]
    chart = runner.invoke(cli, ["export", "trends-explorer", "--view", f"{FOUR_COUNTRIES}&split=country", *args])
    assert chart.exit_code == 0, chart.output
    png = next(out.glob("trends-explorer_*_slide.png"))
    assert Image.open(png).size == (1920, 1080)
    pack = runner.invoke(cli, ["export", "--page", "overview", "--preset", "a4", "--scope", "MLT", *args])
    assert pack.exit_code == 0 and "Countries: MLT" in pack.output
    events = AuditLog().recent(filters={"event": "export"})
    assert [e.detail["chart"] for e in events] == ["pack:overview", "trends-explorer"]
    assert events[0].detail["preset"] == "a4" and events[0].user.startswith("cli:")
    unknown = runner.invoke(cli, ["export", "no-such-chart", *args])
    assert unknown.exit_code != 0 and "grace export --list" in unknown.output
