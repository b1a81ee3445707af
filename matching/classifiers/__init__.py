"""Content classifiers for `grace hash --classifier`: a model behind a checked manifest gives a category code
and a confidence per picture; only those codes and scores leave (`matching.classifiers.base`). The repository
ships a benign stand-in for plumbing tests only (`matching.classifiers.standin`)."""

from matching.classifiers.base import (
    BENIGN,
    CATEGORY_PATTERN,
    MANIFEST_FORMAT,
    NAME_PATTERN,
    SCHEMES,
    VERSION_PATTERN,
    ContentClassifier,
    InputSpec,
    Manifest,
    OnnxClassifier,
    SklearnClassifier,
    decide,
    load_classifier,
    prepare,
    read_manifest,
)

__all__ = [
    "BENIGN",
    "CATEGORY_PATTERN",
    "MANIFEST_FORMAT",
    "NAME_PATTERN",
    "SCHEMES",
    "VERSION_PATTERN",
    "ContentClassifier",
    "InputSpec",
    "Manifest",
    "OnnxClassifier",
    "SklearnClassifier",
    "decide",
    "load_classifier",
    "prepare",
    "read_manifest",
]
