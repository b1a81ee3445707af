"""`grace model train|evaluate|list|promote|retire|score`: the triage model's life cycle."""

from __future__ import annotations

import json
from datetime import date

import click

from grace.progress import progress_bar
from grace_cli.options import warehouse_option

DATE = click.DateTime(formats=["%Y-%m-%d"])


def register(cli: click.Group) -> None:
    cli.add_command(model)


@click.group()
def model() -> None:
    """Train, evaluate, register and promote the triage model; score referrals with it.

    The model predicts, from what is known when a referral is received, the chance that it is closed with
    an investigation opened or an arrest; rules (grace rules) turn that into tiers P1-P4. A human decides:
    a score orders the queue, it never closes a referral.
    """


def _windows_option(func):
    for name, text in (
        ("--test-end", "end of the test window (exclusive) [default: the day after the last labelled referral]"),
        ("--calibration-end", "end of the calibration window = start of the test window [default: 80 % of the days]"),
        ("--train-end", "end of the training window = start of the calibration window [default: 65 % of the days]"),
        ("--start", "first received date used [default: the first labelled referral]"),
    ):
        func = click.option(name, type=DATE, default=None, help=text.capitalize() + ".")(func)
    return func


@model.command()
@warehouse_option
@_windows_option
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed of the booster.")
@click.option("--promote", "promote_now", is_flag=True, help="Make the new model the active one at once.")
@click.option(
    "--with-reviews/--without-reviews",
    default=True,
    show_default=True,
    help="Add analysts' triage reviews ($GRACE_HOME/auth/auth.sqlite) as labels of referrals still open.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the model card as JSON.")
def train(warehouse, start, train_end, calibration_end, test_end, seed, promote_now, with_reviews, as_json) -> None:
    """Train a model on the warehouse's labelled referrals, split by time; register it as a candidate.

    Train on referrals received before --train-end whose outcome was known by then, calibrate on the next
    window, test on the last. Prints the test metrics beside the baselines (prevalence, the case system's
    escalation flag, rules only, first in first out). With reviews (the default), an analyst's verdict on a
    referral still open in the case system labels it (actionable = 1) from the review's date; a case-system
    outcome wins where both exist (classification.features.with_review_labels).
    """
    from classification import registry
    from classification.evaluation import model_card
    from classification.features import referral_features, with_review_labels
    from classification.model import Windows, default_windows
    from classification.model import train as fit
    from classification.scoring import active_rules
    from warehouse import connect, ensure_schema

    con = connect(warehouse)
    try:
        ensure_schema(con)
        frame = referral_features(con)
        reviews = review_labels() if with_reviews else []
        frame = with_review_labels(frame, reviews)
        review_count = int((frame["label_source"] == "review").sum())
        windows = default_windows(frame)
        if any((start, train_end, calibration_end, test_end)):
            windows = Windows(
                (start.date() if start else windows.start),
                (train_end.date() if train_end else windows.train_end),
                (calibration_end.date() if calibration_end else windows.calibration_end),
                (test_end.date() if test_end else windows.test_end),
            )
        rules = active_rules(con)
        fitted, parts = fit(frame, windows, seed=seed)
        card = model_card(fitted, parts, windows, rules, frame)
        card["review_labels"] = review_count
        version = registry.register(con, fitted, card)
        if promote_now:
            registry.promote(con, version)
        card = registry.card(con, version)
    finally:
        con.close()
    if as_json:
        click.echo(json.dumps(card, indent=2, sort_keys=True))
        return
    click.echo(f"registered {version} ({'active' if promote_now else 'candidate'}); windows {card['windows']}")
    if with_reviews:
        click.echo(f"labels from triage reviews: {review_count:,} (of {len(reviews):,} reviewed referrals)")
    _print_metrics(card["test"])


def review_labels() -> list:
    """(referral_key, label, review date) of every reviewed referral in the dashboard's auth store ([] without one)."""
    from dashboards.auth.database import default_store_path
    from dashboards.auth.triage_reviews import TriageReviews

    path = default_store_path()
    return TriageReviews(path).labels() if path.exists() else []


@model.command()
@warehouse_option
@click.argument("version")
@click.option("--json", "as_json", is_flag=True, help="Print the evaluation as JSON.")
def evaluate(warehouse, version, as_json) -> None:
    """Evaluate VERSION again on its test window with the labels known now (outcomes mature over time)."""
    from classification import registry
    from classification.evaluation import evaluate as run_evaluation
    from classification.features import referral_features
    from classification.model import Windows, split
    from classification.scoring import active_rules
    from warehouse import check_schema, connect

    con = connect(warehouse, read_only=True)
    try:
        check_schema(con, warehouse)
        card = registry.card(con, version)
        loaded = registry.load(con, version)
        windows = Windows(
            *(date.fromisoformat(card["windows"][k]) for k in ("start", "train_end", "calibration_end", "test_end"))
        )
        parts = split(referral_features(con), windows)
        result = run_evaluation(loaded, parts["test"], active_rules(con), float(parts["train"]["label"].mean()))
    finally:
        con.close()
    if as_json:
        click.echo(json.dumps(result, indent=2, sort_keys=True, default=float))
        return
    click.echo(f"{version} on its test window {card['windows']['calibration_end']} … {card['windows']['test_end']}:")
    _print_metrics(result)


@model.command(name="list")
@warehouse_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(warehouse, as_json) -> None:
    """Registered models, newest first: status, windows and headline test metrics."""
    from classification import registry
    from warehouse import check_schema, connect

    con = connect(warehouse, read_only=True)
    try:
        check_schema(con, warehouse)
        frame = registry.list_models(con)
    finally:
        con.close()
    if as_json:
        click.echo(frame.to_json(orient="records", date_format="iso", indent=2))
        return
    if frame.empty:
        click.echo("no triage model yet: grace model train")
        return
    click.echo(frame.to_string(index=False))


@model.command()
@warehouse_option
@click.argument("version")
def promote(warehouse, version) -> None:
    """Make VERSION the active model: it scores every new batch (the previous one is retired)."""
    from classification import registry
    from warehouse import connect, ensure_schema

    con = connect(warehouse)
    try:
        ensure_schema(con)
        previous = registry.promote(con, version)
    finally:
        con.close()
    click.echo(f"{version} is active" + (f"; {previous} retired" if previous else ""))
    click.echo("referrals scored before keep their scores; re-score them with: grace model score")


@model.command()
@warehouse_option
@click.argument("version")
def retire(warehouse, version) -> None:
    """Retire VERSION (an active model stops scoring new batches; its scores stay, with their lineage)."""
    from classification import registry
    from warehouse import connect, ensure_schema

    con = connect(warehouse)
    try:
        ensure_schema(con)
        registry.retire(con, version)
    finally:
        con.close()
    click.echo(f"{version} retired")


@model.command()
@warehouse_option
@click.option("--from", "start", type=DATE, default=None, help="First received date to score [default: all].")
@click.option("--to", "end", type=DATE, default=None, help="Last received date to score [default: all].")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def score(warehouse, start, end, quiet) -> None:
    """Score referrals again with the active model and rule set, as a new run (one transaction, with lineage)."""
    from classification.scoring import Scorer, rescore
    from grace.errors import GraceError
    from warehouse import connect, ensure_schema

    con = connect(warehouse)
    try:
        ensure_schema(con)
        scorer = Scorer.active(con)
        if scorer.model is None:
            raise GraceError("no active triage model: grace model train --promote (or grace model promote VERSION)")
        with progress_bar(enabled=not quiet) as progress:
            run_id, count = rescore(
                con, scorer, start.date() if start else None, end.date() if end else None, progress=progress
            )
    finally:
        con.close()
    click.echo(f"scored {count:,} referrals with {scorer.model_version} and rules {scorer.rules.label} (run {run_id})")


def _print_metrics(result: dict) -> None:
    if not result:
        click.echo("no labelled referral in the test window")
        return
    rows = [("model", result["model"]), ("model + rules", result["model_with_rules"])]
    rows += [(name.replace("_", " "), numbers) for name, numbers in result["baselines"].items()]
    click.echo(f"{'':<22}{'AP':>8}{'P@10%':>8}{'lift':>7}{'AUC':>7}{'ECE':>7}")
    for name, numbers in rows:
        ece = numbers.get("ece")
        click.echo(
            f"{name:<22}{numbers['average_precision']:>8.3f}{numbers['precision_top_10pct']:>8.3f}"
            f"{numbers['lift_top_10pct']:>7.2f}{numbers['roc_auc']:>7.3f}{'' if ece is None else f'{ece:.3f}':>7}"
        )
    savings = result["review_savings"]
    click.echo(
        f"test referrals {result['model']['referrals']:,}, base rate {result['model']['base_rate']:.3f}; "
        f"reviewing 10 % a week: {savings['reviews_per_positive']:.2f} reviews per positive found by score, "
        f"{savings['reviews_per_positive_fifo']:.2f} first in first out "
        f"({savings['fewer_reviews_than_fifo']:.0%} fewer)"
    )
