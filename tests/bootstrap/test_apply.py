"""churnguard.bootstrap.apply and .safety: planning refuses what cannot be split or would destroy data."""

import pytest

from churnguard.bootstrap.apply import MAX_STATEMENT_CHARS, BootstrapError, SqlScript, plan_files
from churnguard.bootstrap.safety import destructive_reason
from churnguard.sql_splitter import split_statements


def reason(sql: str) -> str | None:
    (statement,) = split_statements(sql)
    return destructive_reason(statement)


@pytest.mark.parametrize(
    "sql",
    [
        "DROP TABLE customers",
        "drop table if exists customers",
        "DROP DATABASE churnguard",
        "DROP SCHEMA churnguard",
        "TRUNCATE TABLE customers",
        "TRUNCATE customers",
        "DELETE FROM customers WHERE 1",
        "CREATE OR REPLACE TABLE customers (x INT)",
        "ALTER TABLE customers DROP COLUMN churn",
        "ALTER TABLE customers ADD COLUMN z INT, DROP churn",
        "ALTER TABLE customers DROP PARTITION p0",
    ],
)
def test_data_destroying_statements_are_recognised(sql):
    assert reason(sql) is not None


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE IF NOT EXISTS customers (x INT)",
        "DROP FUNCTION IF EXISTS will_churn",
        "DROP VIEW IF EXISTS v",
        "ALTER TABLE customers ADD COLUMN z INT",
        "ALTER TABLE customers DROP INDEX i, DROP FOREIGN KEY f, DROP PRIMARY KEY",
        "ALTER TABLE customers ALTER COLUMN z DROP DEFAULT",
        "INSERT INTO notes VALUES ('DROP TABLE customers')",
        "CREATE PROCEDURE purge() BEGIN DELETE FROM scratch; END",
    ],
)
def test_safe_statements_pass(sql):
    assert reason(sql) is None


def test_plan_names_file_statement_and_line_of_a_refused_statement():
    files = [
        SqlScript("10_schema.sql", "CREATE TABLE IF NOT EXISTS a (x INT);\n"),
        SqlScript("20_cleanup.sql", "SELECT 1;\n\nTRUNCATE TABLE a;\n"),
    ]
    with pytest.raises(BootstrapError) as raised:
        plan_files(files)
    message = str(raised.value)
    assert "20_cleanup.sql statement 2 (line 3: TRUNCATE TABLE a)" in message
    assert "never destroys customer data" in message


def test_plan_names_the_file_that_cannot_be_split():
    with pytest.raises(
        BootstrapError, match=r"30_functions\.sql: cannot split .* line 2: quote ' is never closed"
    ):
        plan_files([SqlScript("30_functions.sql", "SELECT 1;\nSELECT 'x;\n")])


def test_plan_keeps_file_order_and_numbers_statements_per_file():
    planned = plan_files([SqlScript("a.sql", "SELECT 1; SELECT 2;"), SqlScript("b.sql", "SELECT 3;")])
    assert [(step.source, step.number, step.sql) for step in planned] == [
        ("a.sql", 1, "SELECT 1"),
        ("a.sql", 2, "SELECT 2"),
        ("b.sql", 1, "SELECT 3"),
    ]


def test_plan_refuses_a_statement_longer_than_the_data_api_takes_before_anything_runs():
    longest = "SELECT " + "1+" * ((MAX_STATEMENT_CHARS - len("SELECT 1")) // 2) + "1"
    assert len(longest) == MAX_STATEMENT_CHARS
    plan_files([SqlScript("10_ok.sql", f"{longest};\n")])
    with pytest.raises(
        BootstrapError, match=r"20_big\.sql statement 2 .* is 65,538 characters long; the RDS Data API"
    ):
        plan_files(
            [SqlScript("10_ok.sql", "SELECT 1;"), SqlScript("20_big.sql", f"SELECT 2;\n{longest}+1;\n")]
        )
