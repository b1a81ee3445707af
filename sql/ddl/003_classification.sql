-- Triage (classification/): the model registry, rule sets, scoring runs and each referral's score.
-- Described in data_contracts/warehouse.yaml.

-- Registered triage models. The artefact (a joblib file) lives beside the warehouse in
-- <warehouse>.models/<version>/ (artefact_path is relative to <warehouse>.models) and is loaded only when its
-- SHA-256 matches artefact_sha256.
-- status: candidate (trained, not used), active (scores new referrals; at most one), retired.
CREATE TABLE IF NOT EXISTS triage_model (
    version             VARCHAR NOT NULL,
    status              VARCHAR NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    status_changed_at   TIMESTAMP NOT NULL,
    artefact_path       VARCHAR NOT NULL,
    artefact_sha256     VARCHAR NOT NULL,
    card                VARCHAR NOT NULL
);

-- Priority rule sets (YAML text as activated, with its checksum); at most one is active.
CREATE TABLE IF NOT EXISTS triage_rule_set (
    label               VARCHAR NOT NULL,
    name                VARCHAR NOT NULL,
    version             VARCHAR NOT NULL,
    checksum            VARCHAR NOT NULL,
    rules_text          VARCHAR NOT NULL,
    is_active           BOOLEAN NOT NULL,
    activated_at        TIMESTAMP NOT NULL
);

-- One row per scoring run: an ETL batch's new referrals, or a re-scoring of many with a new model or rules.
CREATE TABLE IF NOT EXISTS triage_run (
    run_id              VARCHAR NOT NULL,
    kind                VARCHAR NOT NULL,
    batch_id            VARCHAR,
    model_version       VARCHAR,
    rule_set            VARCHAR NOT NULL,
    started_at          TIMESTAMP NOT NULL,
    referrals           BIGINT NOT NULL,
    seconds             DOUBLE NOT NULL
);

-- Each referral's score in each run: calibrated probability (NULL when no model was active), priority score
-- (probability + weights of the rules that fired, clipped to [0, 1]), tier P1-P4, the rules that fired and
-- the feature groups that raised the model's log-odds most (JSON). is_current marks its latest run's row.
CREATE TABLE IF NOT EXISTS triage_score (
    referral_key        UHUGEINT NOT NULL,
    run_id              VARCHAR NOT NULL,
    probability         DOUBLE,
    priority_score      DOUBLE NOT NULL,
    tier                VARCHAR NOT NULL,
    rules_fired         VARCHAR NOT NULL,
    contributions       VARCHAR NOT NULL,
    is_current          BOOLEAN NOT NULL
);

-- Current tiers by received day, country and platform: the high-priority share as a series.
CREATE TABLE IF NOT EXISTS rollup_triage_daily (
    date_key            DATE NOT NULL,
    country_iso3        VARCHAR NOT NULL,
    platform_name       VARCHAR NOT NULL,
    scored              BIGINT NOT NULL,
    p1                  BIGINT NOT NULL,
    p2                  BIGINT NOT NULL,
    p3                  BIGINT NOT NULL,
    p4                  BIGINT NOT NULL
);
