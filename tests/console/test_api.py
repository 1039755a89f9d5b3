"""The console's JSON API through Starlette's TestClient on the real local database: each status an
agent can meet, and what the page and the logs are (not) given."""

from __future__ import annotations

import json
import logging
import secrets
import socket
import time

import pytest
from starlette.testclient import TestClient

from churnguard.bootstrap.app_user import AppUser, api_user_statements
from churnguard.cli import main
from churnguard.console.service import ConsoleService, opened_per_call
from churnguard.db import connect, parse_url
from churnguard.engine.offers_log import Actor
from churnguard.engine.report import offers_report
from churnguard.json_request import MAX_BODY_BYTES
from tests.console.conftest import HIGH_RISK, LOW_RISK, NEGATIVE_MESSAGE, app_on, signed_in_client
from tests.engine.faults import SENTIMENT_FUNCTIONS, SIGNAL_TEXT, failing_functions
from tests.fixtures.agents import fresh_agent
from tests.test_json_request import REFUSED_BODIES

pytestmark = pytest.mark.mariadb
UNKNOWN = {"area_code": 415, "phone": "000-0000"}


def test_page_and_assets_are_served_with_security_headers_and_nothing_from_elsewhere(api):
    page = api.get("/")
    assert page.status_code == 200 and "churnguard agent console" in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
    for asset in ("/console.js", "/console.css", "/auth.js"):
        assert api.get(asset).status_code == 200
    for text in (page.text, api.get("/console.js").text, api.get("/console.css").text):
        assert "http://" not in text and "https://" not in text and "//cdn" not in text
    assert api.get("/config.json").json() == {"api_base": "", "auth": None}


def assert_security_headers(response, cache_control: str = "no-store") -> None:
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert (
        response.headers["x-frame-options"] == "DENY"
        and response.headers["x-content-type-options"] == "nosniff"
    )
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == cache_control


def test_other_host_names_are_refused_with_the_same_headers(api):
    refused = api.get("/", headers={"host": "attacker.example"})
    assert refused.status_code == 400
    assert_security_headers(refused)


def test_the_pages_files_are_revalidated_and_answers_never_stored(api):
    for path in ("/", "/console.js", "/console.css", "/auth.js"):
        first = api.get(path)
        assert_security_headers(first, cache_control="no-cache")
        etag = first.headers["etag"]
        unchanged = api.get(path, headers={"if-none-match": etag})
        assert unchanged.status_code == 304 and unchanged.content == b"" and unchanged.headers["etag"] == etag
        assert api.get(path, headers={"if-none-match": '"other"'}).status_code == 200
    assert len({api.get(path).headers["etag"] for path in ("/", "/console.js", "/console.css")}) == 3
    assert_security_headers(api.get("/config.json"))
    assert_security_headers(api.post("/api/customer", json=HIGH_RISK))
    assert_security_headers(api.post("/api/customer", json={"area_code": 415}))


@pytest.mark.parametrize(("body", "words"), REFUSED_BODIES)
def test_bodies_the_parser_refuses_are_400_without_a_traceback(api, caplog, body, words):
    with caplog.at_level(logging.DEBUG):
        refused = api.post("/api/customer", content=body, headers={"content-type": "application/json"})
    assert refused.status_code == 400 and refused.json()["kind"] == "bad_request"
    assert words in refused.json()["error"]
    assert_security_headers(refused)
    assert "Traceback" not in caplog.text


def test_the_media_type_is_compared_without_case_and_with_parameters(api):
    for content_type in ("Application/JSON; charset=utf-8", "APPLICATION/JSON"):
        answer = api.post(
            "/api/customer", content=json.dumps(HIGH_RISK), headers={"content-type": content_type}
        )
        assert answer.status_code == 200, answer.text
    latin1 = api.post(
        "/api/customer",
        content=json.dumps(HIGH_RISK),
        headers={"content-type": "application/json; charset=latin-1"},
    )
    assert latin1.status_code == 415 and "UTF-8" in latin1.json()["error"]


def test_a_bug_outside_the_service_is_a_500_with_the_same_headers(api, monkeypatch):
    def broken(*_args):
        raise RuntimeError("a bug in the app")

    monkeypatch.setattr("churnguard.console.app.handle", broken)
    api_app = api.app
    with TestClient(
        api_app, base_url="http://127.0.0.1", headers=dict(api.headers), raise_server_exceptions=False
    ) as client:
        failed = client.post("/api/customer", json=HIGH_RISK)
    assert failed.status_code == 500 and "a bug in the app" not in failed.text
    assert_security_headers(failed)


def test_customer_lookup_gives_latest_message_and_recent_offers(api):
    answer = api.post("/api/customer", json=HIGH_RISK)
    assert answer.status_code == 200
    body = answer.json()
    assert body["area_code"] == 415 and body["phone"] == "358-1921"
    assert body["latest_message"]  # the synthetic data gives every customer a message
    assert isinstance(body["recent_offers"], list)


@pytest.mark.parametrize(
    ("body", "kind", "words"),
    [
        ({"area_code": 415, "phone": "3581921"}, "invalid_input", "phone must look like NNN-NNNN"),
        ({"area_code": "041", "phone": "358-1921"}, "invalid_input", "area code must be a 3-digit number"),
        ({"area_code": 415}, "bad_request", "missing field 'phone'"),
        ({**HIGH_RISK, "name": "x"}, "bad_request", "unknown field 'name'"),
        ([415, "358-1921"], "bad_request", "must be a JSON object"),
    ],
)
def test_malformed_lookups_are_400_naming_the_problem(api, body, kind, words):
    answer = api.post("/api/customer", json=body)
    assert answer.status_code == 400
    assert answer.json()["kind"] == kind and words in answer.json()["error"]


def test_unknown_customer_is_404_without_repeating_the_phone(api):
    for call in ("customer", "recommend"):
        answer = api.post(
            f"/api/{call}", json={**UNKNOWN, "message": "hello"} if call == "recommend" else UNKNOWN
        )
        assert answer.status_code == 404
        assert answer.json()["kind"] == "unknown_customer" and "000-0000" not in answer.json()["error"]


def test_requests_that_are_not_json_are_refused(api):
    as_form = api.post("/api/customer", content=b"area_code=415", headers={"content-type": "text/plain"})
    assert as_form.status_code == 415  # what a cross-site form could send without a CORS preflight
    broken = api.post("/api/customer", content=b"{", headers={"content-type": "application/json"})
    assert broken.status_code == 400 and broken.json()["error"].startswith(
        "the request body is not valid JSON"
    )
    huge = json.dumps({**HIGH_RISK, "message": "x" * MAX_BODY_BYTES})
    assert (
        api.post("/api/recommend", content=huge, headers={"content-type": "application/json"}).status_code
        == 413
    )
    assert api.get("/api/customer").status_code == 405


def test_high_risk_customer_gets_the_large_credit_in_plain_words(api):
    answer = api.post("/api/recommend", json={**HIGH_RISK, "message": NEGATIVE_MESSAGE})
    assert answer.status_code == 200
    body = answer.json()
    assert body["offer"] == "credit_25" and body["rule"] == "negative_high_risk"
    assert body["risk_band"] == "high" and body["churn_probability"] > 0.8
    assert body["sentiment"] == "NEGATIVE" and body["degraded"] is False and body["missing"] == []
    assert body["call_reason"] == "billing_dispute"
    assert any("calls to customer service" in sentence for sentence in body["driver_sentences"])
    assert all("churn risk" in sentence for sentence in body["driver_sentences"])
    # A group of columns (minutes and charges) is said in its few words, not as eight values.
    grouped = [d for d in body["drivers"] if len(d["columns"]) > 1]
    assert grouped, "the high-risk sample customer has a grouped driver"
    grouped_sentence = body["driver_sentences"][body["drivers"].index(grouped[0])]
    assert grouped_sentence.startswith(grouped[0]["label"]) and grouped_sentence.count("$") == 0
    assert isinstance(body["offer_id"], int)


def test_without_a_message_the_latest_on_file_is_used_and_said(api):
    answer = api.post("/api/recommend", json={**LOW_RISK, "message": None})
    assert answer.status_code == 200
    assert answer.json()["notes"][0] == "message: the customer's latest message on file"
    assert answer.json()["offer"] == "none"


def test_an_offer_this_week_is_listed_as_previous_and_flagged(api, console_db_url, console_engine):
    first = api.post("/api/recommend", json={**HIGH_RISK, "message": NEGATIVE_MESSAGE}).json()
    # The customer calls again and a colleague answers (the same agent would get the same offer back).
    with app_on(console_db_url, console_engine) as colleague:
        second = colleague.post("/api/recommend", json={**HIGH_RISK, "message": NEGATIVE_MESSAGE}).json()
    previous = second["previous_offers"]
    assert previous[0]["offer_id"] == first["offer_id"] and previous[0]["this_week"] is True
    assert previous[0]["days_ago"] == 0 and previous[0]["offer"] == "credit_25"
    assert second["offer_id"] not in [offer["offer_id"] for offer in previous]


def test_recorded_outcome_is_listed_and_counted_in_the_offers_report(
    api, console_db_url, experiment_customer
):
    customer = experiment_customer
    answer = api.post("/api/recommend", json={**customer, "message": NEGATIVE_MESSAGE}).json()
    assert answer["arm"] is not None, answer
    client = connect(console_db_url)
    try:
        before = _arm_outcomes(offers_report(client), answer["arm"])
        stored = api.post("/api/outcome", json={"offer_id": answer["offer_id"], "outcome": "accepted"})
        assert stored.status_code == 200
        assert stored.json() == {
            "offer_id": answer["offer_id"],
            "outcome": "accepted",
            "retained": True,
            "replaced": False,
        }
        after = _arm_outcomes(offers_report(client), answer["arm"])
    finally:
        client.close()
    assert after == (before[0] + 1, before[1] + 1)
    assert listed_outcome(api, customer, answer["offer_id"]) == ("accepted", True)
    corrected = api.post("/api/outcome", json={"offer_id": answer["offer_id"], "outcome": "call_ended"})
    assert corrected.json()["replaced"] is True and corrected.json()["retained"] is False
    assert listed_outcome(api, customer, answer["offer_id"]) == ("call_ended", False)
    client = connect(console_db_url)
    try:
        (row,) = [row for row in offers_report(client)["retention_by_arm"] if row["arm"] == answer["arm"]]
    finally:
        client.close()
    assert row["call_ended"] >= 1 and row["outcomes"] == after[0]  # the kind changed, not the count


def test_each_kind_is_kept_apart_and_retention_recorded_later_keeps_it(api, console_db_url, console_engine):
    kinds = {}
    for kind in ("accepted", "declined", "call_ended"):  # three calls, each answered by another agent
        with app_on(console_db_url, console_engine) as desk:
            answer = desk.post("/api/recommend", json={**HIGH_RISK, "message": NEGATIVE_MESSAGE}).json()
            outcome = {"offer_id": answer["offer_id"], "outcome": kind}
            assert desk.post("/api/outcome", json=outcome).status_code == 200
        kinds[kind] = answer["offer_id"]
    # Retention is known weeks later, past the agents' window: a supervisor records it.
    assert (
        main(
            [
                "offers",
                "record-outcome",
                "--supervisor",
                "--offer-id",
                str(kinds["declined"]),
                "--retained",
                "yes",
                "--db-url",
                console_db_url,
            ]
        )
        == 0
    )
    assert listed_outcome(api, HIGH_RISK, kinds["accepted"]) == ("accepted", True)
    assert listed_outcome(api, HIGH_RISK, kinds["declined"]) == ("declined", True)  # declined, stayed
    assert listed_outcome(api, HIGH_RISK, kinds["call_ended"]) == ("call_ended", False)


def listed_outcome(api, customer: dict, offer_id: int) -> tuple[str | None, bool | None]:
    """The outcome and retention the customer's recent-offers list shows for `offer_id`."""
    listed = api.post("/api/customer", json=customer).json()["recent_offers"]
    (offer,) = [offer for offer in listed if offer["offer_id"] == offer_id]
    return offer["outcome"], offer["retained"]


def test_outcome_for_an_unknown_offer_or_an_unknown_outcome_is_refused(api):
    missing = api.post("/api/outcome", json={"offer_id": 10**12, "outcome": "accepted"})
    assert missing.status_code == 404 and missing.json()["kind"] == "unknown_offer"
    wrong = api.post("/api/outcome", json={"offer_id": 1, "outcome": "maybe"})
    assert wrong.status_code == 400 and "accepted, declined, call_ended" in wrong.json()["error"]
    not_an_id = api.post("/api/outcome", json={"offer_id": "1", "outcome": "accepted"})
    assert not_an_id.status_code == 400


def test_degraded_answer_says_what_it_lacks(api, console_db_url):
    with failing_functions(console_db_url, *SENTIMENT_FUNCTIONS):
        answer = api.post("/api/recommend", json={**HIGH_RISK, "message": NEGATIVE_MESSAGE})
    assert answer.status_code == 200
    body = answer.json()
    assert body["degraded"] is True and body["sentiment"] is None
    assert body["missing"][0]["part"] == "sentiment"
    assert "judge the customer's mood yourself" in body["missing"][0]["reason"]
    assert SIGNAL_TEXT not in answer.text


def test_neither_score_nor_sentiment_is_502(api, console_db_url):
    with failing_functions(console_db_url, "will_churn", *SENTIMENT_FUNCTIONS):
        answer = api.post("/api/recommend", json={**HIGH_RISK, "message": NEGATIVE_MESSAGE})
    assert answer.status_code == 502 and answer.json()["kind"] == "no_answer"
    assert "Nothing was recorded" in answer.json()["error"]


def test_database_refusing_connections_is_503_in_words(console_engine):
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]
    with app_on(f"mysql://churnguard:pw@127.0.0.1:{port}/churnguard", console_engine) as client:
        answer = client.post("/api/customer", json=HIGH_RISK)
    assert answer.status_code == 503 and answer.json()["kind"] == "database_unreachable"
    assert "the database is not answering" in answer.json()["error"] and "Traceback" not in answer.text
    assert "pw" not in answer.json()["error"].split("@")[0].split("//")[-1]


def test_database_that_accepts_but_never_answers_fails_within_the_budget(console_engine):
    with socket.socket() as silent:  # listens, never greets: a frozen server as the client sees it
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        url = f"mysql://churnguard:pw@127.0.0.1:{port}/churnguard"
        with app_on(url, console_engine, budget_s=0.5) as client:
            started = time.monotonic()
            answer = client.post("/api/recommend", json={**HIGH_RISK, "message": NEGATIVE_MESSAGE})
            took = time.monotonic() - started
    assert answer.status_code == 503 and answer.json()["kind"] == "database_timeout"
    assert "did not answer within 0.5 s" in answer.json()["error"]
    assert took < 5  # bounded by the budget, not by a driver default


def test_a_bug_is_500_with_no_detail_and_a_stack_in_the_log_only(console_engine, caplog):
    def broken(deadline):
        raise RuntimeError(f"bug while handling {HIGH_RISK['phone']}")

    service = ConsoleService(
        engine=console_engine, clients=opened_per_call(broken), budget_s=1.0, actor=Actor(fresh_agent())
    )
    with caplog.at_level(logging.INFO), signed_in_client(service) as client:
        answer = client.post("/api/customer", json=HIGH_RISK)
    assert answer.status_code == 500 and answer.json()["kind"] == "internal"
    assert "358-1921" not in answer.text and "RuntimeError" not in answer.text
    assert "internal error RuntimeError" in caplog.text and "358-1921" not in caplog.text


def test_no_phone_number_or_message_reaches_the_logs(api, console_db_url, caplog):
    message = "Zebra-unique complaint: you charged me twice"
    with caplog.at_level(logging.DEBUG):
        api.post("/api/customer", json=HIGH_RISK)
        api.post("/api/recommend", json={**HIGH_RISK, "message": message})
        api.post("/api/customer", json={"area_code": 415, "phone": "35-1921"})
        with failing_functions(console_db_url, *SENTIMENT_FUNCTIONS):
            api.post("/api/recommend", json={**HIGH_RISK, "message": message})
    assert "console recommend: ok" in caplog.text
    for secret in ("358-1921", "35-1921", "Zebra-unique", NEGATIVE_MESSAGE):
        assert secret not in caplog.text


def _arm_outcomes(report: dict, arm: str) -> tuple[int, int]:
    rows = [row for row in report["retention_by_arm"] if row["arm"] == arm]
    return sum(row["outcomes"] for row in rows), sum(row["retained"] for row in rows)


def test_a_whole_call_works_as_the_api_user_the_deployed_console_connects_as(
    console_db_url, console_engine, mariadb_url
):
    # `churnguard console` connects as the API user `local up` records (churnguard.local.url), as the
    # deployed console's Lambda does on Aurora: look-up, offer, outcome and its correction, with
    # nothing but that user's table-level grants.
    parts = parse_url(console_db_url)
    user = AppUser(f"api_{secrets.token_hex(4)}", f"Pw{secrets.token_hex(12)}")
    admin = connect(mariadb_url)
    try:
        for step in api_user_statements(user, str(parts.database)):
            admin.execute(step.sql)
        api_url = f"mysql://{user.name}:{user.password}@{parts.host}:{parts.port}/{parts.database}"
        with app_on(api_url, console_engine) as api:
            assert api.post("/api/customer", json=HIGH_RISK).status_code == 200
            answer = api.post("/api/recommend", json={**HIGH_RISK, "message": NEGATIVE_MESSAGE}).json()
            assert answer["offer"] == "credit_25" and answer["degraded"] is False, answer
            for outcome in ("declined", "accepted"):
                recorded = api.post("/api/outcome", json={"offer_id": answer["offer_id"], "outcome": outcome})
                assert recorded.status_code == 200, recorded.json()
    finally:
        admin.execute(f"DROP USER IF EXISTS '{user.name}'@'%'")
        admin.close()
