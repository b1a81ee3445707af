"""Agency-side hashing: MD5, SHA1 and PDQ of every file under a folder, as the `files` part of a
case-export delivery (`data_contracts/case_export.yaml`).

Only hashes leave. The delivery's rows carry `report_id`, `file_id`, `md5`, `sha1`, `pdq` and
`pdq_quality`; no file name, path, size, date, pixel or EXIF field is ever written to it.
`file_id` is a sequence number in the order of the sorted relative paths (`F00000001` …), so it
says nothing about a name. The problem report (`Problem`, `write_report`) names relative paths:
it is for the operator and stays on the agency's machine.

Linking files to referrals (no names leave, so the link is made here):
- by folder layout (default): a file belongs to the nearest enclosing folder named like a referral
  number (`CT-2024-00000001`), the hashed folder itself included;
- by a referral map (`ReferralLinker.from_map`): a local CSV `path,report_id` whose path, relative
  to the hashed folder, names a file or a folder (the longest match wins). It is read, never copied.

Files are listed first (paths only), sorted by relative path, then hashed in a process pool
(`jobs`) in that order, so the output does not depend on the number of workers. Each file is read
once, in 1 MiB chunks, for MD5 and SHA1; an image is then decoded from the same open file for PDQ
(Meta's reference, `pdqhash`, on the stored pixels: EXIF orientation is not applied, animated images
give their first frame). Rows are written as they come, to a temporary file renamed at the end.

Problems (`REASONS`): a file that cannot be opened or read (permissions, a broken link, a FIFO or
device, an I/O error), is empty, or has no referral is left out of the delivery; a file Pillow
cannot decode as an image, a damaged image, one under `MIN_PDQ_SIDE` pixels or over Pillow's
decompression-bomb limit keeps its MD5 and SHA1 with an empty PDQ; a PDQ of quality below
`PDQ_MIN_QUALITY` is kept, with its quality, and reported (unreliable for matching).

Content classifier (optional, `classifier=` a manifest, `grace hash --classifier`): each decoded image is
also given to a model behind a checked manifest (`matching.classifiers`), in the same worker, from the same
decoded pixels; the delivery then has four more columns (`CLASSIFIER_COLUMNS`): the category code, the
confidence (0-1, four decimals), the model's name and version. A file without decoded pixels (not an image,
damaged, too small or too large: already reported) has them empty; an image the model fails on has them
empty and is reported as `classifier_failed`. Nothing else about the image leaves.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import stat
import time
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grace.errors import ConfigError, InputFileError
from grace.progress import ProgressCallback, no_progress
from matching.classifiers.base import ContentClassifier, load_classifier

# The delivery's columns, all in the case-export contract's `files` dataset (a test checks it).
DELIVERY_COLUMNS = ("report_id", "file_id", "md5", "sha1", "pdq", "pdq_quality")
# Added with a content classifier (also in the contract, optional there).
CLASSIFIER_COLUMNS = ("classifier_category", "classifier_confidence", "classifier_model", "classifier_version")
FILES_CSV = "files.csv"
# The contract's pattern for files.report_id (a test checks they agree).
REPORT_ID = re.compile(r"^CT-[0-9]{4}-[0-9]{8}$")
CHUNK_BYTES = 1 << 20
# Meta's PDQ/vPDQ hashers refuse frames with a side under 5 pixels (MIN_HASHABLE_DIM).
MIN_PDQ_SIDE = 5
# Meta's guidance: a PDQ hash of quality below 50 (flat, tiny or featureless pictures) is unreliable.
PDQ_MIN_QUALITY = 50
MAP_COLUMNS = ("path", "report_id")

# Problem reasons. Left out of the delivery:
UNREADABLE = "unreadable"
EMPTY_FILE = "empty_file"
NO_REFERRAL = "no_referral"
FOLDER_LINK_NOT_FOLLOWED = "folder_link_not_followed"
# Written with MD5 and SHA1, PDQ empty:
NOT_AN_IMAGE = "not_an_image"
IMAGE_DAMAGED = "image_damaged"
IMAGE_TOO_SMALL = "image_too_small"
IMAGE_TOO_LARGE = "image_too_large"
# Written with its PDQ and quality:
PDQ_LOW_QUALITY = "pdq_low_quality"
# Written without classifier columns (a classifier was given and failed on this decoded image):
CLASSIFIER_FAILED = "classifier_failed"
# About the referral map, not a file:
MAP_ENTRY_UNUSED = "map_entry_unused"

REASONS = {
    UNREADABLE: "cannot be opened or read (permissions, broken link, FIFO or device, I/O error): left out",
    EMPTY_FILE: "no bytes: left out",
    NO_REFERRAL: "no referral folder or referral-map entry: left out",
    FOLDER_LINK_NOT_FOLLOWED: "a link to a folder is not followed: left out",
    NOT_AN_IMAGE: "not an image Pillow can read (video, document, other format): MD5 and SHA1 only",
    IMAGE_DAMAGED: "an image that does not decode: MD5 and SHA1 only",
    IMAGE_TOO_SMALL: f"a side under {MIN_PDQ_SIDE} pixels, too small for PDQ: MD5 and SHA1 only",
    IMAGE_TOO_LARGE: "over Pillow's decompression-bomb limit (about 89 megapixels): MD5 and SHA1 only",
    PDQ_LOW_QUALITY: f"PDQ quality below {PDQ_MIN_QUALITY}, unreliable for matching: written with its quality",
    CLASSIFIER_FAILED: "the content classifier failed on this image: written without classifier columns",
    MAP_ENTRY_UNUSED: "a referral-map row that matches no file",
}
# Reasons that leave a file out of the delivery: the run is incomplete (exit status 1 in the CLI).
INCOMPLETE = frozenset({UNREADABLE, NO_REFERRAL})


@dataclass(frozen=True)
class Problem:
    """One problem, for the operator's local report: `path` is relative to the hashed folder and
    never leaves the machine; `file_id` is the delivery row of the file, when one was written."""

    path: str
    reason: str
    detail: str = ""
    file_id: str = ""


@dataclass(frozen=True)
class FileHashes:
    """What hashing one file gave: hashes (None where not computed), its size and any problem."""

    relative: str
    size: int = 0
    md5: str | None = None
    sha1: str | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    problem: str | None = None
    detail: str = ""
    category: str | None = None
    confidence: float | None = None
    classifier_problem: str | None = None
    classifier_detail: str = ""


@dataclass
class HashSummary:
    """The outcome of one run: rows written, problems (sorted by path), bytes and seconds."""

    files_found: int = 0
    rows_written: int = 0
    with_pdq: int = 0
    classified: int = 0
    bytes_hashed: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)

    def reasons(self) -> dict[str, int]:
        """Number of problems per reason, in the order of `REASONS`."""
        counts = Counter(p.reason for p in self.problems)
        return {reason: counts[reason] for reason in REASONS if counts[reason]}

    @property
    def complete(self) -> bool:
        """True when no file was left out for being unreadable or without a referral."""
        return not any(p.reason in INCOMPLETE for p in self.problems)


# ---------------------------------------------------------------------------------------------
# Listing and linking


def list_files(folder: Path) -> tuple[list[str], list[Problem]]:
    """Every file under `folder` as a relative POSIX path, sorted; links to folders (not followed)
    and unreadable folders as problems. Links to files are listed (their target is hashed)."""
    found: list[str] = []
    problems: list[Problem] = []
    root = os.fspath(folder)

    def walk_error(error: OSError) -> None:
        where = os.path.relpath(error.filename, root) if error.filename else "."
        problems.append(Problem(_posix(where), UNREADABLE, f"folder: {error.strerror or error}"))

    for current, folders, files in os.walk(root, onerror=walk_error, followlinks=False):
        base = os.path.relpath(current, root)
        for name in folders:
            if os.path.islink(os.path.join(current, name)):
                problems.append(Problem(_join(base, name), FOLDER_LINK_NOT_FOLLOWED, "link to a folder"))
        found.extend(_join(base, name) for name in files)
    found.sort()
    problems.sort(key=lambda p: p.path)
    return found, problems


def _join(base: str, name: str) -> str:
    return _posix(name if base == "." else os.path.join(base, name))


def _posix(relative: str) -> str:
    return relative.replace(os.sep, "/") if os.sep != "/" else relative


class ReferralLinker:
    """Decides the referral (`report_id`) of each file from its relative path.

    `ReferralLinker.from_layout(folder)`: the nearest enclosing folder named like a referral number,
    `folder` itself included. `ReferralLinker.from_map(csv, folder)`: a `path,report_id` CSV.
    """

    def __init__(self, entries: dict[str, str] | None, root_name: str, map_rows: dict[str, int] | None = None):
        self._entries = entries
        self._root_name = root_name
        self._map_rows = map_rows or {}
        self._used: set[str] = set()

    @classmethod
    def from_layout(cls, folder: Path) -> ReferralLinker:
        return cls(None, _folder_name(folder))

    @classmethod
    def from_map(cls, path: Path, folder: Path) -> ReferralLinker:
        """Read a referral map: CSV (UTF-8, header `path,report_id`); each path relative to `folder`,
        naming a file or a folder (`.` for all of it). Errors name the row and field."""
        entries: dict[str, str] = {}
        rows: dict[str, int] = {}
        try:
            with open(path, newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                missing = [c for c in MAP_COLUMNS if c not in (reader.fieldnames or [])]
                if missing:
                    raise InputFileError(path, f"referral map needs a header with columns {', '.join(MAP_COLUMNS)}", 0)
                for number, row in enumerate(reader, 1):
                    key = _map_key(path, number, row.get("path") or "")
                    report_id = (row.get("report_id") or "").strip()
                    if not REPORT_ID.match(report_id):
                        raise InputFileError(path, "not a referral number (CT-YYYY-NNNNNNNN)", number, "report_id")
                    if entries.get(key, report_id) != report_id:
                        raise InputFileError(
                            path, f"path already mapped to {entries[key]} in row {rows[key]}", number, "path"
                        )
                    entries.setdefault(key, report_id)
                    rows.setdefault(key, number)
        except UnicodeDecodeError as error:
            raise InputFileError(path, "referral map is not valid UTF-8") from error
        except OSError as error:
            raise InputFileError(path, f"cannot read referral map ({error.strerror or error})") from error
        except csv.Error as error:
            raise InputFileError(path, f"referral map is not valid CSV ({error})") from error
        return cls(entries, _folder_name(folder), rows)

    @property
    def missing_detail(self) -> str:
        """Why a file has no referral, for the report."""
        if self._entries is None:
            return "not under a folder named like a referral number"
        return "no referral-map row for this path or a folder above it"

    def report_id(self, relative: str) -> str | None:
        """The referral of the file at `relative`, or None."""
        parts = relative.split("/")
        if self._entries is None:
            for name in reversed([self._root_name, *parts[:-1]]):
                if REPORT_ID.match(name):
                    return name
            return None
        for depth in range(len(parts), -1, -1):
            key = "/".join(parts[:depth]) or "."
            if key in self._entries:
                self._used.add(key)
                return self._entries[key]
        return None

    def unused(self) -> list[Problem]:
        """Referral-map rows that matched no file (after every file was linked)."""
        return [
            Problem(key, MAP_ENTRY_UNUSED, f"referral map row {self._map_rows[key]}: no file at or below this path")
            for key in sorted(self._entries or {})
            if key not in self._used
        ]


def _folder_name(folder: Path) -> str:
    """The hashed folder's own name as the user gave it (`.` and `..` resolved, links not)."""
    return os.path.basename(os.path.abspath(folder))


def _map_key(path: Path, number: int, text: str) -> str:
    """A map path as the relative POSIX key files are looked up by (`.` for the whole folder)."""
    raw = text.strip()
    if not raw:
        raise InputFileError(path, "empty path", number, "path")
    relative = PurePosixPath(raw)
    if relative.is_absolute() or ".." in relative.parts:
        raise InputFileError(path, "path must be relative to the hashed folder, without '..'", number, "path")
    return str(relative)


# ---------------------------------------------------------------------------------------------
# Hashing one file (runs in the worker processes)


def hash_file(folder: str, relative: str, classifier: ContentClassifier | None = None) -> FileHashes:
    """MD5, SHA1 and (for an image) PDQ with its quality, reading the file once in chunks; with a
    `classifier`, also its category code and confidence from the same decoded pixels.

    Never raises for a bad file: what went wrong is the result's `problem` and `detail` (for the
    classifier, `classifier_problem` and `classifier_detail`).
    """
    path = os.path.join(folder, relative)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as error:
        return FileHashes(relative, problem=UNREADABLE, detail=_os_detail(error, path))
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            return FileHashes(relative, problem=UNREADABLE, detail=f"not a regular file ({_kind(info.st_mode)})")
        md5 = hashlib.md5(usedforsecurity=False)
        sha1 = hashlib.sha1(usedforsecurity=False)
        buffer = bytearray(CHUNK_BYTES)
        view = memoryview(buffer)
        size = 0
        try:
            while count := handle.readinto(buffer):
                md5.update(view[:count])
                sha1.update(view[:count])
                size += count
        except OSError as error:
            return FileHashes(relative, problem=UNREADABLE, detail=_os_detail(error, path))
        finally:
            view.release()
        if size == 0:
            return FileHashes(relative, problem=EMPTY_FILE)
        handle.seek(0)
        pdq, quality, problem, detail, pixels = _decode_and_pdq(handle)
    hashes = FileHashes(relative, size, md5.hexdigest(), sha1.hexdigest(), pdq, quality, problem, detail)
    if classifier is None or pixels is None:
        return hashes
    return _classified(hashes, classifier, pixels)


def _classified(hashes: FileHashes, classifier: ContentClassifier, pixels) -> FileHashes:
    """`hashes` with the classifier's code and confidence for the decoded `pixels` (or its problem)."""
    import math
    from dataclasses import replace

    from matching.classifiers.base import CATEGORY_PATTERN

    try:
        codes, confidences = classifier.classify([pixels])
        code, confidence = str(codes[0]), float(confidences[0])
    except Exception as error:  # the model's failure is this file's problem, not the run's
        return replace(hashes, classifier_problem=CLASSIFIER_FAILED, classifier_detail=_error_detail(error))
    if code not in classifier.categories or not CATEGORY_PATTERN.match(code):
        return replace(
            hashes, classifier_problem=CLASSIFIER_FAILED, classifier_detail=f"code {code[:20]!r} not declared"
        )
    if not (math.isfinite(confidence) and 0.0 <= confidence <= 1.0):
        return replace(
            hashes, classifier_problem=CLASSIFIER_FAILED, classifier_detail=f"confidence {confidence} not in 0-1"
        )
    return replace(hashes, category=code, confidence=confidence)


def _error_detail(error: Exception) -> str:
    return f"{type(error).__name__}: {str(error)[:200]}"


def pdq_of(handle) -> tuple[str | None, int | None, str | None, str]:
    """(pdq hex, quality, problem, detail) of the image in an open binary file."""
    return _decode_and_pdq(handle)[:4]


def _decode_and_pdq(handle) -> tuple[str | None, int | None, str | None, str, object]:
    """(pdq hex, quality, problem, detail, decoded RGB pixels or None) of the image in an open binary file."""
    import numpy as np
    import pdqhash
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # Above Pillow's MAX_IMAGE_PIXELS it only warns (and errors at twice that): refuse both.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(handle) as image:
                width, height = image.size
                if min(width, height) < MIN_PDQ_SIDE:
                    return None, None, IMAGE_TOO_SMALL, f"{width}x{height} pixels", None
                pixels = np.asarray(image.convert("RGB"))
        vector, quality = pdqhash.compute(pixels)
    except UnidentifiedImageError:
        return None, None, NOT_AN_IMAGE, "", None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        return None, None, IMAGE_TOO_LARGE, str(error)[:200], None
    except Exception as error:  # any decoder failure is this file's problem, not the run's
        return None, None, IMAGE_DAMAGED, _error_detail(error), None
    pdq = pdq_hex(vector)
    if quality < PDQ_MIN_QUALITY:
        return pdq, int(quality), PDQ_LOW_QUALITY, f"quality {quality}", pixels
    return pdq, int(quality), None, "", pixels


def pdq_hex(vector) -> str:
    """A `pdqhash` bit vector (256 bits, most significant first) as Meta's 64-digit hex form."""
    import numpy as np

    return np.packbits(np.asarray(vector, dtype=np.uint8)).tobytes().hex()


def _os_detail(error: OSError, path: str) -> str:
    if os.path.islink(path) and not os.path.exists(path):
        return "broken symbolic link"
    return error.strerror or type(error).__name__


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "FIFO"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISDIR, "folder"),
    ):
        if test(mode):
            return name
    return "special file"


# The classifier of a worker process, loaded once by `_load_worker_classifier` (the pool's initializer).
_worker_classifier: ContentClassifier | None = None


def _load_worker_classifier(manifest: str | None) -> None:
    global _worker_classifier
    _worker_classifier = None if manifest is None else load_classifier(Path(manifest))


def _hash_task(task: tuple[str, str]) -> FileHashes:
    return hash_file(*task, classifier=_worker_classifier)


# ---------------------------------------------------------------------------------------------
# A folder into a delivery


def hash_folder(
    folder: Path,
    delivery: Path,
    linker: ReferralLinker | None = None,
    jobs: int = 1,
    overwrite: bool = False,
    progress: ProgressCallback = no_progress,
    classifier: Path | None = None,
) -> HashSummary:
    """Hash every file under `folder` into `delivery/files.csv` (see the module docstring).

    `delivery` may already hold the case system's `referrals.csv`; an existing `files.csv` is
    replaced only with `overwrite`. Raises `ConfigError` for a delivery inside `folder` and when
    there is no file to hash; the delivery file is written whole or not at all. `classifier`: a
    content-classifier manifest, checked (with its artefact's SHA-256) before any file is read;
    refused with `InputFileError` naming the file and field.
    """
    started = time.perf_counter()
    folder, delivery = Path(folder), Path(delivery)
    _check_paths(folder, delivery, overwrite)
    model = None if classifier is None else load_classifier(Path(classifier))
    linker = linker or ReferralLinker.from_layout(folder)
    paths, problems = list_files(folder)
    if not paths:
        raise ConfigError(f"{folder}: no files to hash")
    summary = HashSummary(files_found=len(paths))
    tasks: list[tuple[str, str]] = []
    report_ids: list[str] = []
    for relative in paths:
        report_id = linker.report_id(relative)
        if report_id is None:
            problems.append(Problem(relative, NO_REFERRAL, linker.missing_detail))
        else:
            tasks.append((os.fspath(folder), relative))
            report_ids.append(report_id)
    problems.extend(linker.unused())

    delivery.mkdir(parents=True, exist_ok=True)
    target = delivery / FILES_CSV
    temporary = delivery / f".{FILES_CSV}.{os.getpid()}.partial"
    try:
        with open(temporary, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(DELIVERY_COLUMNS + (CLASSIFIER_COLUMNS if model is not None else ()))
            progress("hashing files", 0, len(tasks))
            for done, result in enumerate(_hash_all(tasks, jobs, model, classifier), 1):  # runs the pool to its end
                report_id = report_ids[done - 1]
                summary.bytes_hashed += result.size
                file_id = ""
                if result.md5 is not None and result.sha1 is not None:
                    summary.rows_written += 1
                    summary.with_pdq += result.pdq is not None
                    file_id = f"F{summary.rows_written:08d}"
                    quality = "" if result.pdq_quality is None else str(result.pdq_quality)
                    row: tuple[str, ...] = (report_id, file_id, result.md5, result.sha1, result.pdq or "", quality)
                    if model is not None:
                        row += _classifier_cells(result, model)
                        summary.classified += result.category is not None
                    writer.writerow(row)
                if result.problem is not None:
                    problems.append(Problem(result.relative, result.problem, result.detail, file_id))
                if result.classifier_problem is not None:
                    problems.append(
                        Problem(result.relative, result.classifier_problem, result.classifier_detail, file_id)
                    )
                if done % 16 == 0 or done == len(tasks):
                    progress("hashing files", done, len(tasks))
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    summary.problems = sorted(problems, key=lambda p: (p.path, p.reason))
    summary.seconds = time.perf_counter() - started
    return summary


def _classifier_cells(result: FileHashes, model: ContentClassifier) -> tuple[str, str, str, str]:
    """The four classifier columns of a row: all empty when the file was not classified."""
    if result.category is None or result.confidence is None:
        return ("", "", "", "")
    return (result.category, f"{result.confidence:.4f}", model.name, model.version)


def _hash_all(
    tasks: list[tuple[str, str]],
    jobs: int,
    model: ContentClassifier | None = None,
    manifest: Path | None = None,
) -> Iterator[FileHashes]:
    """Results in the order of `tasks`, whatever the number of workers. A worker process loads the
    classifier from its `manifest` once (checking the artefact's SHA-256 again)."""
    if jobs <= 1 or len(tasks) < 2:
        yield from (hash_file(folder, relative, model) for folder, relative in tasks)
        return
    chunk = max(1, min(32, len(tasks) // (16 * jobs)))
    initargs = (None if model is None or manifest is None else os.fspath(manifest),)
    with ProcessPoolExecutor(max_workers=jobs, initializer=_load_worker_classifier, initargs=initargs) as pool:
        yield from pool.map(_hash_task, tasks, chunksize=chunk)


def _check_paths(folder: Path, delivery: Path, overwrite: bool) -> None:
    if not folder.is_dir():
        raise ConfigError(f"{folder}: not a folder")
    if _inside(delivery, folder):
        raise ConfigError(f"{delivery}: the delivery folder must not be inside the hashed folder {folder}")
    if delivery.exists() and not delivery.is_dir():
        raise ConfigError(f"{delivery}: exists and is not a folder")
    if (delivery / "files.parquet").exists():
        raise ConfigError(f"{delivery}: holds files.parquet; a delivery has one files part, remove it first")
    if (delivery / FILES_CSV).exists() and not overwrite:
        raise ConfigError(f"{delivery / FILES_CSV}: exists; use --overwrite to replace it")


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def check_report_path(report: Path, folder: Path, delivery: Path) -> None:
    """The local report names files: it may not be written into the delivery folder, nor into the
    hashed folder (a later run would hash it)."""
    if _inside(report, delivery):
        raise ConfigError(f"{report}: the report names local files and must not be written inside the delivery")
    if _inside(report, folder):
        raise ConfigError(f"{report}: the report must not be written inside the hashed folder {folder}")


def write_report(path: Path, problems: Iterable[Problem]) -> None:
    """The operator's local problem report: CSV `path,reason,detail,file_id` (paths relative)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8", errors="backslashreplace") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("path", "reason", "detail", "file_id"))
        writer.writerows((p.path, p.reason, p.detail, p.file_id) for p in problems)
