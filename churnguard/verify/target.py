"""What the checks talk to: the database as the application user and as the admin, a place to export
to, and the recommend API. Two implementations: aws_target (Data API, S3, Function URL) and
local_target (PyMySQL, a temporary folder, the engine in-process).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from churnguard.sql_client import SqlClient


@dataclass(frozen=True)
class ExportPlace:
    """Where one export goes: `form` picks sql/templates/*.<form>.sql, `placeholder` is the template's
    parameter (`s3_uri` or `path`) and `location` its value, checked safe to embed (see checks)."""

    form: str
    placeholder: str
    location: str


class Target(Protocol):
    """One deployment under test. `app` is the application user; `admin` does what the application
    user may not (the scratch table, removing verify's own offers-log row, reading the API user's grants);
    `file_client` runs the export and the load (the app user on Aurora, whose AWS_*_S3 roles are
    under test; the admin locally, because MariaDB's file export needs the global FILE privilege).
    `aurora` says the database is Aurora MySQL 3, where the bootstrap also grants the AWS_* roles."""

    description: str
    aurora: bool
    hints: Mapping[str, str]
    app: SqlClient
    admin: SqlClient
    file_client: SqlClient

    def wake(self) -> str:
        """Make sure the database answers (waiting, visibly, for a paused cluster); a detail line."""
        ...

    def export_place(self) -> AbstractContextManager[ExportPlace]:
        """A fresh, empty place for one export; everything written there is removed on exit."""
        ...

    def recommend(self, area_code: int, phone: str, message: str) -> Mapping[str, Any]:
        """The API's answer for one request; raises with an `HTTP <status>` text when it refuses."""
        ...

    def console(self, customer: tuple[int, str]) -> str:
        """The agent console's page answers, its API refuses a call without a sign-in token and
        answers a signed-in agent's look-up of `customer`; a detail line, or SkipCheck where there is
        no console to check."""
        ...

    def close(self) -> None: ...
