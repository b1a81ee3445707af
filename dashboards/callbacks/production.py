"""Production & consumption page: what its callbacks compute, as plain functions of a `WarehouseReader`.

Six charts (registered, so the export routes rebuild them from the URL alone), each made of
metrics of `analytics.warehouse_series.METRICS` read with `load_series` from the rollups and the
distinct-count mart (never the fact tables; two metrics of one rollup in one query with
`load_series_group`), for the global filters (country, platform, period) at the page's grain:
- new vs known material: `new_media_clusters` against `known_files` (with all `files`);
- new vs known material, measured perceptually: `perceptually_new_files` and
  `perceptually_known_files` (adding up to all files) and `perceptually_new_share`;
- near-duplicate variants: `perceptually_new_files` and `near_duplicate_variants` (adding up to
  every new exact file variant) and `variants_per_new_item`;
- self-generated and generative-AI shares: `self_generated_share`, `generative_ai_share`;
- distinct accounts: `reported_accounts` (distinct per period) and `new_reported_accounts`;
- repeat reporting: `new_reported_accounts` and `repeat_referrals` over referrals with an account
  (`repeat_reporting_share`).

Distinct counts exist per country or per platform, not per combination: several countries (or
platforms) become one line each; a country *and* a platform filter together cannot be answered
and the chart says so. Clicking a point zooms the page to its period; clicking a line of the
split accounts chart filters by its country or platform.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import pandas as pd

from analytics.warehouse_series import SeriesRequestError, load_series, load_series_group
from dashboards.callbacks.common import PERIOD_GRAINS, ChartView, PageTexts, grain_of
from dashboards.charts import Chart, ChartData, register_chart, render
from dashboards.figures import empty_figure
from dashboards.figures.production import (
    accounts_figure,
    material_figure,
    perceptual_material_figure,
    repeat_figure,
    shares_figure,
    variants_figure,
)
from dashboards.state import ViewState, ViewStateError
from grace.errors import WarehouseError
from grace.vocabulary import TOTAL
from warehouse import WarehouseReader

PAGE = "/production"
GRAINS = PERIOD_GRAINS
FILE_SOURCE = "GRACE warehouse, daily file rollup via analytics.warehouse_series"
PERCEPTUAL_SOURCE = "GRACE warehouse, daily perceptual-matching rollup via analytics.warehouse_series"
ACCOUNT_SOURCE = "GRACE warehouse, distinct-count mart and daily referral rollup via analytics.warehouse_series"
PERIOD_CODES = {"week": "W-SUN", "month": "M", "quarter": "Q", "year": "Y"}
DIMENSION_LABELS = {"country": "Country", "platform": "Platform"}


class ProductionViewError(ViewStateError, ValueError):
    """A view this page cannot answer (e.g. distinct accounts for a country and a platform at once)."""


# --- state -----------------------------------------------------------------------------------


def _filters(state: ViewState) -> dict[str, list[str]]:
    """The global filters every metric of the page takes (country, platform)."""
    return {key: list(getattr(state, key)) for key in ("country", "platform") if getattr(state, key)}


def period_start(day: Any, grain: str) -> pd.Timestamp:
    """The first day of the `grain` period holding `day`."""
    return pd.Timestamp(day).to_period(PERIOD_CODES[grain]).to_timestamp()


def period_end(start: Any, grain: str) -> pd.Timestamp:
    """The last day of the `grain` period starting on `start`."""
    return pd.Timestamp(start).to_period(PERIOD_CODES[grain]).end_time.normalize()


def in_period(frame: pd.DataFrame, state: ViewState) -> pd.DataFrame:
    """Periods that overlap the view's start..end (whole periods: a period is never cut)."""
    keep = pd.Series(True, index=frame.index)
    if state.start:
        keep &= frame["ds"] >= period_start(state.start, state.grain)
    if state.end:
        keep &= frame["ds"] <= pd.Timestamp(state.end)
    return frame[keep].reset_index(drop=True)


def _series(con, state: ViewState, metric: str, split: str | None = None, filters: dict | None = None) -> pd.DataFrame:
    """One metric for the view: ds, entity, y, numerator, denominator (within the period)."""
    frame = load_series(
        con, metric, grain_of(state), filters=_filters(state) if filters is None else filters, split=split, parts=True
    )
    if "entity" not in frame.columns:
        frame = frame.assign(entity=TOTAL)
    return in_period(frame, state)


def _series_of(con, state: ViewState, *metrics: str) -> list[pd.DataFrame]:
    """Several metrics of one rollup for the view, read in one query: one frame per metric, as `_series`."""
    frames = load_series_group(con, metrics, grain_of(state), filters=_filters(state))
    return [in_period(frames[name].assign(entity=TOTAL), state) for name in metrics]


def _open(reader: WarehouseReader):
    return reader.cursor()


# --- charts ----------------------------------------------------------------------------------


def material_data(reader: WarehouseReader, state: ViewState) -> ChartData:
    """New media clusters, files of known material and all files per period."""
    with _open(reader) as con:
        new, known = _series_of(con, state, "new_media_clusters", "known_material_share")
    frame = (
        pd.DataFrame({"ds": new["ds"], "new_media_clusters": new["numerator"]})
        .merge(
            known[["ds", "numerator", "denominator"]].rename(
                columns={"numerator": "known_files", "denominator": "files"}
            ),
            on="ds",
            how="outer",
        )
        .fillna(0)
        .sort_values("ds", kind="stable")
        .reset_index(drop=True)
    )
    frame[["new_media_clusters", "known_files", "files"]] = frame[
        ["new_media_clusters", "known_files", "files"]
    ].astype("int64")
    return ChartData(
        frame=frame,
        count_columns=("new_media_clusters", "known_files", "files"),
        cell_columns=("ds",),
        subtitle=f"New media clusters and files of known material per {state.grain} ({state.filters_text()})",
        note=(
            "New: a media cluster (files with the same MD5 or SHA1) seen for the first time anywhere. Known: "
            "files matching an imported hash set."
        ),
        hint="Click a point to zoom into its period.",
    )


def shares_data(reader: WarehouseReader, state: ViewState) -> ChartData:
    """Files flagged self-generated and generative-AI, and their shares of all files, per period."""
    with _open(reader) as con:
        self_generated, generative = _series_of(con, state, "self_generated_share", "generative_ai_share")
    frame = pd.DataFrame(
        {
            "ds": self_generated["ds"],
            "files": self_generated["denominator"],
            "self_generated": self_generated["numerator"],
        }
    ).merge(generative[["ds", "numerator"]].rename(columns={"numerator": "generative_ai"}), on="ds", how="outer")
    frame = frame.fillna(0).sort_values("ds", kind="stable").reset_index(drop=True)
    frame[["files", "self_generated", "generative_ai"]] = frame[["files", "self_generated", "generative_ai"]].astype(
        "int64"
    )
    files = frame["files"].where(frame["files"] > 0)
    frame["self_generated_share"] = (frame["self_generated"] / files).fillna(0.0)
    frame["generative_ai_share"] = (frame["generative_ai"] / files).fillna(0.0)
    return ChartData(
        frame=frame,
        count_columns=("files", "self_generated", "generative_ai"),
        cell_columns=("ds",),
        subtitle=f"Share of files flagged self-generated or generative AI per {state.grain} ({state.filters_text()})",
        note=(
            "Flags come from the providers' file annotations; a file may carry both. A period without files shows 0 %."
        ),
        hint="Click a point to zoom into its period.",
    )


def perceptual_material_data(reader: WarehouseReader, state: ViewState) -> ChartData:
    """Files of perceptually new material and of material seen before, and the new share, per period."""
    with _open(reader) as con:
        share = _series(con, state, "perceptually_new_share")
    frame = pd.DataFrame(
        {"ds": share["ds"], "perceptually_new_files": share["numerator"], "files": share["denominator"]}
    ).astype({"perceptually_new_files": "int64", "files": "int64"})
    frame["perceptually_known_files"] = frame["files"] - frame["perceptually_new_files"]
    frame["perceptually_new_share"] = share["y"].to_numpy()
    frame = frame[["ds", "perceptually_new_files", "perceptually_known_files", "files", "perceptually_new_share"]]
    return ChartData(
        frame=frame,
        count_columns=("perceptually_new_files", "perceptually_known_files", "files"),
        cell_columns=("ds",),
        subtitle=f"Files of new material and of material seen before, near-duplicates counted as the same "
        f"material, per {state.grain} ({state.filters_text()})",
        note=(
            "New: the file is the first sighting of its perceptual cluster (files whose PDQ hashes are within "
            "31 bits of each other, across exact MD5/SHA1 variants). Seen before: every other file. A period "
            "without files shows 0 %."
        ),
        hint="Click a bar to zoom into its period.",
    )


def variants_data(reader: WarehouseReader, state: ViewState) -> ChartData:
    """New material, new near-duplicate variants of material seen before, and variants per new item, per period."""
    with _open(reader) as con:
        ratio, variants = _series_of(con, state, "variants_per_new_item", "near_duplicate_variants")
    frame = pd.DataFrame(
        {"ds": ratio["ds"], "perceptually_new_files": ratio["denominator"], "variants_per_new_item": ratio["y"]}
    ).merge(
        variants[["ds", "numerator"]].rename(columns={"numerator": "near_duplicate_variants"}), on="ds", how="outer"
    )
    frame = frame.fillna(0).sort_values("ds", kind="stable").reset_index(drop=True)
    counts = ["perceptually_new_files", "near_duplicate_variants"]
    frame[counts] = frame[counts].astype("int64")
    frame = frame[["ds", *counts, "variants_per_new_item"]]
    return ChartData(
        frame=frame,
        count_columns=tuple(counts),
        cell_columns=("ds",),
        subtitle=f"First sightings of new material and of new variants of material seen before per {state.grain} "
        f"({state.filters_text()})",
        note=(
            "A variant is a new exact file (new MD5/SHA1) whose PDQ hash is a near-duplicate of material seen "
            "before. Variants per new item = (new material + new variants) / new material in the same period; "
            "the variants need not be of that period's new items. 0 where a period has no new material."
        ),
        hint="Click a bar to zoom into its period.",
    )


def accounts_split(state: ViewState) -> str | None:
    """How distinct accounts are drawn for the view: None (one series) or the dimension split by.

    Distinct counts are materialised for the EU total, per country and per platform: several
    countries (or platforms) are drawn one line each; a country and a platform filter together
    cannot be answered (`ProductionViewError`).
    """
    if state.country and state.platform:
        raise ProductionViewError(
            "Distinct accounts are counted per country or per platform, not per country and "
            "platform together: clear the country or the platform filter to see them."
        )
    if len(state.country) > 1:
        return "country"
    if len(state.platform) > 1:
        return "platform"
    return None


def accounts_data(reader: WarehouseReader, state: ViewState) -> ChartData:
    """Distinct accounts reported per period (per entity when split) and first-time accounts (unsplit)."""
    split = accounts_split(state)
    with _open(reader) as con:
        distinct = _series(con, state, "reported_accounts", split=split)
        frame = distinct[["ds", "entity", "numerator"]].rename(columns={"numerator": "reported_accounts"})
        if split is None:
            new = _series(con, state, "new_reported_accounts")
            frame = frame.merge(
                new[["ds", "numerator"]].rename(columns={"numerator": "new_reported_accounts"}), on="ds", how="left"
            ).fillna({"new_reported_accounts": 0})
    counts = ("reported_accounts",) + (("new_reported_accounts",) if split is None else ())
    frame[list(counts)] = frame[list(counts)].astype("int64")
    frame = frame.sort_values(["entity", "ds"], kind="stable").reset_index(drop=True)
    if split:
        subtitle = f"Distinct accounts reported per {state.grain}, one line per {split} ({state.filters_text()})"
        note = (
            "Distinct accounts do not add up across countries or platforms (one account can appear in "
            f"several), so each {split} is drawn on its own."
        )
        hint = f"Click a line to filter by its {split}."
    else:
        subtitle = f"Distinct pseudonymous accounts and first-time accounts per {state.grain} ({state.filters_text()})"
        note = (
            "An account is counted once per period however many referrals name it; first-time accounts are "
            "those reported for the first time ever."
        )
        hint = "Click a point to zoom into its period."
    return ChartData(
        frame=frame, count_columns=counts, cell_columns=("ds", "entity"), subtitle=subtitle, note=note, hint=hint
    )


def repeat_data(reader: WarehouseReader, state: ViewState) -> ChartData:
    """Referrals with an account pseudonym: first reports, repeat reports and the repeat share."""
    with _open(reader) as con:
        share, first = _series_of(con, state, "repeat_reporting_share", "new_reported_accounts")
    frame = pd.DataFrame(
        {"ds": share["ds"], "referrals_with_account": share["denominator"], "repeat_reports": share["numerator"]}
    ).merge(first[["ds", "numerator"]].rename(columns={"numerator": "first_reports"}), on="ds", how="outer")
    frame = frame.fillna(0).sort_values("ds", kind="stable").reset_index(drop=True)
    counts = ["referrals_with_account", "first_reports", "repeat_reports"]
    frame[counts] = frame[counts].astype("int64")
    with_account = frame["referrals_with_account"].where(frame["referrals_with_account"] > 0)
    frame["repeat_share"] = (frame["repeat_reports"] / with_account).fillna(0.0)
    frame = frame[["ds", *counts, "repeat_share"]]
    return ChartData(
        frame=frame,
        count_columns=tuple(counts),
        cell_columns=("ds",),
        subtitle=f"Referrals naming an account: first reports and repeat reports per {state.grain} "
        f"({state.filters_text()})",
        note=(
            "A repeat report names an account already reported on an earlier referral (earlier incident date). "
            "Referrals without an account pseudonym are left out."
        ),
        hint="Click a bar to zoom into its period.",
    )


def accounts_headline(state: ViewState) -> str:
    """'Distinct accounts reported per month, by country' (the split the view asks for)."""
    split = accounts_split(state)
    return f"Distinct accounts reported per {state.grain}" + (f", by {split}" if split else "")


MATERIAL_CHART = register_chart(
    Chart(
        "production-new-known",
        PAGE,
        "New vs known material",
        FILE_SOURCE,
        material_data,
        lambda data, state: material_figure(data.frame, grain_of(state)),
        headline="New media clusters and files of known material per {grain}",
        on_hub=False,
    )
)
SHARES_CHART = register_chart(
    Chart(
        "production-annotation-shares",
        PAGE,
        "Self-generated and generative-AI shares",
        FILE_SOURCE,
        shares_data,
        lambda data, state: shares_figure(data.frame, grain_of(state)),
        headline="Shares of files flagged self-generated or generative AI per {grain}",
        on_hub=False,
    )
)
PERCEPTUAL_CHART = register_chart(
    Chart(
        "production-perceptual-new-known",
        PAGE,
        "New vs known material, measured perceptually",
        PERCEPTUAL_SOURCE,
        perceptual_material_data,
        lambda data, state: perceptual_material_figure(data.frame, grain_of(state)),
        headline="Files of new and of previously seen material (near-duplicates matched), per {grain}",
        on_hub=False,
    )
)
VARIANTS_CHART = register_chart(
    Chart(
        "production-near-duplicate-variants",
        PAGE,
        "Near-duplicate variants",
        PERCEPTUAL_SOURCE,
        variants_data,
        lambda data, state: variants_figure(data.frame, grain_of(state)),
        headline="New material and new near-duplicate variants per {grain}",
        on_hub=False,
    )
)
ACCOUNTS_CHART = register_chart(
    Chart(
        "production-accounts",
        PAGE,
        "Distinct accounts reported",
        ACCOUNT_SOURCE,
        accounts_data,
        lambda data, state: accounts_figure(
            data.frame, grain_of(state), DIMENSION_LABELS.get(accounts_split(state) or "", "")
        ),
        headline=accounts_headline,
        on_hub=False,
    )
)
REPEAT_CHART = register_chart(
    Chart(
        "production-repeat-reporting",
        PAGE,
        "Repeat reporting",
        ACCOUNT_SOURCE,
        repeat_data,
        lambda data, state: repeat_figure(data.frame, grain_of(state)),
        headline="Referrals naming a new or an already reported account, per {grain}",
        on_hub=False,
    )
)
CHARTS = (MATERIAL_CHART, SHARES_CHART, PERCEPTUAL_CHART, VARIANTS_CHART, ACCOUNTS_CHART, REPEAT_CHART)


# --- the page's updates (one callback per chart) ---------------------------------------------


def draw_chart(chart: Chart, reader: WarehouseReader, state: ViewState) -> ChartView:
    """One chart of the page for a (scoped) view state, or a figure saying why it cannot be drawn."""
    try:
        grain_of(state)
        data, figure = render(chart, reader, state)
    except (ProductionViewError, SeriesRequestError, ViewStateError) as error:
        return ChartView(empty_figure(str(error)), "", str(error))
    except WarehouseError as error:
        return ChartView(empty_figure("The warehouse cannot be read right now."), "", f"Warehouse unavailable: {error}")
    return ChartView(figure, data.subtitle, data.page_note)


def scope_text(state: ViewState) -> str:
    """What the page covers, in words."""
    return f"Showing {state.filters_text()}, per {state.grain}."


def page_texts(state: ViewState) -> PageTexts:
    """The scope line, and a status message when the view cannot be drawn."""
    try:
        grain_of(state)
    except ViewStateError as error:
        return PageTexts(scope_text(state), f"Invalid view: {error}")
    return PageTexts(scope_text(state), "")


# --- clicks ----------------------------------------------------------------------------------


class ClickTarget(NamedTuple):
    """What a click asks for: a period (start, end as ISO dates) or an entity of a dimension."""

    start: str | None = None
    end: str | None = None
    dimension: str | None = None
    entity: str | None = None


def click_target(click_data: Any, state: ViewState) -> ClickTarget | None:
    """The period or entity a click on one of the page's charts selects, or None.

    Points carry `customdata` "period:<ISO date>" (or a list starting with it) or "entity:<code>"
    (a country or platform line of the split accounts chart).
    """
    points = click_data.get("points") if isinstance(click_data, dict) else None
    if not points:
        return None
    data = points[0].get("customdata")
    if isinstance(data, (list, tuple)):
        data = data[0] if data else None
    if not isinstance(data, str) or ":" not in data:
        return None
    kind, value = data.split(":", 1)
    if kind == "period":
        try:
            start = period_start(value, grain_of(state))
        except (ValueError, ViewStateError):
            return None
        return ClickTarget(start=start.date().isoformat(), end=period_end(start, state.grain).date().isoformat())
    if kind == "entity" and value and value != TOTAL:
        try:
            dimension = accounts_split(state)
        except ProductionViewError:
            return None
        return ClickTarget(dimension=dimension, entity=value) if dimension else None
    return None
