-- Sign-out: every session cookie of the user issued before now stops working (new session version).
UPDATE auth_user
SET session_version = session_version + 1,
    updated_at = :now
WHERE name = :name
