-- Highest audit id ever written (AUTOINCREMENT's counter survives deleted rows).
SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'
