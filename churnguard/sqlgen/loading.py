"""Load customers and messages into the database with bound parameters, in batches.

A load replaces the table's rows (deleting customers cascades to their messages and scores), so
running `local up` or `install_churnguard` twice gives the same database. Values are checked first,
so a value the typed columns would silently round or truncate is an error naming row and column.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from churnguard.customer_schema import COLUMN_NAMES, CUSTOMER_COLUMNS
from churnguard.errors import UserError
from churnguard.sql_client import SqlClient

if TYPE_CHECKING:  # frames are only read through their own methods; insert_rows needs no pandas
    import pandas as pd

MESSAGE_COLUMNS: tuple[str, ...] = ("area_code", "phone", "message")
DECIMAL_PLACES = 2
BATCH_ROWS = 5_000


def _placeholders(columns: Sequence[str]) -> str:
    return ", ".join(f"%({column})s" for column in columns)


def insert_sql(table: str, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({_placeholders(columns)})"


def _require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise UserError(f"{what} lack the column(s) {', '.join(missing)}")


def customer_rows(customers: pd.DataFrame) -> list[dict[str, Any]]:
    """Plain-Python rows for the customers table; numpy scalars and off-grid decimals are refused."""
    _require_columns(customers, COLUMN_NAMES, "the customers")
    columns: dict[str, list[Any]] = {}
    for column in CUSTOMER_COLUMNS:
        values = customers[column.name].tolist()
        if column.type == "decimal":
            values = _on_cent_grid(column.name, values)
        elif column.type == "bool":
            values = [None if _is_missing(value) else int(bool(value)) for value in values]
        elif column.type == "int":
            values = [int(value) for value in values]
        else:
            values = [str(value) for value in values]
        columns[column.name] = values
    return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _on_cent_grid(column: str, values: list[Any]) -> list[float]:
    """The values rounded to cents, refusing any that rounding would change (the column is DECIMAL(8,2))."""
    rounded: list[float] = []
    for position, value in enumerate(values):
        number = float(value)
        if not math.isfinite(number) or abs(round(number, DECIMAL_PLACES) - number) > 1e-9:
            raise UserError(
                f"customers row {position}, column {column}: {value!r} has more than "
                f"{DECIMAL_PLACES} decimal places (the column is DECIMAL(8,2))"
            )
        rounded.append(round(number, DECIMAL_PLACES))
    return rounded


def insert_rows(client: SqlClient, sql: str, rows: Sequence[dict[str, Any]]) -> None:
    """Run the INSERT `sql` for every row, in batches through the client's executemany where it has
    one (PyMySQL sends a batch as one multi-row INSERT), else row by row."""
    executemany = getattr(client, "executemany", None)
    for start in range(0, len(rows), BATCH_ROWS):
        batch = rows[start : start + BATCH_ROWS]
        if executemany is not None:
            executemany(sql, batch)
        else:
            for row in batch:
                client.execute(sql, row)


def load_customers(client: SqlClient, customers: pd.DataFrame) -> int:
    """Replace every customer (and, by cascade, their messages and scores) with `customers`."""
    rows = customer_rows(customers)
    with client.transaction():
        client.execute("DELETE FROM customers")
        insert_rows(client, insert_sql("customers", COLUMN_NAMES), rows)
    return len(rows)


def load_messages(client: SqlClient, messages: pd.DataFrame) -> int:
    """Replace the messages; each must belong to a loaded customer (area_code, phone)."""
    _require_columns(messages, MESSAGE_COLUMNS, "the messages")
    columns = [*MESSAGE_COLUMNS, *(["received_at"] if "received_at" in messages.columns else [])]
    rows = [
        {
            column: (int(value) if column == "area_code" else value)
            for column, value in zip(columns, row, strict=True)
        }
        for row in messages[columns].itertuples(index=False, name=None)
    ]
    with client.transaction():
        client.execute("DELETE FROM customer_messages")
        insert_rows(client, insert_sql("customer_messages", columns), rows)
    return len(rows)
