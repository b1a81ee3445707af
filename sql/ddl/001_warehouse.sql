-- GRACE warehouse: star schema of anonymised referral metadata.
-- Created idempotently by etl.warehouse.ensure_schema(); described column by column in
-- data_contracts/warehouse.yaml (a test checks that the two agree). Large tables carry no
-- index constraints (bulk loads stay fast); uniqueness is enforced by the ETL's anti-joins and
-- verified by `grace warehouse check`.

CREATE TABLE IF NOT EXISTS warehouse_meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS dim_date (
    date_key     DATE PRIMARY KEY,
    year         INTEGER NOT NULL,
    quarter      INTEGER NOT NULL,
    month        INTEGER NOT NULL,
    iso_year     INTEGER NOT NULL,
    iso_week     INTEGER NOT NULL,
    day_of_week  INTEGER NOT NULL,
    is_weekend   BOOLEAN NOT NULL,
    month_start  DATE NOT NULL,
    week_start   DATE NOT NULL
);

CREATE TABLE IF NOT EXISTS dim_country (
    country_iso3 VARCHAR PRIMARY KEY,
    country_iso2 VARCHAR,
    country_name VARCHAR NOT NULL,
    is_eu27      BOOLEAN NOT NULL
);

CREATE TABLE IF NOT EXISTS dim_platform (
    platform_name    VARCHAR PRIMARY KEY,
    primary_channel  VARCHAR,
    first_seen_date  DATE NOT NULL
);

CREATE TABLE IF NOT EXISTS dim_incident_type (
    incident_type_code VARCHAR PRIMARY KEY,
    incident_type_name VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS dim_category (
    category_code   VARCHAR PRIMARY KEY,
    category_scheme VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS dim_agency (
    agency_code     VARCHAR PRIMARY KEY,
    country_iso3    VARCHAR NOT NULL,
    first_seen_date DATE NOT NULL
);

CREATE TABLE IF NOT EXISTS etl_batch (
    batch_id            VARCHAR PRIMARY KEY,
    source_kind         VARCHAR NOT NULL,
    source_path         VARCHAR NOT NULL,
    checksum            VARCHAR NOT NULL,
    status              VARCHAR NOT NULL,
    referrals_in        BIGINT NOT NULL,
    referrals_loaded    BIGINT NOT NULL,
    referrals_quarantined BIGINT NOT NULL,
    referrals_duplicate BIGINT NOT NULL,
    files_in            BIGINT NOT NULL,
    files_loaded        BIGINT NOT NULL,
    files_quarantined   BIGINT NOT NULL,
    files_duplicate     BIGINT NOT NULL,
    watermark           VARCHAR,
    started_at          TIMESTAMP NOT NULL,
    finished_at         TIMESTAMP NOT NULL,
    duration_seconds    DOUBLE NOT NULL,
    stage_seconds       VARCHAR NOT NULL,
    code_version        VARCHAR NOT NULL,
    contract_version    VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS quarantine (
    batch_id     VARCHAR NOT NULL,
    source_kind  VARCHAR NOT NULL,
    dataset      VARCHAR NOT NULL,
    source_file  VARCHAR NOT NULL,
    row_number   BIGINT,
    field        VARCHAR,
    reason       VARCHAR NOT NULL,
    detail       VARCHAR
);

CREATE TABLE IF NOT EXISTS fact_referral (
    referral_key        UHUGEINT NOT NULL,
    batch_id            VARCHAR NOT NULL,
    incident_date       DATE NOT NULL,
    received_date       DATE NOT NULL,
    triaged_date        DATE,
    closed_date         DATE,
    country_iso3        VARCHAR NOT NULL,
    agency_code         VARCHAR NOT NULL,
    platform_name       VARCHAR NOT NULL,
    channel             VARCHAR NOT NULL,
    incident_type_code  VARCHAR NOT NULL,
    account_pseudonym   UHUGEINT,
    located_country_iso3 VARCHAR,
    victim_age_band     VARCHAR NOT NULL,
    is_actionable       BOOLEAN NOT NULL,
    is_escalated        BOOLEAN NOT NULL,
    bundle_size         INTEGER NOT NULL,
    has_sextortion      BOOLEAN NOT NULL,
    has_solicitation    BOOLEAN NOT NULL,
    has_minor_to_minor  BOOLEAN NOT NULL,
    unit                VARCHAR,
    status              VARCHAR NOT NULL,
    outcome             VARCHAR,
    file_count          INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS media_cluster (
    cluster_id          UHUGEINT NOT NULL,
    md5                 VARCHAR,
    sha1                VARCHAR,
    pdq                 VARCHAR,
    is_known            BOOLEAN NOT NULL,
    first_seen_date     DATE NOT NULL,
    first_seen_country  VARCHAR NOT NULL,
    first_seen_agency   VARCHAR NOT NULL,
    last_seen_date      DATE NOT NULL,
    occurrences         BIGINT NOT NULL,
    referral_count      BIGINT NOT NULL,
    country_count       INTEGER NOT NULL,
    agency_count        INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS cluster_reach (
    cluster_id       UHUGEINT NOT NULL,
    country_iso3     VARCHAR NOT NULL,
    agency_code      VARCHAR NOT NULL,
    first_seen_date  DATE NOT NULL
);

CREATE TABLE IF NOT EXISTS fact_file_occurrence (
    referral_key            UHUGEINT NOT NULL,
    file_ordinal            INTEGER NOT NULL,
    batch_id                VARCHAR NOT NULL,
    cluster_id              UHUGEINT NOT NULL,
    incident_date           DATE NOT NULL,
    country_iso3            VARCHAR NOT NULL,
    agency_code             VARCHAR NOT NULL,
    platform_name           VARCHAR NOT NULL,
    category_code           VARCHAR NOT NULL,
    is_first_sighting       BOOLEAN NOT NULL,
    is_viral                BOOLEAN NOT NULL,
    is_self_generated       BOOLEAN NOT NULL,
    is_generative_ai        BOOLEAN NOT NULL,
    is_live_streaming       BOOLEAN NOT NULL,
    is_publicly_available   BOOLEAN,
    is_viewed_by_esp        BOOLEAN,
    pdq_quality             SMALLINT,
    -- From a content classifier at the agency (grace hash --classifier): code, confidence 0-1, model, version.
    classifier_category     VARCHAR,
    classifier_confidence   DOUBLE,
    classifier_model        VARCHAR,
    classifier_version      VARCHAR
);

CREATE TABLE IF NOT EXISTS hash_set_entry (
    md5          VARCHAR,
    sha1         VARCHAR,
    category     VARCHAR NOT NULL,
    hash_set     VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS rollup_referral_daily (
    date_key            DATE NOT NULL,
    country_iso3        VARCHAR NOT NULL,
    platform_name       VARCHAR NOT NULL,
    channel             VARCHAR NOT NULL,
    incident_type_code  VARCHAR NOT NULL,
    has_sextortion      BOOLEAN NOT NULL,
    has_solicitation    BOOLEAN NOT NULL,
    has_minor_to_minor  BOOLEAN NOT NULL,
    referrals           BIGINT NOT NULL,
    actionable          BIGINT NOT NULL,
    escalated           BIGINT NOT NULL,
    bundled_incidents   BIGINT NOT NULL,
    with_sextortion     BIGINT NOT NULL,
    with_solicitation   BIGINT NOT NULL,
    files               BIGINT NOT NULL,
    triaged             BIGINT NOT NULL,
    triage_days_sum     BIGINT NOT NULL,
    with_minor_to_minor BIGINT NOT NULL,
    with_account        BIGINT NOT NULL,
    new_accounts        BIGINT NOT NULL,
    repeat_reports      BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS rollup_file_daily (
    date_key            DATE NOT NULL,
    country_iso3        VARCHAR NOT NULL,
    platform_name       VARCHAR NOT NULL,
    category_code       VARCHAR NOT NULL,
    is_viral            BOOLEAN NOT NULL,
    is_self_generated   BOOLEAN NOT NULL,
    is_generative_ai    BOOLEAN NOT NULL,
    is_live_streaming   BOOLEAN NOT NULL,
    is_known            BOOLEAN NOT NULL,
    files               BIGINT NOT NULL,
    new_clusters        BIGINT NOT NULL,
    known_files         BIGINT NOT NULL,
    self_generated      BIGINT NOT NULL,
    generative_ai       BIGINT NOT NULL,
    viral               BIGINT NOT NULL,
    live_streaming      BIGINT NOT NULL
);

-- Weekly (ISO, Monday start) and monthly copies of the two daily rollups: the same columns, `date_key` the
-- period's first day, counts summed over its days. Kept by warehouse/period_rollups.py for the periods a
-- change of daily rows touches; readers take whole periods from them and the days of a partly selected
-- period from the daily rollup (sql/fragments/period_rows.sql, analytics/warehouse_series.py).
CREATE TABLE IF NOT EXISTS rollup_referral_weekly (
    date_key            DATE NOT NULL,
    country_iso3        VARCHAR NOT NULL,
    platform_name       VARCHAR NOT NULL,
    channel             VARCHAR NOT NULL,
    incident_type_code  VARCHAR NOT NULL,
    has_sextortion      BOOLEAN NOT NULL,
    has_solicitation    BOOLEAN NOT NULL,
    has_minor_to_minor  BOOLEAN NOT NULL,
    referrals           BIGINT NOT NULL,
    actionable          BIGINT NOT NULL,
    escalated           BIGINT NOT NULL,
    bundled_incidents   BIGINT NOT NULL,
    with_sextortion     BIGINT NOT NULL,
    with_solicitation   BIGINT NOT NULL,
    files               BIGINT NOT NULL,
    triaged             BIGINT NOT NULL,
    triage_days_sum     BIGINT NOT NULL,
    with_minor_to_minor BIGINT NOT NULL,
    with_account        BIGINT NOT NULL,
    new_accounts        BIGINT NOT NULL,
    repeat_reports      BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS rollup_referral_monthly (
    date_key            DATE NOT NULL,
    country_iso3        VARCHAR NOT NULL,
    platform_name       VARCHAR NOT NULL,
    channel             VARCHAR NOT NULL,
    incident_type_code  VARCHAR NOT NULL,
    has_sextortion      BOOLEAN NOT NULL,
    has_solicitation    BOOLEAN NOT NULL,
    has_minor_to_minor  BOOLEAN NOT NULL,
    referrals           BIGINT NOT NULL,
    actionable          BIGINT NOT NULL,
    escalated           BIGINT NOT NULL,
    bundled_incidents   BIGINT NOT NULL,
    with_sextortion     BIGINT NOT NULL,
    with_solicitation   BIGINT NOT NULL,
    files               BIGINT NOT NULL,
    triaged             BIGINT NOT NULL,
    triage_days_sum     BIGINT NOT NULL,
    with_minor_to_minor BIGINT NOT NULL,
    with_account        BIGINT NOT NULL,
    new_accounts        BIGINT NOT NULL,
    repeat_reports      BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS rollup_file_weekly (
    date_key            DATE NOT NULL,
    country_iso3        VARCHAR NOT NULL,
    platform_name       VARCHAR NOT NULL,
    category_code       VARCHAR NOT NULL,
    is_viral            BOOLEAN NOT NULL,
    is_self_generated   BOOLEAN NOT NULL,
    is_generative_ai    BOOLEAN NOT NULL,
    is_live_streaming   BOOLEAN NOT NULL,
    is_known            BOOLEAN NOT NULL,
    files               BIGINT NOT NULL,
    new_clusters        BIGINT NOT NULL,
    known_files         BIGINT NOT NULL,
    self_generated      BIGINT NOT NULL,
    generative_ai       BIGINT NOT NULL,
    viral               BIGINT NOT NULL,
    live_streaming      BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS rollup_file_monthly (
    date_key            DATE NOT NULL,
    country_iso3        VARCHAR NOT NULL,
    platform_name       VARCHAR NOT NULL,
    category_code       VARCHAR NOT NULL,
    is_viral            BOOLEAN NOT NULL,
    is_self_generated   BOOLEAN NOT NULL,
    is_generative_ai    BOOLEAN NOT NULL,
    is_live_streaming   BOOLEAN NOT NULL,
    is_known            BOOLEAN NOT NULL,
    files               BIGINT NOT NULL,
    new_clusters        BIGINT NOT NULL,
    known_files         BIGINT NOT NULL,
    self_generated      BIGINT NOT NULL,
    generative_ai       BIGINT NOT NULL,
    viral               BIGINT NOT NULL,
    live_streaming      BIGINT NOT NULL
);

-- Referral flows by the day they happen (received, triaged): the backlog at a day's end is the
-- running sum of received minus triaged up to that day.
CREATE TABLE IF NOT EXISTS rollup_backlog_daily (
    date_key            DATE NOT NULL,
    country_iso3        VARCHAR NOT NULL,
    platform_name       VARCHAR NOT NULL,
    channel             VARCHAR NOT NULL,
    incident_type_code  VARCHAR NOT NULL,
    has_sextortion      BOOLEAN NOT NULL,
    has_solicitation    BOOLEAN NOT NULL,
    has_minor_to_minor  BOOLEAN NOT NULL,
    received            BIGINT NOT NULL,
    triaged             BIGINT NOT NULL
);

-- Per pseudonymous account, its first referral (earliest incident date, then lowest key):
-- every other referral of the account is a repeat report.
CREATE TABLE IF NOT EXISTS account_first_report (
    account_pseudonym   UHUGEINT NOT NULL,
    referral_key        UHUGEINT NOT NULL,
    incident_date       DATE NOT NULL
);

-- Per media cluster seen in two or more countries: the day its second country was first
-- reached (from cluster_reach) and that country.
CREATE TABLE IF NOT EXISTS cluster_spread (
    cluster_id          UHUGEINT NOT NULL,
    reached_date        DATE NOT NULL,
    country_iso3        VARCHAR NOT NULL
);

-- Clusters by first-seen day and country x countries reached x days to the second country
-- (buckets in sql/etl/mart_cluster_reach.sql); each batch moves the clusters it saw between cells.
CREATE TABLE IF NOT EXISTS mart_cluster_reach (
    first_seen_date     DATE NOT NULL,
    first_seen_country  VARCHAR NOT NULL,
    countries_bucket    INTEGER NOT NULL,
    days_bucket         INTEGER,
    clusters            BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS rollup_cluster_spread_daily (
    date_key            DATE NOT NULL,
    country_iso3        VARCHAR NOT NULL,
    clusters            BIGINT NOT NULL
);

-- Non-additive counts (distinct accounts, distinct clusters) per grain and period, for the EU
-- total and per country or per platform ('*' = all). Small: one row per cell with data; the ETL
-- adds each batch's newly seen items.
CREATE TABLE IF NOT EXISTS mart_distinct_period (
    grain               VARCHAR NOT NULL,
    period_start        DATE NOT NULL,
    country_iso3        VARCHAR NOT NULL,
    platform_name       VARCHAR NOT NULL,
    accounts            BIGINT NOT NULL,
    clusters            BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS published_statistic (
    period       VARCHAR NOT NULL,
    period_type  VARCHAR NOT NULL,
    country_iso3 VARCHAR,
    platform     VARCHAR,
    metric       VARCHAR NOT NULL,
    value        DOUBLE NOT NULL,
    source       VARCHAR NOT NULL,
    note         VARCHAR,
    import_id    VARCHAR NOT NULL
);

-- Figures a later import corrected: the same source, period, country, platform and metric imported again
-- replace the old row in published_statistic (readers see only current figures); the old row is kept here,
-- with the import that replaced it.
CREATE TABLE IF NOT EXISTS published_statistic_history (
    period        VARCHAR NOT NULL,
    period_type   VARCHAR NOT NULL,
    country_iso3  VARCHAR,
    platform      VARCHAR,
    metric        VARCHAR NOT NULL,
    value         DOUBLE NOT NULL,
    source        VARCHAR NOT NULL,
    note          VARCHAR,
    import_id     VARCHAR NOT NULL,
    superseded_by VARCHAR NOT NULL,
    superseded_at TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS import_log (
    import_id    VARCHAR PRIMARY KEY,
    dataset      VARCHAR NOT NULL,
    source_path  VARCHAR NOT NULL,
    checksum     VARCHAR NOT NULL,
    rows_loaded  BIGINT NOT NULL,
    imported_at  TIMESTAMP NOT NULL
);

-- ---------------------------------------------------------------------------------------------
-- Media matching (matching/, docs/MATCHING.md): perceptual clusters and hash banks.
-- ---------------------------------------------------------------------------------------------

-- One row per media cluster (exact: same MD5/SHA1): the perceptual cluster it belongs to. Exact
-- clusters whose PDQ hashes lie within Hamming distance T of each other (transitively, union-find)
-- share a perceptual cluster; its id is the id of its oldest member and stays stable (a merge keeps
-- the older id, see perceptual_merge). `pdq_slot` is the cluster's position in the near-duplicate
-- index kept beside the warehouse (NULL: no PDQ, or quality below the cutoff, so never matched).
CREATE TABLE IF NOT EXISTS perceptual_member (
    cluster_id          UHUGEINT NOT NULL,
    perceptual_id       UHUGEINT NOT NULL,
    pdq_slot            BIGINT,
    pdq_quality         SMALLINT,
    nearest_distance    SMALLINT,
    batch_id            VARCHAR NOT NULL
);

-- Per perceptual cluster: how many exact variants it holds and its first sighting (the earliest
-- first sighting of its members by date, referral key and file ordinal), with where it was seen.
CREATE TABLE IF NOT EXISTS perceptual_cluster (
    perceptual_id       UHUGEINT NOT NULL,
    variants            BIGINT NOT NULL,
    first_seen_date     DATE NOT NULL,
    first_seen_country  VARCHAR NOT NULL,
    first_seen_platform VARCHAR NOT NULL,
    first_referral_key  UHUGEINT NOT NULL,
    first_file_ordinal  INTEGER NOT NULL,
    last_changed_batch  VARCHAR NOT NULL
);

-- Merge history: a batch whose hashes link two perceptual clusters folds the younger into the older.
CREATE TABLE IF NOT EXISTS perceptual_merge (
    batch_id            VARCHAR NOT NULL,
    merged_id           UHUGEINT NOT NULL,
    into_id             UHUGEINT NOT NULL,
    members             BIGINT NOT NULL,
    merged_at           TIMESTAMP NOT NULL
);

-- Daily file rollup of perceptual matching (day x country x platform x category): first sightings
-- of perceptual clusters (new material, measured perceptually), new exact variants of material seen
-- before, re-shares of a perceptual cluster first seen on another platform or in another country,
-- and files whose media cluster matches an enabled entry of a positive hash bank (not suppressed).
CREATE TABLE IF NOT EXISTS rollup_perceptual_daily (
    date_key                DATE NOT NULL,
    country_iso3            VARCHAR NOT NULL,
    platform_name           VARCHAR NOT NULL,
    category_code           VARCHAR NOT NULL,
    files                   BIGINT NOT NULL,
    new_items               BIGINT NOT NULL,
    new_variants            BIGINT NOT NULL,
    new_exact_clusters      BIGINT NOT NULL,
    cross_platform_reshares BIGINT NOT NULL,
    cross_country_reshares  BIGINT NOT NULL,
    bank_matched_files      BIGINT NOT NULL
);

-- Weekly (ISO, Monday start) and monthly copies of rollup_perceptual_daily, kept like the referral and file
-- ones (warehouse/period_rollups.py).
CREATE TABLE IF NOT EXISTS rollup_perceptual_weekly (
    date_key                DATE NOT NULL,
    country_iso3            VARCHAR NOT NULL,
    platform_name           VARCHAR NOT NULL,
    category_code           VARCHAR NOT NULL,
    files                   BIGINT NOT NULL,
    new_items               BIGINT NOT NULL,
    new_variants            BIGINT NOT NULL,
    new_exact_clusters      BIGINT NOT NULL,
    cross_platform_reshares BIGINT NOT NULL,
    cross_country_reshares  BIGINT NOT NULL,
    bank_matched_files      BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS rollup_perceptual_monthly (
    date_key                DATE NOT NULL,
    country_iso3            VARCHAR NOT NULL,
    platform_name           VARCHAR NOT NULL,
    category_code           VARCHAR NOT NULL,
    files                   BIGINT NOT NULL,
    new_items               BIGINT NOT NULL,
    new_variants            BIGINT NOT NULL,
    new_exact_clusters      BIGINT NOT NULL,
    cross_platform_reshares BIGINT NOT NULL,
    cross_country_reshares  BIGINT NOT NULL,
    bank_matched_files      BIGINT NOT NULL
);

-- Hash banks: lists of known hashes (MD5, SHA1, PDQ) with a category scheme, version, source and PDQ
-- threshold. A negative bank lists known benign or false-positive hashes: a cluster that matches one
-- has its positive matches suppressed.
CREATE TABLE IF NOT EXISTS hash_bank (
    bank_name           VARCHAR NOT NULL,
    is_negative         BOOLEAN NOT NULL,
    scheme              VARCHAR NOT NULL,
    version             VARCHAR NOT NULL,
    source              VARCHAR NOT NULL,
    pdq_threshold       SMALLINT NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS hash_bank_entry (
    bank_name           VARCHAR NOT NULL,
    entry_id            BIGINT NOT NULL,
    md5                 VARCHAR,
    sha1                VARCHAR,
    pdq                 VARCHAR,
    category            VARCHAR,
    version_added       VARCHAR NOT NULL,
    is_enabled          BOOLEAN NOT NULL
);

-- Every change to a bank: imports (with the file's checksum) and single hashes disabled or enabled.
CREATE TABLE IF NOT EXISTS hash_bank_change (
    bank_name           VARCHAR NOT NULL,
    version             VARCHAR NOT NULL,
    action              VARCHAR NOT NULL,
    entry_id            BIGINT,
    entries             BIGINT NOT NULL,
    checksum            VARCHAR,
    source_path         VARCHAR,
    changed_at          TIMESTAMP NOT NULL
);

-- Every match of a media cluster against a bank entry, with the bank version it was found under and
-- the distance (0 for MD5/SHA1). `is_suppressed`: a negative bank matched the same cluster.
CREATE TABLE IF NOT EXISTS bank_match (
    cluster_id          UHUGEINT NOT NULL,
    bank_name           VARCHAR NOT NULL,
    bank_version        VARCHAR NOT NULL,
    entry_id            BIGINT NOT NULL,
    match_kind          VARCHAR NOT NULL,
    distance            SMALLINT NOT NULL,
    category            VARCHAR,
    is_suppressed       BOOLEAN NOT NULL,
    found_by            VARCHAR NOT NULL,
    found_at            TIMESTAMP NOT NULL
);
