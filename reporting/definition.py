"""Report definitions: YAML files that say what a report holds, checked before anything runs.

A definition names its audience and marking, the period (a week, month or quarter: the last complete one,
or the one holding a given date), the scope (the EU, one country or one agency), k, the output kind
(`report`: pages first; `deck`: slides first) and its sections, each made of:
- `figures`: metrics whose totals for the period (and the change on the previous period) are written as
  sentences, every number checked against the warehouse at render time;
- `findings`: the latest analysis run's ranked findings within the scope (`limit`, `kinds`, `metrics`);
- `charts`: catalogue charts (`chart` id and the `view` as the page's query string);
- `outlook`: metrics whose stored forecast for the scope's series (the next period's point and interval)
  is written as a checked sentence;
- `capacity: true`: the backlog at the period's end against the previous end, and the referrals received
  and triaged in the period, as checked sentences;
- `published`: the comparison with imported published figures (`metrics`: the published metric codes,
  e.g. `cybertipline_reports`; `years`: how many of the latest complete years) as a table and sentences;
- `tables`: report-level tables for the text and the annex (`country-totals`, `platform-mix`);
- `text`: fixed wording (methods, caveats) — digits are refused there, since nothing could check them.

Errors name the file, the line and the field: `weekly.yaml, line 12, sections[1].charts[0].chart: no chart
'trend' (…)`. The shipped templates are in `reporting/templates/`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from dashboards.exports.marking import CLASSIFICATION
from grace.errors import GraceError

TEMPLATES = Path(__file__).resolve().parent / "templates"
GRAINS = ("week", "month", "quarter")
KINDS = ("report", "deck")
TABLES = ("country-totals", "platform-mix")  # report-level tables (reporting/tables.py)
_ISO3 = r"^[A-Z]{3}$"
_AGENCY = r"^agency:[A-Z0-9-]{2,40}$"

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "title", "audience", "period", "sections"],
    "properties": {
        "name": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]{0,60}$"},
        "title": {"type": "string", "minLength": 3, "maxLength": 160},
        "audience": {"type": "string", "minLength": 3, "maxLength": 200},
        "kind": {"enum": list(KINDS)},
        "marking": {"type": "string", "minLength": 3, "maxLength": 120},
        "k": {"type": "integer", "minimum": 2, "maximum": 1000},
        "scope": {"type": "string", "anyOf": [{"const": "EU"}, {"pattern": _ISO3}, {"pattern": _AGENCY}]},
        "period": {
            "type": "object",
            "additionalProperties": False,
            "required": ["grain"],
            "properties": {
                "grain": {"enum": list(GRAINS)},
                "which": {
                    "type": "string",
                    "anyOf": [{"const": "last-complete"}, {"pattern": r"^\d{4}-\d{2}-\d{2}$"}],
                },
            },
        },
        "sources": {"type": "array", "items": {"type": "string", "maxLength": 300}},
        "sections": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["title"],
                "properties": {
                    "title": {"type": "string", "minLength": 1, "maxLength": 120},
                    "text": {"type": "string", "maxLength": 4000},
                    "figures": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "findings": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "limit": {"type": "integer", "minimum": 1, "maximum": 50},
                            "kinds": {"type": "array", "items": {"type": "string"}},
                            "metrics": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                    "outlook": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "capacity": {"type": "boolean"},
                    "published": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["metrics"],
                        "properties": {
                            "metrics": {
                                "type": "array",
                                "minItems": 1,
                                "items": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$", "maxLength": 64},
                            },
                            "years": {"type": "integer", "minimum": 1, "maximum": 5},
                        },
                    },
                    "tables": {"type": "array", "minItems": 1, "items": {"enum": list(TABLES)}},
                    "charts": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["chart"],
                            "properties": {"chart": {"type": "string"}, "view": {"type": "string"}},
                        },
                    },
                },
            },
        },
    },
}


class DefinitionError(GraceError):
    """A report definition that cannot be used: names the file, line and field."""


@dataclass(frozen=True)
class ChartRef:
    chart: str
    view: str = ""


@dataclass(frozen=True)
class FindingsRef:
    limit: int = 8
    kinds: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()


@dataclass(frozen=True)
class PublishedRef:
    """Which imported published figures to compare with (metric codes of `published_statistic`)."""

    metrics: tuple[str, ...]
    years: int = 2


@dataclass(frozen=True)
class SectionDef:
    title: str
    text: str = ""
    figures: tuple[str, ...] = ()
    findings: FindingsRef | None = None
    charts: tuple[ChartRef, ...] = ()
    outlook: tuple[str, ...] = ()
    capacity: bool = False
    published: PublishedRef | None = None
    tables: tuple[str, ...] = ()


@dataclass(frozen=True)
class Definition:
    """A validated report definition."""

    name: str
    title: str
    audience: str
    grain: str
    which: str  # 'last-complete' or an ISO date inside the period
    scope: str  # 'EU', an ISO-3 code or 'agency:CODE'
    sections: tuple[SectionDef, ...]
    kind: str = "report"
    marking: str = CLASSIFICATION
    k: int | None = None
    sources: tuple[str, ...] = ()
    digest: str = ""  # SHA-256 of the definition's text, for the run manifest
    path: str = ""

    def with_run(self, period: str | None = None, scope: str | None = None) -> Definition:
        """The definition for one run: another period (`last-complete` or a date) or scope."""
        from dataclasses import replace

        changes: dict[str, Any] = {}
        if period:
            changes["which"] = _checked_value("period", period, SCHEMA["properties"]["period"]["properties"]["which"])
        if scope:
            changes["scope"] = _checked_value("scope", scope, SCHEMA["properties"]["scope"])
        return replace(self, **changes)


def load_definition(source: str | Path) -> Definition:
    """A definition from a YAML file, or a shipped template by name (`weekly-brief`, …)."""
    path = Path(source)
    if not path.suffix and not path.exists():
        path = TEMPLATES / f"{source}.yaml"
        if not path.exists():
            raise DefinitionError(f"no report definition {source!r}; templates: {', '.join(template_names())}")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise DefinitionError(f"{path}: cannot read ({error.strerror})") from error
    return parse_definition(text, str(path))


def template_names() -> list[str]:
    return sorted(p.stem for p in TEMPLATES.glob("*.yaml"))


def parse_definition(text: str, where: str = "<definition>") -> Definition:
    """Validate YAML text and build the `Definition`; the first problem found raises `DefinitionError`."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark is not None else ""
        raise DefinitionError(f"{where}{line}: not valid YAML ({getattr(error, 'problem', error)})") from error
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        raise DefinitionError(f"{where}, {_located(node, list(first.absolute_path))}: {_message(first)}")
    definition = _build(data, where, hashlib.sha256(text.encode("utf-8")).hexdigest())
    _check_references(definition, node, where)
    return definition


def _build(data: Mapping[str, Any], where: str, digest: str) -> Definition:
    sections = tuple(
        SectionDef(
            title=section["title"],
            text=section.get("text", "").strip(),
            figures=tuple(section.get("figures", ())),
            findings=FindingsRef(
                limit=section["findings"].get("limit", 8),
                kinds=tuple(section["findings"].get("kinds", ())),
                metrics=tuple(section["findings"].get("metrics", ())),
            )
            if "findings" in section
            else None,
            charts=tuple(ChartRef(chart["chart"], chart.get("view", "")) for chart in section.get("charts", ())),
            outlook=tuple(section.get("outlook", ())),
            capacity=bool(section.get("capacity", False)),
            published=PublishedRef(tuple(section["published"]["metrics"]), section["published"].get("years", 2))
            if "published" in section
            else None,
            tables=tuple(section.get("tables", ())),
        )
        for section in data["sections"]
    )
    return Definition(
        name=data["name"],
        title=data["title"],
        audience=data["audience"],
        grain=data["period"]["grain"],
        which=data["period"].get("which", "last-complete"),
        scope=data.get("scope", "EU"),
        sections=sections,
        kind=data.get("kind", "report"),
        marking=data.get("marking", CLASSIFICATION),
        k=data.get("k"),
        sources=tuple(data.get("sources", ())),
        digest=digest,
        path=where,
    )


def _check_references(definition: Definition, node: yaml.Node, where: str) -> None:
    """Charts, metrics, views and finding kinds that exist; text without numbers."""
    from analytics.kinds import KINDS as FINDING_KINDS
    from analytics.warehouse_series import METRICS
    from dashboards.catalogue import UnknownChartError, get_chart
    from dashboards.state import ViewState, ViewStateError
    from reporting.figures import FIGURE_UNITS

    for s, section in enumerate(definition.sections):
        at = ["sections", s]
        if re.search(r"\d", section.text):
            raise DefinitionError(
                f"{where}, {_located(node, [*at, 'text'])}: fixed text may hold no digits (nothing could check "
                "them); put numbers in `figures` or `findings`"
            )
        for f, name in enumerate(section.figures):
            if name not in METRICS or METRICS[name].unit not in FIGURE_UNITS:
                raise DefinitionError(
                    f"{where}, {_located(node, [*at, 'figures', f])}: {name!r} is not a count or share metric "
                    "(key figures are period totals and shares)"
                )
        for f, name in enumerate(section.outlook):
            if name not in METRICS:
                raise DefinitionError(
                    f"{where}, {_located(node, [*at, 'outlook', f])}: no metric {name!r} (`grace analyse` forecasts "
                    "the warehouse's metrics)"
                )
        if section.findings is not None:
            for f, kind in enumerate(section.findings.kinds):
                if kind not in FINDING_KINDS:
                    raise DefinitionError(
                        f"{where}, {_located(node, [*at, 'findings', 'kinds', f])}: no finding kind {kind!r} "
                        f"(one of {', '.join(FINDING_KINDS)})"
                    )
        for c, ref in enumerate(section.charts):
            try:
                get_chart(ref.chart)
            except UnknownChartError:
                raise DefinitionError(
                    f"{where}, {_located(node, [*at, 'charts', c, 'chart'])}: no chart {ref.chart!r} "
                    "(`grace export --list` lists them)"
                ) from None
            try:
                ViewState.from_query(ref.view)
            except ViewStateError as error:
                raise DefinitionError(f"{where}, {_located(node, [*at, 'charts', c, 'view'])}: {error}") from None


def _checked_value(field: str, value: str, schema: Mapping[str, Any]) -> str:
    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError:
        raise DefinitionError(f"{field} {value!r} is not valid here") from None
    return value


def _located(node: yaml.Node | None, path: list) -> str:
    """'line 12, sections[1].charts[0].chart' for a JSON path into the composed YAML."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((value for key, value in node.value if key.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    name = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".") or "(top)"
    return f"line {line}, {name}"


def _message(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        return f"unknown field(s): {error.message.split('(')[-1].rstrip(')')}"
    if error.validator == "required":
        return error.message.replace("is a required property", "is required")
    return error.message
