"""Drift benchmark: the SQL aggregation behind `churnguard drift` on 100,000 customers.

Setup (not timed): a throwaway MariaDB server, a model trained on 2,000 synthetic customers (seed
1729, 4 trials), then --rows synthetic customers (another seed) installed and scored. Timed: the
bin counts of every feature (one GROUP BY each, one statement) and of the score, as `churnguard
drift` runs them, and the whole report (counts + PSI); also the schedulable snapshot procedure.
Best of --repeats runs. Prints one JSON line per figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from churnguard.db import connect  # noqa: E402
from churnguard.lifecycle.drift import drift_for_model, live_counts, references  # noqa: E402
from churnguard.local.install import install_churnguard  # noqa: E402
from churnguard.local.server import start_server, stop_server  # noqa: E402
from churnguard.model_folder import ModelFolder  # noqa: E402
from training.pipeline import train  # noqa: E402
from training.synthetic import generate_customers  # noqa: E402

SEED = 1729
TRAIN_ROWS = 2_000
TRIALS = 4


def emit(name: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"benchmark": "drift", "name": name, "value": round(value, 6), "unit": unit, **extra}))


def best_of(repeats: int, work) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000, help="customers in the database")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-drift-") as scratch:
        model_dir = Path(scratch) / "model"
        train(generate_customers(TRAIN_ROWS, seed=SEED), model_dir, trials=TRIALS, seed=SEED)
        folder = ModelFolder.read(model_dir)
        spec = folder.feature_spec
        refs = references(folder)
        server = start_server()
        try:
            client = connect(server.url)
            install_churnguard(
                client, model_dir=model_dir, customers=generate_customers(args.rows, seed=SEED + 1)
            )
            extra = {"customers": args.rows, "features": len(spec.names), "repeats": args.repeats}
            emit(
                "sql_bin_counts", best_of(args.repeats, lambda: live_counts(client, spec, refs)), "s", **extra
            )
            report: dict = {}
            emit(
                "drift_report",
                best_of(args.repeats, lambda: report.update(drift_for_model(client, str(model_dir)))),
                "s",
                flagged=len(report["flagged"]),
                **extra,
            )
            emit(
                "snapshot_procedure",
                best_of(args.repeats, lambda: client.execute("CALL churnguard_drift_snapshot()")),
                "s",
                **extra,
            )
            client.close()
        finally:
            stop_server(server)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
