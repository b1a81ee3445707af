"""Rebuild the benign stand-in classifier (matching/standin/): a plumbing test, NOT a content classifier.

    PYTHONPATH=. .venv/bin/python scripts/train_standin_classifier.py [--out FOLDER]

Trains on generated patterns (gradients, stripes, checkerboards, circles, noise) with a fixed seed and
writes the joblib artefact and its manifest (with the artefact's SHA-256). Same scikit-learn and numpy,
same bytes. See docs/MATCHING.md, "Content classifier plug-in".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from matching.classifiers.base import load_classifier
from matching.classifiers.standin import STANDIN_DIR, build, patterns


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=STANDIN_DIR, help=f"folder to write into (default {STANDIN_DIR})")
    args = parser.parse_args(argv)
    manifest = build(args.out)
    classifier = load_classifier(manifest)
    pictures, family = patterns(250, seed=1)
    codes, _ = classifier.classify(pictures)
    expected = [classifier.categories[f] for f in family]
    accuracy = sum(c == e for c, e in zip(codes, expected)) / len(codes)
    print(f"wrote {manifest} (sha256 {classifier.sha256}); held-out pattern families told apart: {accuracy:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
