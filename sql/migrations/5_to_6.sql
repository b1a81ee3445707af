-- Schema 5 -> 6: media matching. The DDL, run before this file, creates the new tables
-- (perceptual_member, perceptual_cluster, perceptual_merge, rollup_perceptual_daily, hash_bank,
-- hash_bank_entry, hash_bank_change, bank_match); no existing table changes. The media clusters
-- already loaded have no perceptual cluster yet: the next ETL batch (or `grace matching rebuild`)
-- clusters every media cluster without one, in that batch's transaction.
SELECT 1;
