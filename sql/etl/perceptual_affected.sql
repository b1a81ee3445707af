-- Perceptual clusters to recompute: those the placed clusters joined or created, and those others
-- merged into.
SELECT DISTINCT CAST(perceptual_key AS UHUGEINT) AS perceptual_id FROM new_members
UNION
SELECT DISTINCT CAST(into_key AS UHUGEINT) FROM new_merges
