"""The content-classifier plug-in: a versioned model behind a manifest, run by `grace hash --classifier`.

Only codes and scores leave: a category code, a confidence in [0, 1], the model's name and version.
The model itself is the agency's (certified elsewhere); GRACE only checks that it is the artefact the
manifest names (SHA-256), that its category codes are codes of an allowed scheme, and runs it.

A manifest is a small JSON file beside the artefact (docs/MATCHING.md, "Content classifier plug-in"):

    {
      "format": "grace-classifier/1",
      "name": "standin",                 # [A-Za-z0-9._-], starts with a letter or digit, at most 64
      "version": "1.0.0",                # [A-Za-z0-9._+-], at most 32
      "runtime": "sklearn",              # "sklearn" (joblib file of a fitted estimator) or "onnx"
      "artefact": "standin-1.0.0.joblib",  # relative to the manifest's folder
      "sha256": "…64 hex…",              # of the artefact's bytes
      "scheme": "industry",              # "industry": A1 A2 B1 B2; "vics": 0 1 2 3; N (benign) in both
      "categories": ["N", "A1", "A2", "B1", "B2"],  # the model's outputs, in its output order
      "input": {"width": 32, "height": 32, "colour": "grey", "layout": "flat", "scale": "unit"},
      "scores": "probabilities"          # optional: or "logits" (a softmax is applied)
    }

`input` says how GRACE turns a decoded picture (RGB, 8 bits a channel) into the model's input: resized to
width x height (Pillow, bilinear), `colour` "grey" (Pillow's L) or "rgb", `scale` "unit" (0-1) or "byte"
(0-255), optional per-channel `mean` and `std` (subtracted, divided, after scaling), `layout` "flat"
(n, h·w·c), "nhwc" or "nchw"; float32. The model returns one score per category; the code of the highest
score and that score (the confidence) are what leaves.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from grace.errors import InputFileError

MANIFEST_FORMAT = "grace-classifier/1"
RUNTIMES = ("sklearn", "onnx")
# Category schemes (codes only; their definitions are the schemes' owners', not repeated here).
BENIGN = "N"
SCHEMES: dict[str, tuple[str, ...]] = {
    "industry": ("A1", "A2", "B1", "B2", BENIGN),
    "vics": ("0", "1", "2", "3", BENIGN),
}
# Every code a delivery may carry in classifier_category (the case-export contract's pattern; a test checks).
CATEGORY_PATTERN = re.compile(r"^(A1|A2|B1|B2|[0-3]|N)$")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,31}$")
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
COLOURS = {"grey": 1, "rgb": 3}
LAYOUTS = ("flat", "nhwc", "nchw")
SCALES = {"unit": 1 / 255.0, "byte": 1.0}
SCORES = ("probabilities", "logits")
MAX_SIDE = 4096
REQUIRED = ("format", "name", "version", "runtime", "artefact", "sha256", "scheme", "categories", "input")
OPTIONAL = ("scores", "notes")


@dataclass(frozen=True)
class InputSpec:
    """How a decoded RGB picture becomes the model's input (see the module docstring)."""

    width: int
    height: int
    colour: str = "grey"
    layout: str = "flat"
    scale: str = "unit"
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None

    @property
    def channels(self) -> int:
        return COLOURS[self.colour]


@dataclass(frozen=True)
class Manifest:
    """A checked manifest: `artefact` is the artefact's absolute path."""

    path: Path
    name: str
    version: str
    runtime: str
    artefact: Path
    sha256: str
    scheme: str
    categories: tuple[str, ...]
    input: InputSpec
    scores: str = "probabilities"


@runtime_checkable
class ContentClassifier(Protocol):
    """What `grace hash` needs of a classifier: who it is and codes with confidences for a batch."""

    name: str
    version: str
    sha256: str
    categories: tuple[str, ...]

    def classify(self, images: Sequence[np.ndarray]) -> tuple[list[str], np.ndarray]:
        """Decoded pictures (uint8 arrays h x w x 3, RGB) -> (a category code each, a confidence each in [0, 1])."""
        ...


# ---------------------------------------------------------------------------------------------
# The manifest


def read_manifest(path: Path) -> Manifest:
    """Read and check a manifest; every refusal names the file and the field (`InputFileError`)."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputFileError(path, f"cannot read the classifier manifest ({error.strerror or error})") from error
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputFileError(path, f"classifier manifest is not valid JSON ({error})") from error
    if not isinstance(document, dict):
        raise InputFileError(path, "classifier manifest must be a JSON object")
    for key in REQUIRED:
        if key not in document:
            raise InputFileError(path, "missing in the classifier manifest", field=key)
    unknown = sorted(set(document) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise InputFileError(path, f"not a manifest field (known: {', '.join(REQUIRED + OPTIONAL)})", field=unknown[0])

    def text(key: str, pattern: re.Pattern | None = None, choices: Sequence[str] | None = None) -> str:
        value = document[key]
        if not isinstance(value, str):
            raise InputFileError(path, "must be a string", field=key)
        if pattern is not None and not pattern.match(value):
            raise InputFileError(path, f"{value!r} does not match {pattern.pattern}", field=key)
        if choices is not None and value not in choices:
            raise InputFileError(path, f"{value!r} is not one of {', '.join(choices)}", field=key)
        return value

    if document["format"] != MANIFEST_FORMAT:
        raise InputFileError(path, f"{document['format']!r}: this GRACE reads {MANIFEST_FORMAT!r}", field="format")
    name = text("name", NAME_PATTERN)
    version = text("version", VERSION_PATTERN)
    runtime = text("runtime", choices=RUNTIMES)
    sha256 = text("sha256", SHA256_PATTERN)
    scheme = text("scheme", choices=tuple(SCHEMES))
    scores = document.get("scores", "probabilities")
    if scores not in SCORES:
        raise InputFileError(path, f"{scores!r} is not one of {', '.join(SCORES)}", field="scores")
    relative = text("artefact")
    if not relative or Path(relative).is_absolute() or ".." in Path(relative).parts:
        raise InputFileError(
            path, "must be a file name relative to the manifest's folder, without '..'", field="artefact"
        )
    categories = document["categories"]
    if not isinstance(categories, list) or len(categories) < 2 or not all(isinstance(c, str) for c in categories):
        raise InputFileError(path, "must be a list of at least two category codes", field="categories")
    allowed = SCHEMES[scheme]
    outside = [c for c in categories if c not in allowed]
    if outside:
        raise InputFileError(
            path,
            f"{', '.join(map(repr, outside))} not in the {scheme} scheme ({' '.join(allowed)})",
            field="categories",
        )
    if len(set(categories)) != len(categories):
        raise InputFileError(path, "a category code is listed twice", field="categories")
    return Manifest(
        path=path,
        name=name,
        version=version,
        runtime=runtime,
        artefact=path.parent / relative,
        sha256=sha256,
        scheme=scheme,
        categories=tuple(categories),
        input=_input_spec(path, document["input"]),
        scores=scores,
    )


def _input_spec(path: Path, value: Any) -> InputSpec:
    if not isinstance(value, dict):
        raise InputFileError(path, "must be an object (width, height, colour, layout, scale)", field="input")
    known = ("width", "height", "colour", "layout", "scale", "mean", "std")
    for key in value:
        if key not in known:
            raise InputFileError(path, f"not an input field (known: {', '.join(known)})", field=f"input.{key}")
    for key in ("width", "height"):
        side = value.get(key)
        if not isinstance(side, int) or isinstance(side, bool) or not 1 <= side <= MAX_SIDE:
            raise InputFileError(path, f"must be an integer 1-{MAX_SIDE}", field=f"input.{key}")
    choices = {"colour": tuple(COLOURS), "layout": LAYOUTS, "scale": tuple(SCALES)}
    chosen = {key: value.get(key, options[0]) for key, options in choices.items()}
    for key, options in choices.items():
        if chosen[key] not in options:
            raise InputFileError(path, f"{chosen[key]!r} is not one of {', '.join(options)}", field=f"input.{key}")
    channels = COLOURS[chosen["colour"]]
    norms: dict[str, tuple[float, ...] | None] = {}
    for key in ("mean", "std"):
        numbers = value.get(key)
        if numbers is not None and (
            not isinstance(numbers, list)
            or len(numbers) != channels
            or not all(isinstance(n, int | float) and not isinstance(n, bool) and math.isfinite(n) for n in numbers)
            or (key == "std" and not all(n > 0 for n in numbers))
        ):
            raise InputFileError(
                path, f"must be a list of {channels} finite numbers (one per channel)", field=f"input.{key}"
            )
        norms[key] = None if numbers is None else tuple(float(n) for n in numbers)
    return InputSpec(value["width"], value["height"], **chosen, mean=norms["mean"], std=norms["std"])


def verified_artefact(manifest: Manifest) -> bytes:
    """The artefact's bytes, read once, after checking them against the manifest's SHA-256."""
    try:
        data = manifest.artefact.read_bytes()
    except OSError as error:
        raise InputFileError(
            manifest.path, f"cannot read the artefact {manifest.artefact} ({error.strerror or error})", field="artefact"
        ) from error
    found = hashlib.sha256(data).hexdigest()
    if found != manifest.sha256:
        raise InputFileError(
            manifest.path,
            f"checksum mismatch: {manifest.artefact.name} has SHA-256 {found}, the manifest says {manifest.sha256}; "
            "refusing a model that is not the one the manifest names",
            field="sha256",
        )
    return data


# ---------------------------------------------------------------------------------------------
# From pictures to the model's input, and from scores to codes


def prepare(images: Sequence[np.ndarray], spec: InputSpec) -> np.ndarray:
    """Decoded RGB pictures as the model's float32 input batch (see `InputSpec`)."""
    from PIL import Image

    mode = "L" if spec.colour == "grey" else "RGB"
    batch = np.empty((len(images), spec.height, spec.width, spec.channels), dtype=np.float32)
    for i, pixels in enumerate(images):
        picture = Image.fromarray(np.asarray(pixels, dtype=np.uint8)).convert(mode)
        resized = picture.resize((spec.width, spec.height), Image.Resampling.BILINEAR)
        batch[i] = np.asarray(resized, dtype=np.float32).reshape(spec.height, spec.width, spec.channels)
    batch *= np.float32(SCALES[spec.scale])
    if spec.mean is not None:
        batch -= np.asarray(spec.mean, dtype=np.float32)
    if spec.std is not None:
        batch /= np.asarray(spec.std, dtype=np.float32)
    if spec.layout == "flat":
        return batch.reshape(len(images), -1)
    if spec.layout == "nchw":
        return np.ascontiguousarray(batch.transpose(0, 3, 1, 2))
    return batch


def decide(scores: np.ndarray, categories: Sequence[str], kind: str = "probabilities") -> tuple[list[str], np.ndarray]:
    """(code of the highest score, that score as a confidence in [0, 1]) per row of `scores` (n, k)."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[1] != len(categories):
        raise ValueError(f"the model gave scores of shape {scores.shape}, expected (n, {len(categories)})")
    if kind == "logits":
        shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
        scores = shifted / shifted.sum(axis=1, keepdims=True)
    best = scores.argmax(axis=1)
    confidence = scores[np.arange(len(scores)), best]
    return [categories[i] for i in best], confidence


# ---------------------------------------------------------------------------------------------
# Runtimes


class SklearnClassifier:
    """A fitted scikit-learn estimator (a Pipeline, say) with `predict_proba`, saved with joblib.

    Its `classes_` are either the category codes or 0..k-1 (the manifest's order). The file must have been
    written by the installed scikit-learn's version: another version is refused (scikit-learn does not
    support unpickling across versions). Loading a joblib file runs code from it: the SHA-256 check is what
    makes sure it is the file the manifest names; only load manifests you trust.
    """

    def __init__(self, manifest: Manifest):
        import io

        import joblib
        from sklearn.exceptions import InconsistentVersionWarning

        data = verified_artefact(manifest)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", InconsistentVersionWarning)
                model = joblib.load(io.BytesIO(data))
        except InconsistentVersionWarning as warning:
            raise InputFileError(
                manifest.artefact,
                f"written by scikit-learn {warning.original_sklearn_version}, this is {warning.current_sklearn_version}: "
                "re-export the model with the installed version (or install that one)",
            ) from None
        except Exception as error:
            raise InputFileError(manifest.artefact, f"not a joblib file GRACE can load ({error})") from error
        if not hasattr(model, "predict_proba"):
            raise InputFileError(manifest.artefact, f"{type(model).__name__} has no predict_proba")
        classes = [str(c) for c in getattr(model, "classes_", [])]
        if classes == list(manifest.categories):
            self._order = np.arange(len(classes))
        elif sorted(classes) == sorted(manifest.categories):
            self._order = np.array([classes.index(c) for c in manifest.categories])
        elif classes == [str(i) for i in range(len(manifest.categories))]:
            self._order = np.arange(len(classes))
        else:
            raise InputFileError(
                manifest.path,
                f"the model's classes {classes} are neither these codes nor 0..{len(manifest.categories) - 1}",
                field="categories",
            )
        self.manifest = manifest
        self.name, self.version, self.sha256 = manifest.name, manifest.version, manifest.sha256
        self.categories = manifest.categories
        self._model = model

    def classify(self, images: Sequence[np.ndarray]) -> tuple[list[str], np.ndarray]:
        if not len(images):
            return [], np.empty(0)
        scores = self._model.predict_proba(prepare(images, self.manifest.input))
        return decide(np.asarray(scores)[:, self._order], self.categories, self.manifest.scores)


class OnnxClassifier:
    """An ONNX model run by ONNX Runtime (the optional `onnx` extra): one input, the first output's
    scores (n, k) in the manifest's category order."""

    def __init__(self, manifest: Manifest):
        try:
            import onnxruntime
        except ImportError as error:
            raise InputFileError(
                manifest.path, "needs onnxruntime: pip install 'grace-trends[onnx]'", field="runtime"
            ) from error
        data = verified_artefact(manifest)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # one worker process per core already
        options.inter_op_num_threads = 1
        try:
            self._session = onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        except Exception as error:
            raise InputFileError(manifest.artefact, f"not an ONNX model ONNX Runtime can load ({error})") from error
        inputs = self._session.get_inputs()
        if len(inputs) != 1:
            raise InputFileError(manifest.artefact, f"the model has {len(inputs)} inputs; GRACE feeds one")
        self._input = inputs[0].name
        self.manifest = manifest
        self.name, self.version, self.sha256 = manifest.name, manifest.version, manifest.sha256
        self.categories = manifest.categories

    def classify(self, images: Sequence[np.ndarray]) -> tuple[list[str], np.ndarray]:
        if not len(images):
            return [], np.empty(0)
        scores = self._session.run(None, {self._input: prepare(images, self.manifest.input)})[0]
        return decide(scores, self.categories, self.manifest.scores)


def load_classifier(path: Path) -> ContentClassifier:
    """The classifier a manifest names, its artefact checked (`InputFileError` on any refusal)."""
    manifest = read_manifest(path)
    if manifest.runtime == "onnx":
        return OnnxClassifier(manifest)
    return SklearnClassifier(manifest)
