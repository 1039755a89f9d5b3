"""The PyMySQL client against a real server: binding, transactions, URL handling."""

import dataclasses

import pytest

from churnguard.db import connect, parse_url
from churnguard.errors import UserError
from churnguard.local.state import LocalServer, write_state
from churnguard.local.url import resolve_url

pytestmark = pytest.mark.mariadb


def test_parameters_are_bound_not_pasted(sql_client):
    sql_client.execute("CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)")
    hostile = "x'); DROP TABLE notes; -- \\ \" 100% 😀"
    sql_client.execute("INSERT INTO notes VALUES (%(id)s, %(body)s)", {"id": 1, "body": hostile})
    rows = sql_client.query("SELECT body FROM notes WHERE id = %(id)s", {"id": 1})
    assert rows == [{"body": hostile}]


def test_statement_without_parameters_keeps_percent_signs(sql_client):
    assert sql_client.query("SELECT 'a%b' LIKE 'a%' AS matched") == [{"matched": 1}]


def test_transaction_rolls_back_on_error(sql_client):
    sql_client.execute("CREATE TABLE counts (n INT) ENGINE=InnoDB")
    with pytest.raises(RuntimeError), sql_client.transaction():
        sql_client.execute("INSERT INTO counts VALUES (1)")
        raise RuntimeError("boom")
    with sql_client.transaction():
        sql_client.execute("INSERT INTO counts VALUES (2)")
    assert sql_client.query("SELECT n FROM counts") == [{"n": 2}]


def test_url_parts_and_password_never_printed():
    parts = parse_url("mysql://app:s%40cret@127.0.0.1:3307/churnguard")
    assert (parts.user, parts.password, parts.port, parts.database) == ("app", "s@cret", 3307, "churnguard")
    assert "cret" not in str(parts)


@pytest.mark.parametrize("url", ["postgres://a@b/c", "mysql:///churnguard", "mysql://a@h:port/x"])
def test_bad_urls_are_user_errors(url):
    with pytest.raises(UserError):
        parse_url(url)


def test_refused_connection_is_a_user_error():
    with pytest.raises(UserError, match="cannot connect"):
        connect("mysql://nobody:pw@127.0.0.1:1/churnguard", connect_timeout=2)


def test_resolve_url_order(monkeypatch, tmp_path):
    monkeypatch.setenv("CHURNGUARD_HOME", str(tmp_path))
    monkeypatch.delenv("CHURNGUARD_DB_URL", raising=False)
    with pytest.raises(UserError, match="local up"):
        resolve_url(None)
    write_state(LocalServer(url="mysql://state@h/db", admin_url="", base_dir="", port=0, pid=0))
    assert resolve_url(None) == "mysql://state@h/db"
    monkeypatch.setenv("CHURNGUARD_DB_URL", "mysql://env@h/db")
    assert resolve_url(None) == "mysql://env@h/db"
    assert resolve_url("mysql://flag@h/db") == "mysql://flag@h/db"


def test_the_console_connects_as_the_api_user_local_up_recorded(monkeypatch, tmp_path):
    monkeypatch.setenv("CHURNGUARD_HOME", str(tmp_path))
    monkeypatch.delenv("CHURNGUARD_DB_URL", raising=False)
    server = LocalServer(url="mysql://app@h/db", admin_url="", base_dir="", port=0, pid=0)
    write_state(server)  # recorded by an older `local up`, or one that adopted a server: no API user
    assert resolve_url(None, as_api_user=True) == "mysql://app@h/db"
    write_state(dataclasses.replace(server, api_url="mysql://churnguard_api@h/db"))
    assert resolve_url(None, as_api_user=True) == "mysql://churnguard_api@h/db"
    assert resolve_url(None) == "mysql://app@h/db"  # everything else keeps the app user
    assert resolve_url("mysql://flag@h/db", as_api_user=True) == "mysql://flag@h/db"


def test_a_corrupt_state_file_is_a_user_error(monkeypatch, tmp_path):
    monkeypatch.setenv("CHURNGUARD_HOME", str(tmp_path))
    (tmp_path / "local-db.json").write_text("{not json")
    with pytest.raises(UserError, match="delete it"):
        resolve_url(None)
