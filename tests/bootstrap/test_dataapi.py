"""churnguard.dataapi: the exact rds-data requests a DataApiClient sends, and how it reads answers.

botocore's Stubber checks every request against the service model and the expected parameters, and
feeds back responses shaped like the real service's (moto's rds-data answers are placeholders).
"""

import datetime as dt
import logging
from decimal import Decimal

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from churnguard.dataapi import (
    DataApiClient,
    DataApiParameterError,
    DatabaseStillResuming,
    to_named_parameters,
    to_parameter,
)
from churnguard.engine.deadline import DatabaseTimeout
from churnguard.engine.failures import ConnectionFailed, StatementRefused, error_code, failure_kind

CLUSTER = "arn:aws:rds:eu-west-1:123456789012:cluster:churnguard-db"
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:churnguard-admin-AbCdEf"
TARGET = {"resourceArn": CLUSTER, "secretArn": SECRET, "database": "churnguard"}


@pytest.fixture()
def rds_data():
    client = boto3.client(
        "rds-data", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def make_client(rds_data_client, sleeps=None, **kwargs):
    sleeps = [] if sleeps is None else sleeps
    return DataApiClient(
        rds_data_client,
        resource_arn=CLUSTER,
        secret_arn=SECRET,
        database=kwargs.pop("database", "churnguard"),
        sleep=sleeps.append,
        **kwargs,
    )


def test_query_binds_typed_parameters_and_maps_rows_by_label(rds_data):
    client, stubber = rds_data
    sql = (
        "SELECT phone AS p, day_mins, churn FROM customers WHERE area_code = %(area_code)s "
        "AND phone = %(phone)s AND day_mins > %(mins)s AND x = %(ratio)s AND y = %(flag)s "
        "AND z <=> %(none)s AND b = %(raw)s AND phone LIKE '4%%' AND area_code = %(area_code)s"
    )
    params = {
        "area_code": 415,
        "phone": "358-1921",
        "mins": Decimal("265.10"),
        "ratio": 0.25,
        "flag": True,
        "none": None,
        "raw": b"\x00\x01",
        "unused": "not sent",
    }
    stubber.add_response(
        "execute_statement",
        {
            "columnMetadata": [
                {"name": "phone", "label": "p", "typeName": "CHAR"},
                {"name": "day_mins", "label": "day_mins", "typeName": "DECIMAL"},
                {"name": "churn", "label": "churn", "typeName": "TINYINT"},
                {"name": "seen", "label": "seen", "typeName": "DATETIME"},
                {"name": "born", "label": "born", "typeName": "DATE"},
                {"name": "note", "label": "note", "typeName": "VARCHAR"},
                {"name": "ok", "label": "ok", "typeName": "BIT"},
                {"name": "score", "label": "score", "typeName": "DOUBLE"},
            ],
            "records": [
                [
                    {"stringValue": "358-1921"},
                    {"stringValue": "265.10"},
                    {"longValue": 1},
                    {"stringValue": "2024-05-01 09:30:00"},
                    {"stringValue": "1990-01-31"},
                    {"isNull": True},
                    {"booleanValue": True},
                    {"doubleValue": 0.875},
                ]
            ],
        },
        {
            **TARGET,
            "sql": (
                "SELECT phone AS p, day_mins, churn FROM customers WHERE area_code = :area_code "
                "AND phone = :phone AND day_mins > :mins AND x = :ratio AND y = :flag "
                "AND z <=> :none AND b = :raw AND phone LIKE '4%' AND area_code = :area_code"
            ),
            "includeResultMetadata": True,
            "parameters": [
                {"name": "area_code", "value": {"longValue": 415}},
                {"name": "phone", "value": {"stringValue": "358-1921"}},
                {"name": "mins", "value": {"stringValue": "265.10"}, "typeHint": "DECIMAL"},
                {"name": "ratio", "value": {"doubleValue": 0.25}},
                {"name": "flag", "value": {"booleanValue": True}},
                {"name": "none", "value": {"isNull": True}},
                {"name": "raw", "value": {"blobValue": b"\x00\x01"}},
            ],
        },
    )
    rows = make_client(client).query(sql, params)
    assert rows == [
        {
            "p": "358-1921",
            "day_mins": Decimal("265.10"),
            "churn": 1,
            "seen": dt.datetime(2024, 5, 1, 9, 30),
            "born": dt.date(1990, 1, 31),
            "note": None,
            "ok": True,
            "score": 0.875,
        }
    ]


def test_execute_without_parameters_sends_the_text_unchanged_and_returns_the_row_count(rds_data):
    client, stubber = rds_data
    sql = "UPDATE customers SET state = 'KS' WHERE phone LIKE '3%'"
    stubber.add_response(
        "execute_statement",
        {"numberOfRecordsUpdated": 3},
        {**TARGET, "sql": sql, "continueAfterTimeout": True},
    )
    assert make_client(client).execute(sql) == 3


def test_insert_returning_id_is_one_call_outside_any_transaction_reading_generated_fields(rds_data):
    client, stubber = rds_data
    stubber.add_response(
        "execute_statement",
        {"numberOfRecordsUpdated": 1, "generatedFields": [{"longValue": 4242}]},
        {
            **TARGET,
            "sql": "INSERT INTO notes (note) VALUES (:note)",
            "parameters": [{"name": "note", "value": {"stringValue": "hi"}}],
        },
    )
    new_id = make_client(client).insert_returning_id(
        "INSERT INTO notes (note) VALUES (%(note)s)", {"note": "hi"}
    )
    assert new_id == 4242


def test_an_insert_that_generated_no_id_is_refused_by_name(rds_data):
    client, stubber = rds_data
    stubber.add_response("execute_statement", {"numberOfRecordsUpdated": 1})
    with pytest.raises(ValueError, match="generated no AUTO_INCREMENT id"):
        make_client(client).insert_returning_id("INSERT INTO t (a) VALUES (1)")


@pytest.mark.parametrize(
    ("code", "failure", "kind"),
    [
        ("DatabaseErrorException", StatementRefused, "statement"),
        ("ValidationException", StatementRefused, "statement"),
        ("UnsupportedResultException", StatementRefused, "statement"),
        ("StatementTimeoutException", DatabaseTimeout, "timeout"),
        ("DatabaseUnavailableException", ConnectionFailed, "connection"),
        ("ServiceUnavailableError", ConnectionFailed, "connection"),
    ],
)
def test_the_services_errors_are_churnguards_failures(rds_data, code, failure, kind):
    client, stubber = rds_data
    stubber.add_client_error("execute_statement", service_error_code=code, service_message="for 358-1921")
    with pytest.raises(failure) as raised:
        make_client(client).query("SELECT 1")
    assert failure_kind(raised.value) == kind and error_code(raised.value) == code
    assert raised.value.reason == "for 358-1921"


def test_a_network_failure_on_the_way_is_a_connection_failure():
    class Unreachable:
        def execute_statement(self, **_request):
            raise EndpointConnectionError(endpoint_url="https://rds-data.eu-west-1.amazonaws.com")

    with pytest.raises(ConnectionFailed) as raised:
        make_client(Unreachable()).query("SELECT 1")
    assert error_code(raised.value) == "EndpointConnectionError"


def test_a_client_without_database_names_none(rds_data):
    client, stubber = rds_data
    sql = "CREATE DATABASE IF NOT EXISTS `churnguard` CHARACTER SET utf8mb4"
    stubber.add_response(
        "execute_statement",
        {"numberOfRecordsUpdated": 1},
        {"resourceArn": CLUSTER, "secretArn": SECRET, "sql": sql, "continueAfterTimeout": True},
    )
    assert make_client(client, database=None).execute(sql) == 1


def test_transaction_commits_with_its_id_on_every_statement(rds_data):
    client, stubber = rds_data
    stubber.add_response("begin_transaction", {"transactionId": "tx-1"}, TARGET)
    stubber.add_response(
        "execute_statement",
        {"numberOfRecordsUpdated": 1},
        {
            **TARGET,
            "sql": "INSERT INTO offers_log (offer) VALUES (:offer)",
            "continueAfterTimeout": True,
            "parameters": [{"name": "offer", "value": {"stringValue": "discount"}}],
            "transactionId": "tx-1",
        },
    )
    stubber.add_response(
        "commit_transaction",
        {"transactionStatus": "Transaction Committed"},
        {"resourceArn": CLUSTER, "secretArn": SECRET, "transactionId": "tx-1"},
    )
    data_api = make_client(client)
    with data_api.transaction():
        data_api.execute("INSERT INTO offers_log (offer) VALUES (%(offer)s)", {"offer": "discount"})


def expect_begin_then_rollback(stubber: Stubber, transaction_id: str) -> None:
    stubber.add_response("begin_transaction", {"transactionId": transaction_id}, TARGET)
    stubber.add_response(
        "rollback_transaction",
        {"transactionStatus": "Rollback Complete"},
        {"resourceArn": CLUSTER, "secretArn": SECRET, "transactionId": transaction_id},
    )


def test_transaction_rolls_back_when_the_block_raises(rds_data):
    client, stubber = rds_data
    expect_begin_then_rollback(stubber, "tx-2")
    data_api = make_client(client)
    with pytest.raises(KeyError), data_api.transaction():
        raise KeyError("boom")


def test_transactions_do_not_nest_and_the_outer_one_rolls_back(rds_data):
    client, stubber = rds_data
    expect_begin_then_rollback(stubber, "tx-3")
    data_api = make_client(client)
    with pytest.raises(RuntimeError, match="do not nest"), data_api.transaction(), data_api.transaction():
        pass


def test_resuming_cluster_is_retried_with_bounded_waits(rds_data, caplog):
    client, stubber = rds_data
    for _ in range(2):
        stubber.add_client_error("execute_statement", service_error_code="DatabaseResumingException")
    expected = {
        **TARGET,
        "sql": "SELECT :p",
        "includeResultMetadata": True,
        "parameters": [{"name": "p", "value": {"stringValue": "s3cr3t-value"}}],
    }
    stubber.add_response("execute_statement", {"columnMetadata": [], "records": []}, expected)
    sleeps: list[float] = []
    caplog.set_level(logging.DEBUG)
    assert make_client(client, sleeps).query("SELECT %(p)s", {"p": "s3cr3t-value"}) == []
    assert sleeps == [1.0, 2.0]
    assert "resuming" in caplog.text
    assert "s3cr3t-value" not in caplog.text


def test_a_cluster_that_never_resumes_fails_after_the_last_attempt(rds_data):
    client, stubber = rds_data
    for _ in range(3):
        stubber.add_client_error("execute_statement", service_error_code="DatabaseResumingException")
    sleeps: list[float] = []
    with pytest.raises(DatabaseStillResuming, match="after 3 attempts over 3 s"):
        make_client(client, sleeps, resume_delays_s=(1.0, 2.0)).execute("SELECT 1")
    assert sleeps == [1.0, 2.0]


def test_other_errors_are_not_retried(rds_data):
    client, stubber = rds_data
    stubber.add_client_error(
        "execute_statement",
        service_error_code="BadRequestException",
        service_message="code: 1064",
    )
    sleeps: list[float] = []
    with pytest.raises(StatementRefused, match="1064") as raised:
        make_client(client, sleeps).execute("SELEC 1")
    assert sleeps == [] and raised.value.code == "BadRequestException"


def test_placeholder_errors_name_the_parameter_never_a_value():
    with pytest.raises(DataApiParameterError, match="%\\(phone\\)s but no value named 'phone'"):
        to_named_parameters("SELECT %(phone)s", {"area_code": 415})
    with pytest.raises(DataApiParameterError, match="lone % at offset 44"):
        to_named_parameters("SELECT * FROM t WHERE a = %(a)s OR b LIKE '4%'", {"a": 1})
    with pytest.raises(DataApiParameterError) as raised:
        to_parameter("when", {"secret-looking": "value"})
    assert "'when' has type dict" in str(raised.value)
    assert "secret-looking" not in str(raised.value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (2**63, "outside the 64-bit range"),
        (float("nan"), "not finite"),
        (Decimal("Infinity"), "not finite"),
        (dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "time zone"),
    ],
)
def test_values_the_database_cannot_store_are_refused(value, message):
    with pytest.raises(DataApiParameterError, match=message):
        to_parameter("v", value)


def test_dates_and_decimals_carry_type_hints():
    assert to_parameter("d", dt.date(2024, 2, 29)) == {
        "name": "d",
        "value": {"stringValue": "2024-02-29"},
        "typeHint": "DATE",
    }
    assert to_parameter("t", dt.datetime(2024, 2, 29, 13, 5, 0)) == {
        "name": "t",
        "value": {"stringValue": "2024-02-29 13:05:00"},
        "typeHint": "TIMESTAMP",
    }
    assert to_parameter("t", dt.datetime(2024, 2, 29, 13, 5, 0, 123456))["value"] == {
        "stringValue": "2024-02-29 13:05:00.123"
    }
    assert to_parameter("m", Decimal("1E+2"))["value"] == {"stringValue": "100"}
    assert to_parameter("i", -(2**63))["value"] == {"longValue": -(2**63)}
