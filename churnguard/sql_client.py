"""The one interface through which churnguard runs SQL, whatever carries it.

Shaped by the RDS Data API, which the Lambdas use on AWS (churnguard.dataapi): each method is what
one Data API call can do, so what the engine asks costs what production pays. Locally it is PyMySQL
against MariaDB (churnguard.db), which does each in one round trip too. SQL text is shared by both
and written with pyformat placeholders, `%(name)s`, whose values are always bound by the driver,
never pasted into the text. Every client raises churnguard's own failure types
(churnguard.engine.failures), never its driver's.
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

    def insert_returning_id(self, sql: str, params: Params | None = None) -> int:
        """Run one single-row INSERT and return the AUTO_INCREMENT id it generated, from the reply to
        the INSERT itself (the Data API's generatedFields, the MySQL protocol's OK packet). Outside
        `transaction()` it commits as it runs: the row is wholly there or not at all, in one call."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """Everything executed inside commits together, or nothing does when an exception leaves."""
        ...

    def close(self) -> None: ...
