"""Runs ordered SQL files statement by statement, naming the file and statement when one fails.

Everything is split and checked before the first statement runs, so a file that cannot be split or
that would destroy data stops the deploy without a half-applied database. Statements are sent
without parameters, exactly as written (a literal `%` needs no escaping), one call each, because
that is all the RDS Data API accepts. Re-running is safe when the files are written idempotently
(CREATE ... IF NOT EXISTS, DROP FUNCTION IF EXISTS then CREATE FUNCTION), which the SQL layer does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from churnguard.bootstrap.safety import destructive_reason
from churnguard.errors import UserError
from churnguard.sql_client import SqlClient
from churnguard.sql_splitter import SqlSplitError, Statement, split_statements

LOGGER = logging.getLogger(__name__)
# A file whose name ends so is applied best effort: a statement the database refuses is reported
# (log and custom-resource attribute) and the deploy goes on. Only for statements nothing depends on
# and that AWS does not document for Aurora (will_churn's COMMENT on the SageMaker alias).
OPTIONAL_SUFFIX = ".optional.sql"
# CloudFormation shows the failure reason to the person deploying; keep the database's words short.
MAX_CAUSE_CHARS = 600
# The most SQL the RDS Data API takes in one call: botocore's rds-data model gives ExecuteStatement's
# `sql` (shape SqlStatement) "max": 65536, and AWS's API reference the same length constraint
# (docs/sql.md). The same text runs locally, so a longer statement is refused everywhere.
MAX_STATEMENT_CHARS = 65_536


class SqlSource(Protocol):
    """A named SQL text: a rendered file (churnguard.sqlgen.SqlFile) or one read from disk."""

    @property
    def name(self) -> str: ...

    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class SqlScript:
    """A SqlSource read from the bootstrap bundle's sql/ folder."""

    name: str
    text: str


@dataclass(frozen=True)
class PlannedStatement:
    """A statement ready to run, with where it came from and what an error message may show of it.

    `display` is the statement's first line for SQL files; for statements generated with a secret
    in them (ALTER USER ... IDENTIFIED BY) it is a redacted form, so the password never reaches a
    log or CloudFormation.
    """

    source: str
    number: int
    line: int | None
    sql: str
    display: str
    optional: bool = False


class BootstrapError(UserError):
    """The bootstrap cannot proceed; the message says which file, statement and why."""


class StatementFailed(BootstrapError):
    """A statement was rejected by the database; the message names its file, number and first line."""

    def __init__(self, statement: PlannedStatement, cause: str) -> None:
        super().__init__(f"{describe(statement)} failed: {cause}")
        self.statement = statement
        self.cause = cause


def describe(statement: PlannedStatement) -> str:
    """`020_functions.sql statement 4 (line 31: CREATE FUNCTION will_churn(...)` for messages."""
    where = f"line {statement.line}: " if statement.line is not None else ""
    return f"{statement.source} statement {statement.number} ({where}{statement.display})"


def plan_files(sources: Iterable[SqlSource]) -> list[PlannedStatement]:
    """Split every file and refuse data-destroying statements and statements longer than the Data
    API takes, before anything runs."""
    planned: list[PlannedStatement] = []
    for source in sources:
        try:
            statements = split_statements(source.text)
        except SqlSplitError as error:
            raise BootstrapError(f"{source.name}: cannot split into statements: {error}") from None
        for statement in statements:
            step = _from_file(source.name, statement)
            reason = destructive_reason(statement)
            if reason is not None:
                raise BootstrapError(
                    f"{describe(step)} is refused: {reason}, and the bootstrap never destroys customer "
                    "data on deploy; write it idempotently (CREATE TABLE IF NOT EXISTS, ALTER TABLE ADD)"
                )
            if len(statement.text) > MAX_STATEMENT_CHARS:
                raise BootstrapError(
                    f"{describe(step)} is {len(statement.text):,} characters long; the RDS Data API "
                    f"takes at most {MAX_STATEMENT_CHARS:,} in one statement: split it into several"
                )
            planned.append(step)
    return planned


def _from_file(source: str, statement: Statement) -> PlannedStatement:
    return PlannedStatement(
        source,
        statement.number,
        statement.line,
        statement.text,
        statement.first_line,
        optional=source.endswith(OPTIONAL_SUFFIX),
    )


def run_planned(
    client: SqlClient, statements: Sequence[PlannedStatement], *, secrets: Sequence[str] = ()
) -> int:
    """Run `statements` in order; the first failure raises StatementFailed. Returns how many ran.

    `secrets` are scrubbed from the database's error text, which may quote the statement back.
    """
    for statement in statements:
        _run_one(client, statement, secrets)
    _log_applied(statements)
    return len(statements)


def run_files(client: SqlClient, statements: Sequence[PlannedStatement]) -> tuple[int, tuple[str, ...]]:
    """Run planned file statements in order: a required statement's failure raises StatementFailed,
    an optional one's (OPTIONAL_SUFFIX) is logged as a warning and returned. Returns how many
    statements succeeded and the refusals, each naming file, statement and the database's words."""
    refused: list[str] = []
    for statement in statements:
        try:
            _run_one(client, statement, ())
        except StatementFailed as failure:
            if not statement.optional:
                raise
            LOGGER.warning("best-effort statement refused, deploy continues: %s", failure)
            refused.append(str(failure))
    _log_applied(statements)
    return len(statements) - len(refused), tuple(refused)


def _run_one(client: SqlClient, statement: PlannedStatement, secrets: Sequence[str]) -> None:
    try:
        client.execute(statement.sql)
    except Exception as error:  # any driver's error becomes a message naming file and statement
        raise StatementFailed(statement, _cause(error, secrets)) from None


def _log_applied(statements: Sequence[PlannedStatement]) -> None:
    sources = sorted({statement.source for statement in statements})
    LOGGER.info("applied %d statements from %s", len(statements), ", ".join(sources) or "nothing")


def _cause(error: Exception, secrets: Sequence[str]) -> str:
    text = str(error) or type(error).__name__
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    if len(text) > MAX_CAUSE_CHARS:
        text = text[: MAX_CAUSE_CHARS - 3] + "..."
    return text
