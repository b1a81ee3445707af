"""Specific titles for static charts: what is shown (metric, grain) and for whom (the countries).

A chart on a page sits under its page's heading and filter bar; an exported copy stands alone on a
slide or a report page, so its title must say all of it: "Referrals per month — Germany, France,
Italy, Spain". The filters go in the subtitle (`ViewState.filters_text`). Plain Python, no Dash.
"""

from __future__ import annotations

from dashboards.charts import Chart
from dashboards.state import ViewState
from grace.vocabulary import SeriesId, metric_title
from warehouse.reference import EU27

COUNTRY_NAMES = {iso3: name for iso3, _, name in EU27}
NAMED_COUNTRIES = 4  # beyond this many, the title names the first ones and counts the rest
GRAIN_WORDS = {"day": "day", "week": "week", "month": "month", "quarter": "quarter", "year": "year"}


def country_name(iso3: str) -> str:
    """'DEU' → 'Germany'; a code outside the EU-27 stays a code."""
    return COUNTRY_NAMES.get(iso3, iso3)


def scope_label(state: ViewState) -> str:
    """The countries a view covers, in words: 'EU-27', 'Malta', 'Germany, France, Italy, Spain',
    'Germany, France, Italy, Spain and 3 more'. A scoped user's view names their countries; a view of one
    analysed series (`series`) names its entity."""
    series = SeriesId.parse(state.series)
    if series is not None and series.split_by == "country":
        return country_name(series.entity)
    if series is not None and series.split_by == "platform":
        return f"{series.entity}, EU-27"
    if series is not None:
        return "EU-27"
    countries = state.scope.countries_for(state.country)
    if not countries:
        return "EU-27"
    names = sorted(country_name(code) for code in countries)
    if len(names) > NAMED_COUNTRIES:
        return f"{', '.join(names[:NAMED_COUNTRIES])} and {len(names) - NAMED_COUNTRIES} more"
    return ", ".join(names)


def headline(chart: Chart, state: ViewState) -> str:
    """What the chart shows for this view, without its scope: 'Referrals per month'."""
    template = chart.headline or chart.title
    if callable(template):
        return template(state)
    return template.format(grain=GRAIN_WORDS.get(state.grain, state.grain), metric=metric_title(state.metric))


def export_title(chart: Chart, state: ViewState) -> str:
    """The title of a static copy: 'Referrals per month — Germany, France, Italy, Spain'."""
    return f"{headline(chart, state)} — {scope_label(state)}"
