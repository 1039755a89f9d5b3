-- Local equivalent of export_customers.aurora.sql: the server writes %(path)s (must not exist;
-- needs the FILE privilege). Same field and line format as the S3 export.
SELECT state, acc_length, area_code, phone, int_plan, vmail_plan, vmail_msg, day_mins, day_calls, day_charge, eve_mins, eve_calls, eve_charge, night_mins, night_calls, night_charge, intl_mins, intl_calls, intl_charge, cust_service_calls, churn
FROM customers
ORDER BY area_code, phone
INTO OUTFILE %(path)s
CHARACTER SET utf8mb4
FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' ESCAPED BY '\\'
LINES TERMINATED BY '\n';
