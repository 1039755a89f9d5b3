"""The checks' names: the `name` field of `--json` and of each printed line (run order: checks.CHECKS)."""

DATABASE_AWAKE = "database_awake"
BOOTSTRAP_SQL = "bootstrap_sql"
SENTIMENT = "comprehend_sentiment"
WILL_CHURN = "will_churn"
S3_EXPORT_LOAD = "s3_export_load"
CALL_CENTRE = "call_centre_statement"
RECOMMEND_API = "recommend_api"
