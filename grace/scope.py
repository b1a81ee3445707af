"""What one user may see: the one place that decides it.

A user's country scope is a legal boundary: an analyst of one member state's agency may see that
country's data and nothing that mixes in other countries. `Scope` answers every question a data
path asks about it:

- which countries a filter may hold (`countries_for`): a scoped user's request is cut to the
  countries of the scope, and an empty request means the whole scope, never "all countries";
- whether EU-wide views may be shown (`eu_wide`): the EU total, platform series (a platform's
  series counts every country), ETL lineage and the EU backlog all mix countries;
- whether one analysed series may be shown (`allows_series`): a country's own series only;
- whether aggregates over a set of countries may be shown (`allows_aggregates_of`): an archived report
  of the EU, of a country or of an agency's country;
- which agencies' referrals may be listed (`allows_agency`, `sql_agencies`): a user scoped to one agency
  (e.g. `AGY-NLD`) is also scoped to that agency's country, so every aggregate view stays the country's,
  and referral-level data (the triage queue, report-number search, reviews) is cut to the agency.

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
    """The countries a user may see; `countries=None` means every country and the EU-wide views.

    `agencies`: the agencies whose referrals the user may see (`None` = every agency of the countries).
    An agency scope never stands alone: it always comes with its agency's country."""

    countries: frozenset[str] | None = None
    agencies: frozenset[str] | None = None

    def __post_init__(self):
        if self.agencies is not None and (not self.agencies or self.countries is None):
            raise ValueError("an agency scope needs at least one agency and the agencies' countries")

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
    def of_agency(cls, agency: str, country: str) -> Scope:
        """A scope limited to one agency's referrals and, for aggregates, to its country."""
        if not agency or not country:
            raise ValueError("an agency scope needs the agency code and its country")
        return cls(frozenset([str(country)]), frozenset([str(agency)]))

    @classmethod
    def of_user(cls, country: str | None, agency: str | None = None) -> Scope:
        """The scope of a user record: its agency (with its country), its country, or everything."""
        if agency is not None:
            if country is None:
                raise ValueError(f"agency {agency}: a user scoped to an agency needs the agency's country")
            return cls.of_agency(agency, country)
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

    @property
    def sql_agencies(self) -> list[str] | None:
        """The agencies as a bound query parameter (`$scope_agencies`): NULL = every agency of the countries."""
        return None if self.agencies is None else sorted(self.agencies)

    def describe(self) -> str:
        if self.countries is None:
            return "all countries"
        countries = ", ".join(sorted(self.countries))
        return countries if self.agencies is None else f"{', '.join(sorted(self.agencies))} ({countries})"

    def allows_agency(self, agency: str, country: str) -> bool:
        """Whether a referral of this agency (in this country) may be shown: both must be in the scope."""
        return self.allows_country(country) and (self.agencies is None or agency in self.agencies)

    def agencies_for(self, requested: Iterable[str]) -> tuple[str, ...]:
        """The agency filter to apply: the request cut to the scope (empty = the whole scope), like
        `countries_for`."""
        asked = tuple(sorted({str(code) for code in requested if code}))
        if self.agencies is None:
            return asked
        kept = tuple(code for code in asked if code in self.agencies)
        return kept or tuple(sorted(self.agencies))

    def require_referral(self, agency: str, country: str) -> None:
        """Raise `ScopeError` unless a referral of this agency and country may be shown."""
        if not self.allows_agency(agency, country):
            raise ScopeError(f"this referral is outside your scope ({self.describe()})")

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

    def allows_aggregates_of(self, countries: Iterable[str] | None) -> bool:
        """Whether aggregates over these countries (`None` = every country, e.g. an EU-27 report) may be
        shown: a scoped user sees a report or a table only when every country in it is in the scope."""
        if self.countries is None:
            return True
        return countries is not None and bool(set(countries)) and set(countries) <= self.countries

    def require_aggregates_of(self, countries: Iterable[str] | None, what: str) -> None:
        """Raise `ScopeError` unless `allows_aggregates_of(countries)`."""
        if not self.allows_aggregates_of(countries):
            covered = "every country" if countries is None else ", ".join(sorted(countries)) or "no country"
            raise ScopeError(f"{what} covers {covered} and is outside your scope ({self.describe()})")

    def require_eu_wide(self, what: str) -> None:
        """Raise `ScopeError` when `what` mixes every country and the scope is limited."""
        if not self.eu_wide:
            raise ScopeError(f"{what} covers every country and is outside your scope ({self.describe()})")
