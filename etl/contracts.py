"""Data contracts: load the YAML files in `data_contracts/` and turn their rules into SQL.

A contract (Open Data Contract Standard style) lists datasets (`schema:`) and, for each, its
properties with a logical type, `required`, `unique`, options (`enum`, `pattern`, `minimum`,
`maximum`, `maxLength`) and `anonymise`; plus row-level `rules` with an SQL predicate.
`validation_sql()` compiles them into one vectorised DuckDB query that lists every violation
of a staged table as (row, field, reason, detail) — the ETL quarantines exactly those rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from etl.identifiers import any_identifier_pattern
from grace.config import CONTRACTS_DIR
from grace.errors import ContractError

LOGICAL_TYPES = {"string", "integer", "number", "boolean", "date", "timestamp", "array"}
ANONYMISE_ACTIONS = {"keep", "pseudonymise", "drop", "band", "coarsen"}
TRUE_WORDS = ("true", "t", "1", "yes", "y")
FALSE_WORDS = ("false", "f", "0", "no", "n")

# Violation reasons, shared by validation and the quarantine table.
MISSING_REQUIRED = "missing_required"
WRONG_TYPE = "wrong_type"
INVALID_DATE = "invalid_date"
INVALID_DATETIME = "invalid_datetime"
INVALID_CODE = "invalid_code"
INVALID_FORMAT = "invalid_format"
OUT_OF_RANGE = "out_of_range"
TOO_LONG = "too_long"
IDENTIFIER_IN_KEPT_FIELD = "identifier_in_kept_field"
UNPRINTABLE_TEXT = "unprintable_text"
NOT_NFC_NORMALISED = "not_nfc_normalised"
# Control and format characters (bidi overrides, zero-width spaces, soft hyphens …), in RE2.
UNPRINTABLE = r"[\p{Cc}\p{Cf}]"
# Kept free text made only of these provably holds no identifier and nothing unprintable (see field_fast_check).
PLAIN_TEXT = r"[A-Za-z][A-Za-z0-9 _&()-]*"
KEPT_TEXT_MAX_LENGTH = 200  # for kept free text whose contract names no maxLength


@dataclass(frozen=True)
class Field:
    """One property of a dataset, as the contract declares it."""

    name: str
    logical_type: str
    required: bool = False
    unique: bool = False
    anonymise: str = "keep"
    options: dict[str, Any] = field(default_factory=dict)
    items: dict[str, Any] = field(default_factory=dict)
    physical_type: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Rule:
    """A row-level rule: the row is invalid in `field` for `reason` when `invalid_when` holds."""

    name: str
    field: str
    reason: str
    invalid_when: str


@dataclass(frozen=True)
class Dataset:
    """One dataset (file, table) of a contract."""

    name: str
    fields: tuple[Field, ...]
    rules: tuple[Rule, ...] = ()
    description: str = ""

    @property
    def column_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    @property
    def required_columns(self) -> list[str]:
        return [f.name for f in self.fields if f.required]


@dataclass(frozen=True)
class Contract:
    """A parsed contract file."""

    id: str
    version: str
    path: Path
    datasets: tuple[Dataset, ...]

    def dataset(self, name: str) -> Dataset:
        for candidate in self.datasets:
            if candidate.name == name:
                return candidate
        raise ContractError(f"{self.path}: contract '{self.id}' has no dataset '{name}'")


@cache
def load_contract(name: str, directory: Path = CONTRACTS_DIR) -> Contract:
    """Parse `data_contracts/<name>.yaml`, checking its structure; errors name file and field."""
    path = directory / f"{name}.yaml"
    if not path.is_file():
        raise ContractError(f"{path}: contract file not found")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ContractError(f"{path}: not valid YAML ({error})") from error
    for key in ("id", "version", "schema"):
        if key not in (document or {}):
            raise ContractError(f"{path}: missing top-level key '{key}'")
    datasets = tuple(_parse_dataset(path, entry) for entry in document["schema"])
    return Contract(id=document["id"], version=str(document["version"]), path=path, datasets=datasets)


def _parse_dataset(path: Path, entry: dict) -> Dataset:
    name = entry.get("name")
    if not name:
        raise ContractError(f"{path}: a schema entry has no name")
    fields = []
    for prop in entry.get("properties", []):
        where = f"{path}: {name}.{prop.get('name', '?')}"
        logical = prop.get("logicalType")
        if logical not in LOGICAL_TYPES:
            raise ContractError(f"{where}: logicalType '{logical}' is not one of {sorted(LOGICAL_TYPES)}")
        action = prop.get("anonymise", "keep")
        if action not in ANONYMISE_ACTIONS:
            raise ContractError(f"{where}: anonymise '{action}' is not one of {sorted(ANONYMISE_ACTIONS)}")
        fields.append(
            Field(
                name=prop["name"],
                logical_type=logical,
                required=bool(prop.get("required", False)),
                unique=bool(prop.get("unique", False)),
                anonymise=action,
                options=dict(prop.get("logicalTypeOptions") or {}),
                items=dict(prop.get("items") or {}),
                physical_type=prop.get("physicalType"),
                description=prop.get("description", ""),
            )
        )
    rules = tuple(
        Rule(name=r["name"], field=r["field"], reason=r["reason"], invalid_when=r["invalid_when"])
        for r in entry.get("rules", [])
    )
    return Dataset(name=name, fields=tuple(fields), rules=rules, description=entry.get("description", ""))


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: Any) -> str:
    """SQL literal for a contract constant (contracts are trusted repository files)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _in_list(values) -> str:
    return "(" + ", ".join(_literal(v) for v in values) + ")"


def field_checks(f: Field) -> list[tuple[str, str]]:
    """(reason, SQL predicate true when the value violates the contract) for one field.

    The predicates assume the column holds text (staging reads everything as VARCHAR) and
    treat empty strings as missing.
    """
    col = f"NULLIF(trim({_quote_ident(f.name)}), '')"
    present = f"{col} IS NOT NULL"
    checks: list[tuple[str, str]] = []
    if f.required:
        checks.append((MISSING_REQUIRED, f"{col} IS NULL"))
    typed = {
        "integer": (WRONG_TYPE, f"TRY_CAST({col} AS BIGINT) IS NULL"),
        "number": (WRONG_TYPE, f"TRY_CAST({col} AS DOUBLE) IS NULL"),
        "boolean": (WRONG_TYPE, f"lower({col}) NOT IN {_in_list(TRUE_WORDS + FALSE_WORDS)}"),
        "date": (INVALID_DATE, f"TRY_CAST({col} AS DATE) IS NULL"),
        "timestamp": (INVALID_DATETIME, f"TRY_CAST({col} AS TIMESTAMPTZ) IS NULL"),
    }.get(f.logical_type)
    if typed:
        checks.append((typed[0], f"{present} AND {typed[1]}"))
    opts = f.options
    if "enum" in opts:
        checks.append((INVALID_CODE, f"{present} AND {col} NOT IN {_in_list(opts['enum'])}"))
    if "pattern" in opts:
        checks.append((INVALID_FORMAT, f"{present} AND NOT regexp_full_match({col}, {_literal(opts['pattern'])})"))
    if "maxLength" in opts:
        checks.append((TOO_LONG, f"{present} AND length({col}) > {int(opts['maxLength'])}"))
    if is_kept_free_text(f):
        # The value itself reaches the warehouse: nothing that identifies a person, nothing that hides what it says.
        checks.append(
            (IDENTIFIER_IN_KEPT_FIELD, f"{present} AND regexp_matches({col}, {_literal(any_identifier_pattern())})")
        )
        checks.append((UNPRINTABLE_TEXT, f"{present} AND regexp_matches({col}, {_literal(UNPRINTABLE)})"))
        checks.append((NOT_NFC_NORMALISED, f"{present} AND {col} <> nfc_normalize({col})"))
        if "maxLength" not in opts:
            checks.append((TOO_LONG, f"{present} AND length({col}) > {KEPT_TEXT_MAX_LENGTH}"))
    numeric = "BIGINT" if f.logical_type == "integer" else "DOUBLE"
    if "minimum" in opts:
        checks.append((OUT_OF_RANGE, f"TRY_CAST({col} AS {numeric}) < {_literal(opts['minimum'])}"))
    if "maximum" in opts:
        checks.append((OUT_OF_RANGE, f"TRY_CAST({col} AS {numeric}) > {_literal(opts['maximum'])}"))
    if f.logical_type == "array" and "enum" in f.items:
        # Semicolon-separated codes; a regular expression is much cheaper than splitting into lists.
        checks.append((INVALID_CODE, f"{present} AND NOT regexp_full_match({col}, {_literal(_array_pattern(f))})"))
    return checks


def is_kept_free_text(f: Field) -> bool:
    """A string the warehouse keeps as it is and whose contract does not pin it to codes (enum or pattern):
    a platform name, say. Such a field must have a maxLength and passes the identifier, printable and
    NFC rules (`field_checks`)."""
    return f.logical_type == "string" and f.anonymise == "keep" and not ({"enum", "pattern"} & set(f.options))


def _array_pattern(f: Field) -> str:
    """Semicolon-separated codes from the field's item enum (a regular expression)."""
    item = "(" + "|".join(re.escape(str(v)) for v in f.items["enum"]) + ")"
    return rf"^\s*{item}?(\s*;\s*{item}?)*\s*$"


def _problem_entries(dataset: Dataset) -> list[str]:
    """One SQL expression per check: the {field, reason, detail} struct when it fails, else NULL.
    Details name the rule, never the offending value (it may be an identifier)."""
    entries = []
    for f in dataset.fields:
        for reason, predicate in field_checks(f):
            problem = _problem_struct(f.name, reason, f"{f.logical_type} field failed {reason}")
            entries.append(f"CASE WHEN {predicate} THEN {problem} END")
    for rule in dataset.rules:
        problem = _problem_struct(rule.field, rule.reason, f"rule {rule.name}")
        entries.append(f"CASE WHEN ({rule.invalid_when}) THEN {problem} END")
    return entries


def _problem_struct(field_name: str, reason: str, detail: str) -> str:
    return f"{{'field': {_literal(field_name)}, 'reason': {_literal(reason)}, 'detail': {_literal(detail)}}}"


def validation_sql(dataset: Dataset, staged_table: str) -> str:
    """One query listing every violation in `staged_table` as (_source_file, _row, field, reason, detail).

    All checks run in a single pass: each row builds a list of the checks it fails, which is
    then unnested. `staged_table` is an internal temp-table name, never user input.
    """
    entries = _problem_entries(dataset)
    problems = "list_filter([" + ",\n        ".join(entries) + "], lambda p: p IS NOT NULL)"
    any_problem = " OR ".join(f"({predicate})" for predicate in _predicates(dataset)) or "false"
    # Two passes: a cheap boolean filter finds the (few) bad rows; only those build the
    # list of what is wrong with them.
    return f"""
WITH flagged AS (
    SELECT * FROM {staged_table} WHERE {any_problem}
),
checked AS (
    SELECT _source_file, _row, {problems} AS problems
    FROM flagged
),
final AS (
    SELECT _source_file, _row, p.field AS field, p.reason AS reason, p.detail AS detail
    FROM (SELECT _source_file, _row, unnest(problems) AS p FROM checked WHERE len(problems) > 0)
)
SELECT * FROM final
"""


# Regular-expression pieces that could match whitespace: a pattern without them matches the raw
# value only when the value has nothing to trim.
_WHITESPACE_MATCHERS = (" ", "\\s", "\\S", "\\W", "\\D", "\\p", "\\P", ".", "[^", "\\x", "\\u")


def field_fast_check(f: Field) -> str | None:
    """A cheap SQL predicate on the raw (untrimmed) value that, when true, proves none of
    `field_checks(f)` fires; None when there is no such shortcut.

    Most values in a delivery are valid: testing the raw value against the contract directly
    (an enum membership, a successful cast, a pattern that cannot match whitespace) settles them
    without trimming, and only the rest get the full checks.
    """
    col = _quote_ident(f.name)
    parts: list[str] = []
    opts = f.options
    if "enum" in opts:
        if any(str(v) != str(v).strip() or str(v) == "" for v in opts["enum"]):
            return None
        parts.append(f"{col} IN {_in_list(opts['enum'])}")
    cast = {"integer": "BIGINT", "number": "DOUBLE", "date": "DATE", "timestamp": "TIMESTAMPTZ"}.get(f.logical_type)
    if cast:
        parts.append(f"TRY_CAST({col} AS {cast}) IS NOT NULL")
    elif f.logical_type == "boolean":
        parts.append(f"{col} IN {_in_list(TRUE_WORDS + FALSE_WORDS)}")
    elif f.logical_type == "array" and "enum" in f.items:
        # The codes' pattern allows ASCII blanks around codes and separators: a raw value it
        # matches still matches once trimmed.
        parts.append(f"regexp_full_match({col}, {_literal(_array_pattern(f))})")
    if "pattern" in opts:
        pattern = str(opts["pattern"])
        if any(m in pattern for m in _WHITESPACE_MATCHERS):
            return None
        parts.append(f"regexp_full_match({col}, {_literal(pattern)})")
    if "maxLength" in opts:
        parts.append(f"length({col}) <= {int(opts['maxLength'])}")
    if is_kept_free_text(f):
        parts.append(f"regexp_full_match({col}, {_literal(PLAIN_TEXT)})")
        if "maxLength" not in opts:
            parts.append(f"length({col}) <= {KEPT_TEXT_MAX_LENGTH}")
    numeric = "BIGINT" if f.logical_type == "integer" else "DOUBLE"
    if "minimum" in opts:
        parts.append(f"TRY_CAST({col} AS {numeric}) >= {_literal(opts['minimum'])}")
    if "maximum" in opts:
        parts.append(f"TRY_CAST({col} AS {numeric}) <= {_literal(opts['maximum'])}")
    implies_present = (
        "enum" in opts
        or cast
        or f.logical_type == "boolean"
        or ("pattern" in opts and re.fullmatch(str(opts["pattern"]), "") is None)
    )
    if f.required and not implies_present:
        # The first character is printable ASCII other than a space: trimming leaves something.
        parts.append(f"ascii({col}) BETWEEN 33 AND 126")
    if not parts:
        return None
    fast = " AND ".join(f"({p})" for p in parts)
    return fast if f.required else f"{col} IS NULL OR ({fast})"


def problems_sql(dataset: Dataset) -> str:
    """An expression listing what is wrong with one staged row: NULL for a valid row, else a
    list of {field, reason, detail} structs (never empty).

    A cheap OR of every violation predicate decides first; only the (few) rows it flags build
    the list, so the ETL can check and transform a staged table in a single scan.
    """
    entries = _problem_entries(dataset)
    if not entries:
        return "NULL"
    # Rows every shortcut clears are valid; the rest (few) get the full list of checks, which
    # may still come out empty (say, a valid value with a space around it).
    clears = []
    for f in dataset.fields:
        predicates = [predicate for _, predicate in field_checks(f)]
        if not predicates:
            continue
        fast = field_fast_check(f)
        clears.append(
            f"coalesce({fast}, false)"
            if fast
            else "NOT coalesce(" + " OR ".join(f"({p})" for p in predicates) + ", false)"
        )
    clears += [f"NOT coalesce(({rule.invalid_when}), false)" for rule in dataset.rules]
    problems = "list_filter([" + ",\n        ".join(entries) + "], lambda p: p IS NOT NULL)"
    return f"CASE WHEN {' AND '.join(clears)} THEN NULL ELSE NULLIF({problems}, []) END"


def _predicates(dataset: Dataset) -> list[str]:
    """Every violation predicate of a dataset, fields then rules."""
    found = [predicate for f in dataset.fields for _, predicate in field_checks(f)]
    return found + [rule.invalid_when for rule in dataset.rules]


def contract_names(directory: Path = CONTRACTS_DIR) -> list[str]:
    """Names of every contract file (without `.yaml`), sorted."""
    return sorted(p.stem for p in directory.glob("*.yaml"))
