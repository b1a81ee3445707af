-- Enable or disable a user; disabling also ends the user's open sessions (new session version).
UPDATE auth_user
SET enabled = :enabled,
    session_version = session_version + (1 - :enabled),
    updated_at = :now
WHERE name = :name
