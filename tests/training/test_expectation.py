"""What `make train` and the report's first screen say to expect: the cross-validated estimate with its
spread, the test part's figures with 95% intervals, and whether the two disagree beyond that noise."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from churnguard.commands.train import summary_text
from training.evaluate import auc_interval, mean_interval
from training.expectation import expectation_lines

METADATA = {
    "metrics": {
        "chosen": "reduced",
        "full": {"test_auc": 0.85, "validation_auc": 0.93},
        "reduced": {"test_auc": 0.854, "validation_auc": 0.931, "test_auc_interval_95": [0.785, 0.924]},
    },
    "cost": {
        "test_rows": 333,
        "do_nothing": 24000.0,
        "lost_customer_usd": 500.0,
        "offer_usd": 50.0,
        "at_cutoff": 7800.0,
        "per_customer": 23.42,
        "per_customer_interval_95": [13.37, 33.47],
    },
    "cross_validation": {
        "folds": 5,
        "rows": 3000,
        "reduced": {"auc": {"mean": 0.931, "std": 0.008}, "cost_per_customer": {"mean": 15.55, "std": 0.51}},
    },
}


def test_the_cross_validated_estimate_comes_first_with_its_spread():
    estimate, test, _ = expectation_lines(METADATA)
    assert estimate.startswith("expected on new customers: AUC 0.931 ± 0.008, $15.55 ± $0.51 per customer")
    assert "5 cross-validation folds of 3,000 customers" in estimate
    assert test == (
        "test part, 333 customers the search never saw (48 churners): AUC 0.854 (95% interval 0.785 to "
        "0.924), $23.42 per customer (95% interval $13.37 to $33.47)"
    )


def test_a_test_part_outside_its_own_noise_is_said_to_disagree():
    agreement = expectation_lines(METADATA)[2]
    assert agreement.startswith("the test part disagrees with that estimate by more than the noise of 333")
    assert "its AUC 0.854 against 0.931" in agreement and "harder to tell apart" in agreement
    assert "per customer against" not in agreement  # $15.55 lies inside $13.37-$33.47


def test_a_test_part_within_its_noise_agrees():
    near = copy.deepcopy(METADATA)
    near["metrics"]["reduced"]["test_auc_interval_95"] = [0.90, 0.96]
    assert (
        expectation_lines(near)[2]
        == "the test part agrees with that estimate within the noise of 333 customers"
    )


def test_sagemaker_training_has_one_validation_part_and_says_so():
    one_part = copy.deepcopy(METADATA)
    del one_part["cross_validation"]
    assert expectation_lines(one_part)[0].startswith(
        "expected on new customers: AUC about 0.931 (the validation"
    )


def test_the_auc_interval_has_the_width_resampling_finds():
    """Hanley and McNeil's closed form against the spread of AUCs over resampled test parts."""
    generator = np.random.default_rng(7)
    churn = np.r_[np.ones(48), np.zeros(285)]
    scores = np.r_[generator.normal(1.5, 1, 48), generator.normal(0, 1, 285)]
    auc = roc_auc_score(churn, scores)
    low, high = auc_interval(auc, positives=48, negatives=285)
    resampled = []
    for _ in range(2000):
        rows = np.r_[generator.integers(0, 48, 48), 48 + generator.integers(0, 285, 285)]
        resampled.append(roc_auc_score(churn[rows], scores[rows]))
    assert low < auc < high
    assert (high - low) == pytest.approx(2 * 1.96 * np.std(resampled), rel=0.2)


def test_the_mean_interval_is_the_normal_one():
    values = np.array([0.0] * 30 + [50.0] * 10)
    low, high = mean_interval(values)
    half = 1.959964 * values.std(ddof=1) / np.sqrt(40)
    assert (low, high) == (round(12.5 - half, 4), round(12.5 + half, 4))


def test_a_trained_folder_records_the_intervals_and_the_summary_says_them(trained_model_dir: Path):
    metadata = json.loads((trained_model_dir / "metadata.json").read_text(encoding="utf-8"))
    chosen = metadata["metrics"]["chosen"]
    low, high = metadata["metrics"][chosen]["test_auc_interval_95"]
    assert low <= metadata["metrics"][chosen]["test_auc"] <= high
    cost_low, cost_high = metadata["cost"]["per_customer_interval_95"]
    assert cost_low <= metadata["cost"]["per_customer"] <= cost_high
    summary = summary_text(metadata, trained_model_dir).splitlines()
    assert summary[1].startswith("expected on new customers: AUC ")
    assert summary[2].startswith(f"test part, {metadata['cost']['test_rows']} customers the search never saw")
    report = (trained_model_dir / "report.html").read_text(encoding="utf-8")
    first_screen = report[report.index('<section id="for-managers">') : report.index("Cost assumptions")]
    assert "What to expect" in first_screen and "expected on new customers" in first_screen
