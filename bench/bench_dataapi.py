"""What one answer costs on AWS: RDS Data API calls and bytes of a call-centre answer and a console answer.

Each Data API call is one HTTPS request, so an answer's latency on AWS is mostly how many it makes.
The real DataApiClient (as the recommend and console Lambdas build it: a deadline, no resume wait)
runs the real engine and console service over a boto3 `rds-data` client on botocore's Stubber, which
checks every request against the service model and answers in the service's own shape: `records` and
`columnMetadata` (every ColumnMetadata member) for a SELECT, `generatedFields` for the INSERT. Each
expected call names the statement it must be, and the Stubber refuses any call beyond them, so the
figure is the calls the code makes. Request bytes are the JSON bodies botocore serialised; response
bytes the stubbed answers serialised the same way.

Prints one JSON line: `dataapi_calls_per_answer` (the recommend API's answer),
`dataapi_calls_per_console_answer` (the console's /api/recommend, the larger of a typed message and
the message on file), the calls of each, and their request and response bytes.

Setup (not measured): unless --model names one, a model trained on 500 synthetic customers (seed 1729)
with 2 search trials; the customer answered is the first of those.

    .venv/bin/python bench/bench_dataapi.py [--model DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import boto3  # noqa: E402
from botocore.stub import ANY, Stubber  # noqa: E402

from churnguard.console.service import ConsoleService, opened_per_call  # noqa: E402
from churnguard.customer_schema import COLUMN_NAMES  # noqa: E402
from churnguard.dataapi import DataApiClient  # noqa: E402
from churnguard.engine.agent_activity import (  # noqa: E402
    RECENT_COUNT_COLUMN,
    REPEATED_COLUMN,
    RETRY_AFTER_COLUMN,
)
from churnguard.engine.deadline import DEFAULT_ANSWER_TIMEOUT_S, Deadline  # noqa: E402
from churnguard.engine.offers_log import Actor  # noqa: E402
from churnguard.engine.recommend import Engine  # noqa: E402
from churnguard.engine.request import validate_request  # noqa: E402

SEED = 1729
CUSTOMERS = 500
TRIALS = 2
CLUSTER_ARN = "arn:aws:rds:us-east-1:123456789012:cluster:churnguard-bench"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:churnguard/app-AbCdEf"  # noqa: S105  (an ARN)
DATABASE = "churnguard"
MESSAGE = "You morons! You charged me extra again and nobody answers the phone."
NEW_OFFER_ID = 1001
# The recommend API's caller as the Function URL event names it (the agent of every offer it makes).
AGENT_ARN = "arn:aws:sts::123456789012:assumed-role/call-centre/agent-7"
# The agent's activity columns as the Data API returns them for an agent with no recent offer.
AGENT_COLUMNS = (
    (REPEATED_COLUMN, "JSON", None),
    (RECENT_COUNT_COLUMN, "BIGINT", 0),
    (RETRY_AFTER_COLUMN, "BIGINT", None),
)
# JDBC type numbers (java.sql.Types) the Data API reports in ColumnMetadata.type.
_JDBC = {"VARCHAR": 12, "DOUBLE": 8, "JSON": 1111, "TEXT": -1, "BIGINT": -5}


class Statement:
    """An expected `sql` parameter: any statement text containing every fragment."""

    def __init__(self, *fragments: str) -> None:
        self.fragments = fragments

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and all(fragment in other for fragment in self.fragments)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self.fragments)

    def __repr__(self) -> str:
        return f"a statement with {' and '.join(map(repr, self.fragments))}"


@dataclass
class Traffic:
    """Every Data API call one answer made: operation names, request and response bytes."""

    calls: list[str] = field(default_factory=list)
    request_bytes: int = 0
    response_bytes: int = 0

    def sent(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.calls.append(model.name)
        self.request_bytes += len(params.get("body") or b"")

    def received(self, parsed: dict[str, Any], **_: Any) -> None:
        body = {key: value for key, value in parsed.items() if key != "ResponseMetadata"}
        self.response_bytes += len(json.dumps(body, separators=(",", ":")).encode())

    def figures(self, name: str) -> dict[str, Any]:
        return {
            f"dataapi_calls_per_{name}": len(self.calls),
            f"{name}_calls": self.calls,
            f"{name}_request_bytes": self.request_bytes,
            f"{name}_response_bytes": self.response_bytes,
        }


def column(label: str, type_name: str, *, table: str = "") -> dict[str, Any]:
    """One ColumnMetadata as the Data API gives it: every member of the service model's shape."""
    return {
        "name": label,
        "type": _JDBC[type_name],
        "typeName": type_name,
        "label": label,
        "schemaName": "",
        "tableName": table,
        "isAutoIncrement": False,
        "isSigned": type_name == "DOUBLE",
        "isCurrency": False,
        "isCaseSensitive": type_name != "DOUBLE",
        "nullable": 1,
        "precision": 22 if type_name == "DOUBLE" else 65535,
        "scale": 31 if type_name == "DOUBLE" else 0,
        "arrayBaseColumnType": 0,
    }


def rows(columns: list[dict[str, Any]], *values: Any) -> dict[str, Any]:
    """An ExecuteStatement answer with includeResultMetadata: one record of `values`."""
    fields = [{"isNull": True} if value is None else _field(value) for value in values]
    return {"columnMetadata": columns, "records": [fields], "numberOfRecordsUpdated": 0}


def _field(value: Any) -> dict[str, Any]:
    if isinstance(value, int):
        return {"longValue": value}
    return {"doubleValue": value} if isinstance(value, float) else {"stringValue": str(value)}


@dataclass(frozen=True)
class Customer:
    """The customer answered, as the database would return it."""

    area_code: int
    phone: str
    as_json: str  # the engine's `customer` column: JSON_OBJECT of every customer column
    churn_probability: float


def bench_customer(engine: Engine, customers: Any) -> Customer:
    first = customers.iloc[0]
    values = {name: _plain(first[name]) for name in COLUMN_NAMES}
    # The score the database's will_churn gives is the bundled trees' own (no mismatch note).
    _, explained = engine.explainer.explain(dict(values), top=1)
    return Customer(int(values["area_code"]), str(values["phone"]), json.dumps(values), float(explained))


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def recent_offers_json() -> str:
    """Two earlier offers, as the console's recent-offers column lists them."""
    return json.dumps(
        [
            {
                "id": 901 + number,
                "created_at": f"2026-12-0{number + 1} 10:1{number}",
                "age_us": (3 + number) * 86_400_000_000,
                "offer": "credit_15",
                "rule_name": "negative_medium_risk",
                "arm": None,
                "offer_cost_usd": 15.0,
                "degraded": 0,
                "retained": None,
                "outcome": "declined",
            }
            for number in range(2)
        ]
    )


def expect_answer(stubber: Stubber, customer: Customer, *, console_columns: tuple[str, ...] = ()) -> None:
    """Queue the calls an answer may make, each answered as the Data API would, in order: the
    customer and score (with the console's own columns), the sentiment, and the INSERT with its
    generatedFields outside any transaction."""
    target = {"resourceArn": CLUSTER_ARN, "secretArn": SECRET_ARN, "database": DATABASE}
    columns = [column("customer", "JSON"), column("churn_probability", "DOUBLE")]
    values: list[Any] = [customer.as_json, customer.churn_probability]
    extra = {"recent_offers": ("JSON", recent_offers_json()), "latest_message": ("TEXT", MESSAGE)}
    for label in console_columns:
        type_name, value = extra[label]
        columns.append(column(label, type_name))
        values.append(value)
    # The agent's recent offers (churnguard.engine.agent_activity): none for this customer, none this minute.
    for label, type_name, value in AGENT_COLUMNS:
        columns.append(column(label, type_name))
        values.append(value)
    labels = (*console_columns, *(label for label, _, _ in AGENT_COLUMNS))
    score = Statement("will_churn(", *(f"AS {label}" for label in labels))
    stubber.add_response(
        "execute_statement",
        rows(columns, *values),
        {**target, "sql": score, "parameters": ANY, "includeResultMetadata": True},
    )
    stubber.add_response(
        "execute_statement",
        rows(
            [
                column("sentiment", "VARCHAR"),
                column("confidence", "DOUBLE"),
                column("call_reason", "VARCHAR"),
            ],
            "NEGATIVE",
            0.93,
            "billing_dispute",
        ),
        {
            **target,
            "sql": Statement("aws_comprehend_detect_sentiment(", "call_reason("),
            "parameters": ANY,
            "includeResultMetadata": True,
        },
    )
    stubber.add_response(
        "execute_statement",
        {"numberOfRecordsUpdated": 1, "generatedFields": [{"longValue": NEW_OFFER_ID}]},
        {**target, "sql": Statement("INSERT INTO offers_log"), "parameters": ANY},
    )


@contextmanager
def stubbed_data_api() -> Iterator[tuple[Any, Stubber, Traffic]]:
    """A boto3 rds-data client on the Stubber, with every call's bytes counted; at the end, every
    queued answer must have been asked for."""
    rds_data = boto3.client(
        "rds-data",
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",  # noqa: S106  (never sent: the Stubber answers)
    )
    traffic = Traffic()
    # On the Stubber's own event name, and first: botocore calls the most specific names first and
    # stops at the Stubber's answer.
    rds_data.meta.events.register_first("before-call.*.*", traffic.sent)
    rds_data.meta.events.register("after-call.rds-data", traffic.received)
    with Stubber(rds_data) as stubber:
        yield rds_data, stubber, traffic
        stubber.assert_no_pending_responses()


def data_api_client(rds_data: Any, deadline: Deadline) -> DataApiClient:
    """The client the Lambdas build (lambda/recommend/handler.py data_api_client)."""
    return DataApiClient(
        rds_data,
        resource_arn=CLUSTER_ARN,
        secret_arn=SECRET_ARN,
        database=DATABASE,
        resume_delays_s=(),
        deadline=deadline,
    )


def measure_answer(engine: Engine, customer: Customer) -> Traffic:
    """The recommend API's answer: Engine.recommend over the Data API client."""
    with stubbed_data_api() as (rds_data, stubber, traffic):
        expect_answer(stubber, customer)
        client = data_api_client(rds_data, Deadline.after(DEFAULT_ANSWER_TIMEOUT_S))
        request = validate_request(customer.area_code, customer.phone, MESSAGE)
        answer = engine.recommend(client, request, agent=AGENT_ARN)
    assert answer["offer_id"] == NEW_OFFER_ID and not answer["degraded"], answer
    return traffic


def measure_console_answer(engine: Engine, customer: Customer, *, typed: bool) -> Traffic:
    """The console's /api/recommend as the deployed console runs it: ConsoleService with a Data API
    client opened per call; with the message typed, or read from the customer's file."""
    console_columns = ("recent_offers",) if typed else ("recent_offers", "latest_message")
    with stubbed_data_api() as (rds_data, stubber, traffic):
        expect_answer(stubber, customer, console_columns=console_columns)
        service = ConsoleService(
            engine=engine,
            clients=opened_per_call(lambda deadline: data_api_client(rds_data, deadline)),
            budget_s=DEFAULT_ANSWER_TIMEOUT_S,
            actor=Actor(AGENT_ARN),
        )
        body = {
            "area_code": customer.area_code,
            "phone": customer.phone,
            "message": MESSAGE if typed else None,
        }
        answer = service.recommend(body)
    assert answer["offer_id"] == NEW_OFFER_ID and len(answer["previous_offers"]) == 2, answer
    return traffic


def measure(engine: Engine, customer: Customer) -> dict[str, Any]:
    """The benchmark's JSON figures for one answer of each kind."""
    typed = measure_console_answer(engine, customer, typed=True)
    on_file = measure_console_answer(engine, customer, typed=False)
    return {
        "benchmark": "dataapi",
        **measure_answer(engine, customer).figures("answer"),
        **typed.figures("console_answer"),
        "dataapi_calls_per_console_answer": max(len(typed.calls), len(on_file.calls)),
        **on_file.figures("console_answer_message_on_file"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a trained model folder (default: train a small one)")
    args = parser.parse_args(argv)
    from training.synthetic import generate_customers

    customers = generate_customers(CUSTOMERS, seed=SEED)
    with tempfile.TemporaryDirectory(prefix="bench-dataapi-") as scratch:
        model_dir = args.model or Path(scratch) / "model"
        if args.model is None:
            from training.pipeline import train

            train(customers, model_dir, trials=TRIALS, seed=SEED)
        engine = Engine.load(model_dir)
        print(json.dumps(measure(engine, bench_customer(engine, customers))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
