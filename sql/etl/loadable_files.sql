-- The file rows this batch loads: valid, their referral new in this batch, first copy of the
-- row. `_pos` numbers a row within the batch in file order ((file, row) packed in a BIGINT); the
-- files of one referral package share their line's `_pos` and are told apart by `_item`.
SELECT (f._file::BIGINT << 40) + f._row AS _pos, f.* EXCLUDE (_file, _row, problems, parent, file_id)
FROM checked_files AS f
ANTI JOIN file_later_copies AS c ON c._file = f._file AND c._row = f._row AND c._item = f._item
WHERE f.problems IS NULL AND f.parent = 'new'
