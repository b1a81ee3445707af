-- Headline counts of perceptual matching (grace matching status).
SELECT (SELECT count(*) FROM media_cluster),
       (SELECT count(*) FROM perceptual_member),
       (SELECT count(pdq_slot) FROM perceptual_member),
       (SELECT count(*) FROM perceptual_cluster),
       (SELECT count(*) FROM perceptual_cluster WHERE variants > 1),
       (SELECT count(*) FROM perceptual_merge)
