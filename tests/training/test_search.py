"""Which trial the hyper-parameter search keeps: lowest validation cost first, or highest validation AUC."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xgboost as xgb
from sklearn.metrics import roc_auc_score

from training.cutoff import CostModel, smoothed_optimal_cutoff
from training.features import build_feature_spec, feature_matrix, labels
from training.search import HYPERPARAMETER_RANGES, draw_hyperparameters, fit_once, search
from training.split import stratified_split
from training.synthetic import generate_customers

TRIALS = 6
Parts = tuple[xgb.DMatrix, xgb.DMatrix]


@pytest.fixture(scope="module")
def train_and_validation() -> Parts:
    customers = generate_customers(800, seed=3)
    churn = labels(customers)
    parts = stratified_split(churn, seed=3)
    spec = build_feature_spec(customers.iloc[parts.train])
    matrix = feature_matrix(customers, spec)

    def dmatrix(rows: np.ndarray) -> xgb.DMatrix:
        return xgb.DMatrix(matrix[rows], label=churn[rows], feature_names=spec.names)

    return dmatrix(parts.train), dmatrix(parts.validation)


def test_without_a_cost_the_highest_validation_auc_wins(train_and_validation: Parts) -> None:
    train, validation = train_and_validation
    result = search(train, validation, trials=TRIALS, seed=11)
    aucs = [trial.validation_auc for trial in result.trials]
    assert result.best == result.trials[int(np.argmax(aucs))]
    assert all(trial.validation_cost is None for trial in result.trials)


def test_with_a_cost_the_cheapest_trial_wins_and_its_booster_is_kept(train_and_validation: Parts) -> None:
    train, validation = train_and_validation
    churn = validation.get_label().astype(np.int64)

    def validation_cost(scores: np.ndarray) -> float:
        return smoothed_optimal_cutoff(churn, scores, CostModel())[1]

    result = search(train, validation, trials=TRIALS, seed=11, validation_cost=validation_cost)
    cheapest = min(trial.validation_cost for trial in result.trials)
    assert result.best.validation_cost == cheapest
    # Among equally cheap trials the higher validation AUC wins.
    tied = [trial for trial in result.trials if trial.validation_cost == cheapest]
    assert result.best.validation_auc == max(trial.validation_auc for trial in tied)
    assert validation_cost(result.booster.predict(validation)) == cheapest


def test_the_cost_decides_even_against_the_auc(train_and_validation: Parts) -> None:
    # A "cost" that is the AUC itself makes the worst-ranking trial the winner: proof that the cost,
    # not the AUC, picks the trial when a cost is given.
    train, validation = train_and_validation
    churn = validation.get_label()

    def auc_as_cost(scores: np.ndarray) -> float:
        return float(roc_auc_score(churn, scores))

    result = search(train, validation, trials=TRIALS, seed=11, validation_cost=auc_as_cost)
    assert result.best.validation_cost == min(trial.validation_cost for trial in result.trials)
    by_auc = search(train, validation, trials=TRIALS, seed=11)
    assert result.best.validation_cost < auc_as_cost(by_auc.booster.predict(validation))


def test_every_draw_stays_in_the_searched_ranges_including_gamma_and_lambda() -> None:
    rng = np.random.default_rng(5)
    for _ in range(200):
        drawn = draw_hyperparameters(rng)
        assert set(drawn) == set(HYPERPARAMETER_RANGES)
        for name, (low, high, _) in HYPERPARAMETER_RANGES.items():
            assert low <= drawn[name] <= high, (name, drawn[name])


def test_drawn_gamma_and_lambda_reach_the_booster(train_and_validation: Parts) -> None:
    # The regularisation the search chose must be what xgboost trained with, not just recorded.
    train, validation = train_and_validation
    hyperparameters = draw_hyperparameters(np.random.default_rng(8))
    booster, trial = fit_once(hyperparameters, train, validation, seed=8)
    tree_parameters = json.loads(booster.save_config())["learner"]["gradient_booster"]["tree_train_param"]
    assert float(tree_parameters["gamma"]) == pytest.approx(hyperparameters["gamma"])
    assert float(tree_parameters["lambda"]) == pytest.approx(hyperparameters["lambda"])
    assert trial.hyperparameters == hyperparameters
