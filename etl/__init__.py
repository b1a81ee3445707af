"""Extract, validate, anonymise, deduplicate and load referral metadata into the warehouse.

`etl.pipeline` runs one batch end to end; `etl.sources` read deliveries (files, a case
database); `etl.simulator` makes realistic synthetic case-system data for demos and tests.
"""
