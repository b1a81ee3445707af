"""The benign stand-in classifier: a plumbing test for the classifier plug-in, NOT a content classifier.

It is trained here, on pictures generated here (gradients, stripes, checkerboards, circles, noise),
to tell those five pattern families apart. Each family is then given a category code only so that the
plumbing (manifest, checksum, `grace hash --classifier`, the delivery, the ETL, the warehouse) carries
real codes end to end. The codes it gives say NOTHING about any real picture: it has never seen one,
and a code from it means only "this looked like that family of generated patterns". Never use it on
case material as if it classified content; an agency plugs in its own certified model instead.

Deterministic: the same seed gives the same pictures, the same model and the same joblib bytes with
the same scikit-learn and numpy, in a fresh interpreter (`scripts/train_standin_classifier.py` rebuilds the
committed artefact; a test checks that a rebuild reproduces its SHA-256). In a process that has loaded
models before, pickle may memoise equal strings differently: the model is the same, the bytes may not be.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np

from matching.classifiers.base import MANIFEST_FORMAT

NAME = "standin"
VERSION = "1.0.0"
SIDE = 32
SEED = 20240611
# Pattern family -> category code: arbitrary, for plumbing only (see the module docstring).
FAMILIES = ("gradient", "stripes", "checkerboard", "circles", "noise")
CODES = ("N", "A1", "A2", "B1", "B2")
STANDIN_DIR = Path(__file__).resolve().parent.parent / "standin"
MANIFEST = STANDIN_DIR / f"{NAME}-{VERSION}.json"
ARTEFACT_NAME = f"{NAME}-{VERSION}.joblib"


def pattern(family: int, rng: np.random.Generator, size: tuple[int, int] = (96, 96)) -> np.ndarray:
    """A benign generated picture of one family, as RGB uint8 (h, w, 3)."""
    from PIL import Image, ImageDraw

    width, height = size
    x = np.linspace(0, 1, width)[None, :]
    y = np.linspace(0, 1, height)[:, None]
    low, high = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    if FAMILIES[family] == "gradient":
        angle = rng.uniform(0, 2 * np.pi)
        mix = np.cos(angle) * x + np.sin(angle) * y
        mix = (mix - mix.min()) / (np.ptp(mix) + 1e-9)
    elif FAMILIES[family] == "stripes":
        angle, frequency = rng.uniform(0, np.pi), rng.uniform(3, 10)
        phase = np.sin(2 * np.pi * frequency * (np.cos(angle) * x + np.sin(angle) * y) + rng.uniform(0, 2 * np.pi))
        mix = (phase > 0).astype(float)
    elif FAMILIES[family] == "checkerboard":
        squares = int(rng.integers(3, 9))
        mix = ((np.arange(width) * squares // width)[None, :] + (np.arange(height) * squares // height)[:, None]) % 2
        mix = mix.astype(float)
    elif FAMILIES[family] == "circles":
        picture = Image.new("RGB", size, tuple(int(c) for c in low))
        draw = ImageDraw.Draw(picture)
        for _ in range(int(rng.integers(3, 8))):
            cx, cy, r = (
                int(rng.integers(0, width)),
                int(rng.integers(0, height)),
                int(rng.integers(width // 12, width // 4)),
            )
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
        return np.asarray(picture)
    else:  # noise
        values = rng.integers(0, 256, (height, width, 3)).astype(float) * rng.uniform(0.3, 1) + rng.uniform(0, 60)
        return np.clip(values, 0, 255).astype(np.uint8)
    values = low[None, None, :] * (1 - mix[..., None]) + high[None, None, :] * mix[..., None]
    return np.clip(values, 0, 255).astype(np.uint8)


def patterns(count: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """`count` generated pictures cycling through the families, and their family numbers."""
    rng = np.random.default_rng(seed)
    family = np.arange(count) % len(FAMILIES)
    return [pattern(int(f), rng) for f in family], family


def features(batch: np.ndarray) -> np.ndarray:
    """Simple texture measures of flat grey 32x32 inputs in 0-1: spread, mean differences between
    neighbours, shares of edges across and along, occupied grey levels, the two largest levels' shares.
    (Part of the pickled pipeline, by reference: the stand-in needs this module to load.)"""
    pixels = np.asarray(batch, dtype=np.float64).reshape(len(batch), SIDE, SIDE)
    dx = np.abs(np.diff(pixels, axis=2))[:, :-1, :]
    dy = np.abs(np.diff(pixels, axis=1))[:, :, :-1]
    ex, ey = dx > 0.04, dy > 0.04
    levels = np.stack([np.histogram(p, bins=16, range=(0, 1))[0] for p in pixels]) / float(SIDE * SIDE)
    top = -np.sort(-levels, axis=1)
    return np.column_stack(
        [
            pixels.std(axis=(1, 2)),
            dx.mean(axis=(1, 2)),
            dy.mean(axis=(1, 2)),
            ex.mean(axis=(1, 2)),
            ey.mean(axis=(1, 2)),
            (ex & ey).mean(axis=(1, 2)),
            (ex ^ ey).mean(axis=(1, 2)),
            (levels > 0.01).sum(axis=1) / 16.0,
            top[:, 0],
            top[:, :2].sum(axis=1),
            (dx > 0).mean(axis=(1, 2)),
        ]
    )


def input_spec() -> dict:
    return {"width": SIDE, "height": SIDE, "colour": "grey", "layout": "flat", "scale": "unit"}


def train(samples: int = 500, seed: int = SEED):
    """The stand-in pipeline (features -> scaling -> logistic regression), classes = CODES."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    from matching.classifiers.base import InputSpec, prepare

    pictures, family = patterns(samples, seed)
    inputs = prepare(pictures, InputSpec(**input_spec()))
    model = make_pipeline(
        FunctionTransformer(features), StandardScaler(), LogisticRegression(max_iter=1000, C=3.0, random_state=0)
    )
    model.fit(inputs, np.array(CODES)[family])
    return model


def build(folder: Path = STANDIN_DIR, samples: int = 500, seed: int = SEED) -> Path:
    """Train the stand-in and write its artefact and manifest into `folder`; the manifest's path."""
    import joblib

    model = train(samples, seed)
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=("zlib", 6), protocol=4)
    data = buffer.getvalue()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ARTEFACT_NAME).write_bytes(data)
    manifest = {
        "format": MANIFEST_FORMAT,
        "name": NAME,
        "version": VERSION,
        "runtime": "sklearn",
        "artefact": ARTEFACT_NAME,
        "sha256": hashlib.sha256(data).hexdigest(),
        "scheme": "industry",
        "categories": list(CODES),
        "input": input_spec(),
        "scores": "probabilities",
        "notes": "Benign stand-in for plumbing tests: trained on generated patterns only; says nothing about real content.",
    }
    path = folder / f"{NAME}-{VERSION}.json"
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return path
