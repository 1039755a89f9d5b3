"""The one interface through which churnguard runs SQL, whatever carries it.

Locally it is PyMySQL against MariaDB (churnguard.db); on AWS the Lambdas use the RDS Data API
(churnguard.dataapi). SQL text is shared by both and written with pyformat placeholders,
`%(name)s`, whose values are always bound by the driver, never pasted into the text.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol

Row = dict[str, Any]
Params = Mapping[str, Any]


class SqlClient(Protocol):
    """Runs statements with bound parameters; rows come back as dicts keyed by column label."""

    def query(self, sql: str, params: Params | None = None) -> list[Row]:
        """Run a statement that returns rows."""
        ...

    def execute(self, sql: str, params: Params | None = None) -> int:
        """Run a statement that changes data or schema; returns the affected row count."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """Everything executed inside commits together, or nothing does when an exception leaves."""
        ...

    def close(self) -> None: ...
