"""`grace analyse`: every detector and forecast over the warehouse's series, persisted as one run."""

from __future__ import annotations

import click

from grace_cli.options import OneLineErrors, jobs_option, warehouse_option


def register(cli: click.Group) -> None:
    """Attach this module's command to the `grace` group."""
    cli.add_command(analyse)


def _names(kind: str):
    def parse(_ctx, _param, value: str) -> tuple[str, ...]:
        from analytics.warehouse_run import DEFAULT_GRAINS, DEFAULT_METRICS
        from analytics.warehouse_series import METRICS, SeriesRequestError, grain_name, metric

        text = value.strip().lower()
        if kind == "metric":
            if text in ("default", ""):
                return DEFAULT_METRICS
            if text == "all":
                return tuple(METRICS)
        elif text in ("default", ""):
            return DEFAULT_GRAINS
        names = [n.strip() for n in value.split(",") if n.strip()]
        try:
            resolved = [metric(n).name if kind == "metric" else grain_name(n) for n in names]
        except SeriesRequestError as error:
            raise click.BadParameter(str(error)) from error
        return tuple(dict.fromkeys(resolved))

    return parse


@click.command(name="analyse", cls=OneLineErrors)
@warehouse_option
@click.option(
    "--grain",
    "grains",
    default="month,week",
    show_default=True,
    callback=_names("grain"),
    help="Comma-separated grains: day, week (ISO), month, quarter, year.",
)
@click.option(
    "--metrics",
    default="default",
    show_default=True,
    callback=_names("metric"),
    help="Comma-separated metrics, 'all', or 'default': every indicator group, about 1,300 series on "
    "the demo warehouse — referrals, actionable_referrals, backlog, time_to_triage_days, files, "
    "sextortion_referrals, solicitation_referrals, new_media_clusters, known_material_share, "
    "self_generated_share, generative_ai_share, viral_files, reshares_per_cluster, "
    "multi_country_clusters, platform_share, reported_accounts, repeat_reporting_share.",
)
@jobs_option
@click.option(
    "--alert-min-relative",
    type=click.FloatRange(min=0),
    default=0.2,
    show_default=True,
    help="Materiality: an alert needs a relative change |after / before - 1| of at least this.",
)
@click.option(
    "--alert-min-count",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    help="Materiality, counts: and an absolute change of at least this many per period.",
)
@click.option(
    "--alert-min-share",
    type=click.FloatRange(min=0, max=1),
    default=0.02,
    show_default=True,
    help="Materiality, shares and ratios: and an absolute change of at least this (0.02 = 2 points).",
)
@click.option(
    "--drift-psi",
    type=click.FloatRange(min=0, max=10),
    default=None,
    help="Triage model monitoring: a week drifted when a feature's or the score's PSI exceeds this plus the "
    "PSI expected by chance [default: $GRACE_DRIFT_PSI, else 0.2].",
)
@click.option(
    "--refit-all",
    is_flag=True,
    help="Analyse every series again, also those whose data, parameters and analysis code are unchanged "
    "since the latest run (by default their stored analysis is reused).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def analyse(
    warehouse,
    grains,
    metrics,
    jobs,
    alert_min_relative,
    alert_min_count,
    alert_min_share,
    drift_psi,
    refit_all,
    quiet,
) -> None:
    """Analyse every series of the warehouse and store the results as a new run.

    \b
    For each metric and grain: the EU total, one series per country and one per platform (the
    splits the metric has). Each series gets seasonality, Mann-Kendall trend with Sen's slope,
    year-on-year and recent growth, change points, anomalies and a forecast chosen by
    rolling-origin backtest (12 months, 13 weeks, 28 days, 4 quarters or 2 years ahead). Series
    that are too short or all zero are skipped.
    Results go to analytics_run, analytics_trend, analytics_changepoint, analytics_anomaly,
    analytics_forecast and the derived tables in the same warehouse, written in one transaction; the
    warehouse is only opened read-write for that write. Every alert (anomaly, change point, emerging
    or vanishing entity) is also stored in analytics_alert, marked material or not (the --alert-*
    options; immaterial alerts are kept but not shown as needing attention) and new or not since the
    series' previous run. When a triage model is active, its weekly monitoring (feature and score
    drift as PSI, calibration, the latest full quarter's reliability curve) is stored in
    analytics_model_monitor, and its drifted weeks of the latest 13 become "Model drift" alerts
    (--drift-psi). Each run gets a new run id. Series are spread over --jobs
    worker processes, each limited to one BLAS thread (many small fits run fastest that way).
    A series whose values, dates, analysis parameters and analysis code are unchanged since the
    latest run is not refitted: that run's analysis of it is stored again under the new run
    (kept beside the warehouse in WAREHOUSE.analysis-cache/, checked by the SHA-256 its run
    recorded); --refit-all analyses every series again. Cross-series results, alert marks and
    model monitoring are computed afresh on every run.
    """
    import pandas as pd

    from analytics.results import AlertParams, AnalysisParams
    from analytics.warehouse_run import run_analysis
    from classification.monitoring import DriftParams
    from grace.progress import progress_bar
    from grace.settings import drift_psi as configured_drift_psi
    from grace_cli.model import review_labels

    params = AnalysisParams(alerts=AlertParams(alert_min_relative, alert_min_count, alert_min_share))
    drift = DriftParams(threshold=configured_drift_psi() if drift_psi is None else drift_psi)
    # Calibration on the analysts' reviewed labels (the Triage page's reviews, in the auth store).
    reviewed = review_labels()
    reviews = pd.DataFrame(reviewed, columns=["referral_key", "label", "reviewed_at"]) if reviewed else None
    with progress_bar(enabled=not quiet) as report:
        summary = run_analysis(
            warehouse,
            metrics=metrics,
            grains=grains,
            params=params,
            jobs=jobs,
            progress=report,
            drift=drift,
            reviews=reviews,
            refit_all=refit_all,
        )
    for note in summary.narrowed:
        click.echo(f"note: {note}")
    rows = ", ".join(f"{count:,} {name.removeprefix('analytics_')}" for name, count in summary.rows.items())
    if summary.reused_count:
        reuse = f" ({summary.reused_count:,} of them unchanged since run {summary.reused_from}: reused, not refitted)"
    elif refit_all:
        reuse = " (every series refitted: --refit-all)"
    else:
        reuse = f" (none reused: {summary.reuse_note})" if summary.reuse_note else ""
    click.echo(
        f"run {summary.run_id}: {summary.series_count:,} series analysed, {summary.skipped_count:,} skipped"
        f"{reuse} in {summary.seconds:.1f} s ({rows}) -> {warehouse}"
    )
