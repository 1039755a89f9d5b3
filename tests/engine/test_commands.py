"""`churnguard recommend` and `churnguard offers` as a user runs them: output, exit codes, one-line errors."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from churnguard.cli import main
from churnguard.db import connect
from churnguard.engine.database_errors import DatabaseError, database_errors, redact
from churnguard.engine.failures import StatementRefused
from churnguard.engine.offers_log import Actor, OfferRecord, insert_offer, record_outcome
from churnguard.engine.recommend import Engine
from churnguard.engine.request import validate_request
from churnguard.sqlgen import apply_sql_files, static_sql_files
from tests.fixtures.agents import fresh_agent

pytestmark = pytest.mark.mariadb

SAMPLE = ["--area-code", "415", "--phone", "358-1921", "--message", "You morons! You charged me extra again!"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """`churnguard *argv`; a recommend speaks as an agent of its own, so no earlier test's offer to the
    same customer comes back as a repeat."""
    if argv[:1] == ("recommend",) and "--agent" not in argv:
        argv = (*argv, "--agent", fresh_agent())
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def offers_count(url: str) -> int:
    client = connect(url)
    try:
        return int(client.query("SELECT COUNT(*) AS n FROM offers_log")[0]["n"])
    finally:
        client.close()


def test_recommend_json_prints_one_object_with_the_fixed_fields(capsys, engine_db_url, trained_model_dir):
    code, out, err = run(
        capsys, "recommend", *SAMPLE, "--json", "--db-url", engine_db_url, "--model", str(trained_model_dir)
    )
    assert code == 0, err
    answer = json.loads(out)
    assert {"offer", "rule", "churn_probability", "sentiment", "confidence", "drivers", "arm"} <= set(answer)
    assert (answer["offer"], answer["rule"], answer["arm"]) == ("credit_25", "negative_high_risk", None)
    assert out.count("\n") == 1


def test_recommend_text_output_leads_with_the_offer(capsys, engine_db_url, trained_model_dir, monkeypatch):
    monkeypatch.setenv("CHURNGUARD_DB_URL", engine_db_url)
    monkeypatch.setenv("CHURNGUARD_MODEL_DIR", str(trained_model_dir))
    code, out, _ = run(capsys, "recommend", *SAMPLE, "--top", "2")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Offer: $25 credit on the next bill [credit_25]"
    assert lines[1].startswith("Rule:  negative_high_risk: sentiment NEGATIVE with confidence")
    drivers = [line for line in lines if line.startswith("  ") and "churn risk" in line]
    assert len(drivers) == 2
    assert lines[-1].startswith("Recorded as offer ")
    # Plain words, as the demo and the console say them: never the model's column names.
    assert "customer service calls 6: raises churn risk" in drivers[0]
    assert not any(name in out for name in ("cust_service_calls", "int_plan", "day_mins", "=")), out


def test_the_message_can_come_from_stdin(capsys, engine_db_url, trained_model_dir, monkeypatch):
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("You morons! You charged me extra again!\n"))
    argv = ["recommend", "--area-code", "415", "--phone", "358-1921", "--message", "-", "--json"]
    code, out, _ = run(capsys, *argv, "--db-url", engine_db_url, "--model", str(trained_model_dir))
    assert code == 0 and json.loads(out)["offer"] == "credit_25"


def test_without_a_message_the_latest_one_on_file_is_read(capsys, engine_db_url, trained_model_dir):
    argv = ["recommend", "--area-code", "415", "--phone", "358-1921", "--json", "--db-url", engine_db_url]
    code, out, err = run(capsys, *argv, "--model", str(trained_model_dir))
    assert code == 0, err
    answer = json.loads(out)
    assert answer["notes"][0] == "message: the customer's latest message on file"
    client = connect(engine_db_url)
    try:
        expected = client.query(
            "SELECT aws_comprehend_detect_sentiment(m.message, 'en') AS sentiment,"
            " aws_comprehend_detect_sentiment_confidence(m.message, 'en') AS confidence"
            " FROM customer_messages AS m WHERE m.area_code = 415 AND m.phone = '358-1921'"
            " ORDER BY m.received_at DESC, m.id DESC LIMIT 1"
        )[0]
    finally:
        client.close()
    assert (answer["sentiment"], answer["confidence"]) == (
        expected["sentiment"],
        pytest.approx(expected["confidence"]),
    )


BAD_INPUT = [
    (["--area-code", "41", "--phone", "358-1921", "--message", "hi"], "area code must be a 3-digit number"),
    (["--area-code", "415", "--phone", "3581921", "--message", "hi"], "phone must look like NNN-NNNN"),
    (["--area-code", "415", "--phone", "358-1921", "--message", "  "], "message is empty"),
    (["--area-code", "415", "--phone", "999-0000", "--message", "hi"], "no customer with area code 415"),
    (SAMPLE, "no trained model in"),
    (
        ["--area-code", "415", "--phone", "999-0000"],
        "no --message given and no message on file for area code 415",
    ),
]


@pytest.mark.parametrize(("argv", "expected"), BAD_INPUT)
def test_bad_input_is_one_line_on_stderr_and_exit_2(
    capsys, engine_db_url, trained_model_dir, tmp_path, argv, expected
):
    model = tmp_path if expected == "no trained model in" else trained_model_dir
    before = offers_count(engine_db_url)
    code, out, err = run(capsys, "recommend", *argv, "--db-url", engine_db_url, "--model", str(model))
    assert code == 2
    assert out == ""
    assert err.startswith("churnguard recommend: error: ") and expected in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "358-1921" not in err and "999-0000" not in err
    assert offers_count(engine_db_url) == before


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_database_is_a_clear_error(capsys, trained_model_dir):
    url = f"mysql://churnguard:secret@127.0.0.1:{free_port()}/churnguard"
    code, _, err = run(capsys, "recommend", *SAMPLE, "--db-url", url, "--model", str(trained_model_dir))
    assert code == 2
    assert "cannot connect" in err and "Traceback" not in err and "secret" not in err


def test_a_database_without_churnguard_installed_is_a_clear_error(
    capsys, sql_client, mariadb_url, trained_model_dir
):
    from tests.fixtures.mariadb import database_url

    url = database_url(mariadb_url, sql_client.query("SELECT DATABASE() AS db")[0]["db"])
    code, _, err = run(capsys, "recommend", *SAMPLE, "--db-url", url, "--model", str(trained_model_dir))
    assert code == 2
    assert err.startswith("churnguard recommend: error: recommend failed: database error 1146")
    assert "Traceback" not in err


def test_a_connection_lost_mid_call_records_nothing(engine: Engine, engine_db_url: str, mariadb_url: str):
    victim = connect(engine_db_url)
    admin = connect(mariadb_url)
    before = offers_count(engine_db_url)
    try:
        admin.execute(f"KILL {int(victim.query('SELECT CONNECTION_ID() AS id')[0]['id'])}")
        request = validate_request(415, "358-1921", "You morons! You charged me extra again!")
        with (
            pytest.raises(DatabaseError, match="recommend failed: database error") as raised,
            database_errors("recommend", secrets=[request.phone, request.message]),
        ):
            engine.recommend(victim, request, agent=fresh_agent())
        assert "358-1921" not in str(raised.value)
    finally:
        victim.close()
        admin.close()
    assert offers_count(engine_db_url) == before


def test_redaction_blanks_the_phone_and_the_message():
    assert redact("bad value '358-1921' near 'You morons'", ["358-1921", "You morons"]) == (
        "bad value '[redacted]' near '[redacted]'"
    )


# The agent the offers of these tests are written for (the CLI's --agent)


def offers_log_files() -> list:
    """The offers log's schema alone: the models registry and the offers log as released, then the
    migrations after them (which alter those two tables only)."""
    return [
        f for f in static_sql_files() if f.name in ("15_models.sql", "20_offers.sql") or "migration" in f.name
    ]


AGENT = Actor("agent-ann")


def record(
    rule: str,
    offer: str,
    cost: float,
    experiment: str | None = None,
    arm: str | None = None,
    *,
    sentiment: str | None = "NEGATIVE",
    churn_probability: float | None = 0.6,
):
    return OfferRecord(
        agent=AGENT.agent,
        area_code=415,
        phone="358-1921",
        sentiment=sentiment,
        confidence=None if sentiment is None else 0.9,
        churn_probability=churn_probability,
        drivers=[],
        rules_version="test",
        rule_name=rule,
        reason="because",
        experiment=experiment,
        arm=arm,
        offer=offer,
        offer_cost_usd=cost,
    )


def record_outcome_command(capsys, url: str, offer_id: int, *options: str) -> tuple[int, str, str]:
    """`churnguard offers record-outcome` for `offer_id` as AGENT, with `options` (--retained, --outcome)."""
    return run(
        capsys,
        "offers",
        "record-outcome",
        "--agent",
        AGENT.agent,
        "--offer-id",
        str(offer_id),
        *options,
        "--db-url",
        url,
    )


def test_offers_report_counts_costs_and_retention_by_arm(capsys, sql_client, mariadb_url, trained_model_dir):
    from tests.fixtures.mariadb import database_url

    # The offers log names the registry's live model (15_models.sql): both files and the migrations
    # after them (0002: its call_reason column) are applied.
    offers_sql = offers_log_files()
    assert len(offers_sql) == 4
    apply_sql_files(sql_client, offers_sql)
    apply_sql_files(sql_client, offers_sql)  # applying it again changes nothing
    url = database_url(mariadb_url, sql_client.query("SELECT DATABASE() AS db")[0]["db"])
    ids: dict[str, list[int]] = {"credit_15": [], "credit_5": []}
    with sql_client.transaction():
        for _ in range(3):
            insert_offer(sql_client, record("negative_high_risk", "credit_25", 25))
        for arm, cost, repeats in (("credit_15", 15, 4), ("credit_5", 5, 2)):
            for _ in range(repeats):
                ids[arm].append(
                    insert_offer(sql_client, record("negative_medium_risk", arm, cost, "exp", arm))
                )
        insert_offer(sql_client, record("high_risk_sentiment_unknown", "credit_5", 5, sentiment=None))
        for _ in range(2):
            insert_offer(sql_client, record("negative_risk_unknown", "credit_5", 5, churn_probability=None))
    outcomes = [(ids["credit_15"][0], "yes"), (ids["credit_15"][1], "yes"), (ids["credit_15"][2], "no")]
    outcomes += [(ids["credit_5"][0], "no"), (ids["credit_5"][0], "yes")]  # the second corrects the first
    for offer_id, retained in outcomes:
        code, out, _ = record_outcome_command(capsys, url, offer_id, "--retained", retained)
        assert code == 0
    assert out.startswith("replaced the earlier outcome of offer")

    code, out, _ = run(capsys, "offers", "report", "--json", "--db-url", url)
    assert code == 0
    report = json.loads(out)
    assert report["total_offers"] == 12 and report["total_cost_usd"] == 3 * 25 + 4 * 15 + 2 * 5 + 3 * 5
    # the test's records carry no call reason, so every degraded one is without one too
    assert report["degraded"] == {
        "offers": 3,
        "without_sentiment": 1,
        "without_score": 2,
        "without_call_reason": 3,
    }
    rows = [
        (r["rule"], r["arm"], r["offer"], r["offers"], r["cost_usd"], r["degraded"])
        for r in report["by_rule"]
    ]
    assert rows == [
        ("high_risk_sentiment_unknown", None, "credit_5", 1, 5.0, 1),
        ("negative_high_risk", None, "credit_25", 3, 75.0, 0),
        ("negative_medium_risk", "credit_15", "credit_15", 4, 60.0, 0),
        ("negative_medium_risk", "credit_5", "credit_5", 2, 10.0, 0),
        ("negative_risk_unknown", None, "credit_5", 2, 10.0, 2),
    ]
    fifteen, five = report["retention_by_arm"]
    assert (fifteen["arm"], fifteen["offers"], fifteen["outcomes"], fifteen["retained"]) == (
        "credit_15",
        4,
        3,
        2,
    )
    assert fifteen["retention"] == pytest.approx(2 / 3, abs=1e-4)
    low, high = fifteen["retention_95ci"]
    assert low < 2 / 3 < high
    assert (five["outcomes"], five["retained"], five["retention"]) == (1, 1, 1.0)
    # Retention for every offer with an outcome, by rule and by offer, not only experiment arms.
    by_rule = {item["rule"]: item for item in report["retention_by_rule"]}
    assert (by_rule["negative_medium_risk"]["outcomes"], by_rule["negative_medium_risk"]["retained"]) == (
        4,
        3,
    )
    assert (
        by_rule["negative_high_risk"]["outcomes"] == 0 and by_rule["negative_high_risk"]["retention"] is None
    )
    by_offer = {item["offer"]: item for item in report["retention_by_offer"]}
    assert (by_offer["credit_5"]["offers"], by_offer["credit_5"]["outcomes"]) == (5, 1)
    assert by_offer["credit_15"]["retention"] == pytest.approx(2 / 3, abs=1e-4)
    (difference,) = report["arm_differences"]
    assert (difference["arm"], difference["versus"], difference["outcomes"]) == (
        "credit_15",
        "credit_5",
        [3, 1],
    )
    assert difference["enough_outcomes"] is False
    assert difference["difference"] == pytest.approx(2 / 3 - 1, abs=1e-4)
    # The period is the log's own dates, not a placeholder such as 1970-01-01.
    assert report["since"] is None and report["first_offer_at"] <= report["last_offer_at"]
    assert report["period"].startswith("every offer recorded, ") and "1970" not in report["period"]

    code, out, _ = run(capsys, "offers", "report", "--db-url", url)
    assert "negative_medium_risk" in out and "66.7%" in out
    assert "Degraded answers: 3 (1 without sentiment, 2 without churn score, 3 without call reason)" in out
    assert out.startswith(f"Offers ({report['period']}): 12, cost $160.00")
    assert "exp: not enough outcomes yet: credit_15 has 3, credit_5 has 1 of the 30" in out
    # Given the model, its training's cost per offer is shown beside the rules' own offer costs.
    code, out, _ = run(
        capsys, "offers", "report", "--json", "--db-url", url, "--model", str(trained_model_dir)
    )
    costs = json.loads(out)["cost_assumptions"]
    assert (costs["training_offer_usd"], costs["training_lost_customer_usd"]) == (50.0, 500.0)
    assert costs["rules_offer_cost_usd"]["credit_25"] == 25.0 and costs["agree"] is False
    assert costs["mean_cost_of_paid_offers_usd"] == round(160 / 12, 2)
    code, out, _ = run(capsys, "offers", "report", "--db-url", url, "--since", "2999-01-01")
    assert out.startswith("Offers (no offers since 2999-01-01): 0")

    code, _, err = run(
        capsys, "offers", "record-outcome", "--offer-id", "999999", "--retained", "yes", "--db-url", url
    )
    assert code == 2 and "no offer with id 999999" in err


def test_record_outcome_takes_how_the_call_ended_and_the_report_counts_each_kind(
    capsys, sql_client, mariadb_url
):
    from tests.fixtures.mariadb import database_url

    apply_sql_files(sql_client, offers_log_files())
    url = database_url(mariadb_url, sql_client.query("SELECT DATABASE() AS db")[0]["db"])
    with sql_client.transaction():
        ids = [insert_offer(sql_client, record("negative_medium_risk", "credit_15", 15, "exp", "credit_15"))]
        ids += [insert_offer(sql_client, record("negative_high_risk", "credit_25", 25)) for _ in range(3)]

    def outcome(offer_id: int, *options: str) -> tuple[int, str, str]:
        return record_outcome_command(capsys, url, offer_id, *options)

    assert outcome(ids[0], "--outcome", "accepted")[1] == f"recorded the outcome of offer {ids[0]}: " + (
        "outcome=accepted, retained=yes\n"
    )
    assert outcome(ids[1], "--outcome", "call_ended")[1].endswith("outcome=call_ended, retained=no\n")
    assert outcome(ids[2], "--outcome", "declined")[0] == 0
    # The customer who declined stayed after all: retention corrected, the call's outcome kept.
    assert (
        outcome(ids[2], "--retained", "yes")[1]
        == f"replaced the earlier outcome of offer {ids[2]}: retained=yes\n"
    )
    assert outcome(ids[3], "--retained", "no")[0] == 0  # retention alone, no kind
    code, _, err = outcome(ids[3])
    assert (
        code == 2 and "give --outcome (accepted, declined, call_ended), --retained (yes, no), or both" in err
    )
    with pytest.raises(SystemExit) as refused:
        outcome(ids[3], "--outcome", "maybe")
    assert refused.value.code == 2 and "invalid choice: 'maybe'" in capsys.readouterr().err

    code, out, _ = run(capsys, "offers", "report", "--json", "--db-url", url)
    report = json.loads(out)
    assert report["outcome_kinds"] == {"accepted": 1, "declined": 1, "call_ended": 1, "without_kind": 1}
    by_rule = {item["rule"]: item for item in report["retention_by_rule"]}
    high = by_rule["negative_high_risk"]
    assert (
        high["outcomes"],
        high["retained"],
        high["declined"],
        high["call_ended"],
        high["without_kind"],
    ) == (
        3,
        1,
        1,
        1,
        1,
    )
    (arm,) = report["retention_by_arm"]
    assert (arm["accepted"], arm["retained"], arm["retention"]) == (1, 1, 1.0)
    code, out, _ = run(capsys, "offers", "report", "--db-url", url)
    assert "Outcomes recorded: 4 (1 accepted, 1 declined, 1 call ended, 1 retention only)" in out
    (line,) = [line for line in out.splitlines() if line.startswith("negative_high_risk ")][-1:]
    assert line.split()[1:5] == ["3", "3", "0/1/1", "1"]  # offers, outcomes, acc/dec/end, retained


def test_the_database_refuses_an_outcome_that_is_not_a_kind(sql_client):
    apply_sql_files(sql_client, offers_log_files())
    offer_id = insert_offer(sql_client, record("negative_high_risk", "credit_25", 25))
    with pytest.raises(StatementRefused, match="offer_outcomes_kind"):
        sql_client.execute(
            "INSERT INTO offer_outcomes (offer_id, retained, outcome, recorded_at)"
            " VALUES (%(id)s, 0, 'maybe', UTC_TIMESTAMP(6))",
            {"id": offer_id},
        )
    with pytest.raises(ValueError, match="accepted, declined, call_ended"):
        record_outcome(sql_client, offer_id, actor=AGENT, outcome="maybe")


def test_offers_report_on_a_database_without_the_log_says_what_to_do(capsys, sql_client, mariadb_url):
    from tests.fixtures.mariadb import database_url

    url = database_url(mariadb_url, sql_client.query("SELECT DATABASE() AS db")[0]["db"])
    code, _, err = run(capsys, "offers", "report", "--db-url", url)
    assert code == 2 and "no offers log: apply sql/20_offers.sql" in err


def test_the_shipped_rules_path_can_be_overridden(capsys, engine_db_url, trained_model_dir, tmp_path: Path):
    broken = tmp_path / "rules.json"
    broken.write_text('{"version": 1}', encoding="utf-8")
    code, _, err = run(
        capsys,
        "recommend",
        *SAMPLE,
        "--db-url",
        engine_db_url,
        "--model",
        str(trained_model_dir),
        "--rules",
        str(broken),
    )
    assert code == 2 and f"rules file {broken}: top level: missing field 'offers'" in err


def test_the_cli_starts_without_importing_the_training_stack():
    # Every `churnguard recommend` builds the whole parser first; importing xgboost, scikit-learn and
    # pandas there cost about two seconds per call. A fresh interpreter shows what building it imports.
    probe = (
        "import sys; from churnguard.cli import build_parser; build_parser(); "
        "print(sorted({'xgboost', 'sklearn', 'pandas', 'training.pipeline'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
