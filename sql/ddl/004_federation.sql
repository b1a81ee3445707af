-- Federated analytics at the hub (federation/hub.py, docs/FEDERATION.md): the agencies' differentially
-- private monthly releases merged into an EU warehouse. Described in data_contracts/warehouse.yaml.
-- A hub warehouse holds these releases only (no facts, no ETL batches): its rollup_referral_daily rows are
-- rebuilt from dp_release_cell, dated on each month's first day, and warehouse_meta says `data_grain` =
-- 'month' so that nothing offers or analyses a finer grain.

-- One row per merged release (agency × month): what was received, when, and its privacy parameters.
-- Noise is drawn once per agency-month, so a second release of the same agency-month with other numbers
-- (another checksum) is refused; the same file again changes nothing.
CREATE TABLE IF NOT EXISTS dp_release (
    agency_code         VARCHAR NOT NULL,
    month               DATE NOT NULL,
    epsilon             DOUBLE NOT NULL,
    delta               DOUBLE NOT NULL,
    k                   INTEGER NOT NULL,
    mechanism           VARCHAR NOT NULL,
    cells               BIGINT NOT NULL,
    suppressed_cells    BIGINT NOT NULL,
    referrals           BIGINT NOT NULL,
    checksum            VARCHAR NOT NULL,
    source_path         VARCHAR NOT NULL,
    received_at         TIMESTAMP NOT NULL,
    PRIMARY KEY (agency_code, month)
);

-- Every cell of every merged release, as released: the noisy count, or NULL where the agency suppressed
-- the cell (noisy count under k). Suppressed cells are kept as such and never counted as zero.
CREATE TABLE IF NOT EXISTS dp_release_cell (
    agency_code         VARCHAR NOT NULL,
    month               DATE NOT NULL,
    country_iso3        VARCHAR NOT NULL,
    platform_name       VARCHAR NOT NULL,
    referrals           BIGINT,
    suppressed          BOOLEAN NOT NULL
);
