"""Recognises statements that would destroy customer data, so a deploy refuses them before running.

The bootstrap runs on every stack update against a database that holds real customers: a schema
file that says DROP TABLE or TRUNCATE would silently erase them. Replacing functions and views is
fine (they hold no data); dropping tables, databases, columns or partitions, or deleting rows, is not.
Only the statement's own leading keywords count: a DELETE inside a stored procedure body is not run.
"""

from __future__ import annotations

from churnguard.sql_splitter import Statement

# What may follow ALTER TABLE ... DROP without losing rows or column values.
_HARMLESS_ALTER_DROPS = frozenset({"INDEX", "KEY", "PRIMARY", "FOREIGN", "CONSTRAINT", "CHECK", "DEFAULT"})


def destructive_reason(statement: Statement) -> str | None:
    """Why `statement` would lose data (for the error message), or None when it is safe to re-run."""
    words = statement.keywords
    head = words[:2]
    if head in (("DROP", "TABLE"), ("DROP", "DATABASE"), ("DROP", "SCHEMA")):
        return f"{head[0]} {head[1]} deletes stored data"
    if words[:1] == ("TRUNCATE",):
        return "TRUNCATE deletes every row"
    if words[:1] == ("DELETE",):
        return "DELETE removes rows"
    if words[:4] == ("CREATE", "OR", "REPLACE", "TABLE"):
        return "CREATE OR REPLACE TABLE drops the existing table"
    if head == ("ALTER", "TABLE"):
        for index, word in enumerate(words[:-1]):
            following = words[index + 1]
            if word == "DROP" and following not in _HARMLESS_ALTER_DROPS:
                return "ALTER TABLE ... DROP removes a column or partition with its data"
    return None
