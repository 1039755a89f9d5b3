"""Aurora behind the Data API, with its S3 export, stood in by the local MariaDB and moto's S3.

A statement ending in `INTO OUTFILE S3 's3://bucket/prefix' ... MANIFEST ON ...` runs on MariaDB
with the server's own `INTO OUTFILE '<file>'` (same fields and lines), and the file is put where
Aurora puts its data (`prefix.part_00000`) with the manifest Aurora writes after it
(`prefix.manifest`, JSON entries of the data files' URLs). Statements chosen by `times_out` behave
as a statement that outlives its 45-second Data API call with continueAfterTimeout: the data is
written, the call raises StatementTimeoutException, and the manifest appears only when
`finish_pending()` is called (the launcher's wait calls it as its sleep). Asking for rows through
`query` fails: the launcher must get everything through S3, as aggregates.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from botocore.exceptions import ClientError, ReadTimeoutError

from churnguard.sql_client import Params, Row


class AuroraWithS3:
    """A SqlClient over a MariaDB connection with the FILE privilege (see module docstring)."""

    def __init__(
        self,
        database: Any,
        s3: Any,
        folder: Path,
        *,
        times_out: Callable[[str], bool] = lambda _: False,
        answer_lost: bool = False,
    ) -> None:
        self.database, self.s3, self.folder, self.times_out = database, s3, folder, times_out
        # A statement that times out gives, instead of the Data API's error, no answer at all (the
        # socket's read timeout): what botocore raises when the connection drops mid-call.
        self.answer_lost = answer_lost
        self.statements: list[tuple[str, dict[str, Any]]] = []
        self.pending: list[tuple[str, str, bytes]] = []
        folder.chmod(0o777)  # the server process writes the files

    def execute(self, sql: str, params: Params | None = None) -> int:
        self.statements.append((sql, dict(params or {})))
        if "\nINTO OUTFILE S3 " not in sql:
            return self.database.execute(sql, params)
        select, clause = sql.split("\nINTO OUTFILE S3 ", 1)
        location = urlparse(clause.split("'")[1])
        bucket, key = location.netloc, location.path.lstrip("/")
        path = self.folder / f"statement-{len(self.statements)}.csv"
        written = self.database.execute(
            f"{select}\nINTO OUTFILE '{path}'\nFIELDS TERMINATED BY ','\nLINES TERMINATED BY '\\n'", params
        )
        self.s3.put_object(Bucket=bucket, Key=f"{key}.part_00000", Body=path.read_bytes())
        manifest = json.dumps({"entries": [{"url": f"s3://{bucket}/{key}.part_00000"}]}).encode()
        if self.times_out(select):
            self.pending.append((bucket, f"{key}.manifest", manifest))
            if self.answer_lost:
                raise ReadTimeoutError(endpoint_url="https://rds-data.eu-west-1.amazonaws.com/Execute")
            raise ClientError(
                {"Error": {"Code": "StatementTimeoutException", "Message": "The statement timed out."}},
                "ExecuteStatement",
            )
        self.s3.put_object(Bucket=bucket, Key=f"{key}.manifest", Body=manifest)
        return written

    def finish_pending(self, _seconds: float = 0.0) -> None:
        """The statements that outlived their call finish: their manifests appear."""
        for bucket, key, manifest in self.pending:
            self.s3.put_object(Bucket=bucket, Key=key, Body=manifest)
        self.pending.clear()

    def query(self, sql: str, params: Params | None = None) -> list[Row]:
        raise AssertionError(f"the launcher asked the database for rows directly: {sql[:80]}")

    def transaction(self) -> Any:
        raise AssertionError("training from the table runs no transaction")

    def close(self) -> None:
        pass


class ReadRecordingS3:
    """The launcher's S3 client, recording every object it reads (key and bytes)."""

    def __init__(self, s3: Any) -> None:
        self._s3 = s3
        self.reads: list[tuple[str, bytes]] = []

    def get_object(self, **request: Any) -> dict[str, Any]:
        answer = self._s3.get_object(**request)
        body = answer["Body"].read()
        self.reads.append((request["Key"], body))
        return {**answer, "Body": io.BytesIO(body)}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s3, name)
