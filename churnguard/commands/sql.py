"""`churnguard sql`: run SQL on the local stand-in or on the deployed cluster, or print the call-centre
statement for the installed model.

The deployed cluster accepts only the RDS Data API (no network path to port 3306), so a DBA without
the RDS console reaches it here: `--stage` reads the stack's outputs and sends each statement through
the Data API, as the application user by default (least privilege: SELECT, INSERT and EXECUTE on the
database, UPDATE on customer_scores, and the Aurora machine learning roles that will_churn and the
Comprehend functions need), or with `--admin` as the cluster's administrator, for schema changes.
Locally (`--local`, the default, or `--db-url`) it goes through PyMySQL. Several statements run in
order on one session (one Data API transaction), so `SET @phone = ...;` is seen by the SELECT after
it. The whole command is bounded by `--timeout`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from churnguard.errors import UserError
from churnguard.visible_text import show_controls

CALL_CENTRE = "call-centre"
DEFAULT_TIMEOUT_S = 30.0
# Statements whose answer is rows; anything else reports how many rows it changed.
ROW_STATEMENTS = frozenset({"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "VALUES", "TABLE"})
# The demo's planted customer and message: the printed statement runs as it is on the demo data.
EXAMPLE_VALUES = (
    ("area_code", "415"),
    ("phone", "'358-1921'"),
    ("message", "'You morons! You charged me extra again!'"),
)
MAX_CELL_WIDTH = 60


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sql",
        help="run SQL locally or on the deployed cluster (Data API); `sql call-centre` prints the statement",
        description="Runs STATEMENT (several separated by ';' run in order on one session; '-' reads them "
        "from stdin) against the local server (default), --db-url, or the deployed stack (--stage, through "
        "the RDS Data API as the application user; --admin for the administrator). `churnguard sql "
        "call-centre` prints the call-centre statement for the installed model with @variables to set "
        "(--stable: the form that stays the same for every model).",
    )
    parser.add_argument("statement", help=f"the SQL to run, '-' for stdin, or {CALL_CENTRE!r}")
    parser.add_argument("--local", action="store_true", help="the server `churnguard local up` started")
    parser.add_argument("--db-url", default=None, help="mysql://user:password@host:port/database")
    parser.add_argument("--stage", default=None, help="the deployed stage: run through its Data API")
    parser.add_argument("--region", default=None, help="AWS region (default: AWS_REGION, your profile's)")
    parser.add_argument(
        "--admin",
        action="store_true",
        help="with --stage: use AdminSecretArn instead of AppSecretArn (schema changes only)",
    )
    parser.add_argument(
        "--param",
        action="append",
        default=None,
        metavar="NAME=VALUE",
        help="bind %%(NAME)s in the statement to VALUE (text), e.g. --param phone=358-1921; repeatable "
        "(default: none, and a literal %% needs no escaping)",
    )
    parser.add_argument("--json", action="store_true", help="print the rows as a JSON array")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help="give up when the database has not finished by then",
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help="call-centre: the model folder to render for (default: $CHURNGUARD_MODEL_DIR, the local "
        "server's model, else artifacts/model)",
    )
    parser.add_argument("--stable", action="store_true", help="call-centre: the model-independent form")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.statement == CALL_CENTRE:
        print(call_centre_text(args.model, stable=args.stable))
        return 0
    text = sys.stdin.read() if args.statement == "-" else args.statement
    statements = split(text)
    params = parse_params(args.param or [])
    if args.timeout <= 0:
        raise UserError(f"--timeout must be a positive number of seconds (got {args.timeout:g})")
    if args.stage is None and (args.admin or args.region):
        raise UserError("--admin and --region go with --stage (the deployed cluster)")
    if args.stage is not None and (args.local or args.db_url):
        raise UserError("give either --stage (the deployed cluster) or --local/--db-url, not both")
    results = run_statements(args, statements, params)
    print(format_json(results) if args.json else format_results(results))
    return 0


def split(text: str) -> list[str]:
    """The statements in `text`, or a UserError when there are none or they cannot be split."""
    from churnguard.sql_splitter import SqlSplitError, split_statements

    try:
        statements = [statement.text for statement in split_statements(text)]
    except SqlSplitError as error:
        raise UserError(f"cannot read the SQL: {error}") from None
    if not statements:
        raise UserError("no SQL statement given")
    return statements


def parse_params(pairs: Sequence[str]) -> dict[str, str] | None:
    """--param NAME=VALUE pairs as bound parameters; None when there are none (a literal % then
    needs no escaping)."""
    if not pairs:
        return None
    params: dict[str, str] = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator or not name.isidentifier():
            raise UserError(f"--param {name or pair!r} is not NAME=VALUE with NAME a plain identifier")
        params[name] = value
    return params


def _first_keyword(statement: str) -> str:
    from churnguard.sql_splitter import split_statements

    (parsed,) = split_statements(statement)
    return parsed.keywords[0] if parsed.keywords else ""


def returns_rows(statement: str) -> bool:
    return _first_keyword(statement) in ROW_STATEMENTS


def is_setting(statement: str) -> bool:
    return _first_keyword(statement) == "SET"


Result = tuple[str, list[dict[str, Any]] | int]


def run_statements(
    args: argparse.Namespace, statements: list[str], params: dict[str, str] | None
) -> list[Result]:
    """Each statement's rows (a list) or changed-row count (an int), run in order on one session."""
    from churnguard.engine.deadline import DatabaseTimeout, Deadline

    deadline = Deadline.after(args.timeout)
    try:
        client = open_client(args, deadline)
        try:
            if args.stage is not None and len(statements) > 1:
                with client.transaction():  # the Data API keeps one session only within a transaction
                    return _run_each(client, statements, params)
            return _run_each(client, statements, params)
        finally:
            client.close()
    except DatabaseTimeout:
        raise UserError(
            f"the database did not finish within {args.timeout:g} s (--timeout); on the Data API a "
            "statement that has started goes on to its end on the cluster"
        ) from None


def _run_each(client: Any, statements: list[str], params: dict[str, str] | None) -> list[Result]:
    from churnguard.engine.database_errors import DatabaseError
    from churnguard.engine.failures import ConnectionFailed, StatementRefused, error_code

    results: list[Result] = []
    for number, statement in enumerate(statements, start=1):
        try:
            outcome = (
                client.query(statement, params)
                if returns_rows(statement)
                else client.execute(statement, params)
            )
        except (StatementRefused, ConnectionFailed) as error:  # what the database or the Data API said
            where = f"statement {number} of {len(statements)}" if len(statements) > 1 else "the statement"
            raise DatabaseError(f"{where} failed: {error_code(error)}: {error.reason}") from None
        results.append((statement, outcome))
    return results


def open_client(args: argparse.Namespace, deadline: Any) -> Any:
    """PyMySQL on --db-url / the local server, or the Data API on --stage's cluster."""
    if args.stage is None:
        from churnguard.db import connect
        from churnguard.local.url import resolve_url

        return connect(resolve_url(args.db_url), deadline=deadline)
    return data_api_client(args.stage, args.region, admin=args.admin, deadline=deadline)


def data_api_client(stage: str, region: str | None, *, admin: bool, deadline: Any) -> Any:
    """A Data API client on the stack's cluster and database with the app (or admin) secret.

    Missing credentials or region surface as botocore errors, which the CLI prints as one line.
    """
    import boto3
    from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

    from churnguard.aws_clients import DEFAULT_CONNECT_TIMEOUT_S, DEFAULT_READ_TIMEOUT_S, aws_client
    from churnguard.dataapi import DataApiClient
    from churnguard.verify.stack_outputs import read_outputs

    session = boto3.Session(region_name=region)
    # Finding the cluster is part of the command's --timeout: one attempt, within what is left of it.
    cloudformation = aws_client(
        "cloudformation",
        session=session,
        connect_timeout=deadline.wait_limit(DEFAULT_CONNECT_TIMEOUT_S),
        read_timeout=deadline.wait_limit(DEFAULT_READ_TIMEOUT_S),
        max_attempts=1,
    )
    try:
        outputs = read_outputs(cloudformation, stage, session.region_name or "")
    except (ConnectTimeoutError, ReadTimeoutError):
        raise UserError(
            f"CloudFormation did not answer within the {deadline.seconds:g} s of --timeout while "
            f"looking up the outputs of stage {stage}; nothing was run: check the network and try again"
        ) from None
    return DataApiClient(
        aws_client("rds-data", session=session, read_timeout=deadline.seconds + 5),
        resource_arn=outputs.cluster_arn,
        secret_arn=outputs.admin_secret_arn if admin else outputs.app_secret_arn,
        database=outputs.database,
        deadline=deadline,
    )


def call_centre_text(model: Path | None, *, stable: bool) -> str:
    """The call-centre statement with the SET lines that give its @variables the demo's values."""
    from churnguard.sqlgen import call_centre_session_sql, stable_call_centre_session_sql

    settings = "".join(f"SET @{name} = {value};\n" for name, value in EXAMPLE_VALUES)
    if stable:
        header = (
            "-- churnguard call-centre statement, the same for every model: the view\n"
            "-- customers_with_churn_probability scores the customer with the installed model.\n"
            "-- Set the variables, then run the SELECT.\n"
        )
        return f"{header}{settings}{stable_call_centre_session_sql()};"
    from churnguard.commands._model_dirs import model_dir
    from churnguard.model_folder import ModelFolder

    directory = model_dir(model)
    spec = ModelFolder.read(directory).feature_spec
    header = (
        f"-- churnguard call-centre statement for the model in {directory} ({len(spec.names)} features);\n"
        "-- will_churn's arguments change when the model does: `churnguard sql call-centre --stable`\n"
        "-- prints the form that does not. Set the variables, then run the SELECT.\n"
    )
    return f"{header}{settings}{call_centre_session_sql(spec)};"


def _plain(value: Any) -> Any:
    """A JSON-ready value: DECIMAL columns (cents) as numbers, dates as ISO text, bytes as hex."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return value.hex()
    return value


def format_json(results: list[Result]) -> str:
    """The rows of the last statement that returns rows, as a JSON array of objects."""
    rows = next((outcome for _, outcome in reversed(results) if isinstance(outcome, list)), [])
    return json.dumps([{key: _plain(value) for key, value in row.items()} for row in rows])


def format_results(results: list[Result]) -> str:
    """Each statement's answer: a table of its rows, or how many rows it changed."""
    parts = []
    for statement, outcome in results:
        if isinstance(outcome, int) and is_setting(statement):
            continue  # SET @x = ...: nothing to report
        if isinstance(outcome, int):
            parts.append(f"({outcome} row{'s' if outcome != 1 else ''} affected)")
        else:
            parts.append(format_table(outcome))
    return "\n".join(parts)


def format_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(0 rows)"
    columns = list(rows[0])
    cells = [[_cell(row[column]) for column in columns] for row in rows]
    widths = [max(len(column), *(len(line[index]) for line in cells)) for index, column in enumerate(columns)]
    rule = "+".join("-" * (width + 2) for width in widths)
    lines = [_line(columns, widths), rule, *(_line(line, widths) for line in cells)]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)


def _line(values: Sequence[str], widths: Sequence[int]) -> str:
    return "|".join(f" {value.ljust(width)} " for value, width in zip(values, widths, strict=True)).rstrip()


def _cell(value: Any) -> str:
    text = "NULL" if value is None else str(value if isinstance(value, Decimal) else _plain(value))
    text = show_controls(text.replace("\n", "\\n"))
    return text if len(text) <= MAX_CELL_WIDTH else text[: MAX_CELL_WIDTH - 1] + "…"
