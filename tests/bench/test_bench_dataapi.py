"""bench/bench_dataapi.py: a call-centre answer and a console answer each cost at most 3 Data API calls
(issue 24), counted on the real DataApiClient over botocore's Stubber, which refuses any call beyond
the three statements each answer is allowed (the customer and score, the sentiment, the INSERT)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from churnguard.engine.recommend import Engine
from training.synthetic import generate_customers

BENCH_PATH = Path(__file__).resolve().parents[2] / "bench" / "bench_dataapi.py"
MAX_CALLS_PER_ANSWER = 3


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_dataapi", BENCH_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def figures(bench, trained_model_dir):
    engine = Engine.load(trained_model_dir)
    customer = bench.bench_customer(engine, generate_customers(5, seed=bench.SEED))
    return bench.measure(engine, customer)


def test_an_answer_and_a_console_answer_cost_at_most_three_data_api_calls(figures):
    assert figures["dataapi_calls_per_answer"] <= MAX_CALLS_PER_ANSWER
    assert figures["dataapi_calls_per_console_answer"] <= MAX_CALLS_PER_ANSWER
    # No transaction: every call is one ExecuteStatement, the answer's row committed by the service.
    for name in ("answer", "console_answer", "console_answer_message_on_file"):
        assert figures[f"{name}_calls"] == ["ExecuteStatement"] * 3


def test_the_figures_are_one_json_line_with_the_bytes_of_each_answer(figures):
    line = json.dumps(figures)
    assert "\n" not in line
    for name in ("answer", "console_answer"):
        assert figures[f"{name}_request_bytes"] > 1000  # the statements' text travels every time
        assert figures[f"{name}_response_bytes"] > 500
    # The console's own columns ride in the first statement: more bytes, not more calls.
    assert figures["console_answer_response_bytes"] > figures["answer_response_bytes"]


def test_a_call_beyond_the_expected_statements_is_refused(bench, trained_model_dir):
    """The count cannot be flattered: an engine that asked one more statement fails the benchmark."""
    engine = Engine.load(trained_model_dir)
    customer = bench.bench_customer(engine, generate_customers(5, seed=bench.SEED))

    class OneMoreRead(Engine):
        def recommend(self, client, request, **kwargs):
            client.query("SELECT LAST_INSERT_ID() AS id")
            return super().recommend(client, request, **kwargs)

    extra = OneMoreRead(**{name: getattr(engine, name) for name in engine.__dataclass_fields__})
    with pytest.raises(Exception, match=r"ExecuteStatement|Expected parameters|Unexpected"):
        bench.measure_answer(extra, customer)
