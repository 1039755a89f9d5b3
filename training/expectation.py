"""What to expect of a trained model on new customers, in plain words, from its metadata.json.

Two figures describe one run and they can differ a lot: the cross-validated one (every non-test
customer held out once, several thousand of them) and the test part's (a few hundred customers held
back from everything). The cross-validated figure, with its spread over the folds, is the estimate to
go by; the test part's comes with its 95% interval, and when the cross-validated figure lies outside
that interval the two disagree by more than the test part's own noise, which is said, with what it
can mean. `make train`'s output and the report's first screen both say it this way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Where a reader can see how much the test figures move from one split to the next.
SPLITS_COMMAND = "python bench/bench_training.py --seeds 1 2 3 4 5"


def expectation_lines(metadata: Mapping[str, Any]) -> list[str]:
    """Three sentences: the estimate to expect, the test part's figures with their intervals, and
    whether the two agree."""
    chosen = metadata["metrics"]["chosen"]
    test = metadata["metrics"][chosen]
    cost = metadata["cost"]
    rows = int(cost["test_rows"])
    churners = round(float(cost["do_nothing"]) / float(cost["lost_customer_usd"]))
    estimate, expected_auc, expected_cost = _estimate(metadata, chosen, test)
    auc_low, auc_high = test.get("test_auc_interval_95") or (None, None)
    cost_low, cost_high = cost.get("per_customer_interval_95") or (None, None)
    test_line = (
        f"test part, {rows:,} customers the search never saw ({churners} churners): "
        f"AUC {test['test_auc']:.3f}"
        + (f" (95% interval {auc_low:.3f} to {auc_high:.3f})" if auc_low is not None else "")
        + f", ${float(cost['per_customer']):.2f} per customer"
        + (f" (95% interval ${cost_low:.2f} to ${cost_high:.2f})" if cost_low is not None else "")
    )
    return [estimate, test_line, _agreement(rows, test, cost, expected_auc, expected_cost)]


def _estimate(
    metadata: Mapping[str, Any], chosen: str, test: Mapping[str, Any]
) -> tuple[str, float, float | None]:
    folds = (metadata.get("cross_validation") or {}).get(chosen)
    if folds:
        auc, cost = folds["auc"], folds["cost_per_customer"]
        cv = metadata["cross_validation"]
        return (
            f"expected on new customers: AUC {auc['mean']:.3f} ± {auc['std']:.3f}, "
            f"${cost['mean']:.2f} ± ${cost['std']:.2f} per customer (mean ± spread over the "
            f"{cv['folds']} cross-validation folds of {int(cv['rows']):,} customers: the figures to go by)",
            float(auc["mean"]),
            float(cost["mean"]),
        )
    # SageMaker training chooses on one validation part: its AUC is the estimate, without a spread.
    validation_auc = float(test["validation_auc"])
    return (
        f"expected on new customers: AUC about {validation_auc:.3f} (the validation part the tuning "
        "chose on; no spread: one part, not folds)",
        validation_auc,
        None,
    )


def _agreement(
    rows: int,
    test: Mapping[str, Any],
    cost: Mapping[str, Any],
    expected_auc: float,
    expected_cost: float | None,
) -> str:
    auc_interval = test.get("test_auc_interval_95")
    cost_interval = cost.get("per_customer_interval_95")
    if not auc_interval:
        return "the test part's intervals are not recorded (trained before they were): retrain to see them"
    outside = []
    if not auc_interval[0] <= expected_auc <= auc_interval[1]:
        outside.append(f"its AUC {test['test_auc']:.3f} against {expected_auc:.3f}")
    if (
        expected_cost is not None
        and cost_interval
        and not cost_interval[0] <= expected_cost <= cost_interval[1]
    ):
        outside.append(f"its ${float(cost['per_customer']):.2f} per customer against ${expected_cost:.2f}")
    if not outside:
        return f"the test part agrees with that estimate within the noise of {rows:,} customers"
    if float(test["test_auc"]) < expected_auc:
        why = "its customers are harder to tell apart than the rest, or the model fits the rest too closely"
    else:
        why = "its customers are easier to tell apart than the rest"
    return (
        f"the test part disagrees with that estimate by more than the noise of {rows:,} customers explains "
        f"({' and '.join(outside)}): {why}; expect about the estimate (how far test parts move between "
        f"splits: {SPLITS_COMMAND})"
    )
