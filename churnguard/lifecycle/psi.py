"""The population stability index between a reference and a live distribution over the same bins.

PSI = sum over bins of (live - reference) * ln(live / reference), shares of each population. The
usual reading, used here: below 0.1 stable, 0.1 to 0.25 watch, 0.25 and above act (retrain). A bin
empty in either population would make the logarithm infinite, so shares are floored at EPSILON
(a bin holding nothing counts as holding 1 in 10,000).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

WATCH = 0.1
ACT = 0.25
EPSILON = 1e-4


def bin_of(value: float, cuts: Sequence[float]) -> int:
    """The bin rule shared with the SQL: the number of cuts <= value."""
    return bisect.bisect_right(cuts, value)


def bin_counts(values: Sequence[float], cuts: Sequence[float]) -> list[int]:
    counts = [0] * (len(cuts) + 1)
    for value in values:
        counts[bin_of(value, cuts)] += 1
    return counts


def psi(reference: Sequence[float], live: Sequence[float]) -> float:
    """PSI of two share vectors over the same bins (each summing to about 1)."""
    if len(reference) != len(live):
        raise ValueError(f"{len(reference)} reference bins against {len(live)} live bins")
    total = 0.0
    for expected, actual in zip(reference, live, strict=True):
        expected, actual = max(expected, EPSILON), max(actual, EPSILON)
        total += (actual - expected) * math.log(actual / expected)
    return total


def level(value: float) -> str:
    """'act', 'watch' or 'ok' by the usual thresholds."""
    if value >= ACT:
        return "act"
    if value >= WATCH:
        return "watch"
    return "ok"
