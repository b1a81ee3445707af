-- New password hash; ends the user's other sessions (new session version).
UPDATE auth_user
SET password_hash = :password_hash,
    session_version = session_version + :end_sessions,
    updated_at = :now
WHERE name = :name
