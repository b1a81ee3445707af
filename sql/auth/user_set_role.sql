-- Give a user another role (read again on the user's next request: no new sign-in needed).
UPDATE auth_user
SET role = :role,
    updated_at = :now
WHERE name = :name
