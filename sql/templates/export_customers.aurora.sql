-- Export the customer table to Amazon S3 (Aurora MySQL 3). Needs the cluster's S3 role
-- (aws_default_s3_role) and GRANT AWS_SELECT_S3_ACCESS. %(s3_uri)s: 's3-REGION://bucket/prefix'.
-- Aurora writes prefix.part_00000, ...; LOAD DATA FROM S3 PREFIX reads them back.
SELECT state, acc_length, area_code, phone, int_plan, vmail_plan, vmail_msg, day_mins, day_calls, day_charge, eve_mins, eve_calls, eve_charge, night_mins, night_calls, night_charge, intl_mins, intl_calls, intl_charge, cust_service_calls, churn
FROM customers
ORDER BY area_code, phone
INTO OUTFILE S3 %(s3_uri)s
FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' ESCAPED BY '\\'
LINES TERMINATED BY '\n'
OVERWRITE ON;
