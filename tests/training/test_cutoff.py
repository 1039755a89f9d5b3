"""Cut-off and cost arithmetic, checked on an example small enough to work out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from training.cutoff import (
    CostModel,
    cost_at,
    cost_curve,
    do_nothing_cost,
    optimal_cutoff,
    smooth_curve,
    smoothed_optimal_cutoff,
)

# Six customers, two churners (scores 0.9 and 0.3).
CHURN = np.array([1, 0, 1, 0, 0, 0])
SCORES = np.array([0.9, 0.6, 0.3, 0.2, 0.1, 0.05])
COSTS = CostModel(offer_usd=50, lost_customer_usd=500)


def test_cost_counts_every_offer_and_every_missed_churner() -> None:
    # cut-off 0.5: offers to 0.9 and 0.6 (2 x $50), misses the churner at 0.3 ($500) -> $600
    assert cost_at(CHURN, SCORES, 0.5, COSTS) == 600.0
    # cut-off 0.3: offers to 0.9, 0.6 and 0.3 (a score equal to the cut-off gets the offer) -> $150
    assert cost_at(CHURN, SCORES, 0.3, COSTS) == 150.0
    # cut-off 0.95: nobody offered, both churners lost -> $1,000, the cost of doing nothing
    assert cost_at(CHURN, SCORES, 0.95, COSTS) == 1000.0 == do_nothing_cost(CHURN, COSTS)
    # cut-off 0.01: everyone offered -> 6 x $50
    assert cost_at(CHURN, SCORES, 0.01, COSTS) == 300.0


def test_optimal_cutoff_is_the_lowest_cut_off_with_the_least_cost() -> None:
    # Every cut-off in (0.2, 0.3] offers exactly the three top customers: $150, the minimum.
    assert optimal_cutoff(CHURN, SCORES, COSTS) == (0.21, 150.0)


def test_cost_curve_follows_the_grid_and_other_prices() -> None:
    grid = np.array([0.1, 0.5, 0.95])
    assert cost_curve(CHURN, SCORES, CostModel(offer_usd=10, lost_customer_usd=100), grid).tolist() == [
        50.0,
        120.0,
        200.0,
    ]


def test_negative_costs_are_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        CostModel(offer_usd=-1)


def test_the_smoothed_cut_off_sits_inside_the_low_valley_not_at_its_edge() -> None:
    # Plain cost: $200 on (0.1, 0.2], $150 on (0.2, 0.3], $600 on (0.3, 0.6]. The plain optimum 0.21 is
    # one step from a costlier cut-off; averaged over +-3 steps the first cut-off whose whole window
    # stays at $150 is 0.24. The cost returned is the plain cost there.
    assert smoothed_optimal_cutoff(CHURN, SCORES, COSTS, half_width=3) == (0.24, 150.0)
    assert smoothed_optimal_cutoff(CHURN, SCORES, COSTS, half_width=0) == optimal_cutoff(CHURN, SCORES, COSTS)


def test_smoothing_prefers_a_broad_valley_to_a_lone_notch() -> None:
    curve = np.array([500.0, 100.0, 500.0, 500.0, 200.0, 200.0, 200.0, 500.0])
    assert int(np.argmin(curve)) == 1
    smoothed = smooth_curve(curve, 1)
    assert int(np.argmin(smoothed)) == 5
    # The ends repeat their own value for the missing neighbours: (500 + 500 + 100) / 3.
    assert smoothed[0] == pytest.approx(1100 / 3)
    assert smoothed.shape == curve.shape


def test_a_negative_smoothing_width_is_refused() -> None:
    with pytest.raises(ValueError, match="half-width"):
        smooth_curve(np.array([1.0, 2.0]), -1)
