-- The members of merged perceptual clusters move to the cluster they merged into.
UPDATE perceptual_member AS pm
SET perceptual_id = CAST(m.into_key AS UHUGEINT)
FROM new_merges AS m
WHERE pm.perceptual_id = CAST(m.merged_key AS UHUGEINT)
