"""The API user the bootstrap creates (and `local up`, through the same statements), on a real MariaDB
server: it answers a recommend and records an
outcome through the engine's own code, and is refused everything else a stolen Lambda credential
would want (writing customers, reading what it does not need, files, schema changes, procedures)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from churnguard.db import PyMySqlClient, connect
from churnguard.engine.failures import StatementRefused
from churnguard.engine.offers_log import Actor, record_outcome
from churnguard.engine.recommend import Engine
from churnguard.engine.request import validate_request
from churnguard.local.install import API_USER_NAME, create_api_user, install_churnguard
from tests.fixtures.agents import fresh_agent
from tests.fixtures.mariadb import scratch_database
from training.synthetic import generate_customers, generate_messages

pytestmark = pytest.mark.mariadb
DENIED = ("database error 1142", "database error 1143", "database error 1044", "database error 1045")


@pytest.fixture(scope="module")
def api_database(mariadb_url: str, trained_model_dir: Path) -> Iterator[tuple[PyMySqlClient, PyMySqlClient]]:
    """(the admin, the API user) on a database installed and given its API user as `local up` does."""
    with scratch_database(mariadb_url, "apigrants") as admin_url:
        admin = connect(admin_url)
        try:
            customers = generate_customers(50, seed=5)
            install_churnguard(
                admin,
                model_dir=trained_model_dir,
                customers=customers,
                messages=generate_messages(customers, seed=5),
            )
            client = connect(create_api_user(mariadb_url, admin_url))
            try:
                yield admin, client
            finally:
                client.close()
        finally:
            admin.execute(f"DROP USER IF EXISTS '{API_USER_NAME}'@'%'")
            admin.close()


def refused(client: PyMySqlClient, statement: str) -> str:
    with pytest.raises(StatementRefused) as denied:
        client.query(statement) if statement.lstrip().upper().startswith("SELECT") else client.execute(
            statement
        )
    return str(denied.value.code)


def test_the_api_user_answers_a_recommend_and_records_and_corrects_an_outcome(
    api_database, trained_model_dir
):
    admin, api = api_database
    engine = Engine.load(trained_model_dir)
    agent = fresh_agent()
    request = validate_request(415, "358-1921", "You morons! You charged me extra again!")
    answer = engine.recommend(api, request, agent=agent)
    assert answer["offer"] == "credit_25" and answer["degraded"] is False
    actor = Actor(agent)
    assert record_outcome(api, answer["offer_id"], actor=actor, outcome="declined") is False
    # the console's second click, then a supervisor's correction: both write through these grants
    assert record_outcome(api, answer["offer_id"], actor=actor, outcome="accepted") is True
    supervisor = Actor(fresh_agent(), supervisor=True)
    assert record_outcome(api, answer["offer_id"], actor=supervisor, outcome="accepted") is True
    # a repeated recommend (read in the answer's first statement) is answered with the same offer
    assert engine.recommend(api, request, agent=agent)["offer_id"] == answer["offer_id"]
    (row,) = admin.query(
        "SELECT outcome FROM offer_outcomes WHERE offer_id = %(id)s", {"id": answer["offer_id"]}
    )
    assert row["outcome"] == "accepted"


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO customers (area_code, phone) VALUES (999, '000-0000')",
        "UPDATE customers SET state = 'XX'",
        "DELETE FROM customer_messages",
        "UPDATE offers_log SET offer = 'none'",
        "DELETE FROM offers_log",
        "DELETE FROM offer_outcomes",
        "SELECT * FROM customer_scores",
        "SELECT * FROM drift_snapshots",
        "SELECT * FROM offer_outcome_changes",
        "UPDATE models SET live = 0",
        "CALL refresh_customer_scores()",
        "CREATE TABLE stolen (x INT)",
        "DROP TABLE offers_log",
        "ALTER TABLE offers_log ADD COLUMN x INT",
        "CREATE FUNCTION f() RETURNS INT RETURN 1",
        "SELECT * FROM mysql.user",
    ],
)
def test_the_api_user_is_refused_what_it_does_not_need(api_database, statement):
    _, api = api_database
    assert refused(api, statement) in DENIED


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT phone FROM customers INTO OUTFILE '/tmp/churnguard-api-user-export.csv'",
        "LOAD DATA INFILE '/etc/hostname' INTO TABLE customer_messages",
        "LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE offers_log",
    ],
    ids=["select into outfile", "load data infile", "load data local infile"],
)
def test_the_api_user_can_neither_export_nor_load_files(api_database, statement):
    _, api = api_database
    with pytest.raises(StatementRefused):
        api.execute(statement)
    assert not Path("/tmp/churnguard-api-user-export.csv").exists()


def test_the_api_user_holds_no_global_privilege(api_database):
    _, api = api_database
    grants = [next(iter(row.values())) for row in api.query("SHOW GRANTS")]
    assert grants[0].startswith("GRANT USAGE ON *.*")  # nothing server-wide: no FILE, no SUPER
    assert not any("ALL PRIVILEGES" in grant or "FILE" in grant for grant in grants), grants
