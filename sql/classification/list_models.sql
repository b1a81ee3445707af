-- Registered triage models, newest first, with their windows and headline test metrics (from the card).
WITH final AS (
    SELECT version, status, created_at, status_changed_at,
           json_extract_string(card, '$.windows.train_end')            AS train_end,
           json_extract_string(card, '$.windows.test_end')             AS test_end,
           CAST(json_extract(card, '$.test.model.average_precision') AS DOUBLE)   AS average_precision,
           CAST(json_extract(card, '$.test.model.lift_top_10pct') AS DOUBLE)      AS lift_top_10pct,
           CAST(json_extract(card, '$.test.model.ece') AS DOUBLE)                 AS ece,
           CAST(json_extract(card, '$.test.model.referrals') AS BIGINT)           AS test_referrals
    FROM triage_model
)
SELECT * FROM final ORDER BY created_at DESC, version DESC
