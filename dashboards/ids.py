"""Component ids, defined once so layouts, callbacks and browser tests agree.

Ids are plain strings prefixed with the page they belong to; shared shell ids have no page
prefix. Browser tests select elements with `#<id>`, so ids use only letters and dashes.
"""

# App shell (every page)
SHELL = "grace-shell"
TITLE_BAR = "title-bar"
CLASSIFICATION_BANNER = "classification-banner"

# Overview page
OVERVIEW_PAGE = "overview-page"
OVERVIEW_LOCATION = "overview-location"
OVERVIEW_FRESHNESS = "overview-freshness"
OVERVIEW_COUNTRY_FILTER = "overview-country-filter"
OVERVIEW_PLATFORM_FILTER = "overview-platform-filter"
OVERVIEW_SCOPE = "overview-scope"
OVERVIEW_STATUS = "overview-status"
OVERVIEW_KPI_REFERRALS = "overview-kpi-referrals"
OVERVIEW_KPI_FILES = "overview-kpi-files"
OVERVIEW_KPI_MEDIA_CLUSTERS = "overview-kpi-media-clusters"
OVERVIEW_KPI_QUARANTINED = "overview-kpi-quarantined"
OVERVIEW_MONTHLY_GRAPH = "overview-monthly-referrals"


def kpi_value(card_id: str) -> str:
    """Id of the element holding a KPI card's number."""
    return f"{card_id}-value"


def kpi_note(card_id: str) -> str:
    """Id of the element holding a KPI card's footnote (what the number covers)."""
    return f"{card_id}-note"
