"""Loading the customer table from a CSV file or the database, validated before any training starts.

Accepted headers: the book's long names ("Int'l Plan", "Churn?"), the abbreviated ones of the public
file (" intplan", " label", with leading spaces), or the project's snake_case names. Every problem is
collected and reported at once, each with its row and column, so a bad file is fixed in one pass
instead of failing later inside xgboost with a message nobody can act on.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from churnguard.customer_schema import COLUMN_NAMES, COLUMNS_BY_NAME, CUSTOMER_COLUMNS, CUSTOMER_KEY
from churnguard.errors import UserError
from churnguard.sql_client import SqlClient

PHONE_PATTERN = re.compile(r"^\d{3}-\d{4}$")
STATE_PATTERN = re.compile(r"^[A-Z]{2}$")
YES_NO_VALUES = {"yes": "yes", "no": "no"}
CHURN_VALUES = {"true.": True, "false.": False, "true": True, "false": False, "1": True, "0": False}
CHURN_VALUES |= {"yes": True, "no": False}
# Header spellings accepted for each column (compared after trimming, case-insensitively).
_HEADER_ALIASES: dict[str, str] = {
    alias.strip().lower(): column.name
    for column in CUSTOMER_COLUMNS
    for alias in (column.name, column.public_name, column.abbreviated_name)
}
SHOWN_PROBLEMS_LIMIT = 200


class DataValidationError(UserError):
    """The customer table has problems; `problems` lists each one with its row and column."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        shown = self.problems[:SHOWN_PROBLEMS_LIMIT]
        hidden = len(self.problems) - len(shown)
        listing = "\n".join(f"  - {problem}" for problem in shown)
        more = f"\n  ... and {hidden} more problems of the same kinds" if hidden else ""
        super().__init__(f"{source}: {len(self.problems)} problem(s) in the customer table:\n{listing}{more}")


def load_customers(path: str | Path) -> pd.DataFrame:
    """The customer table in `path` (CSV), validated and typed; raises DataValidationError."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            records = list(csv.reader(handle, skipinitialspace=True))
    except FileNotFoundError:
        raise UserError(f"{path}: no such file (give the customer CSV with --data)") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: cannot read the customer table ({error})") from None
    records = [record for record in records if any(cell.strip() for cell in record)]
    if not records:
        raise DataValidationError(str(path), ["the file is empty: expected a header line and customer rows"])
    header, rows = records[0], records[1:]
    columns, problems = _map_header(header)
    if problems:
        raise DataValidationError(str(path), problems)
    texts: dict[str, list[str]] = {name: [] for name in COLUMN_NAMES}
    for row_number, record in enumerate(rows, start=1):
        if len(record) != len(header):
            problems.append(
                f"row {row_number} (line {row_number + 1}): {len(record)} values for {len(header)} columns"
            )
            continue
        for position, name in columns.items():
            texts[name].append(record[position].strip())
    return _typed_table(texts, str(path), problems, row_labels=_file_row_labels(rows, header))


def load_customers_from_db(client: SqlClient) -> pd.DataFrame:
    """The `customers` table through a SqlClient, validated exactly as a file would be."""
    column_list = ", ".join(COLUMN_NAMES)
    rows = client.query(f"SELECT {column_list} FROM customers ORDER BY area_code, phone")
    texts = {
        name: ["" if row[name] is None else str(row[name]).strip() for row in rows] for name in COLUMN_NAMES
    }
    labels = [f"row {number} ({row['area_code']}/{row['phone']})" for number, row in enumerate(rows, start=1)]
    return _typed_table(texts, "table customers", [], row_labels=labels)


def _map_header(header: Sequence[str]) -> tuple[dict[int, str], list[str]]:
    """Column position -> schema name; problems for missing or repeated columns."""
    columns: dict[int, str] = {}
    problems: list[str] = []
    seen: dict[str, int] = {}
    for position, title in enumerate(header):
        name = _HEADER_ALIASES.get(title.strip().lower())
        if name is None:
            continue
        if name in seen:
            problems.append(f"header: columns {seen[name] + 1} and {position + 1} are both {name!r}")
            continue
        seen[name] = position
        columns[position] = name
    for name in COLUMN_NAMES:
        if name not in seen:
            column = COLUMNS_BY_NAME[name]
            problems.append(
                f"header: missing column {name!r} (also accepted as {column.public_name!r} "
                f"or {column.abbreviated_name!r})"
            )
    return columns, problems


def _file_row_labels(rows: Sequence[Sequence[str]], header: Sequence[str]) -> list[str]:
    return [
        f"row {number} (line {number + 1})"
        for number, row in enumerate(rows, start=1)
        if len(row) == len(header)
    ]


def _typed_table(
    texts: dict[str, list[str]], source: str, problems: list[str], *, row_labels: Sequence[str]
) -> pd.DataFrame:
    typed: dict[str, list[Any]] = {}
    for name in COLUMN_NAMES:
        column = COLUMNS_BY_NAME[name]
        typed[name] = [
            _parse(column.type, name, text, label, problems)
            for text, label in zip(texts[name], row_labels, strict=True)
        ]
    problems += _key_problems(typed["area_code"], typed["phone"], row_labels)
    if problems:
        raise DataValidationError(source, problems)
    if not row_labels:
        raise DataValidationError(source, ["no customer rows: the table has a header only"])
    frame = pd.DataFrame(typed)
    for name in COLUMN_NAMES:
        kind = COLUMNS_BY_NAME[name].type
        if kind == "int":
            frame[name] = frame[name].astype("int64")
        elif kind == "decimal":
            frame[name] = frame[name].astype("float64")
        elif kind == "bool":
            frame[name] = frame[name].astype(bool)
    return frame


def _parse(kind: str, name: str, text: str, label: str, problems: list[str]) -> Any:
    """One cell as its schema type; records a problem (and returns a placeholder) when it is not."""
    where = f"{label}, column {name!r}"
    if text == "":
        problems.append(f"{where}: empty value")
        return None
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            problems.append(f"{where}: {text!r} is not a whole number")
            return None
    if kind == "decimal":
        try:
            value = float(text)  # Python's float(), as FeatureSpec.values_for reads a value
        except ValueError:
            problems.append(f"{where}: {text!r} is not a number")
            return None
        if value != value or value in (float("inf"), float("-inf")):
            problems.append(f"{where}: {text!r} is not a finite number")
            return None
        return value
    if kind == "yes_no":
        value = YES_NO_VALUES.get(text.lower())
        if value is None:
            problems.append(f"{where}: {text!r} is not yes or no")
        return value
    if kind == "bool":
        value = CHURN_VALUES.get(text.lower())
        if value is None:
            problems.append(f"{where}: {text!r} is not a churn label (True./False., true/false, 1/0, yes/no)")
        return value
    if name == "phone" and not PHONE_PATTERN.match(text):
        problems.append(f"{where}: {text!r} is not a phone number of the form NNN-NNNN")
    elif name == "state" and not STATE_PATTERN.match(text):
        problems.append(f"{where}: {text!r} is not a two-letter state code")
    return text


def _key_problems(area_codes: Iterable[Any], phones: Iterable[Any], row_labels: Sequence[str]) -> list[str]:
    """Customers that appear more than once (same area code and phone)."""
    first_seen: dict[tuple[Any, Any], str] = {}
    problems: list[str] = []
    key_names = "/".join(CUSTOMER_KEY)
    for area_code, phone, label in zip(area_codes, phones, row_labels, strict=True):
        if area_code is None or phone is None:
            continue
        key = (area_code, phone)
        if key in first_seen:
            problems.append(
                f"{label}, columns {key_names}: duplicate customer {area_code}/{phone} "
                f"(first at {first_seen[key]})"
            )
        else:
            first_seen[key] = label
    return problems
