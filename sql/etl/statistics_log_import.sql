-- Record one published-statistics import (same transaction as its rows).
INSERT INTO import_log (import_id, dataset, source_path, checksum, rows_loaded, imported_at)
VALUES ($import_id, $dataset, $source_path, $checksum, $rows_loaded, $imported_at)
