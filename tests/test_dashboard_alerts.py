"""Alerts page callbacks as plain functions on a small real warehouse analysed by `run_analysis`
(referrals, monthly: EU total, countries and platforms), its figure, and its page in the app."""

from __future__ import annotations

import shutil

import dashboard_warehouse as synthetic
import pandas as pd
import pytest
from test_dashboard_trends import component, routed

from analytics.warehouse_series import load_series
from dashboards import ids
from dashboards.callbacks import alert_rows, alerts
from dashboards.figures.alerts import alert_series_figure
from dashboards.state import ViewState, ViewStateError
from warehouse import WarehouseReader, connect


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    return synthetic.build(tmp_path_factory.mktemp("alerts_plain") / "warehouse.duckdb")


@pytest.fixture(scope="module")
def analysed(plain, tmp_path_factory):
    from analytics.warehouse_run import run_analysis

    path = tmp_path_factory.mktemp("alerts_analysed") / "warehouse.duckdb"
    shutil.copy(plain, path)
    run = run_analysis(path, metrics=["referrals"], grains=["month"])
    add_anomalies(path, run.run_id)
    return path


# (series entity, date, relative change, finding score): dates, sizes and scores in different orders
EXTRA = (
    ("DEU", "2023-04-01", 0.9, 0.10),
    ("FRA", "2023-09-01", -0.5, 0.40),
    ("total", "2023-06-01", 0.2, 0.30),
    ("ITA", "2024-01-01", 0.3, None),
)


def add_anomalies(path, run_id: str) -> None:
    """The synthetic series are smooth, so the run finds few alerts; add anomalies (three of them stated
    as findings) to the same run so ordering and filtering have something to order and filter."""
    con = connect(path)
    for entity, day, relative, score in EXTRA:
        split = "none" if entity == "total" else "country"
        series_id = f"referrals|month|{split}|{entity}"
        synthetic.insert(
            con,
            "analytics_anomaly",
            f"""
            SELECT '{run_id}' AS run_id, '{series_id}' AS series_id, 'referrals' AS metric, 'month' AS grain,
                   '{split}' AS split_by, '{entity}' AS entity, DATE '{day}' AS date, 100.0 * (1 + {relative}) AS value,
                   100.0 AS expected, 100.0 * {relative} AS magnitude, {relative} AS relative,
                   '{"up" if relative > 0 else "down"}' AS direction, 5.0 AS score""",
        )
        if score is not None:
            synthetic.insert(
                con,
                "analytics_finding",
                f"""
                SELECT '{run_id}' AS run_id, 1000 + CAST(100 * {score} AS INTEGER) AS rank, {score} AS score,
                       'anomaly' AS kind, '{series_id}' AS series_id, 'referrals' AS metric, 'month' AS grain,
                       '{split}' AS split_by, '{entity}' AS entity, DATE '{day}' AS date,
                       'Synthetic anomaly {entity}' AS headline, '{{}}' AS numbers, 'anomalies_robust_z' AS detector,
                       'analytics_anomaly' AS source_table, '{{}}' AS parameters""",
            )
    synthetic.refresh_alerts(con, run_id)
    con.close()


@pytest.fixture
def reader(analysed):
    return WarehouseReader(analysed)


def stored_alerts(path) -> pd.DataFrame:
    con = connect(path, read_only=True)
    try:
        return con.execute("""
            SELECT 'anomaly' AS kind, series_id, date FROM analytics_anomaly UNION ALL
            SELECT 'changepoint', series_id, date FROM analytics_changepoint UNION ALL
            SELECT status, series_id, recent_start FROM analytics_entity_status WHERE status IN ('emerging', 'vanishing')
        """).df()
    finally:
        con.close()


# --- the view in the URL ---------------------------------------------------------------------


def test_the_page_choices_round_trip_through_the_query_string():
    view = alerts.AlertsView.from_query(
        "?kind=changepoint&kind=anomaly&metrics=files&sort=date&country=SWE"
        "&series=referrals|month|country|SWE&at=2024-03-01"
    )
    assert view.kinds == ("anomaly", "changepoint") and view.metrics == ("files",) and view.sort == "date"
    assert view.state.country == ("SWE",) and view.at == "2024-03-01"
    assert alerts.AlertsView.from_query(view.to_query()) == view
    assert alerts.AlertsView().to_query() == ""


@pytest.mark.parametrize(
    "search, message",
    [
        ("?kind=spike", "kind"),
        ("?sort=loudest", "sort"),
        ("?at=yesterday", "at"),
        ("?metrics=nonsense", "metrics"),
        ("?series=referrals|fortnight|none|total", "series"),
    ],
)
def test_an_invalid_choice_in_a_link_is_named(search, message):
    with pytest.raises(ViewStateError, match=message):
        alerts.AlertsView.from_query(search)


# --- the tables ------------------------------------------------------------------------------


def test_every_stored_alert_is_listed_once_with_a_link_to_its_chart(reader, analysed):
    found = alerts.tables(reader, alerts.AlertsView(show="all"))
    expected = stored_alerts(analysed)
    assert len(found.alerts) == len(expected) > 0
    assert {r["id"] for r in found.alerts} == {
        alert_rows.row_key(k, s, d) for k, s, d in expected.itertuples(index=False)
    }
    assert found.count.startswith(f"{len(expected):,} alert(s) match (") and found.status == ""
    assert all(r["open"].startswith("[Trend explorer](/trends?") for r in found.alerts)
    assert "Latest analysis" in found.run and "series" in found.run


def test_the_kind_filter_keeps_only_those_kinds(reader):
    found = alerts.tables(reader, alerts.AlertsView(kinds=("changepoint",)))
    assert found.alerts and {r["kind"] for r in found.alerts} == {"Change point"}


def test_alerts_sort_by_importance_date_or_magnitude(reader):
    anomalies = alerts.AlertsView(kinds=("anomaly",), show="all")
    order = [r["series"] for r in alerts.tables(reader, anomalies.with_changes(sort="date")).alerts]
    assert order == ["ITA (country)", "FRA (country)", "EU total", "DEU (country)"]
    order = [r["series"] for r in alerts.tables(reader, anomalies.with_changes(sort="magnitude")).alerts]
    assert order == ["DEU (country)", "FRA (country)", "ITA (country)", "EU total"]
    rows = alerts.tables(reader, anomalies).alerts
    assert [r["series"] for r in rows] == ["FRA (country)", "EU total", "DEU (country)", "ITA (country)"]
    assert rows[0]["headline"] == "Synthetic anomaly FRA" and rows[-1]["headline"] == ""  # ITA has no finding


def test_a_country_filter_keeps_that_countrys_alerts_and_the_period_filter_its_dates(reader):
    found = alerts.tables(reader, alerts.AlertsView(state=ViewState(country=("SWE",))))
    assert found.alerts and {r["series"] for r in found.alerts} == {"SWE (country)"}
    assert {r["series"] for r in found.findings} == {"SWE (country)"}
    everything = alerts.tables(reader, alerts.AlertsView()).alerts
    cut = sorted(r["date"] for r in everything)[len(everything) // 2]
    later = alerts.tables(reader, alerts.AlertsView(state=ViewState(start=cut))).alerts
    assert later and all(r["date"] >= cut for r in later) and len(later) < len(everything)


def test_findings_are_listed_by_rank(reader):
    findings = alerts.tables(reader, alerts.AlertsView()).findings
    assert findings and [r["rank"] for r in findings] == sorted(r["rank"] for r in findings)
    assert all(r["headline"] for r in findings)


def test_without_an_analysis_run_the_page_says_to_run_grace_analyse(plain):
    found = alerts.tables(WarehouseReader(plain), alerts.AlertsView())
    assert found.alerts == [] and found.status == alerts.NO_RUN_HINT and "grace analyse" in found.status


# --- opening a row ---------------------------------------------------------------------------


def test_clicking_a_row_draws_its_series_with_the_alert_ringed(reader, analysed):
    row = next(
        r
        for r in alerts.tables(reader, alerts.AlertsView(kinds=("changepoint",), show="all")).alerts
        if r["series"] == "SWE (country)"
    )
    view = alerts.select(alerts.AlertsView(), row["id"])
    assert view.state.series == "referrals|month|country|SWE" and view.at == row["date"]
    drawn = alerts.draw_series(reader, view)
    con = connect(analysed, read_only=True)
    values = load_series(con, "referrals", "month", filters={"country": ["SWE"]})
    con.close()
    observed = drawn.figure.data[0]
    assert observed.name == "Observed" and list(observed.y) == values["y"].tolist()
    ring = [t for t in drawn.figure.data if t.name == "Selected alert"]
    assert ring and list(ring[0].x) == [row["date"]]
    assert any(shape.line.dash == "dash" for shape in drawn.figure.layout.shapes)  # the change point
    assert drawn.link.startswith("/trends?country=SWE&") and "series=referrals" in drawn.link
    assert "start=" in drawn.link and "end=" in drawn.link


def test_nothing_selected_asks_for_a_click_and_a_bad_row_id_changes_nothing(reader):
    drawn = alerts.draw_series(reader, alerts.AlertsView())
    assert drawn.link == "" and "No alert selected" in drawn.figure.layout.annotations[0].text
    assert alerts.select(alerts.AlertsView(), "not-a-row") == alerts.AlertsView()


def test_the_trend_link_frames_the_date_and_filters_to_the_entity():
    link = alert_rows.trend_link("files|week|platform|Photo Share", "2024-03-04")
    state = ViewState.from_query(link.split("?", 1)[1])
    assert state.metric == "files" and state.grain == "week" and state.platform == ("Photo Share",)
    assert state.start == "2023-09-04" and state.end == "2024-09-02"  # 26 weeks either side


def test_the_series_figure_marks_spikes_and_dips_apart():
    frame = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=4, freq="MS"), "y": [10.0, 30.0, 2.0, 11.0]})
    events = pd.DataFrame(
        {
            "kind": ["anomaly", "anomaly"],
            "entity": "total",
            "date": frame["ds"][1:3].tolist(),
            "direction": ["up", "down"],
            "before": [10.0, 10.0],
            "after": [30.0, 2.0],
            "relative": [2.0, -0.8],
            "strength": [5.0, -4.0],
        }
    )
    figure = alert_series_figure(frame, events, pd.DataFrame(columns=["kind", "date"]))
    names = [t.name for t in figure.data]
    assert names == ["Observed", "Anomaly (spike)", "Anomaly (dip)"]
    assert {t.marker.symbol for t in figure.data[1:]} == {"x"}


# --- the page in the app ---------------------------------------------------------------------


def test_a_shared_link_restores_the_filters_order_and_selection(analysed):
    from dashboards.app_factory import create_app
    from dashboards.auth.testing import signed_in_client

    app = create_app(analysed)
    client = signed_in_client(app, "alerts-analyst", "analyst")
    search = (
        "?kind=anomaly&metrics=referrals&sort=magnitude&country=SWE&series=referrals|month|country|SWE&at=2024-03-01"
    )
    layout = routed(client, "/alerts", search)
    assert component(layout, ids.ALERTS_KIND)["value"] == ["anomaly"]
    assert component(layout, ids.ALERTS_METRICS)["value"] == ["referrals"]
    assert component(layout, ids.ALERTS_SORT)["value"] == "magnitude"
    assert component(layout, ids.filter_control("alerts", "country"))["value"] == ["SWE"]
    assert component(layout, ids.ALERTS_STATE)["data"] == alerts.AlertsView.from_query(search).to_query()
    assert "This link cannot be shown" in routed(client, "/alerts", "?sort=loudest")


def odd_alerts(n: int = 120) -> pd.DataFrame:
    """Alerts across every grain, split and odd date (a 29 February, ISO week 53, a year's first day, none)."""
    days = [
        pd.Timestamp("2024-02-29"),
        pd.Timestamp("2020-12-31"),
        pd.Timestamp("2021-01-03"),
        pd.Timestamp("2023-01-01"),
        None,
    ]
    grains = ["day", "week", "month", "quarter", "year"]
    series = [("none", "total"), ("country", "DEU"), ("platform", "Photo Share"), ("country", "MLT")]
    rows = []
    for i in range(n):
        grain, (split, entity) = grains[i % 5], series[i % 4]
        metric = ["referrals", "files", "not_a_metric"][i % 3]
        rows.append(
            {
                "kind": ["anomaly", "changepoint", "drift"][i % 3],
                "subject": "feature_x" if i % 3 == 2 else None,
                "series_id": f"{metric}|{grain}|{split}|{entity}",
                "date": days[i % 5],
                "end_date": days[(i + 1) % 5],
                "metric": metric,
                "grain": grain,
                "split_by": split,
                "entity": entity,
                "direction": "up" if i % 2 else "down",
                "before": [1.5, float("nan"), float("inf"), None][i % 4],
                "after": float(i),
                "relative": [-3.0, 0.25, None][i % 3],
                "strength": 1.0,
                "importance": float(i % 7),
                "finding_rank": [None, 3.0][i % 2],
                "rank": i + 1,
                "score": 0.5,
                "headline": ["h", None][i % 2],
                "is_new": [True, False, None][i % 3],
                "alert_key": f"k{i}",
            }
        )
    return pd.DataFrame(rows)


def test_table_rows_built_from_whole_columns_match_the_single_row_helpers():
    frame = odd_alerts()
    rows = alerts.alert_rows(frame, {"k1": "acknowledged", "k2": "dismissed"})
    for row, a in zip(rows, frame.itertuples(index=False), strict=True):
        kind = f"{a.kind}:{a.subject}" if isinstance(a.subject, str) else a.kind
        assert row["id"] == alert_rows.row_key(kind, a.series_id, a.date)
        assert row["period"] == alert_rows.date_text(a.date, a.grain)
        assert row["open"] == f"[Trend explorer]({alert_rows.trend_link(a.series_id, a.date)})"
        assert row["series"] == alert_rows.series_label(a.split_by, a.entity)
        assert row["date"] == ("" if a.date is None or pd.isna(a.date) else pd.Timestamp(a.date).date().isoformat())
        for name in ("before", "after", "relative", "strength", "importance", "rank"):
            assert row[name] is None or type(row[name]) in (float, int), (name, row[name])
        assert row["new"] == ("New" if a.is_new is True else "")
    assert rows[0]["before"] == 1.5 and rows[1]["before"] is None and rows[2]["before"] is None
    assert rows[0]["relative"] == -1.0  # a fall is at most 100 %
    assert [r["review"] for r in rows[:3]] == ["", "Acknowledged", "Dismissed"]
    findings = alerts.finding_rows(frame)
    for row, f in zip(findings, frame.itertuples(index=False), strict=True):
        when = f.date if f.date is not None and not pd.isna(f.date) else f.end_date
        assert row["id"] == alert_rows.row_key(f.kind, f.series_id, when)
        assert row["open"] == f"[Trend explorer]({alert_rows.trend_link(f.series_id, when)})"
        assert row["period"] == alert_rows.date_text(when, f.grain)
        assert row["rank"] == f.rank and type(row["rank"]) is int
    assert alerts.alert_rows(frame.head(0)) == [] and alerts.finding_rows(frame.head(0)) == []
