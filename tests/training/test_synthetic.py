"""The synthetic customer table and messages: schema, realism, determinism and the fixed sample customers."""

from __future__ import annotations

import re

import numpy as np

from churnguard.customer_schema import COLUMN_NAMES
from training.synthetic import PRICE_PER_MINUTE, generate_customers, generate_messages


def test_columns_and_value_forms_match_the_customer_schema() -> None:
    customers = generate_customers(2_000, seed=3)
    assert list(customers.columns) == list(COLUMN_NAMES)
    assert customers["churn"].dtype == bool
    assert set(customers["int_plan"]) == {"yes", "no"} and set(customers["vmail_plan"]) == {"yes", "no"}
    assert set(customers["area_code"]) == {408, 415, 510}
    assert all(re.fullmatch(r"\d{3}-\d{4}", phone) for phone in customers["phone"])
    assert not customers.duplicated(["area_code", "phone"]).any()
    assert (customers.loc[customers["vmail_plan"] == "no", "vmail_msg"] == 0).all()
    for period, price in PRICE_PER_MINUTE.items():
        assert np.allclose(customers[f"{period}_charge"], (customers[f"{period}_mins"] * price).round(2))


def test_churn_rate_is_near_the_public_data_and_driven_by_plausible_factors() -> None:
    customers = generate_customers(10_000, seed=11)
    assert 0.13 <= customers["churn"].mean() <= 0.16
    by_calls = customers.groupby(customers["cust_service_calls"] >= 4)["churn"].mean()
    assert by_calls[True] > 2 * by_calls[False]
    by_plan = customers.groupby("int_plan")["churn"].mean()
    assert by_plan["yes"] > 2 * by_plan["no"]


def test_same_seed_same_table_other_seed_other_table() -> None:
    assert generate_customers(500, seed=5).equals(generate_customers(500, seed=5))
    assert not generate_customers(500, seed=5).equals(generate_customers(500, seed=6))


def test_the_two_sample_customers_are_always_present_with_extreme_profiles() -> None:
    for rows in (2, 3, 50):
        customers = generate_customers(rows, seed=1)
        keyed = customers.set_index(["area_code", "phone"])
        high, low = keyed.loc[(415, "358-1921")], keyed.loc[(408, "375-9999")]
        assert len(customers) == rows
        assert (high["int_plan"], high["cust_service_calls"] >= 4, bool(high["churn"])) == ("yes", True, True)
        assert (low["int_plan"], low["cust_service_calls"] <= 1, bool(low["churn"])) == ("no", True, False)


def test_messages_cover_every_tone_and_read_like_people_writing() -> None:
    customers = generate_customers(400, seed=2)
    messages = generate_messages(customers, seed=2)
    assert list(messages.columns) == ["area_code", "phone", "message", "tone"]
    assert set(messages["tone"]) == {"positive", "neutral", "negative"}
    assert messages[["area_code", "phone"]].equals(customers[["area_code", "phone"]])
    assert messages["message"].str.contains("'").any() and messages["message"].str.contains('"').any()
    keyed = messages.set_index(["area_code", "phone"])
    assert keyed.loc[(415, "358-1921"), "tone"] == "negative"
    assert keyed.loc[(408, "375-9999"), "tone"] == "positive"
    churners = messages["tone"][customers["churn"].to_numpy()]
    stayers = messages["tone"][~customers["churn"].to_numpy()]
    assert (churners == "negative").mean() > 2 * (stayers == "negative").mean()
    assert generate_messages(customers, seed=2).equals(messages)
