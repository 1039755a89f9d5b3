"""The business cut-off: the churn probability above which a customer is offered an incentive.

Every customer offered an incentive costs the offer (whether they would have left or not); every
churner not offered one costs the lost customer. The cut-off minimising the sum is the one to use;
offering nobody anything ("do nothing") costs every churner.

The training run chooses the cut-off on the validation rows with `smoothed_optimal_cutoff`: on a few
hundred customers the cost curve is a staircase where one churner more or less above a cut-off moves
the cost by the price of a lost customer, so its single lowest step is partly luck. Averaging each
cut-off's cost with its neighbours' picks the middle of a low valley instead, which carries over
better to customers the model has not seen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Cut-offs tried: 0.01, 0.02, ..., 0.99. A customer is offered an incentive when probability >= cut-off.
CUTOFF_GRID: np.ndarray = np.round(np.arange(1, 100) / 100, 2)
# The cost at each cut-off is averaged with this many grid steps on either side (+-0.03) before the
# lowest is picked; at the ends of the grid the end value stands in for the missing neighbours.
SMOOTHING_HALF_WIDTH = 3


@dataclass(frozen=True)
class CostModel:
    offer_usd: float = 50.0
    lost_customer_usd: float = 500.0

    def __post_init__(self) -> None:
        if self.offer_usd < 0 or self.lost_customer_usd < 0:
            raise ValueError("offer and lost-customer costs must not be negative")


def cost_at(churn: np.ndarray, scores: np.ndarray, cutoff: float, costs: CostModel) -> float:
    """Total cost of offering an incentive to everyone scored at or above `cutoff`."""
    offered = scores >= cutoff
    missed_churners = np.count_nonzero(~offered & (churn == 1))
    return float(np.count_nonzero(offered) * costs.offer_usd + missed_churners * costs.lost_customer_usd)


def customer_costs(churn: np.ndarray, scores: np.ndarray, cutoff: float, costs: CostModel) -> np.ndarray:
    """What each customer costs at `cutoff`: the offer if made, a lost churner if not, else nothing;
    their sum is cost_at's total."""
    offered = scores >= cutoff
    return np.where(offered, costs.offer_usd, np.where(churn == 1, costs.lost_customer_usd, 0.0))


def cost_curve(
    churn: np.ndarray, scores: np.ndarray, costs: CostModel, grid: np.ndarray = CUTOFF_GRID
) -> np.ndarray:
    """The total cost at each cut-off of `grid`."""
    return np.array([cost_at(churn, scores, float(cutoff), costs) for cutoff in grid])


def do_nothing_cost(churn: np.ndarray, costs: CostModel) -> float:
    return float(np.count_nonzero(churn == 1) * costs.lost_customer_usd)


def optimal_cutoff(
    churn: np.ndarray, scores: np.ndarray, costs: CostModel, grid: np.ndarray = CUTOFF_GRID
) -> tuple[float, float]:
    """(cut-off, cost) with the lowest cost; the lowest such cut-off when several tie."""
    curve = cost_curve(churn, scores, costs, grid)
    best = int(np.argmin(curve))
    return float(grid[best]), float(curve[best])


def smooth_curve(curve: np.ndarray, half_width: int) -> np.ndarray:
    """Moving average over 2 * half_width + 1 neighbouring points, the end values repeated at the edges."""
    if half_width < 0:
        raise ValueError("the smoothing half-width must not be negative")
    if half_width == 0:
        return np.asarray(curve, dtype=np.float64)
    padded = np.concatenate([np.full(half_width, curve[0]), curve, np.full(half_width, curve[-1])])
    window = np.ones(2 * half_width + 1) / (2 * half_width + 1)
    return np.convolve(padded.astype(np.float64), window, mode="valid")


def smoothed_optimal_cutoff(
    churn: np.ndarray,
    scores: np.ndarray,
    costs: CostModel,
    grid: np.ndarray = CUTOFF_GRID,
    half_width: int = SMOOTHING_HALF_WIDTH,
) -> tuple[float, float]:
    """(cut-off, cost there) where the neighbour-averaged cost is lowest; the lowest such cut-off on ties.

    The returned cost is the plain (unsmoothed) cost of that cut-off on these rows.
    """
    curve = cost_curve(churn, scores, costs, grid)
    best = int(np.argmin(smooth_curve(curve, half_width)))
    return float(grid[best]), float(curve[best])
