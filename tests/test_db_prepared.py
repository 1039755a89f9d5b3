"""churnguard.db's prepared statements on MariaDB: a statement used again is parsed once per connection,
and the caller cannot tell: the same rows, insert ids, errors and deadlines as the text protocol,
with the server's own objects changed under it (a function replaced, a column added), a prepared
statement gone, and statements the server will not prepare."""

from __future__ import annotations

import contextlib

import pymysql
import pytest

from churnguard.db import PyMySqlClient, connect
from churnguard.db_prepared import CAPACITY, NOT_RUN, PreparedStatements, placeholders, supports_prepared_sql
from churnguard.engine.deadline import DatabaseTimeout, Deadline
from churnguard.engine.failures import StatementRefused
from tests.fixtures.mariadb import database_url

pytestmark = pytest.mark.mariadb

LOOKUP = "SELECT id, note, score FROM notes WHERE id = %(id)s"


def executed_prepared(client: PyMySqlClient) -> int:
    """How many prepared statements this connection has run (MariaDB's Com_execute_sql)."""
    return int(client.query("SHOW SESSION STATUS LIKE 'Com_execute_sql'")[0]["Value"])


@pytest.fixture()
def notes(sql_client: PyMySqlClient) -> PyMySqlClient:
    sql_client.execute("CREATE TABLE notes (id INT AUTO_INCREMENT PRIMARY KEY, note TEXT, score DOUBLE)")
    insert = "INSERT INTO notes (note, score) VALUES (%(note)s, %(score)s)"
    for note, score in (("first", 0.25), ('it\'s 100% \\ "quoted"', None), ("😀 \u00e9", -1.5)):
        sql_client.execute(insert, {"note": note, "score": score})
    return sql_client


def test_a_repeated_statement_runs_prepared_with_the_same_rows(notes):
    before = executed_prepared(notes)
    answers = [notes.query(LOOKUP, {"id": row_id}) for row_id in (1, 2, 3, 1, 2, 3)]
    assert answers[:3] == answers[3:]
    assert answers[1] == [{"id": 2, "note": 'it\'s 100% \\ "quoted"', "score": None}]
    # The first two uses are sent as text, the statement prepared after the second: four of the
    # six ran as EXECUTE.
    assert executed_prepared(notes) - before == 4


def test_values_that_look_like_sql_stay_values(notes):
    nasty = ["x' OR '1'='1", "a\\'); DROP TABLE notes; --", "%(id)s ? %s", "\0\n\r\032", "😀" * 3]
    insert = "INSERT INTO notes (note, score) VALUES (%(note)s, %(score)s)"
    ids = [notes.insert_returning_id(insert, {"note": text, "score": 1e-300}) for text in nasty]
    assert ids == list(range(4, 4 + len(nasty)))
    read = "SELECT note, score FROM notes WHERE id = %(id)s AND note LIKE %(pattern)s"
    for row_id, text in zip(ids, nasty, strict=True):
        assert notes.query(read, {"id": row_id, "pattern": "%"}) == [{"note": text, "score": 1e-300}]
    assert notes.query("SELECT COUNT(*) AS n FROM notes")[0]["n"] == 3 + len(nasty)


def test_a_literal_percent_and_question_mark_in_the_text(notes):
    # %% is PyMySQL's escaped percent; a ? of the statement's own is sent as text, never as a placeholder.
    percent = "SELECT CONCAT('100%%', %(x)s) AS v"
    question = "SELECT CONCAT('why?', %(x)s) AS v"
    for _ in range(3):
        assert notes.query(percent, {"x": "!"}) == [{"v": "100%!"}]
        assert notes.query(question, {"x": "!"}) == [{"v": "why?!"}]


def test_a_list_bound_to_one_placeholder_stays_with_the_text_protocol(notes):
    # PyMySQL expands a sequence into (a, b, c); a prepared statement's `?` takes one value.
    listed = "SELECT id FROM notes WHERE id IN %(ids)s ORDER BY id"
    prepares = "SHOW SESSION STATUS LIKE 'Com_prepare_sql'"
    before = int(notes.query(prepares)[0]["Value"])
    for _ in range(4):
        assert notes.query(listed, {"ids": (1, 3)}) == [{"id": 1}, {"id": 3}]
    assert int(notes.query(prepares)[0]["Value"]) - before == 1  # one refused attempt, not one per call


def test_execute_counts_and_insert_ids_match_the_text_protocol(notes):
    update = "UPDATE notes SET score = %(score)s WHERE score IS NULL OR score < %(below)s"
    assert notes.execute(update, {"score": 2.0, "below": 0}) == 2
    assert notes.execute(update, {"score": 3.0, "below": 0}) == 0
    insert = "INSERT INTO notes (note, score) VALUES (%(note)s, %(score)s)"
    assert [notes.insert_returning_id(insert, {"note": "n", "score": 0}) for _ in range(3)] == [4, 5, 6]


def test_a_function_replaced_between_calls_is_the_one_that_runs(notes):
    notes.execute("CREATE FUNCTION twice(x DOUBLE) RETURNS DOUBLE DETERMINISTIC RETURN 2 * x")
    call = "SELECT twice(score) AS v FROM notes WHERE id = %(id)s"
    assert [notes.query(call, {"id": 1})[0]["v"] for _ in range(3)] == [0.5, 0.5, 0.5]
    notes.execute("DROP FUNCTION twice")
    notes.execute("CREATE FUNCTION twice(x DOUBLE) RETURNS DOUBLE DETERMINISTIC RETURN 4 * x")
    assert notes.query(call, {"id": 1}) == [{"v": 1.0}]
    notes.execute("DROP FUNCTION twice")
    with pytest.raises(StatementRefused) as gone:
        notes.query(call, {"id": 1})
    assert gone.value.code == "database error 1305"  # ER_SP_DOES_NOT_EXIST, as the text protocol says it


def test_a_column_added_between_calls_is_seen(notes):
    every = "SELECT * FROM notes WHERE id = %(id)s"
    assert set(notes.query(every, {"id": 1})[0]) == {"id", "note", "score"}
    notes.query(every, {"id": 1})
    notes.execute("ALTER TABLE notes ADD COLUMN kind VARCHAR(8) DEFAULT 'plain'")
    assert notes.query(every, {"id": 1})[0]["kind"] == "plain"


def test_a_prepared_statement_the_server_forgot_is_prepared_again(notes):
    for _ in range(2):
        notes.query(LOOKUP, {"id": 1})
    for number in range(1, CAPACITY + 1):  # behind the client's back
        try:
            notes.execute(f"DEALLOCATE PREPARE churnguard_{number}")
        except StatementRefused as error:
            assert error.code == "database error 1243"  # never prepared: nothing to deallocate
    assert notes.query(LOOKUP, {"id": 3})[0]["note"] == "😀 \u00e9"
    before = executed_prepared(notes)
    notes.query(LOOKUP, {"id": 3})
    assert executed_prepared(notes) - before == 1


def test_statement_errors_are_the_text_protocols(notes):
    duplicate = "INSERT INTO notes (id, note) VALUES (%(id)s, 'again')"
    for _ in range(3):
        with pytest.raises(StatementRefused) as clash:
            notes.execute(duplicate, {"id": 1})
        assert clash.value.code == "database error 1062"
    signal = "SELECT IF(%(fail)s, (SELECT note FROM notes), 1) AS v"  # more than one row: error 1242
    for _ in range(3):
        with pytest.raises(StatementRefused) as many:
            notes.query(signal, {"fail": 1})
        assert many.value.code == "database error 1242"


def test_a_deadline_still_bounds_a_prepared_statement(notes):
    sleep = "SELECT SLEEP(%(seconds)s) AS slept"
    for _ in range(2):
        notes.query(sleep, {"seconds": 0})
    with notes.deadline(Deadline.after(0.3)), pytest.raises(DatabaseTimeout):
        notes.query(sleep, {"seconds": 5})


def test_a_connection_keeps_at_most_capacity_statements(notes):
    texts = [f"SELECT %(x)s + {number} AS v" for number in range(CAPACITY + 4)]
    for _ in range(3):
        for number, text in enumerate(texts):
            assert notes.query(text, {"x": 1}) == [{"v": 1 + number}]
    held = notes.query("SHOW SESSION STATUS LIKE 'Com_prepare_sql'")[0]["Value"]
    deallocated = notes.query("SHOW SESSION STATUS LIKE 'Com_dealloc_sql'")[0]["Value"]
    assert int(held) - int(deallocated) == CAPACITY


def test_a_reconnected_client_prepares_afresh(mariadb_url, notes):
    for _ in range(3):
        notes.query(LOOKUP, {"id": 1})
    admin = connect(mariadb_url)
    try:
        admin.execute(f"KILL CONNECTION {notes._connection.server_thread_id[0]}")
    finally:
        admin.close()
    with contextlib.suppress(pymysql.err.Error):
        notes._connection.close()
    notes._connection.connect()  # the same client on a new server connection, as a reconnect makes
    assert [notes.query(LOOKUP, {"id": 2})[0]["id"] for _ in range(3)] == [2, 2, 2]
    assert executed_prepared(notes) == 2  # sent as text once, prepared after it, then executed


def test_only_mariadb_gets_prepared_statements():
    assert supports_prepared_sql("5.5.5-10.11.6-MariaDB-0+deb12u1")
    assert supports_prepared_sql("11.4.2-MariaDB")
    assert not supports_prepared_sql("10.1.48-MariaDB")  # EXECUTE ... USING expressions came in 10.2.3
    assert not supports_prepared_sql("8.0.32")  # MySQL, Aurora MySQL 3: USING takes only variables
    assert not supports_prepared_sql("8.0.mysql_aurora.3.05.2")


def test_placeholders_follow_pymysqls_rules():
    assert placeholders("SELECT %(a)s, %(b)s, %(a)s, '5%%'") == ("SELECT ?, ?, ?, '5%'", ["a", "b", "a"])
    assert placeholders("SELECT %s") is None  # positional: left to the text protocol
    assert placeholders("SELECT 'why?' , %(a)s") is None


def test_a_mysql_server_gets_the_text_protocol(mariadb_url, notes, monkeypatch):
    monkeypatch.setattr(pymysql.connections.Connection, "get_server_info", lambda self: "8.0.32")
    client = connect(database_url(mariadb_url, notes.url.database or ""))
    try:
        for _ in range(3):
            assert client.query(LOOKUP, {"id": 1})[0]["note"] == "first"
        assert executed_prepared(client) == 0
    finally:
        client.close()


class FailingConnection:
    """A `send` whose connection fails on one kind of statement: what a server lost between the
    statement's reply and the PREPARE that follows it looks like to PreparedStatements."""

    def __init__(self, fails_on: str) -> None:
        self.fails_on = fails_on
        self.sent: list[str] = []

    def __call__(self, text: str) -> int:
        self.sent.append(text)
        if text.startswith(self.fails_on):
            raise pymysql.err.OperationalError(2013, "Lost connection to server during query")
        return 1


def test_a_connection_lost_while_preparing_is_not_the_statements_failure():
    prepared = PreparedStatements(lambda value: repr(value))
    send = FailingConnection("PREPARE")
    insert = "INSERT INTO notes (note) VALUES (%(note)s)"
    for _ in range(2):
        assert prepared.execute(insert, {"note": "x"}, 7, send) is NOT_RUN
        prepared.after_text(insert, 7, send)  # raises nothing: the INSERT itself was answered
    assert send.sent == ["PREPARE churnguard_1 FROM 'INSERT INTO notes (note) VALUES (?)'"]
    # Not prepared, so the next use goes as text again, and preparing is tried after two more.
    assert prepared.execute(insert, {"note": "x"}, 7, send) is NOT_RUN


def test_a_connection_lost_during_execute_is_the_statements_failure():
    prepared = PreparedStatements(lambda value: repr(value))
    insert = "INSERT INTO notes (note) VALUES (%(note)s)"
    for _ in range(2):
        prepared.after_text(insert, 7, lambda text: 1)
    with pytest.raises(pymysql.err.OperationalError):  # sent: the caller cannot know whether it ran
        prepared.execute(insert, {"note": "x"}, 7, FailingConnection("EXECUTE"))
