-- The country of one agency ($agency), from dim_agency: how an agency-scoped user gets the agency's country.
WITH final AS (
    SELECT agency_code, country_iso3
    FROM dim_agency
    WHERE agency_code = $agency
)

SELECT agency_code, country_iso3
FROM final
