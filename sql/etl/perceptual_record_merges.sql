-- Merges this batch found (`new_merges`: merged_key → into_key, fixed-width hex ids): one history row
-- each, with how many media clusters move. Run before the members move (perceptual_apply_merges.sql).
INSERT INTO perceptual_merge
SELECT $batch_id, CAST(m.merged_key AS UHUGEINT), CAST(m.into_key AS UHUGEINT), count(pm.cluster_id), $now
FROM new_merges AS m
JOIN perceptual_member AS pm ON pm.perceptual_id = CAST(m.merged_key AS UHUGEINT)
GROUP BY m.merged_key, m.into_key
ORDER BY m.into_key, m.merged_key
