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

MYSQL_NULL = "\\N"  # how SELECT ... INTO OUTFILE writes NULL
# The key of DataFrame.attrs that says how load_customers read the file, and its value for an export.
SOURCE_FORMAT = "source_format"
EXPORT_FORMAT = "headerless table export"
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


class DataValidationError(UserError):
    """The customer table has problems; the message and `problems` list every one with its row and column."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        listing = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"{source}: {len(self.problems)} problem(s) in the customer table:\n{listing}")


def load_customers(path: str | Path) -> pd.DataFrame:
    """The customer table in `path`, validated and typed; raises DataValidationError.

    A CSV with a header, or a headerless table export (see `looks_like_export_row`), which is read
    with `load_exported_customers` and marked `table.attrs[SOURCE_FORMAT] == EXPORT_FORMAT` so the
    command can say how it read the file.
    """
    path = Path(path)
    lines = _read_csv_lines(path, skipinitialspace=True)
    if not lines:
        raise DataValidationError(str(path), ["the file is empty: expected a header line and customer rows"])
    (_, header), rows = lines[0], lines[1:]
    if looks_like_export_row(header):
        # Our own export (the demo's, or Aurora's SELECT INTO OUTFILE S3 copied down): read it as one.
        table = load_exported_customers(path)
        table.attrs[SOURCE_FORMAT] = EXPORT_FORMAT
        return table
    columns, problems = _map_header(header)
    if problems:
        raise DataValidationError(str(path), problems)
    numbered = [
        (f"row {number} (line {line})", record) for number, (line, record) in enumerate(rows, start=1)
    ]
    return _table_from_records(numbered, columns, len(header), str(path))


def looks_like_export_row(cells: Sequence[str]) -> bool:
    """Whether a file's first line is a customer row in the schema's column order, not a header.

    That is what `SELECT ... INTO OUTFILE` writes (and the demo's export): one value per schema column,
    none of them a known column title, and a phone number where the schema has the phone column.
    """
    if len(cells) != len(COLUMN_NAMES):
        return False
    if any(cell.strip().lower() in _HEADER_ALIASES for cell in cells):
        return False
    phone = cells[COLUMN_NAMES.index("phone")].strip().strip('"')
    return bool(PHONE_PATTERN.match(phone))


def load_exported_customers(path: str | Path) -> pd.DataFrame:
    """The customers table as `SELECT ... INTO OUTFILE [S3]` wrote it (sql/templates/export_customers.*).

    No header, the schema's column order, fields separated by ',' and optionally enclosed in '"',
    NULL written as \\N. A folder is read as Aurora's part files (prefix.part_00000, ...) in name order.
    """
    path = Path(path)
    files = sorted(item for item in path.iterdir() if item.is_file()) if path.is_dir() else [path]
    numbered: list[tuple[str, list[str]]] = []
    for file in files:
        for line, record in _read_csv_lines(file, escapechar=None):
            cells = ["" if cell == MYSQL_NULL else cell for cell in record]
            numbered.append((f"{file.name} line {line}", cells))
    columns = dict(enumerate(COLUMN_NAMES))
    return _table_from_records(numbered, columns, len(COLUMN_NAMES), str(path))


def _read_csv_lines(path: Path, **dialect: object) -> list[tuple[int, list[str]]]:
    """(line number, values) of every non-blank line; unreadable files become UserErrors."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, **dialect)  # type: ignore[arg-type]
            return [(reader.line_num, record) for record in reader if any(cell.strip() for cell in record)]
    except FileNotFoundError:
        raise UserError(f"{path}: no such file (give the customer CSV with --data)") from None
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise UserError(f"{path}: cannot read the customer table ({error})") from None


def _table_from_records(
    numbered: Sequence[tuple[str, list[str]]], columns: dict[int, str], width: int, source: str
) -> pd.DataFrame:
    """Typed table from labelled records of `width` values; `columns` maps positions to schema columns."""
    problems: list[tuple[int, str]] = []
    texts: dict[str, list[str]] = {name: [] for name in COLUMN_NAMES}
    labels: list[str] = []
    positions: list[int] = []
    for record_position, (label, record) in enumerate(numbered):
        if len(record) != width:
            problems.append((record_position, f"{label}: {len(record)} values for {width} columns"))
            continue
        labels.append(label)
        positions.append(record_position)
        for position, name in columns.items():
            texts[name].append(record[position].strip())
    return _typed_table(texts, source, problems, row_labels=labels, row_positions=positions)


def load_customers_from_db(client: SqlClient) -> pd.DataFrame:
    """The labelled rows of table `customers` through a SqlClient, validated exactly as a file would be.

    Customers whose churn is not known yet (NULL: still deciding) are scored by the model, not
    trained on, so they are left out here.
    """
    column_list = ", ".join(COLUMN_NAMES)
    rows = client.query(
        f"SELECT {column_list} FROM customers WHERE churn IS NOT NULL ORDER BY area_code, phone"
    )
    texts = {name: [_cell_text(row[name]) for row in rows] for name in COLUMN_NAMES}
    labels = [f"row {number} ({row['area_code']}/{row['phone']})" for number, row in enumerate(rows, start=1)]
    return _typed_table(texts, "table customers", [], row_labels=labels)


def validate_customers(customers: pd.DataFrame, source: str = "customer table") -> pd.DataFrame:
    """An in-memory table checked and typed like a file: training starts from the same guarantees.

    Catches what would silently change the features, e.g. an area code held as 415.0 (its one-hot
    value would read '415.0' while SQL compares '415').
    """
    missing = [name for name in COLUMN_NAMES if name not in customers.columns]
    if missing:
        raise DataValidationError(source, [f"missing column {name!r}" for name in missing])
    texts = {name: [_cell_text(value) for value in customers[name].tolist()] for name in COLUMN_NAMES}
    labels = [f"row {number}" for number in range(1, len(customers) + 1)]
    return _typed_table(texts, source, [], row_labels=labels)


def _cell_text(value: Any) -> str:
    """A value from a driver or a DataFrame as the text a CSV cell would hold (NULL/NaN as empty)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value).strip()


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


def _typed_table(
    texts: dict[str, list[str]],
    source: str,
    problems: list[tuple[int, str]],
    *,
    row_labels: Sequence[str],
    row_positions: Sequence[int] | None = None,
) -> pd.DataFrame:
    """The typed table, or every problem in it (with those already found) listed in row order.

    `row_positions` places each row among the records `problems` refer to (default: one after another),
    so a person reads the problems top to bottom, as the file is laid out.
    """
    positions = list(row_positions) if row_positions is not None else list(range(len(row_labels)))
    typed: dict[str, list[Any]] = {name: [] for name in COLUMN_NAMES}
    for row, (label, position) in enumerate(zip(row_labels, positions, strict=True)):
        row_problems: list[str] = []
        for name in COLUMN_NAMES:
            typed[name].append(
                _parse(COLUMNS_BY_NAME[name].type, name, texts[name][row], label, row_problems)
            )
        problems += [(position, problem) for problem in row_problems]
    duplicates = _key_problems(typed["area_code"], typed["phone"], row_labels)
    problems += [(positions[row], problem) for row, problem in duplicates]
    if problems:
        raise DataValidationError(
            source, [problem for _, problem in sorted(problems, key=lambda item: item[0])]
        )
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
        problems.append(f"{where}: empty value (or NULL)")
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


def _key_problems(
    area_codes: Iterable[Any], phones: Iterable[Any], row_labels: Sequence[str]
) -> list[tuple[int, str]]:
    """(row, problem) for customers that appear more than once (same area code and phone)."""
    first_seen: dict[tuple[Any, Any], str] = {}
    problems: list[tuple[int, str]] = []
    key_names = "/".join(CUSTOMER_KEY)
    for row, (area_code, phone, label) in enumerate(zip(area_codes, phones, row_labels, strict=True)):
        if area_code is None or phone is None:
            continue
        key = (area_code, phone)
        if key in first_seen:
            problems.append(
                (
                    row,
                    f"{label}, columns {key_names}: duplicate customer {area_code}/{phone} "
                    f"(first at {first_seen[key]})",
                )
            )
        else:
            first_seen[key] = label
    return problems
