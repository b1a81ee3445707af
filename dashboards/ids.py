"""Component ids, defined once so layouts, callbacks and browser tests agree.

Ids are plain strings prefixed with the page they belong to; shared shell ids have no page
prefix. Browser tests select elements with `#<id>`, so ids use only letters and dashes.
"""

# App shell (every page)
SHELL = "grace-shell"
TITLE_BAR = "title-bar"
CLASSIFICATION_BANNER = "classification-banner"
NAVBAR = "grace-navbar"
NAV_LINK = "grace-nav-link"  # pattern-matching type: {"type": NAV_LINK, "path": "/trends"}
URL = "url"  # dcc.Location(refresh="callback-nav"): navigation; set its href to go to another page
URL_SYNC = "url-sync"  # dcc.Location(refresh=False): pages write their state's query string here
PAGE_CONTENT = "grace-page-content"
BACKGROUND_NOTE = "background-note"  # what work on the warehouse is still running in the background
BACKGROUND_POLL = "background-poll"  # dcc.Interval refreshing that note while the work runs

# Overview page (filter-bar ids follow filter_control("overview", field))
OVERVIEW_PAGE = "overview-page"
OVERVIEW_STATE = "overview-state"  # dcc.Store: the page's ViewState query string
OVERVIEW_FRESHNESS = "overview-freshness"
OVERVIEW_COUNTRY_FILTER = "overview-filter-country"
OVERVIEW_PLATFORM_FILTER = "overview-filter-platform"
OVERVIEW_PERIOD_FILTER = "overview-filter-period"
OVERVIEW_SCOPE = "overview-scope"
OVERVIEW_STATUS = "overview-status"
OVERVIEW_KPI_REFERRALS = "overview-kpi-referrals"
OVERVIEW_KPI_FILES = "overview-kpi-files"
OVERVIEW_KPI_MEDIA_CLUSTERS = "overview-kpi-media-clusters"
OVERVIEW_KPI_QUARANTINED = "overview-kpi-quarantined"
OVERVIEW_MONTHLY_GRAPH = "overview-monthly-referrals-graph"  # chart_graph("overview-monthly-referrals")
OVERVIEW_MOVERS = "overview-movers"
OVERVIEW_MOVERS_WINDOW = "overview-movers-window"
OVERVIEW_MOVER = "overview-mover"  # pattern-matching type: {"type": OVERVIEW_MOVER, "dimension": ..., "entity": ...}
OVERVIEW_FINDINGS = "overview-findings"
OVERVIEW_ALERTS = "overview-alerts"
OVERVIEW_ATTENTION = "overview-attention"  # how many alerts need the user's attention, with a link
OVERVIEW_RUN = "overview-run"


def kpi_value(card_id: str) -> str:
    """Id of the element holding a KPI card's number."""
    return f"{card_id}-value"


def kpi_note(card_id: str) -> str:
    """Id of the element holding a KPI card's footnote (what the number covers)."""
    return f"{card_id}-note"


def kpi_change(card_id: str) -> str:
    """Id of a KPI card's period-over-period change badge."""
    return f"{card_id}-change"


def kpi_sparkline(card_id: str) -> str:
    """Id of a KPI card's sparkline graph."""
    return f"{card_id}-sparkline"


def filter_control(page: str, field: str) -> str:
    """Id of a filter-bar control: `filter_control("trends", "country")` -> `trends-filter-country`."""
    return f"{page}-filter-{field}"


def chart_graph(chart_id: str) -> str:
    """Id of the dcc.Graph of a chart card (chart ids come from `dashboards.charts`)."""
    return f"{chart_id}-graph"


def chart_subtitle(chart_id: str) -> str:
    """Id of a chart card's subtitle line (what exactly is drawn)."""
    return f"{chart_id}-subtitle"


def chart_note(chart_id: str) -> str:
    """Id of a chart card's note (caveats under the chart)."""
    return f"{chart_id}-note"


def chart_export(chart_id: str) -> str:
    """Id of a chart card's export-menu area (filled by `dashboards.exports`)."""
    return f"{chart_id}-export"


# Trend explorer page (filter-bar ids follow filter_control("trends", field))
TRENDS_PAGE = "trends-page"
TRENDS_STATE = "trends-state"  # dcc.Store: the page's ViewState query string
TRENDS_STATUS = "trends-status"
TRENDS_METRIC = "trends-metric"
TRENDS_METRIC_HELP = "trends-metric-help"
TRENDS_COMPARE = "trends-compare"
TRENDS_GRAIN = "trends-grain"
TRENDS_SPLIT = "trends-split"
TRENDS_CHANNEL = "trends-channel"
TRENDS_INCIDENT_TYPE = "trends-incident-type"
TRENDS_CATEGORY = "trends-category"
TRENDS_ANNOTATION = "trends-annotation"
TRENDS_LOG = "trends-log"
TRENDS_PER_CAPITA = "trends-per-capita"
TRENDS_GRAPH = "trends-explorer-graph"  # chart_graph("trends-explorer")


# Exports (dashboards/exports/ui.py): pattern-matching ids inside each chart card's export area
EXPORT_LINK = "export-link"  # {"type": EXPORT_LINK, "chart": chart_id, "format": "png"|…|"zip", "preset": name or ""}
EXPORT_MENU = "export-menu"  # {"type": EXPORT_MENU, "chart": chart_id}: the dropdown of one chart


# Operations & data quality page (chart graphs follow chart_graph("operations-…"))
OPERATIONS_PAGE = "operations-page"
OPERATIONS_STATE = "operations-state"  # dcc.Store: the page's ViewState query string
OPERATIONS_STATUS = "operations-status"
OPERATIONS_KIND = "operations-kind"  # record kind: referrals | files (ViewState.metric)
OPERATIONS_ACCOUNTING = "operations-accounting"  # the row-accounting verdict
OPERATIONS_BATCH_TABLE = "operations-batch-table"
OPERATIONS_FRESHNESS_TABLE = "operations-freshness-table"
OPERATIONS_ANALYTICS_TABLE = "operations-analytics-table"
OPERATIONS_IMPORTS_TABLE = "operations-imports-table"

# Dissemination page (filter-bar ids follow filter_control("dissemination", field))
DISSEMINATION_PAGE = "dissemination-page"
DISSEMINATION_STATE = "dissemination-state"  # dcc.Store: the page's ViewState query string
DISSEMINATION_STATUS = "dissemination-status"
DISSEMINATION_SCOPE = "dissemination-scope"
DISSEMINATION_GRAIN = "dissemination-grain"
DISSEMINATION_MAP_MEASURE = "dissemination-map-measure"  # the map's radio: rate per 100,000 or count

# Forecasts page (filter-bar ids follow filter_control("forecasts", field))
FORECASTS_PAGE = "forecasts-page"
FORECASTS_STATE = "forecasts-state"  # dcc.Store: the page's ViewState query string
FORECASTS_STATUS = "forecasts-status"
FORECASTS_METRIC = "forecasts-metric"
FORECASTS_GRAIN = "forecasts-grain"
FORECASTS_RUN = "forecasts-run"  # which analysis run is shown
FORECASTS_WHY = "forecasts-why"  # why the chosen model was chosen
FORECASTS_CANDIDATES = "forecasts-candidates"  # DataTable: every candidate model's backtest
FORECASTS_CANDIDATES_NOTE = "forecasts-candidates-note"
FORECASTS_CAPACITY = "forecasts-capacity"  # dcc.Slider: referrals triaged per day (ViewState.capacity)
FORECASTS_CAPACITY_DEFAULT = "forecasts-capacity-default"  # dcc.Store: the run's default capacity
FORECASTS_BACKLOG_SUMMARY = "forecasts-backlog-summary"
FORECASTS_GRAPH = "forecasts-series-graph"  # chart_graph("forecasts-series")
FORECASTS_BACKLOG_GRAPH = "forecasts-backlog-graph"  # chart_graph("forecasts-backlog")

# Alerts page (filter-bar ids follow filter_control("alerts", field))
ALERTS_PAGE = "alerts-page"
ALERTS_STATE = "alerts-state"  # dcc.Store: the page's query string (ViewState + kind, metrics, sort)
ALERTS_STATUS = "alerts-status"
ALERTS_RUN = "alerts-run"
ALERTS_KIND = "alerts-kind"  # checklist: anomaly, changepoint, emerging, vanishing
ALERTS_METRICS = "alerts-metrics"  # dropdown: metrics (empty = all)
ALERTS_SORT = "alerts-sort"  # importance | date | magnitude
ALERTS_SHOW = "alerts-show"  # attention | new | all | reviewed
ALERTS_ACKNOWLEDGE = "alerts-acknowledge"  # button: acknowledge the selected rows
ALERTS_DISMISS = "alerts-dismiss"  # button: dismiss the selected rows
ALERTS_REOPEN = "alerts-reopen"  # button: reopen the selected rows
ALERTS_REVIEW_STATUS = "alerts-review-status"  # what the last review did
ALERTS_REVIEWED = "alerts-reviewed"  # dcc.Store: bumped after each review, redraws the tables
ALERTS_TABLE = "alerts-table"  # DataTable: one row per alert
ALERTS_COUNT = "alerts-count"
ALERTS_FINDINGS_TABLE = "alerts-findings-table"  # DataTable: ranked narrative findings
ALERTS_OPEN = "alerts-open"  # link: the selected alert in the Trend explorer
ALERTS_GRAPH = "alerts-series-graph"  # chart_graph("alerts-series"): the selected alert's series

# Production & consumption page (filter-bar ids follow filter_control("production", field);
# chart graphs follow chart_graph("production-…"))
PRODUCTION_PAGE = "production-page"
PRODUCTION_STATE = "production-state"  # dcc.Store: the page's ViewState query string
PRODUCTION_STATUS = "production-status"
PRODUCTION_SCOPE = "production-scope"
PRODUCTION_GRAIN = "production-grain"

# Admin page (/admin, admins only).
ADMIN_CONSOLE = "admin-console"  # the page body
ADMIN_REFRESH = "admin-refresh"  # dcc.Store: bumped after every change, redraws the tables
ADMIN_USERS_TABLE = "admin-users-table"
ADMIN_USER_FORM = "admin-user-form"
ADMIN_NEW_NAME = "admin-new-name"
ADMIN_NEW_ROLE = "admin-new-role"
ADMIN_NEW_COUNTRY = "admin-new-country"
ADMIN_NEW_PASSWORD = "admin-new-password"
ADMIN_ADD = "admin-add"
ADMIN_TARGET = "admin-target"  # dropdown: the user to change
ADMIN_TARGET_ROLE = "admin-target-role"
ADMIN_SET_ROLE = "admin-set-role"
ADMIN_DISABLE = "admin-disable"
ADMIN_ENABLE = "admin-enable"
ADMIN_CSRF = "admin-csrf"  # hidden input: the form's CSRF token
ADMIN_RESULT = "admin-result"  # outcome of the last change (live region)
ADMIN_AUDIT_USER = "admin-audit-user"
ADMIN_AUDIT_EVENT = "admin-audit-event-filter"
ADMIN_AUDIT_TABLE = "admin-audit-table"
ADMIN_CHAIN = "admin-chain"  # chain verification verdict

# Triage page (analysts and admins): the scoped queue, find by report number, reviews
TRIAGE_PAGE = "triage-page"
TRIAGE_STATE = "triage-state"  # dcc.Store: the page's query string (agency, tier, status, show, page)
TRIAGE_STATUS = "triage-status"
TRIAGE_AGENCY = "triage-agency"  # dropdown: agencies (empty = every agency of the scope)
TRIAGE_TIER = "triage-tier"  # checklist: P1-P4 (none ticked = every tier)
TRIAGE_STATUS_FILTER = "triage-status-filter"  # radio: open | all | one status
TRIAGE_SHOW = "triage-show"  # radio: queue | sample | audit | uncertain
TRIAGE_COUNT = "triage-count"
TRIAGE_TABLE = "triage-table"  # DataTable: one row per referral of the page
TRIAGE_PREV = "triage-prev"  # button: previous page
TRIAGE_NEXT = "triage-next"  # button: next page
TRIAGE_PAGE_TEXT = "triage-page-text"
TRIAGE_SEARCH_INPUT = "triage-search-input"  # the case-system report number (cleared once submitted)
TRIAGE_SEARCH_BUTTON = "triage-search-button"
TRIAGE_SEARCH_STATUS = "triage-search-status"
TRIAGE_SELECTED = "triage-selected"  # dcc.Store: the selected referral's key (checked against the scope on use)
TRIAGE_DETAIL = "triage-detail"  # the selected referral's codes, score and explanation
TRIAGE_REVIEW_TIER = "triage-review-tier"  # radio: P1-P4 (starts at the current tier)
TRIAGE_REVIEW_ACTIONABLE = "triage-review-actionable"  # radio: yes | no
TRIAGE_REVIEW_BUTTON = "triage-review-button"
TRIAGE_REVIEW_STATUS = "triage-review-status"  # what the last review did
TRIAGE_REVIEWED = "triage-reviewed"  # dcc.Store: bumped after each review, redraws the queue

# Reports (/reports): the archive, run now, preview, schedules
REPORTS_PAGE = "reports-page"
REPORTS_REFRESH = "reports-refresh"  # dcc.Store: bumped after a run is asked for or a schedule changes
REPORTS_POLL = "reports-poll"  # dcc.Interval: redraws while runs are queued or running
REPORTS_ARCHIVE = "reports-archive"  # the archived runs (a table with download links)
REPORTS_TEMPLATE = "reports-template"  # dropdown: the template to preview / run / schedule
REPORTS_SCOPE = "reports-scope"  # dropdown: EU, a country or an agency (only the user's own, if scoped)
REPORTS_PREVIEW = "reports-preview"  # what a run would hold, with today's data
REPORTS_RUN = "reports-run"  # button: run now (analysts and admins)
REPORTS_RUN_STATUS = "reports-run-status"
REPORTS_JOBS = "reports-jobs"  # the runs asked for on this server
REPORTS_SCHEDULES = "reports-schedules"  # admins: the schedules table and form
REPORTS_SCHEDULE_NAME = "reports-schedule-name"
REPORTS_SCHEDULE_CRON = "reports-schedule-cron"
REPORTS_SCHEDULE_ADD = "reports-schedule-add"
REPORTS_SCHEDULE_TARGET = "reports-schedule-target"  # dropdown: the schedule to remove
REPORTS_SCHEDULE_REMOVE = "reports-schedule-remove"
REPORTS_SCHEDULE_STATUS = "reports-schedule-status"
OPERATIONS_REPORT_FAILURES = "operations-report-failures"  # scheduled report runs that failed every attempt
OPERATIONS_DP_RELEASES = "operations-dp-releases"  # a hub warehouse's merged differentially private releases
OPERATIONS_FEDERATION = "operations-federation"  # the hub's latest federated training run, round by round
