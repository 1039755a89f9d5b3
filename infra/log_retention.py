"""How long the stack keeps its logs: one figure for every log group it creates."""

from aws_cdk import aws_logs as logs

# Three months: long enough to look into a deploy or an incident after the fact, short enough that log
# storage stays a rounding error of the idle cost (docs/cost-and-teardown.md).
LOG_RETENTION = logs.RetentionDays.THREE_MONTHS
