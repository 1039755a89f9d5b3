"""Optional sample data: Aurora's LOAD DATA FROM S3 of the stack's customers CSV, into an empty table only.

The CSV is the one the stack uploads when `seed_sample_data` is on: a header line, then one row per
customer with the snake_case columns of churnguard.customer_schema in that order, comma-separated,
optionally double-quoted, `\\n`-terminated, yes/no plans and churn as 0/1. The load runs only while
`customers` has no rows, and with IGNORE, so a deploy never overwrites or duplicates a real customer.
The URI is embedded in the statement (LOAD DATA cannot bind it), hence the strict URI check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from churnguard.bootstrap.apply import BootstrapError, PlannedStatement
from churnguard.customer_schema import COLUMN_NAMES
from churnguard.sql_client import SqlClient

SEED_TABLE = "customers"
SOURCE_NAME = "seed data"
# s3://bucket/key or Aurora's s3-<region>://bucket/key; key characters that cannot end a SQL literal.
_S3_URI = re.compile(
    r"s3(-(?P<region>[a-z]{2}(-[a-z]+)+-\d))?://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/"
    r"(?P<key>[A-Za-z0-9!_.*()/=+-]+)"
)


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    uri: str


def parse_seed_uri(uri: str) -> S3Object:
    """Check the seed URI before it is embedded in SQL; the error says what form is expected."""
    match = _S3_URI.fullmatch(uri)
    if match is None:
        raise BootstrapError(
            f"seed data URI {uri!r} is not s3://bucket/key (key of letters, digits and !_.*()/=+- only)"
        )
    return S3Object(bucket=match["bucket"], key=match["key"], uri=uri)


def csv_load_clauses() -> str:
    """Everything after INTO TABLE: how the customers CSV is read. Shared with LOAD DATA INFILE, whose
    clauses are the same, so the tests can check the format against a real server and a real CSV."""
    columns = ", ".join(COLUMN_NAMES)
    return (
        "CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' "
        f"LINES TERMINATED BY '\\n' IGNORE 1 LINES ({columns})"
    )


def load_from_s3_statement(seed: S3Object) -> PlannedStatement:
    """Aurora MySQL's LOAD DATA FROM S3 for the customers CSV; IGNORE skips rows whose key exists."""
    sql = f"LOAD DATA FROM S3 FILE '{seed.uri}' IGNORE INTO TABLE {SEED_TABLE} {csv_load_clauses()}"
    return PlannedStatement(SOURCE_NAME, 1, None, sql, f"LOAD DATA FROM S3 FILE '{seed.uri}' ...")


def seed_statements(client: SqlClient, seed: S3Object) -> list[PlannedStatement]:
    """The load statement while the customers table is empty; nothing once it holds any row."""
    rows = client.query(f"SELECT EXISTS(SELECT 1 FROM {SEED_TABLE}) AS has_rows")
    if rows and int(rows[0]["has_rows"]):
        return []
    return [load_from_s3_statement(seed)]
