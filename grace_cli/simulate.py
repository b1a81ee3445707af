"""`grace simulate`: write deterministic simulated case-system deliveries."""

from __future__ import annotations

from pathlib import Path

import click

from grace.errors import ConfigError
from grace.progress import progress_bar
from grace_cli.options import OneLineErrors
from warehouse.reference import EU27_ISO3


def _parse_countries(_ctx, _param, value: str) -> tuple[str, ...]:
    """`AUT,BEL` -> ('AUT', 'BEL'); unknown codes are a usage error."""
    codes = tuple(code.strip().upper() for code in value.split(",") if code.strip())
    unknown = [code for code in codes if code not in EU27_ISO3]
    if unknown:
        raise click.BadParameter(f"unknown country code(s) {', '.join(unknown)}; use EU-27 ISO3 codes such as AUT,BEL")
    return codes


@click.command("simulate", cls=OneLineErrors)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output directory (new, empty, or holding a previous simulation's manifest.json).",
)
@click.option(
    "--seed",
    default=42,
    show_default=True,
    type=click.IntRange(min=0),
    help="Random seed: the same seed and options give byte-identical output.",
)
@click.option(
    "--scale",
    default=1.0,
    show_default=True,
    type=float,
    help="Volume multiplier: 1.0 = public magnitudes (~0.6-1.5 M EU referrals a year); 0.01 = ~1 %.",
)
@click.option(
    "--start",
    default="2019-01-01",
    show_default=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="First incident date (YYYY-MM-DD).",
)
@click.option(
    "--end",
    default="2025-12-31",
    show_default=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="Last incident date, inclusive (YYYY-MM-DD); also the 'as of' date of the case systems.",
)
@click.option(
    "--countries",
    default=",".join(EU27_ISO3),
    show_default="all EU-27",
    callback=_parse_countries,
    help="Comma-separated ISO 3166-1 alpha-3 codes of the EU states to simulate.",
)
@click.option(
    "--format",
    "fmt",
    default="csv",
    show_default=True,
    type=click.Choice(["csv", "parquet"]),
    help="File format of the case-system exports.",
)
@click.option(
    "--delivery",
    default="month",
    show_default=True,
    type=click.Choice(["month", "quarter", "year"]),
    help="One export folder per month, quarter or year of receipt.",
)
@click.option(
    "--package-share",
    default=0.05,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of referrals also delivered as NCMEC-style JSON referral packages.",
)
@click.option(
    "--malformed-rate",
    default=0.002,
    show_default=True,
    type=click.FloatRange(0, 0.5),
    help="Share of referrals made malformed on purpose (bad dates, missing fields, wrong types, "
    "invalid codes, broken encoding, a truncated file, redeliveries).",
)
@click.option(
    "--to-postgres",
    default=None,
    metavar="URL",
    help="Also append the rows to PostgreSQL (SQLAlchemy URL, e.g. "
    "postgresql+psycopg://postgres@127.0.0.1:5432/test), schema case_system.",
)
@click.option(
    "--outcome-drift-date",
    default=None,
    type=click.DateTime(["%Y-%m-%d"]),
    help="Inject a drift into the referral outcomes from this date of receipt (sextortion annotations x3, "
    "two coefficients of the outcome rule changed), recorded in ground_truth.json; for testing drift alarms.",
)
@click.option(
    "--draw",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="Independent sample of the same world: 0 is the seed's own sample; N > 0 re-draws every referral, "
    "file and outcome while the seed keeps the scenario, country mixes and agencies' random intercepts.",
)
@click.option(
    "--outcome-feedback",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0, 1, min_open=True),
    help="Share of referrals whose outcome is ever reported back (the rest stay open, without a label), "
    "chosen at random; e.g. 0.1 for a small unit that rarely hears back from local forces.",
)
@click.option("--quiet", is_flag=True, help="No progress bar and no summary.")
def simulate_command(
    out,
    seed,
    scale,
    start,
    end,
    countries,
    fmt,
    delivery,
    package_share,
    malformed_rate,
    to_postgres,
    outcome_drift_date,
    draw,
    outcome_feedback,
    quiet,
) -> None:
    """Simulate agencies' case systems: referral and file exports, JSON packages, hash sets.

    Deterministic for a seed. Writes DIR/exports/<period>/referrals.<fmt> and files.<fmt>
    (files carry MD5, SHA1, PDQ and its quality; some are near-duplicates of an item: re-encoded,
    resized, cropped or mirrored), DIR/packages/<period>.jsonl, DIR/hashsets/known_hashes.csv
    (Project VIC codes), DIR/hashsets/industry_list.csv and industry_list_pdq.csv (known material,
    industry codes A1-B2), DIR/manifest.json (options, counts per file, injected malformed
    records), DIR/malformed_records.csv and DIR/ground_truth.json (change points, spikes, emerging
    and vanishing platforms, which files are near-duplicates of which item, and the outcome model).
    Each referral's outcome (positive: investigation_opened or arrest) follows a logistic rule of
    metadata known at receipt (platform, incident type, annotations, files on the known-material
    lists, repeat accounts, victim age, location, ...) with noise, label delays (recent referrals
    still pending) and drift; ground_truth.json `outcome_model` holds the rule and realised rates.
    Metadata only: no media, codes only, synthetic identifiers.
    """
    from etl.simulator import SimulationConfig, simulate

    start_date, end_date = start.date(), end.date()
    if end_date < start_date:
        raise ConfigError(f"--end {end_date} is before --start {start_date}")
    config = SimulationConfig(
        out=out,
        seed=seed,
        scale=scale,
        start=start_date,
        end=end_date,
        countries=countries,
        format=fmt,
        delivery=delivery,
        package_share=package_share,
        malformed_rate=malformed_rate,
        to_postgres=to_postgres,
        outcome_drift_date=outcome_drift_date.date() if outcome_drift_date else None,
        draw=draw,
        outcome_feedback=outcome_feedback,
    )
    with progress_bar(enabled=not quiet) as progress:
        result = simulate(config, progress=progress)
    if not quiet:
        _summary(result)


def _summary(result) -> None:
    """A short account of what was written and where."""
    malformed = ", ".join(f"{kind} {count}" for kind, count in result.malformed.items() if count) or "none"
    deliveries = f"{result.deliveries} deliver{'y' if result.deliveries == 1 else 'ies'}"
    click.echo(
        f"Simulated {result.referrals:,} referrals ({result.incidents:,} incidents) with {result.files:,} files "
        f"in {deliveries}; {result.packages:,} JSON packages; {result.known_hashes:,} known hashes."
    )
    click.echo(
        f"Near-duplicates: {result.variants:,} variants of media items in the files; known-material lists of "
        f"{result.industry_hashes:,} MD5/SHA1 and {result.industry_pdq_hashes:,} PDQ hashes."
    )
    click.echo(f"Malformed records injected: {result.malformed_total:,} ({malformed}).")
    if result.postgres_rows is not None:
        click.echo(
            f"PostgreSQL case_system: +{result.postgres_rows['referrals']:,} referrals, "
            f"+{result.postgres_rows['files']:,} files."
        )
    click.echo(f"Written to {result.out} (manifest.json, ground_truth.json) in {result.seconds:.1f} s.")


def register(cli) -> None:
    """Attach this module's commands to the `grace` group."""
    cli.add_command(simulate_command)
