"""Choices made on out-of-fold scores, on an example small enough to work out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from training.cutoff import CostModel
from training.search import OutOfFoldCost, Trial
from training.selection import (
    OutOfFoldChoice,
    choose_from_out_of_fold,
    fold_aucs,
    fold_spread,
    out_of_fold_cost,
    smoothest_within_noise,
    within_one_standard_error,
)

# Ten non-test customers in two folds; churners at rows 0, 3 (fold 1) and 5, 9 (fold 2).
CHURN = np.array([1, 0, 0, 1, 0, 1, 0, 0, 0, 1])
FOLDS = (np.arange(0, 5), np.arange(5, 10))
COSTS = CostModel(offer_usd=50, lost_customer_usd=500)
# The full model ranks every churner first in both folds.
FULL = np.where(CHURN == 1, 0.9, 0.1)
# The reduced model does too in fold 1; in fold 2 the churner at row 9 (0.3) sits below a stayer (0.4).
REDUCED = np.array([0.9, 0.1, 0.1, 0.9, 0.1, 0.9, 0.4, 0.1, 0.1, 0.3])
SCORES = {"full": FULL, "reduced": REDUCED}


def test_fold_aucs_are_measured_on_each_held_out_fold() -> None:
    assert fold_aucs(CHURN, FULL, FOLDS) == [1.0, 1.0]
    # Fold 2: 2 churners x 3 stayers = 6 pairs, one (0.3 below 0.4) in the wrong order.
    assert fold_aucs(CHURN, REDUCED, FOLDS) == pytest.approx([1.0, 5 / 6])


def test_the_reduced_model_is_kept_within_the_margin_of_mean_fold_auc() -> None:
    # Mean fold AUC: full 1.0, reduced 11/12 = 0.9167.
    kept = choose_from_out_of_fold(CHURN, FOLDS, SCORES, auc_margin=0.1, costs=COSTS)
    assert kept.model == "reduced"
    dropped = choose_from_out_of_fold(CHURN, FOLDS, SCORES, auc_margin=0.05, costs=COSTS)
    assert dropped.model == "full"


def test_the_cut_off_comes_from_every_out_of_fold_score_of_the_chosen_model() -> None:
    # Full model: any cut-off in (0.1, 0.9] offers the 4 churners only ($200); the smoothed rule takes
    # the first cut-off whose +-3 neighbours all stay in that valley, 0.14.
    assert choose_from_out_of_fold(CHURN, FOLDS, SCORES, auc_margin=0.05, costs=COSTS) == OutOfFoldChoice(
        "full", 0.14, 200.0
    )
    # Reduced model, pooled over both folds: (0.1, 0.3] offers 4 churners and the stayer at 0.4 ($250);
    # above 0.3 the churner at 0.3 is lost ($650 or more). Fold 1 alone would cost only $100 there.
    assert choose_from_out_of_fold(CHURN, FOLDS, SCORES, auc_margin=0.1, costs=COSTS) == OutOfFoldChoice(
        "reduced", 0.14, 250.0
    )


def test_the_spread_gives_mean_sample_std_and_each_fold() -> None:
    spread = fold_spread(CHURN, REDUCED, FOLDS, 0.14, COSTS)
    # At 0.14: fold 1 offers 2 customers ($100 / 5 = $20 each); fold 2 offers 3 ($150 / 5 = $30 each).
    assert spread["cost_per_customer"] == {
        "mean": 25.0,
        "std": pytest.approx(7.071068),
        "per_fold": [20.0, 30.0],
    }
    assert spread["auc"]["mean"] == pytest.approx(11 / 12, abs=1e-6)
    assert spread["auc"]["std"] == pytest.approx((1 - 5 / 6) / np.sqrt(2), abs=1e-6)
    assert spread["auc"]["per_fold"] == [1.0, pytest.approx(5 / 6, abs=1e-6)]
    assert spread["rows_per_fold"] == [5, 5] and spread["cutoff"] == 0.14


def test_the_search_cost_is_the_pooled_cut_off_and_each_fold_share_of_it() -> None:
    # Reduced model (see above): the pooled cut-off 0.14 costs $250: fold 1 offers 2 ($100), fold 2
    # offers 3 ($150), no churner missed.
    judged = out_of_fold_cost(CHURN, FOLDS, COSTS)(REDUCED)
    assert judged == OutOfFoldCost(250.0, (100.0, 150.0))


def _trial(eta: float, depth: int, fold_aucs: tuple[float, ...], **more: float) -> Trial:
    hyperparameters = {"eta": eta, "max_depth": depth, "min_child_weight": 1.0, "gamma": 0.0, "lambda": 1.0}
    return Trial(
        {**hyperparameters, "alpha": 0.0, **more}, float(np.mean(fold_aucs)), 10, fold_aucs=fold_aucs
    )


# The best by AUC: 0.93 over three folds.
BEST = _trial(0.3, 6, (0.90, 0.93, 0.96))


def test_a_trial_is_tied_with_the_best_when_their_fold_by_fold_difference_is_within_its_noise() -> None:
    # Both are 0.01 below the best on average. This one is worse on some folds and better on another
    # (differences 0.03, 0.01, -0.01: sample std 0.02, standard error 0.0115): the folds cannot tell.
    slow = _trial(0.02, 5, (0.91, 0.90, 0.95))
    # This one is 0.01 worse on every fold: the folds agree it is worse (standard error 0), so it is
    # not tied although its learning rate is lower. (Judged on the best's own fold spread, 0.0173,
    # it would have been.)
    slower_but_worse = _trial(0.01, 2, (0.89, 0.92, 0.95))
    trials = [BEST, slower_but_worse, slow]
    noise = within_one_standard_error(trials)
    assert noise.best == 0 and noise.within == (0, 2) and noise.kept == 2
    assert noise.gap == pytest.approx(0.01) and noise.tolerance == pytest.approx(0.02 / np.sqrt(3))
    assert smoothest_within_noise(trials) == 2


def test_at_the_same_learning_rate_shallower_then_more_regularised_trees_are_kept() -> None:
    deep = _trial(0.05, 7, (0.91, 0.94, 0.94))
    shallow = _trial(0.05, 3, (0.92, 0.92, 0.94))
    shallow_with_gamma = _trial(0.05, 3, (0.92, 0.92, 0.94), gamma=2.0)
    assert smoothest_within_noise([BEST, deep, shallow, shallow_with_gamma]) == 3
    assert smoothest_within_noise([BEST, deep, shallow]) == 2


def test_with_a_cost_the_tolerance_is_the_standard_error_of_the_total_cost_difference() -> None:
    def costed(eta: float, fold_costs: tuple[float, ...]) -> Trial:
        trial = _trial(eta, 4, (0.9, 0.9, 0.9))
        return Trial(
            trial.hyperparameters,
            0.9,
            10,
            validation_cost=sum(fold_costs),
            fold_aucs=(0.9, 0.9, 0.9),
            fold_costs=fold_costs,
        )

    cheapest = costed(0.3, (80.0, 100.0, 120.0))  # $300
    # $320: differences $20, -$10, $10 (sample std $15.28; standard error of their sum x sqrt(3) = $26.46).
    within = costed(0.05, (100.0, 90.0, 130.0))
    # $321, $7 more on every fold: no noise in that difference, so not tied.
    outside = costed(0.01, (87.0, 107.0, 127.0))
    noise = within_one_standard_error([cheapest, outside, within])
    assert noise.within == (0, 2) and noise.kept == 2
    assert noise.gap == pytest.approx(20.0) and noise.tolerance == pytest.approx(
        float(np.std([20, -10, 10], ddof=1)) * np.sqrt(3)
    )


def test_when_nothing_else_is_within_noise_the_best_is_kept() -> None:
    noise = within_one_standard_error([_trial(0.01, 2, (0.79, 0.80, 0.81)), BEST])
    assert noise.kept == noise.best == 1 and noise.gap == 0.0 and noise.tolerance == 0.0
