"""The cross-validated search: out-of-fold scores, which trial wins, and the final model's rounds."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pytest
import xgboost as xgb
from sklearn.metrics import log_loss, roc_auc_score

from training import selection
from training.cutoff import CostModel, smoothed_optimal_cutoff
from training.features import build_feature_spec, feature_matrix, labels
from training.search import (
    EARLY_STOPPING_ROUNDS,
    ETA_STEPS,
    HYPERPARAMETER_RANGES,
    MOST_ROUNDS,
    REFERENCE_HYPERPARAMETERS,
    ROW_SAMPLING,
    Fold,
    OutOfFoldCost,
    Trial,
    best_ranked,
    booster_params,
    cross_validate,
    draw_hyperparameters,
    final_round_count,
    make_folds,
    patience_rounds,
    search,
)
from training.split import stratified_folds
from training.synthetic import generate_customers

TRIALS = 5
FOLDS = 4
ROWS = 800


@pytest.fixture(scope="module")
def folds() -> tuple[Fold, ...]:
    customers = generate_customers(ROWS, seed=3)
    churn = labels(customers)
    spec = build_feature_spec(customers)
    held_out = stratified_folds(churn, FOLDS, seed=3)
    return make_folds(feature_matrix(customers, spec), churn, spec.names, held_out)


def _churn(folds: tuple[Fold, ...]) -> np.ndarray:
    churn = np.empty(ROWS)
    for fold in folds:
        churn[fold.held_out_rows] = fold.held_out.get_label()
    return churn


def test_every_row_is_scored_by_the_fold_model_that_did_not_train_on_it(folds: tuple[Fold, ...]) -> None:
    result = cross_validate(dict(REFERENCE_HYPERPARAMETERS), folds, ROWS, seed=2)
    assert result.out_of_fold.shape == (ROWS,) and not np.isnan(result.out_of_fold).any()
    for fold, booster in zip(folds, result.fold_boosters, strict=True):
        assert fold.train.num_row() + fold.held_out.num_row() == ROWS
        assert np.array_equal(result.out_of_fold[fold.held_out_rows], booster.predict(fold.held_out))
    churn = _churn(folds)
    expected = [
        roc_auc_score(churn[fold.held_out_rows], result.out_of_fold[fold.held_out_rows]) for fold in folds
    ]
    assert result.trial.fold_aucs == pytest.approx(expected)
    assert result.trial.validation_auc == pytest.approx(np.mean(expected))
    # Every fold model stopped at the same round, the one with the best mean held-out AUC.
    assert {booster.num_boosted_rounds() for booster in result.fold_boosters} == {result.trial.cv_rounds}


def test_the_folds_stop_together_at_the_round_with_the_lowest_mean_log_loss(folds: tuple[Fold, ...]) -> None:
    hyperparameters = {**REFERENCE_HYPERPARAMETERS, "eta": 0.6, "num_round": 60}
    result = cross_validate(hyperparameters, folds, ROWS, seed=2)
    rounds, patience = result.trial.cv_rounds, patience_rounds(0.6)
    assert rounds + patience <= 60  # it did stop early, so the curve below is what it saw
    churn = _churn(folds)
    # Each fold trained on its own for as long as the search looked (best round + the patience).
    alone = [
        xgb.train(booster_params(hyperparameters, 2), fold.train, num_boost_round=rounds + patience)
        for fold in folds
    ]
    mean_curve = [
        np.mean(
            [
                log_loss(
                    churn[fold.held_out_rows], booster.predict(fold.held_out, iteration_range=(0, count))
                )
                for fold, booster in zip(folds, alone, strict=True)
            ]
        )
        for count in range(1, rounds + patience + 1)
    ]
    assert int(np.argmin(mean_curve)) + 1 == rounds
    # The trial is judged on the AUC of the stopped fold models.
    aucs = [
        roc_auc_score(churn[fold.held_out_rows], booster.predict(fold.held_out, iteration_range=(0, rounds)))
        for fold, booster in zip(folds, alone, strict=True)
    ]
    assert result.trial.validation_auc == pytest.approx(np.mean(aucs), abs=1e-6)


def test_a_slow_learner_is_given_patience_in_proportion() -> None:
    assert patience_rounds(0.3) == EARLY_STOPPING_ROUNDS
    assert patience_rounds(0.025) == 10
    assert patience_rounds(0.02) == 13
    assert patience_rounds(0.01) == 25


def test_a_slow_learner_trains_until_its_scores_are_usable(folds: tuple[Fold, ...]) -> None:
    # Stopped on AUC, eta 0.01 stopped after a handful of trees, every score near the churn rate. On
    # log-loss it trains on, and its out-of-fold scores spread over the cut-off grid.
    hyperparameters = {**draw_hyperparameters(np.random.default_rng(1)), "eta": 0.01, "max_depth": 3}
    result = cross_validate(hyperparameters, folds, ROWS, seed=2)
    assert result.trial.cv_rounds > 150
    # From under 0.1 to over 0.4: the cut-offs chosen on the public data (0.2-0.45) fall between them.
    assert result.out_of_fold.min() < 0.1 and result.out_of_fold.max() > 0.4


def test_without_a_cost_the_highest_mean_fold_auc_wins(folds: tuple[Fold, ...]) -> None:
    result = search(folds, ROWS, trials=TRIALS, seed=11)
    aucs = [trial.validation_auc for trial in result.trials]
    assert result.best.trial == result.trials[int(np.argmax(aucs))]
    assert all(trial.validation_cost is None for trial in result.trials)
    assert len(result.trials) == TRIALS


def test_with_a_cost_the_cheapest_trial_wins_with_its_out_of_fold_scores(folds: tuple[Fold, ...]) -> None:
    churn = _churn(folds)

    out_of_fold_cost = selection.out_of_fold_cost(churn, [fold.held_out_rows for fold in folds], CostModel())
    result = search(folds, ROWS, trials=TRIALS, seed=11, validation_cost=out_of_fold_cost)
    cheapest = min(trial.validation_cost for trial in result.trials)
    assert result.best.trial.validation_cost == cheapest
    assert result.trials[best_ranked(result.trials)] == result.best.trial
    # Among equally cheap trials the higher mean fold AUC wins.
    tied = [trial for trial in result.trials if trial.validation_cost == cheapest]
    assert result.best.trial.validation_auc == max(trial.validation_auc for trial in tied)
    assert out_of_fold_cost(result.best.out_of_fold).total == cheapest
    assert (
        result.best.trial.validation_cost
        == smoothed_optimal_cutoff(churn, result.best.out_of_fold, CostModel())[1]
    )
    assert sum(result.best.trial.fold_costs) == cheapest


def test_the_cost_decides_even_against_the_auc(folds: tuple[Fold, ...]) -> None:
    # A "cost" that is the pooled AUC itself makes the worst-ranking trial win: proof that the cost,
    # not the AUC, picks the trial when a cost is given.
    churn = _churn(folds)

    def auc_as_cost(scores: np.ndarray) -> OutOfFoldCost:
        return OutOfFoldCost(float(roc_auc_score(churn, scores)), ())

    result = search(folds, ROWS, trials=TRIALS, seed=11, validation_cost=auc_as_cost)
    by_auc = search(folds, ROWS, trials=TRIALS, seed=11)
    assert result.best.trial.validation_cost == min(trial.validation_cost for trial in result.trials)
    assert result.best.trial.validation_cost < auc_as_cost(by_auc.best.out_of_fold).total


def test_the_reference_hyper_parameters_are_the_first_trial() -> None:
    assert REFERENCE_HYPERPARAMETERS == {
        "eta": 0.2,
        "min_child_weight": 6.0,
        "alpha": 0.0,
        "max_depth": 5,
        "num_round": 100,
        "gamma": 4.0,
        "lambda": 1.0,
        "subsample": 0.8,
    }


def test_the_reference_trial_is_cross_validated_first(folds: tuple[Fold, ...]) -> None:
    result = search(folds, ROWS, trials=2, seed=11)
    assert result.trials[0].hyperparameters == REFERENCE_HYPERPARAMETERS


def test_the_final_model_gets_the_cross_validated_rounds_scaled_to_all_rows() -> None:
    # 5 folds each trained on 4/5 of the rows: 20 rounds become 25 on all of them.
    assert final_round_count(20, growth=5 / 4, most_rounds=100) == 25
    assert final_round_count(3, growth=2, most_rounds=100) == 6
    assert final_round_count(90, growth=5 / 4, most_rounds=100) == 100  # never above num_round
    assert final_round_count(1, growth=5 / 4, most_rounds=100) == 1
    # Refit on every labelled row (3,333) after folds of 2,400: 1.389 times the rounds.
    assert final_round_count(400, growth=3333 / 2400, most_rounds=1000) == 556


def test_every_draw_starts_from_the_slow_end_and_stays_in_the_searched_ranges() -> None:
    rng = np.random.default_rng(5)
    etas = set()
    for _ in range(200):
        drawn = draw_hyperparameters(rng)
        assert set(drawn) == set(HYPERPARAMETER_RANGES) | {"subsample", "num_round"}
        assert drawn["num_round"] == MOST_ROUNDS and drawn["subsample"] == ROW_SAMPLING == 0.8
        assert drawn["eta"] in ETA_STEPS
        etas.add(drawn["eta"])
        for name, (low, high, _) in HYPERPARAMETER_RANGES.items():
            assert low <= drawn[name] <= high, (name, drawn[name])
    assert etas == set(ETA_STEPS)
    assert HYPERPARAMETER_RANGES["eta"] == (0.01, 0.3, False)


def test_the_kept_trial_is_the_one_the_rule_chooses_and_is_cross_validated_again(
    folds: tuple[Fold, ...],
) -> None:
    def last(trials: Sequence[Trial]) -> int:
        return len(trials) - 1

    result = search(folds, ROWS, trials=3, seed=11, choose=last)
    assert result.best.trial == result.trials[-1]
    # The ranking is unchanged by the rule: the best-ranked trial is the highest mean fold AUC.
    assert best_ranked(result.trials) == int(np.argmax([trial.validation_auc for trial in result.trials]))
    # The fold models are those of that trial, stopped at its round.
    assert {booster.num_boosted_rounds() for booster in result.best.fold_boosters} == {
        result.trials[-1].cv_rounds
    }


def test_drawn_gamma_and_lambda_reach_the_booster(folds: tuple[Fold, ...]) -> None:
    # The regularisation the search chose must be what xgboost trained with, not just recorded.
    hyperparameters = draw_hyperparameters(np.random.default_rng(8))
    result = cross_validate(hyperparameters, folds, ROWS, seed=8)
    for booster in result.fold_boosters:
        tree_parameters = json.loads(booster.save_config())["learner"]["gradient_booster"]["tree_train_param"]
        assert float(tree_parameters["gamma"]) == pytest.approx(hyperparameters["gamma"])
        assert float(tree_parameters["lambda"]) == pytest.approx(hyperparameters["lambda"])
    assert result.trial.hyperparameters == hyperparameters


def test_a_fold_restricted_to_some_columns_trains_on_those_only() -> None:
    customers = generate_customers(300, seed=4)
    churn = labels(customers)
    spec = build_feature_spec(customers)
    held_out = stratified_folds(churn, 3, seed=4)
    keep = [np.array([0, 1]), np.array([2]), np.array([0, 5, 9])]
    restricted = make_folds(feature_matrix(customers, spec), churn, spec.names, held_out, keep)
    for fold, columns in zip(restricted, keep, strict=True):
        assert fold.train.feature_names == [spec.names[column] for column in columns]
        assert isinstance(fold.held_out, xgb.DMatrix) and fold.held_out.num_col() == len(columns)
