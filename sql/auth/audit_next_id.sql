-- Next audit row id: one more than any id ever used (AUTOINCREMENT's own counter included).
SELECT max(coalesce((SELECT max(id) FROM audit_log), 0),
           coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'), 0)) + 1
