"""A SqlClient over the RDS Data API, for the Lambdas that talk to Aurora without a driver.

The same SQL text runs here and over PyMySQL: `%(name)s` placeholders become the Data API's `:name`
with typed Field values, and `%%` a literal `%`; statements without parameters are sent unchanged,
as PyMySQL does. Rows come back as dicts keyed by column label, DECIMAL as Decimal and
DATE/DATETIME/TIMESTAMP as date/datetime, like PyMySQL's. An auto-paused Aurora Serverless v2
cluster answers the first call with DatabaseResumingException; calls are retried a bounded number of
times while it wakes up, never past the client's Deadline when it has one (a call-centre answer
cannot wait for a resume: it gets DatabaseStillResuming at once, with the seconds to wait before
trying again). Every HTTPS call is bounded by the boto3 client's connect and read timeouts
(churnguard.aws_clients); with a Deadline, the caller also stops waiting for a call the moment the
deadline passes (botocore's timeouts are per client, not per call, so the call runs on a worker
thread and is left to end on its own timeouts). The service's errors are raised as churnguard's own
failure types (churnguard.engine.failures). Parameter values are never logged nor put into error
messages.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

from churnguard.aws_clients import aws_client, missing_setup_message
from churnguard.engine.deadline import DatabaseTimeout, Deadline
from churnguard.engine.failures import (
    RESUME_RETRY_AFTER_S,
    ConnectionFailed,
    DatabaseFailure,
    DatabaseStillResuming,
    StatementRefused,
)
from churnguard.sql_client import Params, Row

LOGGER = logging.getLogger(__name__)

RESUMING_ERROR = "DatabaseResumingException"
# Aurora Serverless v2 resumes in about 15 s; these waits add up to about a minute before giving up.
DEFAULT_RESUME_DELAYS_S: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 15.0, 15.0, 15.0)
# The Data API ends a statement after 45 s on its own; a read timeout above that lets its answer
# (an error naming the timeout) arrive instead of a bare socket timeout.
DEFAULT_READ_TIMEOUT_S = 50.0
_PLACEHOLDER = re.compile(r"%\((?P<name>[A-Za-z_][A-Za-z0-9_]*)\)s|%%|%")
_INT64 = range(-(2**63), 2**63)
_DATETIME_TYPES = frozenset({"DATETIME", "TIMESTAMP"})
# The service's error codes (the rds-data service model's exceptions) that mean the database refused
# the statement itself, an Aurora ML function that raised included; the connection is still good.
# BadRequestException is what Aurora MySQL answers for an SQL error; the model calls it deprecated
# in favour of DatabaseErrorException.
# Refusals of the request itself, which the same request would meet again: the SQL or its parameters
# (BadRequestException; ValidationException, e.g. `sql` over the 65,536 characters the service model
# allows), the database's own error, or a result the API cannot return. Anything else is the way there.
STATEMENT_ERRORS = frozenset(
    {"BadRequestException", "DatabaseErrorException", "ValidationException", "UnsupportedResultException"}
)
TIMEOUT_ERRORS = frozenset({"StatementTimeoutException"})


class DataApiParameterError(ValueError):
    """A statement's placeholders and parameters do not fit; names the parameter, never its value."""


def to_named_parameters(sql: str, params: Params | None) -> tuple[str, list[dict[str, Any]]]:
    """`sql` with `%(name)s` turned into `:name`, and a Data API parameter for each name used."""
    if params is None:
        return sql, []
    used: dict[str, None] = {}

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if name is not None:
            if name not in params:
                raise DataApiParameterError(f"the statement uses %({name})s but no value named {name!r}")
            used[name] = None
            return f":{name}"
        if match.group() == "%%":
            return "%"
        raise DataApiParameterError(
            f"a lone % at offset {match.start()}: write %% for a literal % in a statement with parameters"
        )

    converted = _PLACEHOLDER.sub(replace, sql)
    return converted, [to_parameter(name, params[name]) for name in used]


def to_parameter(name: str, value: Any) -> dict[str, Any]:
    """A Data API SqlParameter for one Python value (the type decides the Field, never the value)."""
    parameter: dict[str, Any] = {"name": name}
    if value is None:
        parameter["value"] = {"isNull": True}
    elif isinstance(value, bool):  # before int: bool is an int subclass
        parameter["value"] = {"booleanValue": value}
    elif isinstance(value, int):
        if value not in _INT64:
            raise DataApiParameterError(f"parameter {name!r} is an int outside the 64-bit range")
        parameter["value"] = {"longValue": value}
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise DataApiParameterError(f"parameter {name!r} is a float that is not finite")
        parameter["value"] = {"doubleValue": value}
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise DataApiParameterError(f"parameter {name!r} is a Decimal that is not finite")
        parameter["value"] = {"stringValue": format(value, "f")}
        parameter["typeHint"] = "DECIMAL"
    elif isinstance(value, str):
        parameter["value"] = {"stringValue": value}
    elif isinstance(value, bytes | bytearray | memoryview):
        parameter["value"] = {"blobValue": bytes(value)}
    elif isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            raise DataApiParameterError(f"parameter {name!r} is a datetime with a time zone; pass UTC naive")
        # The Data API documents TIMESTAMP strings as YYYY-MM-DD HH:MM:SS[.FFF]: milliseconds at most.
        timespec = "milliseconds" if value.microsecond else "seconds"
        parameter["value"] = {"stringValue": value.isoformat(sep=" ", timespec=timespec)}
        parameter["typeHint"] = "TIMESTAMP"
    elif isinstance(value, dt.date):
        parameter["value"] = {"stringValue": value.isoformat()}
        parameter["typeHint"] = "DATE"
    else:
        raise DataApiParameterError(
            f"parameter {name!r} has type {type(value).__name__}, which the Data API cannot carry"
        )
    return parameter


def from_field(field: Mapping[str, Any], type_name: str) -> Any:
    """The Python value of one result Field, converted by the column's SQL type like PyMySQL does."""
    if field.get("isNull"):
        return None
    for key in ("booleanValue", "longValue", "doubleValue", "blobValue"):
        if key in field:
            return field[key]
    if "stringValue" in field:
        text = field["stringValue"]
        kind = type_name.upper()
        if kind == "DECIMAL":
            return Decimal(text)
        if kind in _DATETIME_TYPES:
            return dt.datetime.fromisoformat(text)
        if kind == "DATE":
            return dt.date.fromisoformat(text)
        return text
    if "arrayValue" in field:
        raise ValueError("array results are not used by churnguard")
    return None


def rows_from_response(response: Mapping[str, Any]) -> list[Row]:
    """Records plus column metadata (includeResultMetadata) as dicts keyed by column label."""
    columns = response.get("columnMetadata", [])
    labels = [column.get("label") or column.get("name") for column in columns]
    types = [column.get("typeName", "") for column in columns]
    return [
        {
            label: from_field(field, type_name)
            for label, type_name, field in zip(labels, types, record, strict=True)
        }
        for record in response.get("records", [])
    ]


class DataApiClient:
    """churnguard.sql_client.SqlClient on an Aurora cluster through the `rds-data` API.

    `database=None` runs statements outside any database (to create it). Each call is one HTTPS
    request authorised by IAM; the database password stays in Secrets Manager (`secret_arn`).
    """

    def __init__(
        self,
        rds_data: Any,
        *,
        resource_arn: str,
        secret_arn: str,
        database: str | None = None,
        resume_delays_s: Sequence[float] = DEFAULT_RESUME_DELAYS_S,
        sleep: Callable[[float], None] = time.sleep,
        deadline: Deadline | None = None,
    ) -> None:
        self._rds_data = rds_data
        self._target: dict[str, str] = {"resourceArn": resource_arn, "secretArn": secret_arn}
        if database is not None:
            self._target["database"] = database
        self._resume_delays_s = tuple(resume_delays_s)
        self._sleep = sleep
        self._deadline = deadline
        self._transaction_id: str | None = None

    @classmethod
    def from_boto3(
        cls,
        *,
        resource_arn: str,
        secret_arn: str,
        database: str | None = None,
        read_timeout: float = DEFAULT_READ_TIMEOUT_S,
    ) -> DataApiClient:
        """A client on a bounded boto3 `rds-data` client (connect and read timeouts, standard retries)."""
        return cls(
            aws_client("rds-data", read_timeout=read_timeout),
            resource_arn=resource_arn,
            secret_arn=secret_arn,
            database=database,
        )

    def query(self, sql: str, params: Params | None = None) -> list[Row]:
        response = self._execute(sql, params, includeResultMetadata=True)
        return rows_from_response(response)

    def execute(self, sql: str, params: Params | None = None) -> int:
        # DDL interrupted by the Data API's call timeout can leave things half done; AWS advises
        # letting it finish on the server.
        response = self._execute(sql, params, continueAfterTimeout=True)
        return int(response.get("numberOfRecordsUpdated", 0))

    def insert_returning_id(self, sql: str, params: Params | None = None) -> int:
        """One ExecuteStatement: the id is the first of the response's generatedFields ("values for
        fields generated during a DML request"). Outside a transaction the service commits the call's
        changes itself. Not continued after a timeout: a write the caller stopped waiting for is one
        it reports as unconfirmed, and the sooner it ends the better."""
        response = self._execute(sql, params)
        generated = response.get("generatedFields") or []
        if not generated or "longValue" not in generated[0]:
            raise ValueError("the INSERT generated no AUTO_INCREMENT id (no generatedFields in the reply)")
        return int(generated[0]["longValue"])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._transaction_id is not None:
            raise RuntimeError("transactions do not nest")
        begun = self._call("begin_transaction", **self._target)
        self._transaction_id = begun["transactionId"]
        finish = {"resourceArn": self._target["resourceArn"], "secretArn": self._target["secretArn"]}
        try:
            yield
        except BaseException:
            self._call("rollback_transaction", **finish, transactionId=self._transaction_id)
            raise
        else:
            self._call("commit_transaction", **finish, transactionId=self._transaction_id)
        finally:
            self._transaction_id = None

    def close(self) -> None:
        """Nothing to release: there is no connection, each call stands alone."""

    def _execute(self, sql: str, params: Params | None, **options: Any) -> dict[str, Any]:
        text, parameters = to_named_parameters(sql, params)
        request: dict[str, Any] = {**self._target, "sql": text, **options}
        if parameters:
            request["parameters"] = parameters
        if self._transaction_id is not None:
            request["transactionId"] = self._transaction_id
        return self._call("execute_statement", **request)

    def _call(self, operation: str, **request: Any) -> dict[str, Any]:
        """Call `operation`, waiting while a paused cluster resumes; other errors leave as churnguard's.

        With a deadline, no call starts after it (DatabaseTimeout) and no resume wait reaches past it
        (DatabaseStillResuming at once): what the caller cannot wait for, it is told to retry.
        """
        method = getattr(self._rds_data, operation)
        waited = 0.0
        for attempt, delay in enumerate((*self._resume_delays_s, None), start=1):
            if self._deadline is not None:
                self._deadline.wait_limit(None)
            try:
                return self._invoke(method, request)
            except ClientError as error:
                # Matched by code, not by the modeled class: the Lambda runtime's botocore may predate it.
                if error.response.get("Error", {}).get("Code") != RESUMING_ERROR:
                    raise as_failure(error) from error
                if delay is None or not self._may_wait(delay):
                    break
                LOGGER.info(
                    "cluster is resuming; %s attempt %d, retrying in %.0f s", operation, attempt, delay
                )
                self._sleep(delay)
                waited += delay
            except BotoCoreError as error:
                raise as_failure(error) from error
        raise DatabaseStillResuming(
            f"the Aurora cluster was still resuming after {attempt} attempts over {waited:.0f} s; "
            f"try again in {RESUME_RETRY_AFTER_S} s"
        )

    def _invoke(self, method: Callable[..., dict[str, Any]], request: dict[str, Any]) -> dict[str, Any]:
        """One HTTPS call; with a deadline, waited for only until it passes (DatabaseTimeout).

        A call given up on keeps running on its worker until its own timeouts end it; its answer is
        dropped. Given up on during a COMMIT, the caller cannot know whether it committed: the
        engine reports that (churnguard.engine.recommend.RecordUnconfirmed).
        """
        if self._deadline is None:
            return method(**request)
        future = _on_own_thread(method, request)
        try:
            return future.result(timeout=self._deadline.wait_limit(None))
        except concurrent.futures.TimeoutError:
            raise self._deadline.expired("waiting for the RDS Data API") from None

    def _may_wait(self, delay: float) -> bool:
        return self._deadline is None or self._deadline.remaining() > delay


def as_failure(error: ClientError | BotoCoreError) -> DatabaseFailure:
    """churnguard's failure for an error of the Data API or of botocore on the way to it: the code is
    the service's error code (or botocore's error type), the reason the service's own message."""
    setup_problem = missing_setup_message(error)  # credentials or region: the person's to fix
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = str(details.get("Code") or type(error).__name__)
        reason = str(details.get("Message") or code)
    else:
        code, reason = type(error).__name__, str(error)
    if setup_problem is not None:
        return ConnectionFailed(setup_problem, code=code, reason=reason)
    message = f"{code}: {reason}"
    if code in STATEMENT_ERRORS:
        return StatementRefused(message, code=code, reason=reason)
    if code in TIMEOUT_ERRORS or isinstance(error, ReadTimeoutError | ConnectTimeoutError):
        return DatabaseTimeout(f"the database did not answer in time ({message})", code=code, reason=reason)
    return ConnectionFailed(message, code=code, reason=reason)


def _on_own_thread(
    method: Callable[..., dict[str, Any]], request: dict[str, Any]
) -> concurrent.futures.Future:
    """Start one call on a daemon thread of its own and return its future.

    Not a shared ThreadPoolExecutor: its workers are joined when the interpreter exits, so a command
    whose call was given up on at the deadline would still wait for that call's own timeouts before
    the prompt came back, and calls given up on would occupy the pool's few workers, queueing the
    next answer's calls behind them. A daemon thread holds nothing open; it ends on its timeouts.
    """
    future: concurrent.futures.Future = concurrent.futures.Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(method(**request))
        except BaseException as error:  # handed to the waiting caller, which re-raises it
            future.set_exception(error)

    threading.Thread(target=run, name="data-api-call", daemon=True).start()
    return future
