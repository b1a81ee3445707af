-- The perceptual cluster of each matched slot (the slots come from the index search, as `matched_slots`),
-- with its first-seen date: the older cluster keeps its id when a batch links two.
SELECT s.slot, '0x' || lpad(hex(pm.perceptual_id), 32, '0') AS perceptual_key, pc.first_seen_date
FROM matched_slots AS s
JOIN perceptual_member AS pm ON pm.pdq_slot = s.slot
JOIN perceptual_cluster AS pc USING (perceptual_id)
ORDER BY s.slot
