-- Per referral with files to load: where and when it happened (its files inherit this), and
-- where its files start. When a referral's files are consecutive rows (the usual case), or
-- consecutive items of one package line, a file's ordinal is its distance from the first;
-- otherwise it is ranked (irregular_ordinals).
WITH spans AS (
    SELECT referral_key, min(_pos) AS first_pos, min(_item) AS first_item,
           (max(_pos) - min(_pos) + 1 = count(*) AND max(_item) = 0)
           OR (min(_pos) = max(_pos) AND max(_item) - min(_item) + 1 = count(*)) AS consecutive
    FROM loadable_files
    GROUP BY referral_key
),
final AS (
    SELECT s.referral_key, s.first_pos, s.first_item, s.consecutive,
           r.incident_date, r.country_iso3, r.agency_code, r.platform_name
    FROM spans AS s
    JOIN new_referrals AS r USING (referral_key)
)
SELECT * FROM final
