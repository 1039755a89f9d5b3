"""The recommend flow against a real local database: the reference's two sample calls, the answer's
parts, the offers log, bad input, injection attempts and failures that must leave nothing behind.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xgboost

from churnguard.db import PyMySqlClient
from churnguard.engine.recommend import Engine, UnknownCustomerError
from churnguard.engine.request import validate_request
from churnguard.model_folder import ModelFolder, model_id_of, write_metadata
from tests.fixtures.agents import fresh_agent

pytestmark = pytest.mark.mariadb

HIGH_RISK = (415, "358-1921", "You morons! You charged me extra again!")
LOW_RISK = (408, "375-9999", "What are your opening hours?")
ANSWER_FIELDS = {"offer", "rule", "churn_probability", "sentiment", "confidence", "drivers", "arm"}


def count(client: PyMySqlClient, table: str) -> int:
    return int(client.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"])


def logged(client: PyMySqlClient, offer_id: int) -> dict:
    return client.query("SELECT * FROM offers_log WHERE id = %(id)s", {"id": offer_id})[0]


def test_angry_high_risk_customer_gets_the_25_dollar_credit(engine: Engine, engine_db: PyMySqlClient):
    answer = engine.recommend(engine_db, validate_request(*HIGH_RISK), agent=fresh_agent())
    assert set(answer) >= ANSWER_FIELDS
    assert answer["offer"] == "credit_25"
    assert answer["offer_description"] == "$25 credit on the next bill"
    assert answer["rule"] == "negative_high_risk"
    assert answer["sentiment"] == "NEGATIVE" and answer["confidence"] > 0.7
    assert answer["churn_probability"] > 0.8
    assert answer["arm"] is None and answer["experiment"] is None
    assert answer["reason"].startswith("sentiment NEGATIVE with confidence")
    assert answer["notes"] == []  # the bundled trees give the database's own score
    assert 1 <= len(answer["drivers"]) <= 5
    assert json.loads(json.dumps(answer)) == answer  # plain JSON, nothing the API could not send

    row = logged(engine_db, answer["offer_id"])
    assert (row["area_code"], row["phone"], row["rule_name"], row["offer"]) == (
        415,
        "358-1921",
        "negative_high_risk",
        "credit_25",
    )
    assert float(row["offer_cost_usd"]) == 25.0
    assert row["sentiment"] == "NEGATIVE" and row["arm"] is None
    assert row["churn_probability"] == pytest.approx(answer["churn_probability"])
    assert json.loads(row["drivers"]) == answer["drivers"]
    assert row["rules_version"] == engine.rules.version


def test_calm_low_risk_customer_gets_no_incentive(engine: Engine, engine_db: PyMySqlClient):
    answer = engine.recommend(engine_db, validate_request(*LOW_RISK), agent=fresh_agent())
    assert answer["offer"] == "none"
    assert answer["churn_probability"] < 0.4
    assert answer["rule"] in {"positive_low_risk", "negative_low_risk", "no_rule_matched"}
    assert logged(engine_db, answer["offer_id"])["offer"] == "none"


def test_drivers_are_xgboosts_contributions_for_that_customer(
    engine: Engine, engine_db: PyMySqlClient, trained_model_dir: Path
):
    answer = engine.recommend(engine_db, validate_request(*HIGH_RISK), agent=fresh_agent())
    customer = engine_db.query(
        "SELECT * FROM customers WHERE area_code = %(a)s AND phone = %(p)s", {"a": 415, "p": "358-1921"}
    )[0]
    spec = engine.explainer.spec
    booster = xgboost.Booster(model_file=str(trained_model_dir / "model.json"))
    matrix = xgboost.DMatrix(
        np.array([spec.values_for(customer)], dtype=np.float32), feature_names=spec.names
    )
    expected = booster.predict(matrix, pred_contribs=True, approx_contribs=True)[0]
    by_name = dict(zip(spec.names, expected[:-1], strict=True))
    # A driver is a feature or a group of correlated ones (docs/engine.md): its contribution is the sum
    # of its features' xgboost contributions, and the drivers come largest first.
    totals = []
    for driver in answer["drivers"]:
        total = sum(float(by_name[member["feature"]]) for member in driver["members"])
        totals.append(abs(total))
        assert driver["contribution"] == pytest.approx(total, abs=1e-4)
        for member in driver["members"]:
            assert member["contribution"] == pytest.approx(float(by_name[member["feature"]]), abs=1e-4)
        for column, value in driver["columns"].items():
            if isinstance(customer[column], str):
                assert value == customer[column]
            else:
                assert value == pytest.approx(float(customer[column]))
    assert totals == sorted(totals, reverse=True)
    assert answer["drivers"][0]["text"].startswith("customer service calls 6: raises churn risk")
    # The contributions add up to the database's own score.
    assert 1 / (1 + np.exp(-expected.sum())) == pytest.approx(answer["churn_probability"], abs=1e-5)


def test_unknown_customer_is_refused_and_nothing_recorded(engine: Engine, engine_db: PyMySqlClient):
    before = count(engine_db, "offers_log")
    with pytest.raises(UnknownCustomerError, match="no customer with area code 415 and that phone number"):
        engine.recommend(engine_db, validate_request(415, "000-0000", "hello"), agent=fresh_agent())
    assert count(engine_db, "offers_log") == before


INJECTIONS = [
    "'; DROP TABLE customers; --",
    '"); DELETE FROM offers_log; --',
    "x' OR '1'='1",
    "\\'; TRUNCATE offers_log; -- \\",
    "%(phone)s %(area_code)s %s %% {message} {0}",
    "Robert'); UPDATE customers SET churn = 1; --",
    "nul\x00byte and more",
    "angry 😡😡 emoji 📱",
    "SELECT * FROM customers WHERE 1=1 UNION SELECT user, password FROM mysql.user",
]


def test_injection_attempts_are_data_and_leave_the_tables_intact(engine: Engine, engine_db: PyMySqlClient):
    checksum_before = engine_db.query("CHECKSUM TABLE customers")[0]
    customers_before = count(engine_db, "customers")
    offers_before = count(engine_db, "offers_log")
    for message in INJECTIONS:
        answer = engine.recommend(engine_db, validate_request(415, "358-1921", message), agent=fresh_agent())
        assert answer["sentiment"] in {"POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"}
    assert count(engine_db, "customers") == customers_before
    assert engine_db.query("CHECKSUM TABLE customers")[0] == checksum_before
    assert count(engine_db, "offers_log") == offers_before + len(INJECTIONS)
    assert {
        row["name"]
        for row in engine_db.query(
            "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
        )
    } >= {
        "customers",
        "offers_log",
        "offer_outcomes",
    }


def test_a_message_over_the_comprehend_limit_is_cut_and_the_answer_says_so(
    engine: Engine, engine_db: PyMySqlClient
):
    answer = engine.recommend(
        engine_db, validate_request(415, "358-1921", "You morons! " * 600), agent=fresh_agent()
    )
    assert answer["message_truncated"] is True
    assert any("7200 bytes" in note and "first 5000 bytes" in note for note in answer["notes"])
    assert answer["sentiment"] == "NEGATIVE"


def test_a_medium_risk_angry_customer_is_in_one_arm_on_every_call(engine: Engine, engine_db: PyMySqlClient):
    customers = engine_db.query("SELECT * FROM customers ORDER BY area_code, phone")
    spec, ensemble = engine.explainer.spec, engine.explainer.ensemble
    medium = [row for row in customers if 0.45 < ensemble.probability(spec.values_for(row)) < 0.75]
    assert medium, "the fixture data should hold medium-risk customers"
    customer = medium[0]
    request = validate_request(
        customer["area_code"], customer["phone"], "You morons! You charged me extra again!"
    )
    first = engine.recommend(engine_db, request, agent=fresh_agent())
    second = engine.recommend(engine_db, request, agent=fresh_agent())
    assert first["rule"] == "negative_medium_risk"
    assert first["experiment"] == "credit_15_vs_5"
    assert first["arm"] == second["arm"] and first["arm"] in {"credit_15", "credit_5"}
    assert first["offer"] == first["arm"]
    assert logged(engine_db, first["offer_id"])["arm"] == first["arm"]


def test_drivers_from_another_model_than_the_databases_are_flagged(
    engine: Engine, engine_db: PyMySqlClient, trained_model_dir: Path, tmp_path: Path
):
    """A Lambda bundle whose model is not the deployed model must not explain silently. (The bundled
    folder is consistent in itself, its id its model.json's: ModelFolder refuses a mixed one.)"""
    model = json.loads((trained_model_dir / "model.json").read_text(encoding="utf-8"))
    model["learner"]["learner_model_param"]["base_score"] = "9E-1"
    (tmp_path / "model.json").write_text(json.dumps(model), encoding="utf-8")
    other_id = model_id_of((tmp_path / "model.json").read_bytes())
    write_metadata(tmp_path, {**ModelFolder.read(trained_model_dir).document, "model_id": other_id})
    stale = Engine.load(tmp_path)
    answer = stale.recommend(engine_db, validate_request(*LOW_RISK), agent=fresh_agent())
    assert len(answer["notes"]) == 1
    assert "the deployed model and the bundled model.json differ" in answer["notes"][0]
    assert f"not {answer['churn_probability']:.3f}" in answer["notes"][0]


def test_the_answer_names_the_models_cut_off_it_used(
    engine: Engine, engine_db: PyMySqlClient, trained_model_dir: Path
):
    """The shipped rules offer from the cut-off in the loaded model's metadata.json, and say so."""
    cutoff = json.loads((trained_model_dir / "metadata.json").read_text())["cutoff"]
    assert engine.rules.model_cutoff.value == cutoff
    answer = engine.recommend(engine_db, validate_request(*LOW_RISK), agent=fresh_agent())
    from_model = [item for item in answer["thresholds"] if item["source"].startswith("the model's cut-off")]
    if answer["churn_probability"] < cutoff:
        assert answer["offer"] == "none"
    assert from_model == [
        {
            "comparison": "<" if answer["churn_probability"] < cutoff else ">=",
            "value": cutoff,
            "source": f"the model's cut-off, from {trained_model_dir / 'metadata.json'}",
        }
    ]
    assert f"{cutoff:g} (the model's cut-off)" in answer["reason"]
