-- A sign-in attempt has ended (its outcome is in the audit log), or expired.
DELETE FROM login_attempt WHERE id = :id OR at < :expired_before
