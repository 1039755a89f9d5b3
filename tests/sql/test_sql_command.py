"""`churnguard sql` as a DBA runs it: locally on a real server, and on a deployed stack through the RDS
Data API (botocore's Stubber at the boto3 boundary, answers shaped like the service's)."""

from __future__ import annotations

import io
import json

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.stub import Stubber

from churnguard import aws_clients
from churnguard.cli import main
from churnguard.local.install import install_churnguard
from training.synthetic import generate_customers, generate_messages

CLUSTER = "arn:aws:rds:eu-west-1:123456789012:cluster:churnguard-db"
APP_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:churnguard-app"
ADMIN_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:churnguard-admin"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture()
def db_url(sql_client, trained_model_dir, monkeypatch):
    customers = generate_customers(300, seed=5)
    install_churnguard(
        sql_client,
        model_dir=trained_model_dir,
        customers=customers,
        messages=generate_messages(customers, seed=5),
    )
    monkeypatch.setenv("CHURNGUARD_MODEL_DIR", str(trained_model_dir))
    url = sql_client.url
    return f"mysql://{url.user}:{url.password}@{url.host}:{url.port}/{url.database}"


@pytest.mark.mariadb
@pytest.mark.parametrize("stable", [False, True])
def test_the_printed_call_centre_statement_runs_as_pasted(capsys, db_url, stable, monkeypatch):
    code, printed, _ = run(capsys, "sql", "call-centre", *(["--stable"] if stable else []))
    assert code == 0
    assert "%(" not in printed and "..." not in printed
    assert printed.count("SET @") == 3
    monkeypatch.setattr("sys.stdin", io.StringIO(printed))
    code, out, err = run(capsys, "sql", "-", "--db-url", db_url, "--json")
    assert code == 0, err
    (row,) = json.loads(out)
    assert (row["area_code"], row["phone"], row["sentiment"]) == (415, "358-1921", "NEGATIVE")
    assert 0.0 <= row["churn_probability"] <= 1.0


@pytest.mark.mariadb
def test_a_table_a_count_and_bound_parameters(capsys, db_url):
    code, out, _ = run(
        capsys,
        "sql",
        "SELECT area_code, phone, customer_churn_probability(area_code, phone) AS p FROM customers"
        " WHERE area_code = %(area)s AND phone = %(phone)s",
        "--param",
        "area=415",
        "--param",
        "phone=358-1921",
        "--db-url",
        db_url,
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split("|")[0].strip() == "area_code" and lines[-1] == "(1 row)"
    assert lines[2].split("|")[1].strip() == "358-1921"
    code, out, _ = run(capsys, "sql", "CALL refresh_customer_scores()", "--db-url", db_url)
    assert code == 0 and out.strip().endswith("rows affected)")


@pytest.mark.mariadb
def test_bidirectional_controls_in_a_table_are_shown_as_code_points(capsys, db_url):
    """A message holding RIGHT-TO-LEFT OVERRIDE shows the control, not its effect ('evil' read as 'live');
    --json keeps the text as stored, for programs."""
    hostile = "refund the \u202eevil\u202c charge"
    code, out, _ = run(
        capsys, "sql", "SELECT %(text)s AS message", "--param", f"text={hostile}", "--db-url", db_url
    )
    assert code == 0
    assert out.splitlines()[2].strip() == "refund the <U+202E>evil<U+202C> charge"
    code, out, _ = run(
        capsys,
        "sql",
        "SELECT %(text)s AS message",
        "--param",
        f"text={hostile}",
        "--db-url",
        db_url,
        "--json",
    )
    assert json.loads(out) == [{"message": hostile}]


@pytest.mark.mariadb
def test_failures_are_one_line_naming_the_statement(capsys, db_url):
    code, out, err = run(capsys, "sql", "SET @x = 1; SELECT nope FROM customers", "--db-url", db_url)
    assert (code, out) == (2, "")
    prefix = "churnguard sql: error: statement 2 of 2 failed: database error 1054: "
    assert err == prefix + "Unknown column 'nope' in 'SELECT'\n"
    code, _, err = run(capsys, "sql", "SELECT SLEEP(5)", "--db-url", db_url, "--timeout", "0.5")
    assert code == 2 and "did not finish within 0.5 s" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["SELECT 1", "--param", "1x=2"], "--param '1x' is not NAME=VALUE"),
        (["  -- only a comment"], "no SQL statement given"),
        (["SELECT 'unterminated"], "cannot read the SQL"),
        (["SELECT 1", "--admin"], "--admin and --region go with --stage"),
        (["SELECT 1", "--stage", "dev", "--local"], "either --stage"),
        (["SELECT 1", "--timeout", "0"], "--timeout must be a positive"),
    ],
)
def test_bad_options_are_refused_before_connecting(capsys, argv, message):
    code, _, err = run(capsys, "sql", *argv)
    assert code == 2 and message in err


class StubbedAws:
    """cloudformation and rds-data clients with Stubbers, handed to churnguard.aws_clients.aws_client."""

    def __init__(self) -> None:
        session = boto3.Session(aws_access_key_id="k", aws_secret_access_key="s", region_name="eu-west-1")
        self.clients = {name: session.client(name) for name in ("cloudformation", "rds-data")}
        self.stubbers = {name: Stubber(client) for name, client in self.clients.items()}

        self.settings: dict[str, dict] = {}

    def client(self, service_name, **settings):
        self.settings[service_name] = settings
        return self.clients[service_name]

    def expect_stack(self) -> None:
        outputs = {
            "ClusterArn": CLUSTER,
            "AppSecretArn": APP_SECRET,
            "AdminSecretArn": ADMIN_SECRET,
            "DatabaseName": "churnguard",
            "DataBucketName": "churnguard-data-123",
            "RecommendApiUrl": "https://abc.lambda-url.eu-west-1.on.aws/",
        }
        self.stubbers["cloudformation"].add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": "churnguard-dev",
                        "CreationTime": "2026-01-01T00:00:00Z",
                        "StackStatus": "CREATE_COMPLETE",
                        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
                    }
                ]
            },
            {"StackName": "churnguard-dev"},
        )


@pytest.fixture()
def aws(monkeypatch):
    stubbed = StubbedAws()
    monkeypatch.setattr(aws_clients, "aws_client", stubbed.client)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    for stubber in stubbed.stubbers.values():
        stubber.activate()
    yield stubbed
    for stubber in stubbed.stubbers.values():
        stubber.assert_no_pending_responses()
        stubber.deactivate()


def test_a_query_goes_through_the_data_api_as_the_application_user(capsys, aws):
    aws.expect_stack()
    aws.stubbers["rds-data"].add_response(
        "execute_statement",
        {
            "columnMetadata": [{"name": "p", "label": "p", "typeName": "DOUBLE"}],
            "records": [[{"doubleValue": 0.75}]],
        },
        {
            "resourceArn": CLUSTER,
            "secretArn": APP_SECRET,
            "database": "churnguard",
            "sql": "SELECT customer_churn_probability(:area, :phone) AS p",
            "parameters": [
                {"name": "area", "value": {"stringValue": "415"}},
                {"name": "phone", "value": {"stringValue": "358-1921"}},
            ],
            "includeResultMetadata": True,
        },
    )
    argv = ["SELECT customer_churn_probability(%(area)s, %(phone)s) AS p", "--stage", "dev"]
    code, out, err = run(
        capsys,
        "sql",
        *argv,
        "--region",
        "eu-west-1",
        "--param",
        "area=415",
        "--param",
        "phone=358-1921",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out) == [{"p": 0.75}]


def test_several_statements_share_one_transaction_and_admin_uses_the_admin_secret(capsys, aws):
    aws.expect_stack()
    rds = aws.stubbers["rds-data"]
    target = {"resourceArn": CLUSTER, "secretArn": ADMIN_SECRET}
    rds.add_response("begin_transaction", {"transactionId": "tx-1"}, {**target, "database": "churnguard"})
    rds.add_response(
        "execute_statement",
        {"numberOfRecordsUpdated": 0},
        {
            **target,
            "database": "churnguard",
            "sql": "SET @phone = '358-1921'",
            "continueAfterTimeout": True,
            "transactionId": "tx-1",
        },
    )
    rds.add_response(
        "execute_statement",
        {"numberOfRecordsUpdated": 1},
        {
            **target,
            "database": "churnguard",
            "sql": "CALL refresh_customer_scores()",
            "continueAfterTimeout": True,
            "transactionId": "tx-1",
        },
    )
    rds.add_response(
        "commit_transaction",
        {"transactionStatus": "Transaction Committed"},
        {**target, "transactionId": "tx-1"},
    )
    argv = ["SET @phone = '358-1921'; CALL refresh_customer_scores();", "--stage", "dev", "--admin"]
    code, out, err = run(capsys, "sql", *argv, "--region", "eu-west-1")
    assert code == 0, err
    assert out == "(1 row affected)\n"


def test_a_missing_stack_is_one_line_saying_what_to_do(capsys, aws):
    aws.stubbers["cloudformation"].add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message="Stack with id churnguard-dev does not exist",
    )
    code, _, err = run(capsys, "sql", "SELECT 1", "--stage", "dev", "--region", "eu-west-1")
    assert code == 2
    assert err.startswith("churnguard sql: error: no stack churnguard-dev in eu-west-1: deploy it first")


def test_finding_the_cluster_is_bounded_by_the_timeout(capsys, aws):
    aws.expect_stack()
    aws.stubbers["rds-data"].add_response("execute_statement", {"records": [], "columnMetadata": []})
    code, _, err = run(capsys, "sql", "SELECT 1", "--stage", "dev", "--region", "eu-west-1", "--timeout", "4")
    assert code == 0, err
    lookup = aws.settings["cloudformation"]
    assert lookup["max_attempts"] == 1
    assert 0 < lookup["read_timeout"] <= 4 and 0 < lookup["connect_timeout"] <= 3


def test_cloudformation_not_answering_in_time_is_one_line_and_runs_nothing(capsys, aws, monkeypatch):
    def hangs_up(**_):
        raise ReadTimeoutError(endpoint_url="https://cloudformation.eu-west-1.amazonaws.com/")

    monkeypatch.setattr(aws.clients["cloudformation"], "describe_stacks", hangs_up)
    code, _, err = run(capsys, "sql", "SELECT 1", "--stage", "dev", "--region", "eu-west-1", "--timeout", "4")
    assert code == 2
    assert "CloudFormation did not answer within the 4 s of --timeout" in err and "nothing was run" in err
