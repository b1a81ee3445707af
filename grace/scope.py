"""What one user may see: the one place that decides it.

A user's country scope is a legal boundary: an analyst of one member state's agency may see that
country's data and nothing that mixes in other countries. `Scope` answers every question a data
path asks about it:

- which countries a filter may hold (`countries_for`): a scoped user's request is cut to the
  countries of the scope, and an empty request means the whole scope, never "all countries";
- whether EU-wide views may be shown (`eu_wide`): the EU total, platform series (a platform's
  series counts every country), ETL lineage and the EU backlog all mix countries;
- whether one analysed series may be shown (`allows_series`): a country's own series only.

Callers never test a user's country themselves: the dashboard turns the signed-in user into a
`Scope` (`dashboards.auth.current_scope`), binds it to the view (`ViewState.within`), and every
chart, export, briefing pack and query takes it from there. Scheduled reports and the triage
queue take a `Scope` the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from grace.errors import GraceError

COUNTRY_SPLIT = "country"


class ScopeError(GraceError):
    """A request for data outside the user's scope (answered with 403 and audited)."""


@dataclass(frozen=True)
class Scope:
    """The countries a user may see; `countries=None` means every country and the EU-wide views."""

    countries: frozenset[str] | None = None

    @classmethod
    def everything(cls) -> Scope:
        return cls(None)

    @classmethod
    def of_countries(cls, countries: Iterable[str]) -> Scope:
        """A scope limited to these ISO-3 codes (at least one)."""
        codes = frozenset(str(code) for code in countries if code)
        if not codes:
            raise ValueError("a country scope needs at least one country")
        return cls(codes)

    @classmethod
    def of_user(cls, country: str | None) -> Scope:
        """The scope of a user record: its country, or everything when it has none."""
        return cls.everything() if country is None else cls.of_countries([country])

    @property
    def restricted(self) -> bool:
        return self.countries is not None

    @property
    def eu_wide(self) -> bool:
        """Whether views that mix every country (EU total, platform series, lineage) may be shown."""
        return self.countries is None

    @property
    def sql_countries(self) -> list[str] | None:
        """The scope as a bound query parameter (`$scope_countries`): NULL = everything."""
        return None if self.countries is None else sorted(self.countries)

    def describe(self) -> str:
        return "all countries" if self.countries is None else ", ".join(sorted(self.countries))

    def allows_country(self, iso3: str) -> bool:
        return self.countries is None or iso3 in self.countries

    def countries_for(self, requested: Iterable[str]) -> tuple[str, ...]:
        """The country filter to apply: the request cut to the scope (empty = the whole scope).

        Unscoped: the request unchanged (empty = all countries). Scoped: the requested countries
        of the scope, or, when none of them is in it, every country of the scope.
        """
        asked = tuple(sorted({str(code) for code in requested if code}))
        if self.countries is None:
            return asked
        kept = tuple(code for code in asked if code in self.countries)
        return kept or tuple(sorted(self.countries))

    def allows_series(self, split_by: str, entity: str) -> bool:
        """Whether an analysed series (EU total, one country, one platform) may be shown."""
        if self.countries is None:
            return True
        return split_by == COUNTRY_SPLIT and entity in self.countries

    def require_series(self, split_by: str, entity: str) -> None:
        """Raise `ScopeError` unless the series may be shown."""
        if not self.allows_series(split_by, entity):
            what = "the EU total" if split_by in ("none", "total", "") else f"{split_by} {entity}"
            raise ScopeError(f"{what} is outside your scope ({self.describe()})")

    def require_eu_wide(self, what: str) -> None:
        """Raise `ScopeError` when `what` mixes every country and the scope is limited."""
        if not self.eu_wide:
            raise ScopeError(f"{what} covers every country and is outside your scope ({self.describe()})")
