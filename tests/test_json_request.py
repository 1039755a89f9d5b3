"""churnguard.json_request: every limit refuses with its status and a reason a person can act on,
before the parser spends anything on the body; what a real call sends passes untouched."""

from __future__ import annotations

import json
import time

import pytest

from churnguard.json_request import (
    MAX_BODY_BYTES,
    MAX_DEPTH,
    MAX_NUMBER_CHARS,
    RequestRefused,
    check_media_type,
    parse_json,
)

CALL = {"area_code": 415, "phone": "358-1921", "message": "You charged me twice [again] {really}"}
# Bodies each entry point must refuse with 400 and these words (also sent through the local console
# and both Lambdas: tests/console/test_api.py, tests/test_http_api.py).
REFUSED_BODIES = [
    pytest.param(
        b"[" * 1000 + b"]" * 1000, "nests arrays or objects more than 32 deep", id="nested 1000 deep"
    ),
    pytest.param(
        b'{"area_code": ' + b"1" * 4301 + b"}", "number longer than 40 characters", id="4301 digits"
    ),
    pytest.param(b'{"area_code": NaN}', "has NaN, which is not a JSON number", id="NaN"),
    pytest.param(b'{"area_code": Infinity}', "has Infinity, which is not a JSON number", id="Infinity"),
    pytest.param(b'{"area_code": -Infinity}', "has -Infinity, which is not a JSON number", id="-Infinity"),
    pytest.param(b"{area_code: 415", "not valid JSON", id="not JSON"),
    pytest.param(b'{"message": "caf\xe9"}', "not UTF-8", id="not UTF-8"),
]


def parse(raw: bytes):
    return parse_json(raw, expected="an object")


def refusal(raw: bytes) -> RequestRefused:
    with pytest.raises(RequestRefused) as refused:
        parse(raw)
    return refused.value


@pytest.mark.parametrize(("body", "words"), REFUSED_BODIES)
def test_refused_bodies_are_400_naming_the_rule(body, words):
    refused = refusal(body)
    assert refused.status == 400 and words in str(refused)


def test_a_call_passes_unchanged():
    assert parse(json.dumps(CALL).encode()) == CALL


def test_a_body_of_exactly_the_limit_passes_and_one_byte_more_is_413():
    padding = MAX_BODY_BYTES - len(json.dumps({"message": ""}).encode())
    body = json.dumps({"message": "x" * padding}).encode()
    assert len(body) == MAX_BODY_BYTES and parse(body)["message"] == "x" * padding
    too_large = refusal(body + b" ")
    assert too_large.status == 413 and "larger than 64 KB" in str(too_large)


def test_arrays_nested_1000_deep_in_2_kb_are_400_not_a_recursion_error():
    body = b"[" * 1000 + b"]" * 1000
    assert len(body) == 2000
    refused = refusal(body)
    assert refused.status == 400 and f"more than {MAX_DEPTH} deep" in str(refused)


def test_nesting_up_to_the_limit_passes_and_brackets_inside_strings_nest_nothing():
    assert parse(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
    assert refusal(b'{"a":' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1)).status == 400
    brackets = "[{" * 1000 + '\\"[' * 100
    assert parse(json.dumps({"message": brackets}).encode()) == {"message": brackets}


@pytest.mark.parametrize(
    "body",
    [b'"' + b"a" * 60_000, b'"\\' * 20_000, b'\\"' * 30_000, b'["' * 30_000, b'"' * 60_000],
    ids=["unclosed string", "escape then quote", "quote then escape", "open strings", "quotes"],
)
def test_the_depth_count_is_linear_on_hostile_strings(body):
    started = time.perf_counter()
    refused = refusal(body)
    assert refused.status == 400
    assert time.perf_counter() - started < 1.0  # a quadratic scan of 60 KB takes tens of seconds


@pytest.mark.parametrize(
    "number", ["1" * 4301, "1" * (MAX_NUMBER_CHARS + 1), "1." + "5" * 400, "1e" + "9" * 50]
)
def test_numbers_longer_than_the_limit_are_400(number):
    refused = refusal(f'{{"area_code": {number}}}'.encode())
    assert refused.status == 400 and f"number longer than {MAX_NUMBER_CHARS} characters" in str(refused)


def test_numbers_up_to_the_limit_pass():
    assert parse(("9" * MAX_NUMBER_CHARS).encode()) == int("9" * MAX_NUMBER_CHARS)
    assert parse(b"-415.5e-2") == -4.155


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_standard_numbers_are_400(constant):
    refused = refusal(f'{{"area_code": {constant}}}'.encode())
    assert refused.status == 400 and f"has {constant}, which is not a JSON number" in str(refused)


def test_text_that_is_not_json_or_not_utf8_is_400_saying_what_to_send():
    broken = refusal(b"{area_code: 415")
    assert broken.status == 400 and "not valid JSON" in str(broken) and "send an object" in str(broken)
    latin1 = refusal('{"message": "caf\u00e9"}'.encode("latin-1"))
    assert latin1.status == 400 and "not UTF-8" in str(latin1)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "Application/JSON",
        "APPLICATION/JSON; charset=utf-8",
        "application/json;charset=UTF-8",
        'application/json; charset="utf-8"',
        " application/json ; boundary=x",
    ],
)
def test_the_json_media_type_in_any_case_with_parameters_is_accepted(content_type):
    check_media_type(content_type)


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "application/jsonx",
        "application/json; charset=latin-1",
    ],
)
def test_other_media_types_are_415(content_type):
    with pytest.raises(RequestRefused) as refused:
        check_media_type(content_type)
    assert refused.value.status == 415 and "JSON" in str(refused.value)
