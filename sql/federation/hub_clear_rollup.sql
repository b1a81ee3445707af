-- A hub warehouse's referral rollup is a function of its releases: cleared, then rebuilt (hub_rebuild_rollup.sql).
DELETE FROM rollup_referral_daily
