"""The database users the bootstrap creates, each with its password kept equal to its own secret:
the app user (DBAs' SQL, training's export, verify: the whole database, the Aurora ML and S3 roles)
and the API user (the two API Lambdas: table by table what they do, the machine learning roles of the
services their statements call, no S3 role).

Account statements (CREATE USER, ALTER USER, GRANT) cannot bind parameters, so the user name and
password are embedded in the SQL text. That is only safe for characters that cannot end or escape a
quoted literal, so both are checked against an allow-list first, and the secret's generator is told
to avoid the rest (PASSWORD_EXCLUDED_CHARACTERS, used by infra/ when it creates the app secret).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from churnguard.bootstrap.apply import BootstrapError, PlannedStatement

# Read customers and messages, record offers, call will_churn and the one-hot/Comprehend
# functions: nothing that changes the schema or removes rows.
APP_PRIVILEGES: tuple[str, ...] = ("SELECT", "INSERT", "EXECUTE")
# Table-level extras, each granted on its table alone (the tables exist by then: the SQL files run
# first). refresh_customer_scores() (SQL SECURITY INVOKER) upserts the scores table; an agent may
# correct an outcome they recorded (the console's second click, `offers record-outcome` again).
# offers_log itself stays append-only for the app.
APP_TABLE_PRIVILEGES: tuple[tuple[str, str], ...] = (
    ("UPDATE", "customer_scores"),
    ("UPDATE", "offer_outcomes"),
)

# Aurora MySQL 3 roles that let a user call SageMaker and Comprehend from SQL and move data between
# tables and S3 (the Aurora MySQL 3 counterparts of the INVOKE SAGEMAKER, INVOKE COMPREHEND, LOAD FROM
# S3 and SELECT INTO S3 privileges). They exist only on Aurora; MariaDB has none of them.
S3_ROLES: tuple[str, ...] = ("AWS_LOAD_S3_ACCESS", "AWS_SELECT_S3_ACCESS")
AURORA_ROLES: tuple[str, ...] = ("AWS_SAGEMAKER_ACCESS", "AWS_COMPREHEND_ACCESS", *S3_ROLES)

# Punctuation that cannot close or escape a quoted SQL literal, start a comment, or be taken for a
# Data API :parameter. A quote, backslash, colon, %, @, /, ;, backtick or space is never allowed.
PASSWORD_PUNCTUATION = "!#$&()*+,-.<=>?[]^_{|}~"  # noqa: S105 (an alphabet, not a password)
PASSWORD_EXCLUDED_CHARACTERS = "".join([*sorted(set(string.punctuation) - set(PASSWORD_PUNCTUATION)), " "])
_PASSWORD_ALPHABET = frozenset(string.ascii_letters + string.digits + PASSWORD_PUNCTUATION)
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
_USER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
# Every host, because the Data API and the Lambdas reach the cluster from addresses that change;
# the cluster itself is reachable only inside the VPC's isolated subnets.
APP_USER_HOST = "%"
SOURCE_NAME = "app user"
AURORA_SOURCE_NAME = "aurora roles"

# The API user: what the recommend API and the console's API do, table by table (the engine's
# statements, churnguard.engine and churnguard.console), and nothing else: no UPDATE of offers_log,
# no DELETE anywhere, no customer or score writes, no schema changes, no S3.
API_TABLE_PRIVILEGES: tuple[tuple[str, str], ...] = (
    ("SELECT", "customers"),  # the customer's columns, scored by will_churn
    ("SELECT", "customer_messages"),  # the latest message on file
    ("SELECT", "models"),  # the live model's id and cut-off, written with every answer
    ("SELECT, INSERT", "offers_log"),  # the answer's row; the customer's recent offers
    ("SELECT, INSERT, UPDATE", "offer_outcomes"),  # the outcome; a second click corrects it
    ("INSERT", "offer_outcome_changes"),  # every outcome written, kept with what it replaced
)
# On the whole database, not per routine: installing a model drops and re-creates will_churn and its
# helpers, and MySQL and MariaDB revoke every account's grant on a routine when it is dropped. The
# procedures it also covers run as their invoker (refresh_customer_scores, churnguard_drift_snapshot),
# so the API user calling them gets no right it lacks.
API_DATABASE_PRIVILEGES: tuple[str, ...] = ("EXECUTE",)
API_SOURCE_NAME = "api user"
# Every churnguard routine runs as its invoker (SQL SECURITY INVOKER, will_churn's SageMaker alias
# included), and aws_comprehend_detect_sentiment is Aurora's own function called in the engine's
# statement, so the caller's active roles are what Aurora checks: the API user needs the machine
# learning roles of the services its statements reach, as default roles, and never the S3 ones.
API_AURORA_ROLES: tuple[str, ...] = ("AWS_SAGEMAKER_ACCESS", "AWS_COMPREHEND_ACCESS")
# call_reason's Bedrock alias (churnguard.sqlgen.call_reason, SQL SECURITY INVOKER): the role exists
# from Aurora MySQL 3.06 on, so both users get it only when a bundled file creates the alias.
BEDROCK_ROLE = "AWS_BEDROCK_ACCESS"
BEDROCK_ALIAS = "ALIAS AWS_BEDROCK_INVOKE_MODEL"
API_AURORA_SOURCE_NAME = "api aurora roles"


@dataclass(frozen=True)
class AppUser:
    """The application's credentials, as read from its Secrets Manager secret."""

    name: str
    password: str

    def __repr__(self) -> str:  # a stray log line or traceback must never show the password
        return f"AppUser(name={self.name!r}, password='***')"


def validate_password(password: str) -> None:
    """Raise BootstrapError unless `password` is safe to embed in account DDL; the message never
    includes the password or any of its characters."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise BootstrapError(
            f"a database user's secret password must be {MIN_PASSWORD_LENGTH} to "
            f"{MAX_PASSWORD_LENGTH} characters long, it has {len(password)}"
        )
    if not set(password) <= _PASSWORD_ALPHABET:
        raise BootstrapError(
            "a database user's secret password has characters that cannot be embedded in SQL; allowed "
            f"are letters, digits and {PASSWORD_PUNCTUATION} (generate it with these excluded: "
            f"{PASSWORD_EXCLUDED_CHARACTERS!r})"
        )


def validate_user_name(name: str) -> None:
    if not _USER_NAME.fullmatch(name):
        raise BootstrapError(
            f"database user name {name!r} is not allowed: use a letter then up to 31 letters, digits or _"
        )


def validate_identifier(name: str, what: str) -> None:
    """Database and table names are embedded in DDL too; accept plain identifiers only."""
    if not _IDENTIFIER.fullmatch(name):
        raise BootstrapError(f"{what} {name!r} is not a plain identifier (letters, digits, _)")


def app_user_statements(user: AppUser, database: str) -> list[PlannedStatement]:
    """Create the user if missing, set its password from the secret (so a rotation or a changed
    secret takes effect on the next deploy), and grant APP_PRIVILEGES on `database` only, plus
    APP_TABLE_PRIVILEGES on their tables."""
    return _user_statements(user, database, SOURCE_NAME, APP_PRIVILEGES, APP_TABLE_PRIVILEGES)


def api_user_statements(user: AppUser, database: str) -> list[PlannedStatement]:
    """The same for the API user: API_DATABASE_PRIVILEGES on `database`, API_TABLE_PRIVILEGES on
    their tables (which exist by then: the SQL files and migrations run first)."""
    return _user_statements(user, database, API_SOURCE_NAME, API_DATABASE_PRIVILEGES, API_TABLE_PRIVILEGES)


def aurora_role_statements(user_name: str, *, bedrock: bool) -> list[PlannedStatement]:
    """Grant the Aurora ML and S3 roles (and BEDROCK_ROLE when `bedrock`: verify and DBAs call
    call_reason too) and make them the user's default roles, so they are active on every connection
    without SET ROLE (Aurora MySQL 3 follows MySQL 8.0's role model)."""
    roles = (*AURORA_ROLES, BEDROCK_ROLE) if bedrock else AURORA_ROLES
    return _role_statements(user_name, roles, AURORA_SOURCE_NAME)


def api_aurora_role_statements(user_name: str, *, bedrock: bool) -> list[PlannedStatement]:
    """The API user's Aurora roles (API_AURORA_ROLES, and BEDROCK_ROLE when `bedrock`), made its
    default roles; the S3 load and export roles are never among them."""
    return _role_statements(user_name, api_aurora_roles(bedrock=bedrock), API_AURORA_SOURCE_NAME)


def api_aurora_roles(*, bedrock: bool) -> tuple[str, ...]:
    """The roles the API user gets on Aurora (and verify expects it to hold, as its default roles)."""
    return (*API_AURORA_ROLES, BEDROCK_ROLE) if bedrock else API_AURORA_ROLES


def _user_statements(
    user: AppUser,
    database: str,
    source: str,
    database_privileges: tuple[str, ...],
    table_privileges: tuple[tuple[str, str], ...],
) -> list[PlannedStatement]:
    validate_user_name(user.name)
    validate_password(user.password)
    validate_identifier(database, "database name")
    for _, table in table_privileges:
        validate_identifier(table, "table name")
    account = quoted_account(user.name)
    secret = f"IDENTIFIED BY '{user.password}'"
    redacted = "IDENTIFIED BY '***'"
    steps = [
        (f"CREATE USER IF NOT EXISTS {account} {secret}", f"CREATE USER IF NOT EXISTS {account} {redacted}"),
        (f"ALTER USER {account} {secret}", f"ALTER USER {account} {redacted}"),
        (f"GRANT {', '.join(database_privileges)} ON `{database}`.* TO {account}", None),
        *(
            (f"GRANT {privilege} ON `{database}`.`{table}` TO {account}", None)
            for privilege, table in table_privileges
        ),
    ]
    return [
        PlannedStatement(source, number, None, sql, display or sql)
        for number, (sql, display) in enumerate(steps, start=1)
    ]


def _role_statements(user_name: str, roles: tuple[str, ...], source: str) -> list[PlannedStatement]:
    validate_user_name(user_name)
    account = quoted_account(user_name)
    listed = ", ".join(roles)
    sql = [f"GRANT {listed} TO {account}", f"SET DEFAULT ROLE {listed} TO {account}"]
    return [PlannedStatement(source, number, None, text, text) for number, text in enumerate(sql, start=1)]


def quoted_account(user_name: str) -> str:
    """`'name'@'%'`, as account statements (and SHOW GRANTS FOR) name a user; `user_name` must have
    passed validate_user_name, since it is embedded."""
    return f"'{user_name}'@'{APP_USER_HOST}'"
