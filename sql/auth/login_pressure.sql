-- What the login rate limit decides on, for one user name and one client address since :since:
-- failures (audited) plus attempts still in progress, per address, per (user, address) since that pair's
-- last successful sign-in, and per user; the newest failure or attempt per (user, address) and per user;
-- and whether the address is one the user signed in from successfully since :known_since (exempt from the
-- per-user slow-down).
WITH failures AS (
    SELECT at, user_name, client FROM audit_log
    WHERE event = 'login_failure' AND at >= :since AND (client = :client OR user_name = :user_name)
    UNION ALL
    SELECT at, user_name, client FROM login_attempt
    WHERE at >= :since AND (client = :client OR user_name = :user_name)
),

pair_success AS (
    SELECT coalesce(max(at), '') AS at FROM audit_log
    WHERE event = 'login_success' AND user_name = :user_name AND client = :client AND at >= :since
),

final AS (
    SELECT
        count(*) FILTER (WHERE f.client = :client) AS by_client,
        count(*) FILTER (WHERE f.client = :client AND f.user_name = :user_name AND f.at > s.at) AS by_pair,
        max(f.at) FILTER (WHERE f.client = :client AND f.user_name = :user_name AND f.at > s.at) AS last_pair,
        count(*) FILTER (WHERE f.user_name = :user_name) AS by_user,
        max(f.at) FILTER (WHERE f.user_name = :user_name) AS last_user,
        EXISTS (SELECT 1 FROM audit_log
                WHERE event = 'login_success' AND user_name = :user_name AND client = :client
                  AND at >= :known_since) AS known_client
    FROM failures AS f
    CROSS JOIN pair_success AS s
)

SELECT by_client, by_pair, last_pair, by_user, last_user, known_client FROM final
