"""Training benchmark: model quality, business cost and wall time per data set and split rule.

Prints one JSON line per (data set, split): the public Larose file (../shared/data) and 3,333
synthetic customers, each with the project's stratified split and the reference's shuffle rule.
The issue's targets apply to the reduced model on the reference split of the public data:
test AUC >= 0.94 and cost <= $13 per test customer; `meets_targets` says whether this run met them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from training.data import load_customers  # noqa: E402
from training.pipeline import DEFAULT_TRIALS, train  # noqa: E402
from training.synthetic import generate_customers  # noqa: E402

PUBLIC_DATA = Path(REPO_ROOT, "..", "shared", "data", "churn-larose-3333.txt")
DATASETS = ("larose-3333", "synthetic-3333")
TARGET_TEST_AUC = 0.94
TARGET_COST_PER_CUSTOMER = 13.0


def bench_one(dataset: str, customers: pd.DataFrame, split: str, trials: int, seed: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as out_dir:
        started = time.perf_counter()
        result = train(customers, Path(out_dir), trials=trials, seed=seed, split=split)
        wall_s = time.perf_counter() - started
    metadata = result.metadata
    metrics, cost = metadata["metrics"], metadata["cost"]
    test_rows = cost["test_rows"]
    return {
        "dataset": dataset,
        "split": split,
        "rows": metadata["data"]["rows"],
        "test_rows": test_rows,
        "trials": trials,
        "seed": seed,
        "test_auc_full": metrics["full"]["test_auc"],
        "test_auc_reduced": metrics["reduced"]["test_auc"],
        "features_full": metrics["full"]["features"],
        "features_kept": metrics["reduced"]["features"],
        "chosen": metrics["chosen"],
        "cutoff": metadata["cutoff"],
        "cost_per_customer": cost["per_customer"],
        "cost_total": cost["at_cutoff"],
        "cost_best_cutoff_on_test_per_customer": round(cost["best_on_test"]["cost"] / test_rows, 4),
        "cost_do_nothing_per_customer": round(cost["do_nothing"] / test_rows, 4),
        "meets_targets": metrics["reduced"]["test_auc"] >= TARGET_TEST_AUC
        and cost["per_customer"] <= TARGET_COST_PER_CUSTOMER,
        "wall_s": round(wall_s, 2),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=DEFAULT_TRIALS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1729], help="one run per seed")
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument(
        "--splits", nargs="+", choices=("project", "reference"), default=["project", "reference"]
    )
    args = parser.parse_args(argv)
    for dataset in args.datasets:
        for seed in args.seeds:
            customers = (
                load_customers(PUBLIC_DATA) if dataset == "larose-3333" else generate_customers(3333, seed)
            )
            for split in args.splits:
                print(json.dumps(bench_one(dataset, customers, split, args.trials, seed)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
