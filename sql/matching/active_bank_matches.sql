-- Active positive bank matches (definition in sql/fragments/active_bank_matches.sql). A plain SELECT without
-- a trailing semicolon, so it can be wrapped: `(<this file>) AS active`.
WITH
-- @include active_bank_matches
final AS (SELECT * FROM active_bank_matches)
SELECT * FROM final
