"""report.html's first section, for a manager: costs and savings from a known small case, drivers in
plain words with their direction, segments flagged only for large differences beyond noise."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnguard.engine.rules import ModelCutoff, load_rules
from training.manager_section import (
    DriverSummary,
    _direction,
    cost_figures,
    flag_segments,
    manager_html,
)

# Ten customers, three churners; offers at probability >= 0.5 go to customers 0, 1 and 3.
CHURN = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
SCORES = np.array([0.9, 0.6, 0.2, 0.7, 0.1, 0.1, 0.3, 0.2, 0.4, 0.05])


def test_cost_figures_of_a_known_small_case():
    figures = cost_figures(CHURN, SCORES, 0.5, offer_usd=50, lost_customer_usd=500)
    assert (figures.customers, figures.churners, figures.offered) == (10, 3, 3)
    assert (figures.caught, figures.missed) == (2, 1)
    assert figures.cost_at_cutoff == 3 * 50 + 1 * 500 == 650
    assert figures.cost_do_nothing == 3 * 500 == 1500
    assert figures.saving == 850
    assert figures.saving_percent == pytest.approx(100 * 850 / 1500)


def test_the_section_states_the_assumptions_and_the_figures_in_words():
    figures = cost_figures(CHURN, SCORES, 0.5, offer_usd=50, lost_customer_usd=500)
    section = manager_html(
        figures,
        cutoff=0.5,
        trained_at="2026-11-26 10:00 UTC",
        data_source="customers.csv",
        data={"rows": 10, "churn_rate": 0.3, "fingerprint": "sha256:abc"},
        drivers=[DriverSummary("international plan", 0.4, "no international plan lowers churn risk")],
        segments=[],
        rules_note_html="rules note <b>x</b>",
        rules_offer_usd=(5.0, 25.0),
    )
    text = re.sub(r"<[^>]+>", "", section)
    assert "An incentive offer costs $50.00; a customer who leaves costs $500.00" in text
    assert "at or above the cut-off 0.5" in text
    assert "customers offered an incentive3 (30.0% of customers)" in text
    assert "churners caught (offered an incentive)2 of 3 (66.7%)" in text
    assert "churners missed1" in text
    assert "cost with the model$650" in text and "cost of doing nothing (every churner lost)$1,500" in text
    assert "saving against doing nothing$850 (57%), about $85,000 per 1,000 customers" in text
    assert "Trained on 2026-11-26 10:00 UTC from customers.csv: 10 customers, 30.0% of whom churned" in text
    assert "international plan: no international plan lowers churn risk" in text
    assert "rules note <b>x</b>" in section  # HTML the report built, with its own values escaped
    # The same 3 customers offered at the rules' prices: 1,500 - (3 x 25 + 500) and 1,500 - (3 x 5 + 500).
    assert "saving with the shipped rules ($5 to $25 per offer)$925 to $985" in text


def test_directions_in_plain_words():
    customers = pd.DataFrame(
        {
            "int_plan": ["yes", "yes", "no", "no", "no", "no"],
            "cust_service_calls": [0, 1, 2, 3, 4, 5],
            "day_mins": [10.0, 20, 30, 40, 50, 60],
            "eve_mins": [5.0, 5, 5, 5, 5, 5],
        }
    )
    plan = np.array([0.8, 0.7, -0.2, -0.1, -0.3, -0.2])
    assert _direction("international plan", ["int_plan"], customers, plan) == (
        "having an international plan raises churn risk; no international plan lowers it"
    )
    assert _direction("international plan", ["int_plan"], customers, -plan).startswith(
        "no international plan raises churn risk"
    )
    calls = np.array([-0.5, -0.4, -0.1, 0.2, 1.5, 2.0])
    assert _direction("customer service calls", ["cust_service_calls"], customers, calls) == (
        "the more customer service calls, the higher the churn risk"
    )
    usage = np.array([0.3, 0.2, 0.1, 0.0, -0.1, -0.2])
    assert _direction("minutes", ["day_mins", "eve_mins"], customers, usage) == (
        "the more minutes, the lower the churn risk"
    )
    assert _direction("account age (days)", ["cust_service_calls"], customers, calls) == (
        "the older the account, the higher the churn risk"
    )
    flat = np.array([0.2, -0.1, 0.0, 0.0, -0.1, 0.2])  # high at both ends: rank correlation 0
    assert _direction("customer service calls", ["cust_service_calls"], customers, flat).startswith(
        "no consistent direction"
    )


def test_segments_are_percentages_and_only_large_differences_beyond_noise_are_flagged():
    segments = pd.DataFrame(
        [
            # 58% churn among 24 customers against 15% overall: far outside its interval, flagged.
            {
                "segment": "int_plan",
                "value": "yes",
                "rows": 24,
                "churners": 14,
                "churn_rate": 14 / 24,
                "false_negative_rate": 0.0,
            },
            # 40% among 5 customers: a large gap, but five customers are too few to tell it from chance.
            {
                "segment": "area_code",
                "value": "510",
                "rows": 5,
                "churners": 2,
                "churn_rate": 0.4,
                "false_negative_rate": 0.5,
            },
            # 16% among 500: close to the whole set, not flagged.
            {
                "segment": "area_code",
                "value": "415",
                "rows": 500,
                "churners": 80,
                "churn_rate": 0.16,
                "false_negative_rate": 0.1,
            },
        ]
    )
    rows = flag_segments(segments, {"churn rate": 0.15, "churners caught": 0.9})
    assert rows[0] == {
        "segment": "international plan",
        "group": "yes",
        "customers": 24,
        "churn rate": "58.3%",
        "churners caught": "100.0%",
        "large difference": "churn rate 58% vs 15% overall",
    }
    assert rows[1]["large difference"] == "" and rows[1]["churn rate"] == "40.0%"
    assert rows[2]["large difference"] == ""


def test_the_trained_report_opens_with_the_manager_section(trained_model_dir: Path):
    report = (trained_model_dir / "report.html").read_text(encoding="utf-8")
    metadata = json.loads((trained_model_dir / "metadata.json").read_text(encoding="utf-8"))
    cost = metadata["cost"]
    manager = report.index('<section id="for-managers">')
    assert manager < report.index("Technical summary") < report.index("Cross-validation")
    section = re.sub(r"<[^>]+>", "", report[manager : report.index("</section>")])
    # The section's costs are the run's own: the same arithmetic training chose the cut-off with.
    assert f"cost with the model${cost['at_cutoff']:,.0f}" in section
    assert f"cost of doing nothing (every churner lost)${cost['do_nothing']:,.0f}" in section
    saving = cost["do_nothing"] - cost["at_cutoff"]
    assert f"saving against doing nothing${saving:,.0f} ({100 * saving / cost['do_nothing']:.0f}%)" in section
    assert f"on {cost['test_rows']} test customers" in section
    assert f"cut-off {metadata['cutoff']:g}" in section
    assert "Trained on 20" in section and "from a customer table given to training.pipeline.train" in section
    assert "What drives churn risk" in section and "customer service calls" in section
    rules = load_rules(model_cutoff=ModelCutoff(metadata["cutoff"], "metadata.json"))
    paying = sorted({offer.cost_usd for offer in rules.offers.values() if offer.cost_usd > 0})
    assert f"pay ${paying[0]:.2f} to ${paying[-1]:.2f} per offer, not $50.00" in section
    assert f"saving with the shipped rules (${paying[0]:.0f} to ${paying[-1]:.0f} per offer)" in section
    assert "`" not in report  # commands are <code>, never literal backticks
    # The technical sections name segments and rates as the manager's section does.
    errors = re.sub(r"<[^>]+>", " ", report[report.index("Error rates by segment") :])
    assert "international plan" in errors and "churn rate" in errors
    assert not re.search(
        r"\b(int_plan|vmail_plan|area_code|churn_rate)\b", errors.split("Feature importance")[0]
    )
    assert "358-1921" not in report
