"""Splits a SQL file into the statements a server runs one at a time.

The RDS Data API takes exactly one statement per call and the `mysql` client's DELIMITER command
does not exist there, so the bootstrap splits files itself: on `;` outside quotes, comments and
BEGIN ... END bodies (stored functions keep their inner `;`). Only the standard library is used
because this runs in the bootstrap Lambda.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# After END these words close an IF/LOOP/... statement, which never opened a block we count.
_END_OF_UNCOUNTED_BLOCK = frozenset({"IF", "LOOP", "WHILE", "REPEAT"})
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_NEXT_WORD = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_$]*)")


class SqlSplitError(ValueError):
    """The text cannot be split: an unterminated quote, comment or block, or a client-only command."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclass(frozen=True)
class Statement:
    """One statement as written in its file (comments inside kept), without the closing `;`.

    `number` counts from 1 within the file and `line` is where the statement starts, so an error can
    point a person at it. `keywords` are the upper-cased words outside quotes and comments, in
    order, for checks that must not be fooled by a string literal or a comment.
    """

    number: int
    line: int
    text: str
    keywords: tuple[str, ...]

    @property
    def first_line(self) -> str:
        return self.text.splitlines()[0].strip()


def split_statements(sql: str) -> list[Statement]:
    """The statements in `sql`, in order; text that is only whitespace and comments yields none."""
    return _Splitter(sql).run()


class _Splitter:
    """A single left-to-right scan; state is the position, the line and the open BEGIN/CASE blocks."""

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.pos = 0
        self.line = 1
        self.statements: list[Statement] = []
        self._reset_statement()

    def _reset_statement(self) -> None:
        self.start: int | None = None  # offset of the statement's first code character
        self.start_line = self.line
        self.keywords: list[str] = []
        self.depth = 0

    def run(self) -> list[Statement]:
        sql = self.sql
        while self.pos < len(sql):
            char = sql[self.pos]
            if char == "\n":
                self.line += 1
                self.pos += 1
            elif char.isspace():
                self.pos += 1
            elif char == "#" or (sql.startswith("--", self.pos) and _dash_comment_at(sql, self.pos)):
                self._skip_line_comment()
            elif sql.startswith("/*", self.pos):
                self._skip_block_comment()
            elif char in "'\"`":
                self._mark_start()
                self._skip_quoted(char)
            elif char == ";" and self.depth == 0:
                self._finish(self.pos)
                self.pos += 1
            elif char.isascii() and (char.isalpha() or char == "_"):
                self._mark_start()
                self._read_word()
            else:
                self._mark_start()
                self.pos += 1
        if self.depth > 0:
            raise SqlSplitError("BEGIN or CASE without a matching END", self.start_line)
        self._finish(len(sql))
        return self.statements

    def _mark_start(self) -> None:
        if self.start is None:
            self.start = self.pos
            self.start_line = self.line

    def _finish(self, end: int) -> None:
        if self.start is not None:
            text = self.sql[self.start : end].rstrip()
            number = len(self.statements) + 1
            self.statements.append(Statement(number, self.start_line, text, tuple(self.keywords)))
        self._reset_statement()

    def _skip_line_comment(self) -> None:
        end = self.sql.find("\n", self.pos)
        self.pos = len(self.sql) if end < 0 else end

    def _skip_block_comment(self) -> None:
        end = self.sql.find("*/", self.pos + 2)
        if end < 0:
            raise SqlSplitError("comment /* is never closed with */", self.line)
        if self.sql.startswith(("/*!", "/*+"), self.pos):
            # Executable comments and optimizer hints are code to the server: they start a statement.
            self._mark_start()
        self.line += self.sql.count("\n", self.pos, end)
        self.pos = end + 2

    def _skip_quoted(self, quote: str) -> None:
        sql = self.sql
        opened_at = self.line
        pos = self.pos + 1
        while pos < len(sql):
            char = sql[pos]
            if char == "\\" and quote != "`":
                # MySQL's default sql_mode: a backslash escapes the next character in strings.
                if pos + 1 < len(sql) and sql[pos + 1] == "\n":
                    self.line += 1
                pos += 2
                continue
            if char == "\n":
                self.line += 1
            elif char == quote:
                # A doubled quote is an escaped quote: scanning on treats it as close-then-reopen.
                self.pos = pos + 1
                return
            pos += 1
        raise SqlSplitError(f"quote {quote} is never closed", opened_at)

    def _read_word(self) -> None:
        match = _WORD.match(self.sql, self.pos)
        assert match is not None  # called on a letter or underscore
        word = match.group().upper()
        self.pos = match.end()
        if not self.keywords and word == "DELIMITER":
            raise SqlSplitError(
                "DELIMITER is a mysql client command and is not needed here: end every statement "
                "with ; (BEGIN ... END bodies are kept whole)",
                self.line,
            )
        previous = self.keywords[-1] if self.keywords else None
        self.keywords.append(word)
        if word == "CASE" and previous == "END":
            return  # END CASE closes the CASE counted below; END already did the closing
        if word == "CASE" or (word == "BEGIN" and self._is_block_begin()):
            self.depth += 1
        elif word == "END" and self.depth > 0 and self._next_word() not in _END_OF_UNCOUNTED_BLOCK:
            self.depth -= 1

    def _is_block_begin(self) -> bool:
        # `BEGIN;` and `BEGIN WORK` as the whole statement start a transaction, not a block.
        if len(self.keywords) == 1:
            following = self._next_word()
            rest = self.sql[self.pos :].lstrip()
            return not (following == "WORK" or rest.startswith(";") or not rest)
        return True

    def _next_word(self) -> str | None:
        match = _NEXT_WORD.match(self.sql, self.pos)
        return match.group(1).upper() if match else None


def _dash_comment_at(sql: str, pos: int) -> bool:
    # MySQL needs whitespace (or the end) after `--` for a comment; `1--1` is arithmetic.
    after = pos + 2
    return after >= len(sql) or sql[after].isspace()
