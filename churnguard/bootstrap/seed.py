"""Optional sample data: Aurora's LOAD DATA FROM S3 of the stack's customers and messages CSVs, into
empty tables only.

Customers CSV: a header line, then one row per customer with the snake_case columns of
churnguard.customer_schema in that order, comma-separated, optionally double-quoted, `\\n`-terminated,
yes/no plans and churn as 0/1 (no free text, so MySQL's default backslash escaping is harmless).

Messages CSV: free text with commas, apostrophes, double quotes, backslashes and line breaks, so its
writer (SeedMessagesDialect) and its LOAD DATA clauses (message_load_clauses) are defined together
here: RFC 4180 quoting (every field double-quoted, a quote inside doubled) read with ESCAPED BY '' so a
backslash is just a character and a line break inside quotes stays in the message.

Each load runs only while its table has no rows, so a deploy never duplicates or overwrites real data.
The URIs are embedded in the statements (LOAD DATA cannot bind them), hence the strict URI check.

On Aurora MySQL 3 the admin holds AWS_LOAD_S3_ACCESS as a role, and "you also activate the role by
using the SET ROLE role_name or SET ROLE ALL statement. … This only applies to the current active
session" (Aurora User Guide, LoadFromS3 page): each load is preceded by SET ROLE ALL, and the two must
be sent in one session, which over the Data API means one transaction (churnguard.bootstrap.runner).
"""

from __future__ import annotations

import csv
import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TextIO

from churnguard.bootstrap.apply import BootstrapError, PlannedStatement
from churnguard.customer_schema import COLUMN_NAMES
from churnguard.sql_client import SqlClient

SEED_TABLE = "customers"
SOURCE_NAME = "seed data"
MESSAGES_TABLE = "customer_messages"
MESSAGES_SOURCE_NAME = "seed messages"
# customer_messages' columns (sql/10_schema.sql) except the AUTO_INCREMENT id, in the CSV's order.
MESSAGE_COLUMNS = ("area_code", "phone", "message", "received_at")
# Activates every role granted to the session's user, whether held directly or through another role
# (AWS does not say which is the admin's case for AWS_LOAD_S3_ACCESS; docs/infra.md).
ACTIVATE_ROLES = "SET ROLE ALL"
# s3://bucket/key or Aurora's s3-<region>://bucket/key; key characters that cannot end a SQL literal.
_S3_URI = re.compile(
    r"s3(-(?P<region>[a-z]{2}(-[a-z]+)+-\d))?://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/"
    r"(?P<key>[A-Za-z0-9!_.*()/=+-]+)"
)


class SeedMessagesDialect(csv.Dialect):
    """How the messages CSV is written: the form message_load_clauses() reads back unchanged.

    Every field quoted (QUOTE_ALL): an unquoted field reading `NULL` would load as SQL NULL, and a
    quoted one is always text. Quotes inside a field are doubled, which LOAD DATA undoes for an
    enclosed field; there is no escape character on either side.
    """

    delimiter = ","
    quotechar = '"'
    doublequote = True
    escapechar = None
    quoting = csv.QUOTE_ALL
    lineterminator = "\n"
    skipinitialspace = False
    strict = True


def write_messages_csv(csv_file: TextIO, rows: Iterable[Sequence[object]]) -> None:
    """The messages CSV: a header of MESSAGE_COLUMNS, then `rows` (area_code, phone, message,
    received_at as `YYYY-MM-DD HH:MM:SS`) in SeedMessagesDialect. Open `csv_file` with newline=""
    so line breaks inside a message are written as they are."""
    writer = csv.writer(csv_file, dialect=SeedMessagesDialect)
    writer.writerow(MESSAGE_COLUMNS)
    writer.writerows(rows)


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    uri: str


@dataclass(frozen=True)
class SeedTarget:
    """One table the stack seeds: its name, how its CSV is read, and the name errors give the load."""

    table: str
    source: str
    clauses: str


def parse_seed_uri(uri: str, source: str = SOURCE_NAME) -> S3Object:
    """Check a seed URI before it is embedded in SQL; the error says what form is expected."""
    match = _S3_URI.fullmatch(uri)
    if match is None:
        raise BootstrapError(
            f"{source} URI {uri!r} is not s3://bucket/key (key of letters, digits and !_.*()/=+- only)"
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


def message_load_clauses() -> str:
    """Everything after INTO TABLE for the messages CSV written with SeedMessagesDialect.

    ESCAPED BY '' turns off MySQL's backslash escapes, which RFC 4180 CSV does not have: with the
    default `\\`, a message holding `C:\\new` would load as `C:` + newline + `ew`. Inside an enclosed
    field a doubled quote is one quote, and a line break is data, because only a quote followed by
    the field or line terminator ends the field.
    """
    columns = ", ".join(MESSAGE_COLUMNS)
    return (
        "CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' ENCLOSED BY '\"' ESCAPED BY '' "
        f"LINES TERMINATED BY '\\n' IGNORE 1 LINES ({columns})"
    )


CUSTOMERS_SEED = SeedTarget(SEED_TABLE, SOURCE_NAME, csv_load_clauses())
MESSAGES_SEED = SeedTarget(MESSAGES_TABLE, MESSAGES_SOURCE_NAME, message_load_clauses())


def load_from_s3_statement(seed: S3Object, target: SeedTarget = CUSTOMERS_SEED) -> PlannedStatement:
    """Aurora MySQL's LOAD DATA FROM S3 of one seed CSV into its table.

    IGNORE: a customer whose key exists is not replaced, and a message whose customer is not in
    `customers` (its load was skipped because the table held other customers) is left out instead of
    failing the deploy; both become warnings, as MySQL's IGNORE does for duplicate and foreign keys.
    """
    sql = f"LOAD DATA FROM S3 FILE '{seed.uri}' IGNORE INTO TABLE {target.table} {target.clauses}"
    return PlannedStatement(target.source, 1, None, sql, f"LOAD DATA FROM S3 FILE '{seed.uri}' ...")


def seed_statements(
    client: SqlClient, seed: S3Object, target: SeedTarget = CUSTOMERS_SEED
) -> list[PlannedStatement]:
    """SET ROLE ALL then the load, while the target table is empty; nothing once it holds any row.
    Run them in one session (one transaction), or the load runs without the activated role."""
    rows = client.query(f"SELECT EXISTS(SELECT 1 FROM {target.table}) AS has_rows")
    if rows and int(rows[0]["has_rows"]):
        return []
    activate = PlannedStatement(target.source, 1, None, ACTIVATE_ROLES, ACTIVATE_ROLES)
    return [activate, dataclasses.replace(load_from_s3_statement(seed, target), number=2)]
