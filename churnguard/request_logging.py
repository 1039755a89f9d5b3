"""Keeps the AWS SDK from logging whole requests in the Lambda functions.

At DEBUG, botocore logs every request it sends: a Data API call's SQL text and parameters (a
customer's phone number and message), a Secrets Manager answer. A function's log level is set from
outside the code (Lambda's logging configuration, AWS_LAMBDA_LOG_LEVEL), so each handler calls
`keep_requests_out_of_logs()` when it is loaded: whatever that level, these loggers stay at INFO or
above, where they log no request content.
"""

from __future__ import annotations

import logging

# The SDK's loggers and the HTTP library under it.
REQUEST_LOGGERS = ("botocore", "boto3", "urllib3")


def keep_requests_out_of_logs() -> None:
    """Raise the SDK's loggers to INFO (never lower a level someone set higher)."""
    for name in REQUEST_LOGGERS:
        sdk_logger = logging.getLogger(name)
        sdk_logger.setLevel(max(logging.INFO, sdk_logger.level))
