"""Running a SELECT in Aurora with its result written to S3 (INTO OUTFILE S3), and knowing it is there.

Every statement of training from the table (training.sagemaker.table_sql) goes this way, the aggregates too:
the Data API ends a call after 45 s, and with `continueAfterTimeout` (DataApiClient.execute sets it)
the statement runs on while the caller gets a StatementTimeoutException, so a long statement's
result can only be had from where it was written. `MANIFEST ON` makes Aurora write
`<prefix>.manifest` "after all data files have been created and uploaded" (Aurora user guide), so
its appearance says the statement finished; a bounded wait polls for it. The location is embedded
as a checked literal (churnguard.sqlgen.file_locations); every other value is a bound parameter.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError

from churnguard.errors import UserError
from churnguard.sql_client import SqlClient
from churnguard.sqlgen.file_locations import location_literal
from training.progress import Progress

# The same field and line format as sql/templates/export_customers.aurora.sql, without enclosing
# quotes: every value written is a number or a plain word, and the built-in algorithm reads bare CSV.
EXPORT_CLAUSE = (
    "INTO OUTFILE S3 {location}\nFIELDS TERMINATED BY ','\nLINES TERMINATED BY '\\n'\n"
    "MANIFEST ON\nOVERWRITE ON"
)
MANIFEST_SUFFIX = ".manifest"
MYSQL_NULL = "\\N"
STATEMENT_TIMEOUT = "StatementTimeoutException"
DEFAULT_POLL_S = 10.0
DEFAULT_MAX_WAIT_S = 4 * 3600.0


class TableExportError(UserError):
    """Aurora refused a statement, or its result did not appear in S3 in time; names which and why."""


@dataclass(frozen=True)
class ExportWait:
    """How long to wait for a statement that outlived its Data API call, and how often to look."""

    poll_s: float = DEFAULT_POLL_S
    max_wait_s: float = DEFAULT_MAX_WAIT_S
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


def export_statement(select_sql: str, location: str) -> str:
    """`select_sql` with its result sent to `location` (s3://bucket/prefix), the location checked."""
    return f"{select_sql}\n{EXPORT_CLAUSE.format(location=location_literal(location))}"


class TableExporter:
    """Runs statements whose results go to `bucket` under the given key prefixes."""

    def __init__(
        self, client: SqlClient, s3: Any, bucket: str, progress: Progress, wait: ExportWait | None = None
    ) -> None:
        self.client, self.s3, self.bucket, self.progress = client, s3, bucket, progress
        self.wait = wait or ExportWait()

    def export(self, select_sql: str, params: Mapping[str, Any], key_prefix: str, what: str) -> list[str]:
        """Run `select_sql` into s3://bucket/key_prefix.part_NNNNN; the data files' keys, in order.

        The manifest is removed once read, so a folder of exported files holds only data (SageMaker
        reads every object under a channel's prefix).
        """
        location = f"s3://{self.bucket}/{key_prefix}"
        try:
            self.client.execute(export_statement(select_sql, location), dict(params))
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code != STATEMENT_TIMEOUT:
                message = error.response.get("Error", {}).get("Message", str(error))
                raise TableExportError(f"Aurora could not write {what} to {location}: {message}") from None
            self._wait_for_manifest(key_prefix, what)
        except ReadTimeoutError:
            # No answer within the socket's read timeout (just past the Data API's 45 s): the statement
            # may be running on, exactly as after a StatementTimeoutException.
            self._wait_for_manifest(key_prefix, what)
        keys = self._manifest_keys(key_prefix, what)
        self.s3.delete_object(Bucket=self.bucket, Key=key_prefix + MANIFEST_SUFFIX)
        return keys

    def rows(self, select_sql: str, params: Mapping[str, Any], key_prefix: str, what: str) -> list[list[str]]:
        """The result of a statement that returns aggregates, read back from S3 as text cells."""
        rows = []
        for key in self.export(select_sql, params, key_prefix, what):
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read().decode("utf-8")
            rows += [
                [None if cell == MYSQL_NULL else cell for cell in row]
                for row in csv.reader(io.StringIO(body))
                if row
            ]
        return rows

    def _wait_for_manifest(self, key_prefix: str, what: str) -> None:
        """Poll for the manifest of a statement that runs on after the Data API's 45 s."""
        started = self.wait.clock()
        self.progress.begin(f"waiting for Aurora to write {what} (past the Data API's 45 s)")
        while not self._exists(key_prefix + MANIFEST_SUFFIX):
            waited = self.wait.clock() - started
            if waited + self.wait.poll_s > self.wait.max_wait_s:
                raise TableExportError(
                    f"Aurora had not finished writing {what} to s3://{self.bucket}/{key_prefix} after "
                    f"{waited / 60:.0f} minutes (no {key_prefix}{MANIFEST_SUFFIX} yet): the statement may "
                    "still run (SHOW PROCESSLIST as the application user) or have failed; what it wrote "
                    "under tmp/ expires after 7 days"
                )
            self.progress.advance(int(waited), f"{waited / 60:.1f} minutes")
            self.wait.sleep(self.wait.poll_s)
        self.progress.end()

    def _exists(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        except BotoCoreError:
            return False  # a failed poll: the next one asks again, within the same bounded wait
        return True

    def _manifest_keys(self, key_prefix: str, what: str) -> list[str]:
        key = key_prefix + MANIFEST_SUFFIX
        try:
            manifest = json.loads(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
        except ClientError as error:
            raise TableExportError(
                f"Aurora reported {what} written, but s3://{self.bucket}/{key} cannot be read "
                f"({error.response.get('Error', {}).get('Code')})"
            ) from None
        keys = []
        for entry in manifest.get("entries", []):
            parsed = urlparse(entry["url"])
            found = parsed.path.lstrip("/")
            if parsed.netloc != self.bucket or not found.startswith(key_prefix):
                raise TableExportError(f"{key} lists {entry['url']}, outside s3://{self.bucket}/{key_prefix}")
            keys.append(found)
        return keys
