"""Agency-editable priority rules (AviaTor style) and the tiers P1–P4.

A rule set is a YAML file: a name, a version, the tier thresholds and rules. A rule adds its weight to a
referral's priority score when all its conditions hold; a condition compares one feature (the names in
`classification.features.FEATURES`) with a value. The priority score is the model's calibrated
probability plus the weights of the rules that fired, clipped to [0, 1]; the tier is the first whose
threshold it reaches (P1 highest), else P4. Without a model the rules alone decide (probability 0).

    name: agency-default
    version: "1"
    tiers: {P1: 0.60, P2: 0.35, P3: 0.15}
    rules:
      - id: known-a1
        description: known material of category A1
        all:
          - {feature: files_a1, op: ">=", value: 1}
          - {feature: files_known, op: ">=", value: 1}
        weight: 0.25

Loading validates everything and names the line of the first problem (`RuleSetError`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from classification.features import BOOLEAN, CATEGORICAL, FEATURES, NUMERIC
from grace.errors import InputFileError

TIERS = ("P1", "P2", "P3", "P4")
OPERATORS = ("==", "!=", ">=", ">", "<=", "<", "in", "not in")
DEFAULT_RULES = Path(__file__).with_name("default_rules.yaml")


class RuleSetError(InputFileError):
    """A rule set file that cannot be used; the message names the file, line and field."""

    def __init__(self, path, reason, row=None, field=None):
        super().__init__(path, reason, row=row, field=field)
        where = str(path) + (f", line {row}" if row is not None else "") + (f", field '{field}'" if field else "")
        self.args = (f"{where}: {reason}",)

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Condition:
    feature: str
    op: str
    value: object

    def holds(self, frame: pd.DataFrame) -> np.ndarray:
        column = frame[self.feature]
        if self.op in ("in", "not in"):
            inside = column.astype("string").isin([str(v) for v in self.value]).to_numpy(dtype=bool)  # type: ignore[attr-defined]
            return inside if self.op == "in" else ~inside
        if self.feature in CATEGORICAL:
            equal = (column.astype("string") == str(self.value)).fillna(False).to_numpy(dtype=bool)
            return equal if self.op == "==" else ~equal
        values = column.astype(float).to_numpy()
        target = float(self.value)  # type: ignore[arg-type]
        compare = {
            "==": np.equal,
            "!=": np.not_equal,
            ">=": np.greater_equal,
            ">": np.greater,
            "<=": np.less_equal,
            "<": np.less,
        }[self.op]
        return compare(values, target)


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    conditions: tuple[Condition, ...]
    weight: float

    def fires(self, frame: pd.DataFrame) -> np.ndarray:
        fired = np.ones(len(frame), dtype=bool)
        for condition in self.conditions:
            fired &= condition.holds(frame)
        return fired


@dataclass(frozen=True)
class RuleSet:
    name: str
    version: str
    thresholds: tuple[float, float, float]  # P1, P2, P3
    rules: tuple[Rule, ...]
    checksum: str
    text: str

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    def fired(self, frame: pd.DataFrame) -> np.ndarray:
        """Boolean matrix (referrals × rules): which rules fired for which referral."""
        if not self.rules:
            return np.zeros((len(frame), 0), dtype=bool)
        return np.column_stack([rule.fires(frame) for rule in self.rules])

    def apply(self, frame: pd.DataFrame, probability: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(priority score, tier index 0–3 for P1–P4, fired matrix) for each referral."""
        fired = self.fired(frame)
        weights = np.array([rule.weight for rule in self.rules], dtype=float)
        score = np.clip(np.asarray(probability, dtype=float) + (fired @ weights if len(weights) else 0.0), 0.0, 1.0)
        tier = np.full(len(score), 3, dtype=np.int8)
        for level in (2, 1, 0):  # P3, then P2, then P1 overwrite
            tier[score >= self.thresholds[level]] = level
        return score, tier, fired


class _LineLoader(yaml.SafeLoader):
    """A SafeLoader that remembers the line of every mapping (key `__line__`)."""


def _mapping_with_line(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def load_rule_set(path: str | Path) -> RuleSet:
    """Read and validate a rule set file (errors name the file, line and field)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RuleSetError(path, f"cannot read: {error.strerror or error}") from None
    return parse_rule_set(text, path)


def parse_rule_set(text: str, path: str | Path = "<rules>") -> RuleSet:
    """Validate rule-set YAML text (see the module docstring)."""
    try:
        document = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as error:
        line = getattr(getattr(error, "problem_mark", None), "line", None)
        raise RuleSetError(
            path, f"not valid YAML: {getattr(error, 'problem', error)}", row=None if line is None else line + 1
        ) from None

    def fail(where: dict | None, field: str, reason: str):
        raise RuleSetError(path, reason, row=(where or {}).get("__line__"), field=field)

    if not isinstance(document, dict):
        raise RuleSetError(path, "a rule set is a mapping with name, version, tiers and rules", row=1)
    unknown = sorted(set(document) - {"name", "version", "tiers", "rules", "__line__"})
    if unknown:
        fail(document, unknown[0], f"unknown key {unknown[0]!r} (expected name, version, tiers, rules)")
    for key in ("name", "version"):
        if not isinstance(document.get(key), str | int | float) or not str(document.get(key)).strip():
            fail(document, key, f"{key} is required (text)")
    tiers = document.get("tiers")
    if not isinstance(tiers, dict) or sorted(k for k in tiers if k != "__line__") != ["P1", "P2", "P3"]:
        fail(document, "tiers", "tiers must give thresholds for exactly P1, P2 and P3 (below P3 is P4)")
    thresholds = []
    for tier in ("P1", "P2", "P3"):
        value = tiers[tier]  # type: ignore[index]
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value <= 1:
            fail(tiers, tier, f"threshold of {tier} must be a number in (0, 1], got {value!r}")
        thresholds.append(float(value))
    if not thresholds[0] > thresholds[1] > thresholds[2]:
        fail(tiers, "tiers", f"thresholds must fall from P1 to P3, got {thresholds}")
    raw_rules = document.get("rules")
    if not isinstance(raw_rules, list):
        fail(document, "rules", "rules must be a list (it may be empty)")
    rules: list[Rule] = []
    seen: set[str] = set()
    for raw in raw_rules:  # type: ignore[union-attr]
        rules.append(_rule(raw, document, seen, fail))
    return RuleSet(
        name=str(document["name"]).strip(),
        version=str(document["version"]).strip(),
        thresholds=(thresholds[0], thresholds[1], thresholds[2]),
        rules=tuple(rules),
        checksum=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        text=text,
    )


def _rule(raw: object, document: dict, seen: set, fail) -> Rule:
    if not isinstance(raw, dict):
        fail(document, "rules", "each rule is a mapping with id, all and weight")
    rule: dict = raw  # type: ignore[assignment]
    unknown = sorted(set(rule) - {"id", "description", "all", "weight", "__line__"})
    if unknown:
        fail(rule, unknown[0], f"unknown key {unknown[0]!r} in a rule (expected id, description, all, weight)")
    rule_id = rule.get("id")
    if not isinstance(rule_id, str) or not rule_id.strip():
        fail(rule, "id", "every rule needs an id (text)")
    if rule_id in seen:
        fail(rule, "id", f"rule id {rule_id!r} is used twice")
    seen.add(rule_id)
    weight = rule.get("weight")
    if not isinstance(weight, int | float) or isinstance(weight, bool) or not -1 <= weight <= 1:
        fail(rule, "weight", f"weight of rule {rule_id!r} must be a number from -1 to 1, got {weight!r}")
    raw_conditions = rule.get("all")
    if not isinstance(raw_conditions, list) or not raw_conditions:
        fail(rule, "all", f"rule {rule_id!r} needs a non-empty list of conditions under 'all'")
    conditions = tuple(_condition(c, rule, str(rule_id), fail) for c in raw_conditions)  # type: ignore[union-attr]
    return Rule(str(rule_id), str(rule.get("description", "")), conditions, float(weight))  # type: ignore[arg-type]


def _condition(raw: object, rule: dict, rule_id: str, fail) -> Condition:
    if not isinstance(raw, dict):
        fail(rule, "all", f"a condition of rule {rule_id!r} is not a mapping of feature, op, value")
    condition: dict = raw  # type: ignore[assignment]
    feature, op, value = condition.get("feature"), condition.get("op"), condition.get("value")
    if feature not in FEATURES:
        fail(condition, "feature", f"unknown feature {feature!r} in rule {rule_id!r}")
    if op not in OPERATORS:
        fail(condition, "op", f"op must be one of {', '.join(OPERATORS)}, got {op!r}")
    if op in ("in", "not in"):
        if not isinstance(value, list) or not value:
            fail(condition, "value", f"'{op}' needs a non-empty list of values")
    elif feature in CATEGORICAL:
        if op not in ("==", "!="):
            fail(condition, "op", f"{feature} is a code: use ==, !=, in or not in")
        if not isinstance(value, str | int):
            fail(condition, "value", f"{feature} is compared with a code, got {value!r}")
    elif feature in BOOLEAN:
        if op not in ("==", "!=") or not isinstance(value, bool):
            fail(condition, "value", f"{feature} is true or false: use == or != with true/false")
    elif feature in NUMERIC and (not isinstance(value, int | float) or isinstance(value, bool)):
        fail(condition, "value", f"{feature} is a number, got {value!r}")
    return Condition(str(feature), str(op), value)
