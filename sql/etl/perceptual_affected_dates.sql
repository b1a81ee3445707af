-- Dates whose perceptual rollup changes: the batch's own dates (`affected_dates`, when a batch runs) and
-- every date on which a member of a perceptual cluster this batch created, grew, merged or moved was seen.
SELECT DISTINCT o.incident_date AS date_key
FROM fact_file_occurrence AS o
WHERE o.cluster_id IN (
    SELECT cluster_id FROM perceptual_member
    WHERE perceptual_id IN (SELECT perceptual_id FROM affected_perceptual)
)
