-- After a hash-set import: mark clusters whose MD5 or SHA1 is in any hash set as known.
UPDATE media_cluster SET is_known = true
WHERE NOT is_known
  AND (md5 IN (SELECT md5 FROM hash_set_entry WHERE md5 IS NOT NULL)
       OR sha1 IN (SELECT sha1 FROM hash_set_entry WHERE sha1 IS NOT NULL))
