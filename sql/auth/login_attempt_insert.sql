-- Reserve a sign-in attempt (taken before the password is checked; see login_attempt in schema.sql).
INSERT INTO login_attempt (at, user_name, client) VALUES (:at, :user_name, :client)
