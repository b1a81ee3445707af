-- Older media clusters whose bank matches this batch changed: it found a match for them (an older cluster
-- it placed — reopened with its first usable PDQ, or never placed before — matched a positive or a negative
-- bank), so their is_known may have changed and with it the file rollup of every date they were seen on,
-- earlier dates included. The batch's new clusters are left out: all their files are in the batch, whose
-- dates are recomputed anyway. Parameter: $batch_id.
SELECT DISTINCT cluster_id FROM bank_match WHERE found_by = $batch_id
EXCEPT
SELECT cluster_id FROM batch_cluster_stats WHERE is_new_cluster
