"""`grace hash FOLDER --out DELIVERY`: hash media at the agency; only the hashes leave."""

from __future__ import annotations

from pathlib import Path

import click

from grace.progress import progress_bar
from grace_cli.options import OneLineErrors, jobs_option

# Problems printed on stderr one by one when a --report file holds them all.
STDERR_PROBLEMS_WITH_REPORT = 20


def register(cli: click.Group) -> None:
    cli.add_command(hash_command)


@click.command("hash", cls=OneLineErrors)
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    "delivery",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Delivery folder to write files.csv into (created if missing; may hold the case system's referrals.csv).",
)
@click.option(
    "--referral-map",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Local CSV `path,report_id` linking files or folders (relative to FOLDER) to referrals, "
    "instead of the folder layout. Read only; never written out.",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write every problem to this local CSV (path,reason,detail,file_id). It names files: keep it "
    "on this machine; it may not be inside the delivery (nor inside FOLDER).",
)
@click.option(
    "--classifier",
    "classifier",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Content-classifier manifest (JSON) of the agency's certified model: adds classifier_category, "
    "classifier_confidence, classifier_model and classifier_version to every classified image. The "
    "artefact's SHA-256 is checked first. See docs/MATCHING.md, 'Content classifier plug-in'.",
)
@jobs_option
@click.option("--overwrite", is_flag=True, help="Replace an existing DELIVERY/files.csv.")
@click.option("--quiet", is_flag=True, help="No progress bar and no problem lines (the summary and --report remain).")
def hash_command(folder, delivery, referral_map, report, classifier, jobs, overwrite, quiet) -> None:
    """Hash every file under FOLDER (MD5, SHA1, PDQ) into DELIVERY/files.csv.

    \b
    Runs at the agency, on the machine that holds the media, and writes the `files` part of a
    case-export delivery (data_contracts/case_export.yaml). Put it beside the case system's
    referrals.csv (--out may be that delivery folder) and load both with `grace etl run DELIVERY`.

    \b
    What leaves: one row per file with report_id, file_id, md5, sha1, pdq, pdq_quality — nothing
    else. No file names, paths, sizes, dates, pixels or EXIF. file_id is a sequence number
    (F00000001 …) in the order of the sorted paths. With --classifier, four more columns:
    classifier_category (a code: A1 A2 B1 B2, 0-3 or N), classifier_confidence (0-1),
    classifier_model and classifier_version — codes and scores only.

    \b
    Which referral a file belongs to:
      default         the nearest enclosing folder named like a referral number, FOLDER itself
                      included: FOLDER/CT-2024-00000001/photos/… belongs to CT-2024-00000001.
      --referral-map  a local CSV with columns path,report_id; path is relative to FOLDER and
                      names a file or a folder (`.` = all of FOLDER); the longest match wins.

    \b
    Every file is read once, in chunks, for MD5 and SHA1; images (anything Pillow reads) also get
    Meta's PDQ hash and its quality (0-100) from the stored pixels. Files are hashed by --jobs
    processes, in sorted path order, so the output is the same for any number of workers.
    Problems are listed on stderr and in --report, with a reason:
      unreadable               cannot be opened or read (broken link, FIFO, permissions): left out
      empty_file               no bytes: left out
      no_referral              no referral folder or map entry: left out
      folder_link_not_followed a link to a folder: not followed
      not_an_image             MD5 and SHA1 only (videos, documents, unknown formats)
      image_damaged            does not decode: MD5 and SHA1 only
      image_too_small          a side under 5 pixels: MD5 and SHA1 only
      image_too_large          over Pillow's decompression-bomb limit: MD5 and SHA1 only
      pdq_low_quality          PDQ quality below 50, unreliable for matching: kept with its quality
      classifier_failed        the content classifier failed on the image: no classifier columns
      map_entry_unused         a referral-map row that matches no file
    The report names relative paths: it is for the operator and stays on this machine.
    Exit status: 0 when every file is in the delivery or reported as not hashable by design,
    1 when files were left out as unreadable or without a referral (the delivery is still
    written), 2 on a usage error (nothing written).

    \b
    Examples:
      grace hash /evidence/2024-06 --out /exports/2024-06 --report ~/hash-2024-06.csv
      grace hash /evidence/CT-2024-00000001 --out /exports/2024-06 --jobs 4
      grace hash /media --referral-map ~/media-map.csv --out /exports/2024-06
      grace hash /evidence/2024-06 --out /exports/2024-06 --classifier /models/agency-model.json
    """
    from matching.hashing import ReferralLinker, check_report_path, hash_folder, write_report

    if report is not None:
        check_report_path(report, folder, delivery)
    linker = ReferralLinker.from_map(referral_map, folder) if referral_map else ReferralLinker.from_layout(folder)
    with progress_bar(enabled=not quiet) as progress:
        summary = hash_folder(
            folder, delivery, linker, jobs=jobs, overwrite=overwrite, progress=progress, classifier=classifier
        )
    if report is not None:
        write_report(report, summary.problems)
    if not quiet:
        shown = summary.problems if report is None else summary.problems[:STDERR_PROBLEMS_WITH_REPORT]
        for problem in shown:
            detail = f" ({problem.detail})" if problem.detail else ""
            _stderr(f"{problem.reason}: {problem.path}{detail}")
        if len(shown) < len(summary.problems):
            _stderr(f"… and {len(summary.problems) - len(shown):,} more problems in {report}")
    megabytes = summary.bytes_hashed / 1e6
    rate = summary.files_found / summary.seconds if summary.seconds else 0.0
    click.echo(
        f"{summary.rows_written:,} of {summary.files_found:,} files hashed into {delivery / 'files.csv'} "
        f"({summary.with_pdq:,} with PDQ; {megabytes:,.1f} MB in {summary.seconds:.1f} s, {rate:,.0f} files/s, "
        f"{jobs} worker(s))"
    )
    if classifier is not None:
        from matching.classifiers import read_manifest

        manifest = read_manifest(classifier)
        click.echo(
            f"classifier {manifest.name} {manifest.version} (sha256 {manifest.sha256[:16]}…): "
            f"{summary.classified:,} images classified"
        )
    if summary.problems:
        counts = ", ".join(f"{count:,} {reason}" for reason, count in summary.reasons().items())
        where = f"; listed in {report} (local only)" if report is not None else ""
        click.echo(f"problems: {counts}{where}")
    if not summary.complete:
        _stderr("error: some files are not in the delivery (unreadable or without a referral); see the problems above")
        raise SystemExit(1)


def _stderr(line: str) -> None:
    """One line on stderr; undecodable bytes of a file name are shown escaped."""
    click.echo(line.encode("utf-8", "backslashreplace").decode("utf-8"), err=True)
