-- One member row per placed media cluster (`new_members`, from etl/perceptual.py).
INSERT INTO perceptual_member
SELECT CAST(cluster_key AS UHUGEINT), CAST(perceptual_key AS UHUGEINT), pdq_slot, pdq_quality, nearest_distance,
       $batch_id
FROM new_members
ORDER BY pdq_slot NULLS LAST, cluster_key
