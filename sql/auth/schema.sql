-- Users and the append-only audit log of the dashboard (SQLite, $GRACE_HOME/auth/auth.sqlite).
-- Idempotent: every statement can run on an existing store. A column added to an existing table is also
-- added to older stores by `dashboards/auth/database.py` (`COLUMN_UPGRADES`, ALTER TABLE in a transaction).

CREATE TABLE IF NOT EXISTS auth_user (
    name            TEXT PRIMARY KEY,
    role            TEXT NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
    country_iso3    TEXT CHECK (country_iso3 IS NULL OR length(country_iso3) = 3),
    agency_code     TEXT,                        -- one agency (e.g. AGY-NLD), always with its country_iso3
    password_hash   TEXT NOT NULL,
    enabled         INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    session_version INTEGER NOT NULL DEFAULT 1,  -- bumped on password change / disable: ends old sessions
    created_at      TEXT NOT NULL,               -- UTC, ISO 8601 with Z
    updated_at      TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS audit_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT NOT NULL,   -- UTC, ISO 8601 with microseconds and Z (sorts as time)
    event     TEXT NOT NULL,
    user_name TEXT,            -- the acting (or attempted) user; NULL when unknown
    client    TEXT,            -- client address of the request; NULL for the command line
    detail    TEXT NOT NULL,   -- canonical JSON object
    prev_hash TEXT NOT NULL,   -- row_hash of the previous row (64 zeros for the first)
    row_hash  TEXT NOT NULL    -- sha256(prev_hash || canonical JSON of this row's content)
) STRICT;

CREATE INDEX IF NOT EXISTS audit_log_event_user_at ON audit_log (event, user_name, at);
CREATE INDEX IF NOT EXISTS audit_log_event_client_at ON audit_log (event, client, at);

CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused');
END;

CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused');
END;

-- Sign-ins in progress (the password is being checked): a row is taken in the same write transaction as
-- the rate-limit check, so simultaneous attempts count against the limit before any of them finishes,
-- and removed when the outcome is audited. Rows of a crashed request expire with the rate-limit window.
CREATE TABLE IF NOT EXISTS login_attempt (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT NOT NULL,   -- UTC, ISO 8601 with microseconds and Z
    user_name TEXT,            -- the attempted user name (NULL when it is not a valid name)
    client    TEXT             -- client address
) STRICT;

-- What each user has done with an alert of `grace analyse` (analytics_alert.alert_key, series|kind|date,
-- the same in every run): acknowledged (seen, being handled) or dismissed (not worth attention). One row
-- per user and alert, replaced by a later action, removed when reopened; every action is also audited.
CREATE TABLE IF NOT EXISTS alert_review (
    user_name TEXT NOT NULL,
    alert_key TEXT NOT NULL,
    action    TEXT NOT NULL CHECK (action IN ('acknowledged', 'dismissed')),
    at        TEXT NOT NULL,   -- UTC, ISO 8601 with microseconds and Z
    PRIMARY KEY (user_name, alert_key)
) STRICT;

-- Each analyst's review of a referral in the triage queue (triage_score, classification/): the priority
-- confirmed or changed (tier_before = the current tier when reviewed, tier_after = the analyst's), and
-- whether the referral is actionable. referral_key is the warehouse's pseudonym as decimal text, never the
-- case-system report number. One row per user and referral, replaced by a later review; every review is also
-- audited (triage_reviewed). `grace model train` reads them as labels (actionable = 1).
CREATE TABLE IF NOT EXISTS triage_review (
    user_name     TEXT NOT NULL,
    referral_key  TEXT NOT NULL CHECK (length(referral_key) BETWEEN 1 AND 40),
    tier_before   TEXT NOT NULL CHECK (tier_before IN ('P1', 'P2', 'P3', 'P4')),
    tier_after    TEXT NOT NULL CHECK (tier_after IN ('P1', 'P2', 'P3', 'P4')),
    actionable    INTEGER NOT NULL CHECK (actionable IN (0, 1)),
    model_version TEXT,            -- the model whose score was shown (NULL: rules only)
    run_id        TEXT NOT NULL,   -- the scoring run of the tier shown
    reviewed_at   TEXT NOT NULL,   -- UTC, ISO 8601 with microseconds and Z
    PRIMARY KEY (user_name, referral_key)
) STRICT;

CREATE INDEX IF NOT EXISTS triage_review_key_at ON triage_review (referral_key, reviewed_at);
