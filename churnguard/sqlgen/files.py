"""SQL files: the static ones under sql/, splitting them into statements, and applying them in order.

Statement rule shared with the bootstrap: a file is a list of statements each ended by `;`. A `;`
inside quotes or a comment does not end a statement, and no statement (not even a function body)
contains a bare `;`, so no DELIMITER is ever needed: every generated function is a single
`RETURN <expression>`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from churnguard.sql_client import Params, SqlClient

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
TEMPLATE_DIR = SQL_DIR / "templates"
ORDERED_FILE_PATTERN = re.compile(r"^\d{2}_[A-Za-z0-9_]+\.sql$")


@dataclass(frozen=True)
class SqlFile:
    """One unit of SQL to apply, named like a file so that errors can say where they come from."""

    name: str
    text: str

    def statements(self) -> list[str]:
        return split_statements(self.text)


class SqlApplyError(RuntimeError):
    """A statement failed; the message names the file and the statement's position and start."""


def static_sql_files(sql_dir: Path = SQL_DIR) -> list[SqlFile]:
    """Every sql/NN_*.sql file in name order (the schema, the engine's offers log, ...)."""
    paths = sorted(path for path in sql_dir.glob("*.sql") if ORDERED_FILE_PATTERN.match(path.name))
    return [SqlFile(path.name, path.read_text(encoding="utf-8")) for path in paths]


def read_template(name: str) -> str:
    """A statement from sql/templates/ (export/load forms), with its `%(name)s` placeholders."""
    path = TEMPLATE_DIR / name
    if not path.exists():
        available = ", ".join(sorted(p.name for p in TEMPLATE_DIR.glob("*.sql")))
        raise FileNotFoundError(f"no SQL template {name!r}; available: {available}")
    return path.read_text(encoding="utf-8")


def split_statements(text: str) -> list[str]:
    """Split SQL text at `;` outside quotes and comments; comments are dropped, empty statements too."""
    statements: list[str] = []
    current: list[str] = []
    position, length = 0, len(text)
    while position < length:
        char = text[position]
        if char in "'\"`":
            end = _end_of_quoted(text, position)
            current.append(text[position:end])
            position = end
        elif _starts_line_comment(text, position):
            position = _end_of_line(text, position)
        elif text.startswith("/*", position):
            end = text.find("*/", position + 2)
            position = length if end == -1 else end + 2
            current.append(" ")
        elif char == ";":
            _flush(current, statements)
            position += 1
        else:
            current.append(char)
            position += 1
    _flush(current, statements)
    return statements


def _starts_line_comment(text: str, position: int) -> bool:
    # MySQL needs whitespace after "--" for it to start a comment ("1--1" is arithmetic).
    if text[position] == "#":
        return True
    return text.startswith("--", position) and (position + 2 >= len(text) or text[position + 2] in " \t\r\n")


def _end_of_quoted(text: str, start: int) -> int:
    quote, position = text[start], start + 1
    while position < len(text):
        char = text[position]
        if char == "\\" and quote != "`":
            position += 2
        elif char == quote:
            if text.startswith(quote * 2, position):  # a doubled quote stands for itself
                position += 2
            else:
                return position + 1
        else:
            position += 1
    raise ValueError(f"unterminated {quote} quote starting at character {start}")


def _end_of_line(text: str, start: int) -> int:
    end = text.find("\n", start)
    return len(text) if end == -1 else end + 1


def _flush(current: list[str], statements: list[str]) -> None:
    statement = "".join(current).strip()
    if statement:
        statements.append(statement)
    current.clear()


def apply_sql_files(client: SqlClient, files: Iterable[SqlFile]) -> None:
    """Run every statement of every file in order; a failure names the file and the statement."""
    for sql_file in files:
        for number, statement in enumerate(sql_file.statements(), start=1):
            try:
                client.execute(statement)
            except Exception as error:
                start = " ".join(statement.split())[:80]
                raise SqlApplyError(f"{sql_file.name}, statement {number} ({start}...): {error}") from error


def run_template(client: SqlClient, name: str, params: Params) -> int:
    """Run one template statement with bound parameters (a path or an S3 URI, never pasted in)."""
    (statement,) = split_statements(read_template(name))
    return client.execute(statement, params)
