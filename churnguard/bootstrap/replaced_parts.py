"""The parts of a split model, and dropping those a newly installed will_churn no longer uses.

A compiled model too long for one RDS Data API statement is installed as part functions and
bulk-scoring view layers named after its model id (`will_churn_<16 hex digits>_p001`, `..._v001`:
churnguard.sqlgen.model_parts), with a will_churn and a customer_churn_scores that use them.
Installing another model creates its own, so the previous model's are left behind. No SQL file can
name them (it cannot know which model was there before), and MySQL refuses to drop a routine from
inside a stored routine, so after the files that created will_churn have run, the database's own
lists of functions and views are read and the unused parts dropped: views first, as they call parts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from churnguard.bootstrap.apply import PlannedStatement
from churnguard.sql_client import SqlClient

WILL_CHURN = "will_churn"
PART_FUNCTION = re.compile(r"will_churn_[0-9a-f]{16}_p[0-9]{3,}")
LAYER_VIEW = re.compile(r"will_churn_[0-9a-f]{16}_v[0-9]{3,}")
SOURCE_NAME = "replaced model parts"
_CREATED = re.compile(
    r"\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:ALGORITHM\s*=\s*\w+\s+)?(?:SQL\s+SECURITY\s+\w+\s+)?"
    r"(FUNCTION|VIEW)\s+`?([A-Za-z0-9_]+)`?",
    re.IGNORECASE,
)
# `_` is LIKE's one-character wildcard: these find a superset, the patterns above pick the parts.
_INSTALLED_VIEWS_SQL = (
    "SELECT TABLE_NAME AS name FROM information_schema.VIEWS"
    " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'will_churn_%'"
)
_INSTALLED_FUNCTIONS_SQL = (
    "SELECT ROUTINE_NAME AS name FROM information_schema.ROUTINES"
    " WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_TYPE = 'FUNCTION' AND ROUTINE_NAME LIKE 'will_churn_%'"
)


def part_name(model_id: str, number: int) -> str:
    """The model's `number`th part function (from 1): the same name on every render of the model."""
    return _checked(f"{WILL_CHURN}_{model_id}_p{number:03d}", PART_FUNCTION)


def layer_name(model_id: str, number: int) -> str:
    """The model's `number`th bulk-scoring view layer (from 1)."""
    return _checked(f"{WILL_CHURN}_{model_id}_v{number:03d}", LAYER_VIEW)


def _checked(name: str, pattern: re.Pattern[str]) -> str:
    if not pattern.fullmatch(name):
        raise ValueError(f"{name!r}: a model id is 16 lower-case hex digits")
    return name


def created_objects(statements: Sequence[PlannedStatement]) -> dict[str, set[str]]:
    """The (lower-case) names of the functions and views `statements` create, by kind."""
    created: dict[str, set[str]] = {"FUNCTION": set(), "VIEW": set()}
    for statement in statements:
        match = _CREATED.match(statement.sql)
        if match:
            created[match.group(1).upper()].add(match.group(2).lower())
    return created


def replaced_part_drops(client: SqlClient, applied: Sequence[PlannedStatement]) -> list[PlannedStatement]:
    """DROP VIEW, then DROP FUNCTION, for every model part in the database that `applied` (statements
    already run) did not create, when they created will_churn; nothing, and no query, when they did
    not (a schema file applied alone leaves the installed model whole)."""
    created = created_objects(applied)
    if WILL_CHURN not in created["FUNCTION"]:
        return []
    drops = [
        f"DROP {kind} IF EXISTS `{name}`"
        for kind, sql, pattern in (
            ("VIEW", _INSTALLED_VIEWS_SQL, LAYER_VIEW),
            ("FUNCTION", _INSTALLED_FUNCTIONS_SQL, PART_FUNCTION),
        )
        for name in sorted(str(row["name"]) for row in client.query(sql))
        if pattern.fullmatch(name) and name.lower() not in created[kind]
    ]
    return [
        PlannedStatement(SOURCE_NAME, number, None, sql, sql) for number, sql in enumerate(drops, start=1)
    ]
