UPDATE fact_file_occurrence SET is_first_sighting = false
WHERE is_first_sighting AND cluster_id IN (SELECT cluster_id FROM moved_first)
