-- A file without MD5 borrows the MD5 of another file of the batch with the same SHA1.
SELECT sha1, min(md5) AS md5 FROM loadable_files
WHERE md5 IS NOT NULL AND sha1 IN (SELECT sha1 FROM loadable_files WHERE md5 IS NULL)
GROUP BY sha1
